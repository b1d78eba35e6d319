import Foundation
import FreeraceDriver
import FreeraceReport
import FreeraceRules
import FreeraceSyntax
import Testing

/// One fixture: a file, or a directory ending in `_project` analyzed as a whole.
struct Fixture: CustomStringConvertible, Sendable {
    var path: String
    var description: String { path.replacingOccurrences(of: FixtureRunner.root + "/", with: "") }
}

/// Expectations written inside fixture files (clang -verify / semgrep style):
///   expect: FR301 {{substring}}          a finding on this line whose message contains substring
///   expect@+1: / expect@-1: / expect@#NAME:   on another line (`mark: NAME` names a line)
///   expect-note: {{substring}}            a note of some finding anchored on this line (`expect-note: thread A {{...}}`)
///   expect-none                           no findings in the whole fixture
///   todo-expect: FR301 {{...}} (reason)   a known false negative: must NOT be reported (fails when it starts passing)
///   todo-none: FR301 (reason)             a known false positive: IS reported (fails when it stops)
///   freerace-options: --target free-threaded   options for this fixture
enum FixtureRunner {
    static let root: String = {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures").path
    }()

    static func discover() -> [Fixture] {
        var out: [Fixture] = []
        let fm = FileManager.default
        guard let e = fm.enumerator(atPath: root) else { return [] }
        var projects: [String] = []
        while let rel = e.nextObject() as? String {
            let full = root + "/" + rel
            if rel.hasSuffix("_project") {
                projects.append(full)
                continue
            }
            if projects.contains(where: { full.hasPrefix($0 + "/") }) { continue }
            if Language.of(path: rel) != nil { out.append(Fixture(path: full)) }
        }
        out += projects.map { Fixture(path: $0) }
        return out.sorted { $0.path < $1.path }
    }

    struct Expectation {
        enum Kind { case finding, note, todoFinding, todoNone }
        var kind: Kind
        var file: String
        var line: Int
        var code: String?
        var substring: String?
        var thread: String?
        var text: String
    }

    static func files(of fixture: Fixture) -> [String] {
        var isDir: ObjCBool = false
        _ = FileManager.default.fileExists(atPath: fixture.path, isDirectory: &isDir)
        guard isDir.boolValue else { return [fixture.path] }
        let set = SourceSet(paths: [fixture.path])
        return set.files.map(\.path)
    }

    static func parse(_ fixture: Fixture) -> (expectations: [Expectation], none: Bool, options: [String], errors: [String]) {
        var exps: [Expectation] = []
        var none = false
        var options: [String] = []
        var errors: [String] = []
        for file in files(of: fixture) {
            guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { continue }
            let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            var marks: [String: Int] = [:]
            for (i, l) in lines.enumerated() {
                if let r = l.range(of: "mark: ") {
                    let name = l[r.upperBound...].prefix { $0.isLetter || $0.isNumber || $0 == "_" }
                    marks[String(name)] = i + 1
                }
            }
            for (i, l) in lines.enumerated() {
                let lineNo = i + 1
                if let r = l.range(of: "freerace-options:") {
                    options += l[r.upperBound...].split(separator: " ").map(String.init).filter { !$0.hasPrefix("*/") && $0 != "*/" }
                }
                if l.contains("expect-none") { none = true }
                for (kw, kind, segment) in directives(in: l) {
                    var rest = Substring(segment)
                    var target = lineNo
                    if rest.hasPrefix("@") {
                        let spec = rest.dropFirst().prefix { $0 != ":" }
                        rest = rest.dropFirst(spec.count + 1)
                        if spec.hasPrefix("#") {
                            guard let m = marks[String(spec.dropFirst())] else {
                                errors.append("\(file):\(lineNo): unknown mark \(spec)")
                                continue
                            }
                            target = m
                        } else if let off = Int(spec) {
                            target = lineNo + off
                        }
                    }
                    guard rest.hasPrefix(":") else { continue }
                    rest = rest.dropFirst().drop { $0 == " " }
                    var code: String?
                    var thread: String?
                    if kind != .note, let c = rest.split(separator: " ").first, c.hasPrefix("FR") {
                        code = String(c)
                    }
                    if kind == .note, rest.hasPrefix("thread ") {
                        thread = String(rest.dropFirst(7).prefix(1))
                    }
                    var sub: String?
                    if let a = rest.range(of: "{{"), let b = rest.range(of: "}}", range: a.upperBound..<rest.endIndex) {
                        sub = String(rest[a.upperBound..<b.lowerBound])
                    }
                    if kind == .finding || kind == .todoFinding, code == nil {
                        errors.append("\(file):\(lineNo): \(kw) needs a rule code")
                    }
                    if kind == .todoFinding || kind == .todoNone, !rest.contains("(") {
                        errors.append("\(file):\(lineNo): \(kw) needs a (reason)")
                    }
                    exps.append(Expectation(kind: kind, file: file, line: target, code: code, substring: sub, thread: thread,
                                            text: kw + String(segment)))
                }
            }
        }
        return (exps, none, options, errors)
    }

