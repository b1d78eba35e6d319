import Foundation
import FreeraceReport
import FreeraceRules
import Testing

@Suite("Rule documentation")
struct RuleDocsTests {
    static let docsDir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("docs/rules")

    /// docs/rules is generated from the rules (`freerace generate-docs`): it must not drift.
    @Test func generatedDocsAreCurrent() throws {
        for (name, text) in RuleDocs.files() {
            let path = Self.docsDir.appendingPathComponent(name).path
            let onDisk = try String(contentsOfFile: path, encoding: .utf8)
            #expect(onDisk == text, "docs/rules/\(name) is stale: run `swift run freerace generate-docs`")
        }
    }

    /// The README's rule table names every rule, by code and name, in code order, and no other.
    @Test func readmeRuleTableMatchesTheRegistry() throws {
        let readme = try String(contentsOf: Self.docsDir.deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("README.md"), encoding: .utf8)
        let rows = readme.split(separator: "\n").filter { $0.hasPrefix("| FR") && $0.contains("| `") }
        let listed = rows.map { row in row.split(separator: "|").prefix(2).map { $0.trimmingCharacters(in: .whitespaces) } }
        #expect(listed == RuleRegistry.all.map { [$0.code, "`\($0.name)`"] }, "README rule table: \(listed)")
    }

    /// A `\` line continuation followed by a line without one leaves a run of spaces in the prose.
    @Test func proseHasNoStrayRunsOfSpaces() {
        for r in RuleRegistry.all {
            for (field, text) in [("what", r.doc.whatItDoes), ("why", r.doc.whyIsThisBad), ("limitations", r.doc.knownLimitations)] {
                for line in text.split(separator: "\n") {
                    let body = line.drop { $0 == " " }
                    #expect(!body.contains("   "), "\(r.code) \(field): \(line)")
                }
            }
            #expect(!r.summary.contains("  "), "\(r.code) summary")
        }
    }

    @Test func everyRuleIsDocumented() {
        for r in RuleRegistry.all {
            #expect(r.code.hasPrefix("FR") && r.code.count == 5)
            #expect(!r.doc.whatItDoes.isEmpty && !r.doc.whyIsThisBad.isEmpty && !r.doc.example.isEmpty)
            #expect(!r.doc.useInstead.isEmpty && !r.doc.knownLimitations.isEmpty && !r.doc.references.isEmpty)
            #expect(r.name == r.name.lowercased() && !r.name.contains(" "), "rule names are kebab-case")
        }
        #expect(Set(RuleRegistry.all.map(\.code)).count == RuleRegistry.all.count, "codes are unique")
    }

    /// Every rule has at least one true-positive and one true-negative fixture.
    @Test func everyRuleHasFixtures() throws {
        let root = Self.docsDir.deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Tests/Fixtures").path
        var text = ""
        if let e = FileManager.default.enumerator(atPath: root) {
            while let rel = e.nextObject() as? String {
                text += (try? String(contentsOfFile: root + "/" + rel, encoding: .utf8)) ?? ""
            }
        }
        for r in RuleRegistry.all {
            #expect(text.contains("expect: \(r.code)"), "\(r.code) has no true-positive fixture")
        }
        #expect(text.contains("expect-none"))
    }
}