    /// Every directive on a line: (keyword, kind, text after the keyword up to the next directive).
    static func directives(in line: String) -> [(String, Expectation.Kind, String)] {
        let kws: [(String, Expectation.Kind)] = [("todo-expect", .todoFinding), ("todo-none", .todoNone),
                                                  ("expect-note", .note), ("expect", .finding)]
        var hits: [(String.Index, String, Expectation.Kind)] = []
        var i = line.startIndex
        while i < line.endIndex {
            var matched = false
            for (kw, kind) in kws where line[i...].hasPrefix(kw) {
                let after = line.index(i, offsetBy: kw.count)
                if after < line.endIndex, line[after] == ":" || line[after] == "@" {
                    hits.append((i, kw, kind))
                    i = after
                    matched = true
                }
                break
            }
            if !matched { i = line.index(after: i) }
        }
        var out: [(String, Expectation.Kind, String)] = []
        for (k, h) in hits.enumerated() {
            let start = line.index(h.0, offsetBy: h.1.count)
            let end = k + 1 < hits.count ? hits[k + 1].0 : line.endIndex
            out.append((h.1, h.2, String(line[start..<end])))
        }
        return out
    }

    /// What a user sees of a fixture: the analysis with its options, and the findings left after
    /// suppression comments; `problems` are errors in the fixture's directives.
    static func analyze(_ fixture: Fixture) throws -> (result: AnalysisResult, findings: [Finding], problems: [String]) {
        let (_, _, options, errors) = parse(fixture)
        var problems = errors
        var cmd = CheckCommand()
        cmd.paths = [fixture.path]
        var i = 0
        while i < options.count {
            let o = options[i]
            let v = i + 1 < options.count ? options[i + 1] : ""
            switch o {
            case "--target": cmd.target = v; i += 1
            case "--python": cmd.python = v; i += 1
            case "-D": cmd.defines.append(v); i += 1
            case "-U": cmd.undefines.append(v); i += 1
            case "--select": cmd.select.append(v); i += 1
            default: problems.append("\(fixture): unknown fixture option \(o)")
            }
            i += 1
        }
        var opts = AnalysisOptions(paths: [fixture.path])
        opts.target = AnalysisTarget(rawValue: cmd.target ?? "auto") ?? .auto
        if let p = cmd.python { opts.pythonVersion = try CheckCommand.parsePython(p) }
        opts.defines = try CheckCommand.parseDefines(cmd.defines)
        opts.undefines = cmd.undefines
        opts.jobs = 1
        let result = Analyzer.run(opts)
        // what a user sees: suppression comments (ours and honoured foreign audit markers) applied
        var findings = FindingFilter().apply(result.findings, suppressions: result.suppressions).kept
        if !cmd.select.isEmpty { findings = findings.filter { f in cmd.select.contains { f.code.hasPrefix($0) } } }
        return (result, findings, problems)
    }

    /// Runs one fixture and returns the problems (empty = pass).
    static func run(_ fixture: Fixture) throws -> [String] {
        let (exps, none, _, _) = parse(fixture)
        var (_, findings, problems) = try analyze(fixture)
        if exps.isEmpty, !none { problems.append("\(fixture): no expectations (add expect:/expect-none)") }
        findings = Analyzer.sortFindings(findings)

        func matches(_ f: Finding, _ e: Expectation) -> Bool {
            f.location.path == e.file && f.location.line == e.line && (e.code == nil || f.code == e.code)
                && (e.substring.map { f.message.contains($0) } ?? true)
        }
        var matched = Set<Int>()
        for e in exps {
            switch e.kind {
            case .finding:
                if let k = findings.indices.first(where: { !matched.contains($0) && matches(findings[$0], e) }) {
                    matched.insert(k)
                } else {
                    let near = findings.filter { $0.location.path == e.file }.map { "\($0.location.line): [\($0.code)] \($0.message)" }
                    problems.append("missing finding at \(e.file):\(e.line): \(e.text)\n    reported in that file: \(near)")
                }
            case .todoNone:
                if let k = findings.indices.first(where: { matches(findings[$0], e) }) {
                    matched.insert(k)
                } else {
                    problems.append("todo-none now passes (no finding) at \(e.file):\(e.line): promote it: \(e.text)")
                }
            case .todoFinding:
                if findings.contains(where: { matches($0, e) }) {
                    problems.append("todo-expect now passes at \(e.file):\(e.line): promote it to expect: \(e.text)")
                }
            case .note:
                let ok = findings.contains { f in
                    f.notes.contains { n in
                        n.location.path == e.file && n.location.line == e.line
                            && (e.substring.map { n.message.contains($0) } ?? true) && (e.thread == nil || n.thread == e.thread)
                    }
                }
                if !ok {
                    let notes = findings.flatMap { f in f.notes.filter { $0.location.path == e.file }.map { "\($0.location.line): \($0.thread ?? "-") \($0.message)" } }
                    problems.append("missing note at \(e.file):\(e.line): \(e.text)\n    notes in that file: \(notes)")
                }
            }
        }
        for (k, f) in findings.enumerated() where !matched.contains(k) {
            problems.append("unexpected finding \(f.location.description): [\(f.code)] \(f.message)")
        }
        return problems
    }
}

/// Golden snapshots of what a user reads for every fixture with findings: the text report and
/// SARIF, in `Tests/Snapshots/<rule>/<fixture>.{txt,sarif}` (ruff's and Goblint's practice), so
/// a change of wording in a headline, a note, `why:` or `help:` shows in review. Paths are
/// relative to the package. `FREERACE_UPDATE_SNAPSHOTS=1 swift test --filter snapshot` writes
/// them anew; review the diff.
enum Snapshots {
    static let packageRoot = URL(fileURLWithPath: FixtureRunner.root).deletingLastPathComponent().deletingLastPathComponent().path
    static let root = packageRoot + "/Tests/Snapshots"

    static func rendered(_ fixture: Fixture) throws -> [(ext: String, text: String)] {
        let (result, findings, _) = try FixtureRunner.analyze(fixture)
        guard !findings.isEmpty else { return [] }
        let report = Report(findings: Analyzer.sortFindings(findings), filesAnalyzed: result.filesAnalyzed,
                            bytesAnalyzed: result.bytesAnalyzed, elapsedSeconds: 0, warnings: [], modules: result.modules,
                            target: "auto", suppressed: 0, baselined: 0, unusedSuppressions: [])
        let lines = ReportSupport.lineReader()
        func clean(_ s: String) -> String {
            s.replacingOccurrences(of: "file://" + packageRoot + "/", with: "file:///PACKAGE/")
                .replacingOccurrences(of: packageRoot + "/", with: "")
        }
        let text = Renderer.render(report, format: .text, rules: RuleRegistry.all, options: .init(), lines: lines)
        // the rules of its findings only: a rule's documentation lives in its own snapshots
        let reported = Set(findings.map(\.code))
        let sarif = Renderer.render(report, format: .sarif, rules: RuleRegistry.all.filter { reported.contains($0.code) },
                                    options: .init(sourceRoot: packageRoot), lines: lines)
        return [("txt", clean(text)), ("sarif", clean(sarif))]
    }

    /// The snapshot path of a fixture: `FR301/cpp_vector_member_bad.txt`.
    static func path(_ fixture: Fixture, _ ext: String) -> String {
        var name = fixture.description
        if let dot = name.lastIndex(of: "."), !name[dot...].contains("/") { name = String(name[..<dot]) }
        return root + "/" + name + "." + ext
    }
}

@Suite("Rule fixtures")
struct FixtureTests {
    @Test("snapshot", arguments: FixtureRunner.discover())
    func snapshot(_ f: Fixture) throws {
        let update = ProcessInfo.processInfo.environment["FREERACE_UPDATE_SNAPSHOTS"] == "1"
        for (ext, text) in try Snapshots.rendered(f) {
            let path = Snapshots.path(f, ext)
            if update {
                try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent,
                                                        withIntermediateDirectories: true)
                try text.write(toFile: path, atomically: true, encoding: .utf8)
                continue
            }
            let stored = try? String(contentsOfFile: path, encoding: .utf8)
            #expect(stored == text, Comment(rawValue: stored == nil
                ? "no snapshot \(path): run FREERACE_UPDATE_SNAPSHOTS=1 swift test --filter snapshot and review it"
                : "\(path) differs from what \(f) renders now: if the change is intended, run FREERACE_UPDATE_SNAPSHOTS=1 swift test --filter snapshot and review the diff"))
        }
    }

    @Test func everySnapshotHasItsFixture() {
        let fixtures = FixtureRunner.discover()
        let expected = Set(fixtures.flatMap { f in ["txt", "sarif"].map { Snapshots.path(f, $0) } })
        let stored = (FileManager.default.enumerator(atPath: Snapshots.root)?.allObjects as? [String] ?? [])
            .filter { $0.hasSuffix(".txt") || $0.hasSuffix(".sarif") }.map { Snapshots.root + "/" + $0 }
        #expect(Set(stored).subtracting(expected).isEmpty, "snapshots whose fixture is gone: \(Set(stored).subtracting(expected).sorted())")
        #expect(!stored.isEmpty, "the bad fixtures have snapshots")
    }

    @Test("fixture", arguments: FixtureRunner.discover())
    func fixture(_ f: Fixture) throws {
        let problems = try FixtureRunner.run(f)
        #expect(problems.isEmpty, Comment(rawValue: "\(f):\n" + problems.joined(separator: "\n")))
    }

    @Test func fixturesExist() {
        #expect(FixtureRunner.discover().count > 0)
    }
}
