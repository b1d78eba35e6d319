import Foundation
import FreeraceModel
import FreeraceRules
import FreeraceSyntax

/// Everything the renderers show, computed once per run.
public struct Report: Sendable {
    public struct ModuleStatus: Sendable, Codable {
        public var module: String
        public var file: String
        public var freeThreadingRules: Bool
        public var reason: String
        public init(module: String, file: String, freeThreadingRules: Bool, reason: String) {
            self.module = module
            self.file = file
            self.freeThreadingRules = freeThreadingRules
            self.reason = reason
        }
    }
    public var findings: [Finding]
    public var filesAnalyzed: Int
    public var bytesAnalyzed: Int
    public var elapsedSeconds: Double
    public var warnings: [FileWarning]
    public var modules: [ModuleStatus]
    public var target: String
    public var suppressed: Int
    public var baselined: Int
    /// Suppression comments that matched no finding (reported on request).
    public var unusedSuppressions: [UnusedSuppression]
    /// Files read only as the context of the files checked (`check a.c` reads a.c's project);
    /// `filesAnalyzed` does not count them.
    public var contextFiles = 0

    public init(findings: [Finding], filesAnalyzed: Int, bytesAnalyzed: Int, elapsedSeconds: Double,
                warnings: [FileWarning], modules: [ModuleStatus], target: String, suppressed: Int, baselined: Int,
                unusedSuppressions: [UnusedSuppression]) {
        self.findings = findings
        self.filesAnalyzed = filesAnalyzed
        self.bytesAnalyzed = bytesAnalyzed
        self.elapsedSeconds = elapsedSeconds
        self.warnings = warnings
        self.modules = modules
        self.target = target
        self.suppressed = suppressed
        self.baselined = baselined
        self.unusedSuppressions = unusedSuppressions
    }

    public var countsByCode: [String: Int] {
        var d: [String: Int] = [:]
        for f in findings { d[f.code, default: 0] += 1 }
        return d
    }
}

/// A suppression comment that matched no finding.
public struct UnusedSuppression: Sendable, Hashable {
    public var path: String
    /// The comment's line.
    public var line: Int
    /// The codes it names (empty: every rule).
    public var codes: [String]
    public var fileLevel: Bool

    public init(path: String, line: Int, codes: [String], fileLevel: Bool) {
        self.path = path
        self.line = line
        self.codes = codes
        self.fileLevel = fileLevel
    }

    /// The pseudo-rule under which SARIF and GitHub annotations report unused suppressions.
    public static let code = "FR000"
    public static let name = "unused-suppression"

    /// `unused suppression of FR301: no FR301 finding on this line or the next`.
    public var message: String {
        let what = codes.isEmpty ? "" : " of " + codes.joined(separator: ", ")
        let finding = codes.isEmpty ? "no finding" : "no " + codes.joined(separator: " or ") + " finding"
        return fileLevel
            ? "unused file-level suppression\(what): \(finding) in this file"
            : "unused suppression\(what): \(finding) on this line or the next"
    }
}

public enum OutputFormat: String, Sendable, CaseIterable {
    case text, json, sarif, github
}

public enum Renderer {
    public static let toolVersion = "0.1.0"
    public static let jsonSchemaVersion = 1
    /// Where freerace lives (the rules' documentation links in SARIF).
    public static let projectURL = "https://github.com/freerace/freerace"

    /// How a report is shown, beyond its format.
    public struct Options: Sendable {
        /// ANSI colours in the text format.
        public var color = false
        /// Counts per rule (text).
        public var statistics = false
        /// Headlines and the summary only (text); annotations without the trace (github).
        public var quiet = false
        /// SARIF: the absolute folder artifact URIs are relative to (`%SRCROOT%`); files outside
        /// it are named by absolute `file://` URIs. Nil: the current folder.
        public var sourceRoot: String?
        public init(color: Bool = false, statistics: Bool = false, quiet: Bool = false, sourceRoot: String? = nil) {
            self.color = color
            self.statistics = statistics
            self.quiet = quiet
            self.sourceRoot = sourceRoot
        }
    }

    public static func render(_ report: Report, format: OutputFormat, rules: [any Rule], options: Options = Options(),
                              lines: SourceLines = { _, _ in nil }) -> String {
        let placed = Placed(report, lines: lines)
        // A path that is not UTF-8 carries its bytes as escapes (`PathText`); people see `\xNN`,
        // JSON an escaped backslash, SARIF URIs the bytes percent-encoded.
        switch format {
        case .text: return PathText.display(text(placed, options: options, lines: lines))
        case .json: return PathText.display(json(placed.report), inJSON: true) + "\n"
        case .sarif:
            return PathText.display(sarif(placed, rules: rules, sourceRoot: options.sourceRoot ?? FileSystem.currentDirectory()),
                                    inJSON: true) + "\n"
        case .github: return PathText.display(github(placed, quiet: options.quiet))
        }
    }

    /// The report with every column in characters (see `SourceColumns`), and where each place
    /// it names ends.
    struct Placed {
        var report: Report
        /// End column (exclusive, characters) of each place, keyed by its character location.
        var ends: [Location: Int] = [:]

        init(_ r: Report, lines: SourceLines) {
            report = r
            var ends: [Location: Int] = [:]
            func place(_ l: Location) -> Location {
                let region = SourceRegion(l, lines: lines)
                let placed = Location(path: l.path, line: l.line, column: region.column)
                if let e = region.endColumn { ends[placed] = e }
                return placed
            }
            for i in report.findings.indices {
                report.findings[i].location = place(report.findings[i].location)
                for j in report.findings[i].notes.indices {
                    report.findings[i].notes[j].location = place(report.findings[i].notes[j].location)
                }
            }
            for i in report.warnings.indices {
                let w = report.warnings[i]
                if let line = w.line, let column = w.column, let text = lines(w.path, line) {
                    report.warnings[i].column = SourceColumns.characterColumn(byteColumn: column, in: text)
                }
            }
            self.ends = ends
        }
    }

    /// `path:line:col: warning: message`, as compilers print them (`path: warning: message`
    /// for a warning about a whole file).
    static func warningLine(_ w: FileWarning) -> String {
        var place = w.path
        if let l = w.line {
            place += ":\(l)"
            if let c = w.column { place += ":\(c)" }
        }
        return "\(place): warning: \(w.message)\n"
    }

    /// The warnings about the inputs, one a line, for standard error beside a text report (the
    /// other formats carry them inside the report).
    public static func warningText(_ report: Report, lines: SourceLines = { _, _ in nil }) -> String {
        PathText.display(Placed(report, lines: lines).report.warnings.map(warningLine).joined())
    }

    // MARK: text

    static func text(_ placed: Placed, options: Options, lines: SourceLines) -> String {
        let r = placed.report
        let quiet = options.quiet
        var out = ""
        func paint(_ s: String, _ code: String) -> String { options.color ? "\u{1B}[\(code)m\(s)\u{1B}[0m" : s }
        for f in r.findings {
            let sev = f.severity == .error ? paint("error", "1;31") : paint("warning", "1;33")
            out += "\(paint(f.location.description, "1")): \(sev): \(f.message) [\(paint(f.code, "35"))]\n"
            if !quiet, let bytes = lines(f.location.path, f.location.line) {
                // source bytes go to a terminal: control characters (ESC, BEL, …) are shown, not sent
                let line = String(String.UnicodeScalarView(String(decoding: bytes, as: UTF8.self).unicodeScalars.map { u in
                    u.value < 0x20 && u.value != 0x09 || u.value == 0x7F ? "\u{FFFD}" : u
                }))
                let num = String(f.location.line)
                let pad = String(repeating: " ", count: num.count)
                out += "  \(pad) |\n"
                out += "  \(num) | \(line)\n"
                // the column counts characters (code points): so does the caret's padding
                let caretPad = String(line.unicodeScalars.prefix(max(0, f.location.column - 1)).map { $0 == "\t" ? "\t" : " " })
                out += "  \(pad) | \(caretPad)\(paint("^", "1;32"))\n"
            }
            if !quiet {
                for n in f.notes {
                    let label = n.thread.map { "thread \($0)" } ?? "note    "
                    out += "  \(paint(label, "36"))  \(n.location.description): \(n.message)\n"
                }
                out += "  \(paint("why:", "1")) \(f.why)\n"
                out += "  \(paint("help:", "1;32")) \(f.help)\n"
                if let o = f.reproOutcome { out += "  repro: \(o)\n" }
                if let t = f.reproTraceback {
                    out += t.split(separator: "\n", omittingEmptySubsequences: false).map { "    | \($0)\n" }.joined()
                }
                out += "  id: \(f.id)\n\n"
            }
        }
        for u in r.unusedSuppressions { out += "\(u.path):\(u.line): warning: \(u.message)\n" }
        if !quiet {
            for m in r.modules {
                let state = m.freeThreadingRules ? "free-threading rules applied" : "free-threading rules not applied"
                out += "module `\(m.module)` (\(m.file)): \(state): \(m.reason)\n"
            }
        }
        if options.statistics {
            for (code, n) in r.countsByCode.sorted(by: { $0.key < $1.key }) { out += "\(n)\t\(code)\n" }
        }
        let n = r.findings.count
        var tail = n == 0 ? "No findings" : "Found " + counted(n, "finding")
        if n > 0 {
            tail += " (" + r.countsByCode.sorted(by: { $0.key < $1.key }).map { "\($0.key): \($0.value)" }.joined(separator: ", ") + ")"
        }
        tail += " in " + counted(r.filesAnalyzed, "file")
        if r.contextFiles > 0 { tail += " (\(r.contextFiles) more read as context)" }
        if r.suppressed > 0 { tail += "; \(r.suppressed) suppressed" }
        if r.baselined > 0 { tail += "; \(r.baselined) in baseline" }
        // no elapsed time here: the same code gives byte-identical text (`--timings` has the time)
        out += paint(tail + ".", "1") + "\n"
        return out
    }

    // MARK: JSON

    struct JSONReport: Encodable {
        struct Loc: Encodable {
            var path: String
            var line: Int
            var column: Int
        }
        struct JNote: Encodable {
            var location: Loc
            var message: String
            var thread: String?
        }
        struct JFinding: Encodable {
            var id: String
            var code: String
            var name: String
            var severity: String
            var message: String
            var function: String
            var location: Loc
            var notes: [JNote]
            var why: String
            var help: String
            var repro: ReproHint?
            var reproOutcome: String?
            var reproTraceback: String?
        }
        struct Summary: Encodable {
            var files: Int
            var contextFiles: Int
            var bytes: Int
            var findings: Int
            var byCode: [String: Int]
            var suppressed: Int
            var baselined: Int
            var target: String
            var modules: [Report.ModuleStatus]
            var warnings: [FileWarning]
            var unusedSuppressions: [String]
        }
        var version: Int
        var tool: [String: String]
        var findings: [JFinding]
        var summary: Summary
    }

    static func loc(_ l: Location) -> JSONReport.Loc { .init(path: l.path, line: l.line, column: l.column) }

    public static func json(_ r: Report) -> String {
        let doc = JSONReport(
            version: jsonSchemaVersion, tool: ["name": "freerace", "version": toolVersion],
            findings: r.findings.map { f in
                .init(id: f.id, code: f.code, name: f.name, severity: f.severity.rawValue, message: f.message,
                      function: f.function, location: loc(f.location),
                      notes: f.notes.map { .init(location: loc($0.location), message: $0.message, thread: $0.thread) },
                      why: f.why, help: f.help, repro: f.repro, reproOutcome: f.reproOutcome, reproTraceback: f.reproTraceback)
            },
            summary: .init(files: r.filesAnalyzed, contextFiles: r.contextFiles, bytes: r.bytesAnalyzed, findings: r.findings.count,
                           byCode: r.countsByCode, suppressed: r.suppressed, baselined: r.baselined, target: r.target,
                           modules: r.modules, warnings: r.warnings,
                           unusedSuppressions: r.unusedSuppressions.map { "\($0.path):\($0.line)" }))
        return encode(doc)
    }

    static func encode<T: Encodable>(_ v: T) -> String {
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return (try? String(decoding: enc.encode(v), as: UTF8.self)) ?? "{}"
    }

    // MARK: SARIF 2.1.0

    /// GitHub's `security-severity` of a rule's findings, by the rule's default severity. Every
    /// rule reports a use-after-free (or a use of unmapped memory) in native code that another
    /// thread can trigger: `high` on GitHub's scale (7.0–8.9), higher when the freed memory is
    /// executed (`error`).
    public static func securitySeverity(_ s: Severity) -> String {
        switch s {
        case .error: "8.1"
        case .warning: "7.5"
        case .note: "5.0"
        }
    }

    /// SARIF `precision` of a rule: `preview` rules are still measured on real code (`medium`).
    public static func precision(_ m: Maturity) -> String {
        switch m {
        case .preview: "medium"
        case .stable: "high"
        }
    }

    /// The documentation page of a rule.
    public static func helpURI(_ code: String) -> String { "\(projectURL)/blob/main/docs/rules/\(code).md" }

    /// SARIF 2.1.0 for GitHub code scanning. `sourceRoot` is the absolute folder relative URIs
    /// start from (`%SRCROOT%`, the repository root when there is one).
    static func sarif(_ placed: Placed, rules: [any Rule], sourceRoot: String) -> String {
        let r = placed.report
        let rootPrefix = FileSystem.join(sourceRoot, "")
        func artifact(_ path: String) -> [String: Any] {
            let abs = FileSystem.absolute(path)
            return abs.hasPrefix(rootPrefix)
                ? ["uri": PathText.percentEncoded(String(abs.dropFirst(rootPrefix.count))), "uriBaseId": "%SRCROOT%"]
                : ["uri": "file://" + PathText.percentEncoded(abs)]
        }
        func physical(_ l: Location) -> [String: Any] {
            var region: [String: Any] = ["startLine": l.line, "startColumn": l.column]
            if let end = placed.ends[l] {
                region["endLine"] = l.line
                region["endColumn"] = end
            }
            return ["artifactLocation": artifact(l.path), "region": region]
        }
        let ruleIndex = Dictionary(uniqueKeysWithValues: rules.enumerated().map { ($1.code, $0) })
        var sarifRules: [[String: Any]] = rules.map { rule in
            [
                "id": rule.code,
                "name": rule.name,
                "shortDescription": ["text": rule.summary],
                "fullDescription": ["text": rule.doc.whatItDoes],
                "help": ["text": rule.doc.useInstead, "markdown": RuleDocs.markdown(rule)],
                "helpUri": helpURI(rule.code),
                "defaultConfiguration": ["level": rule.defaultSeverity == .error ? "error" : "warning"],
                "properties": [
                    "precision": precision(rule.maturity),
                    "security-severity": securitySeverity(rule.defaultSeverity),
                    "tags": ["security", "concurrency", "memory-safety", "external/cwe/cwe-416", "external/cwe/cwe-362"],
                    "maturity": rule.maturity.rawValue,
                ] as [String: Any],
            ]
        }
        var results: [[String: Any]] = r.findings.map { f in
            var related: [[String: Any]] = []
            var flowLocations: [[String: Any]] = []
            for (i, n) in f.notes.enumerated() {
                let label = n.thread.map { "thread \($0): " } ?? ""
                related.append(["id": i + 1, "physicalLocation": physical(n.location), "message": ["text": label + n.message]])
                flowLocations.append(["location": ["physicalLocation": physical(n.location), "message": ["text": label + n.message]]])
            }
            var properties: [String: Any] = ["id": f.id, "why": f.why, "help": f.help, "function": f.function]
            if let o = f.reproOutcome { properties["repro"] = o }
            if let t = f.reproTraceback { properties["reproTraceback"] = t }
            var result: [String: Any] = [
                "ruleId": f.code,
                "level": f.severity == .error ? "error" : "warning",
                "message": ["text": "\(f.message)\nwhy: \(f.why)\nhelp: \(f.help)"],
                "locations": [["physicalLocation": physical(f.location),
                               "logicalLocations": [["name": f.function, "kind": "function"]]]],
                "partialFingerprints": ["freerace/v1": f.id],
                "properties": properties,
            ]
            if let idx = ruleIndex[f.code] { result["ruleIndex"] = idx }
            if !related.isEmpty {
                result["relatedLocations"] = related
                result["codeFlows"] = [["threadFlows": [["locations": flowLocations]]]]
            }
            return result
        }
        if !r.unusedSuppressions.isEmpty {
            // reported on request (`--report-unused-suppressions`): a pseudo-rule of its own,
            // outside the security view, that no `--select` names
            sarifRules.append([
                "id": UnusedSuppression.code,
                "name": UnusedSuppression.name,
                "shortDescription": ["text": "A freerace suppression comment that matches no finding"],
                "fullDescription": ["text": "A `freerace: ignore[...]` comment suppresses no finding of the codes it names: the code was fixed, the finding moved, or the comment names the wrong rule. Remove or correct it."],
                "help": ["text": "Remove the comment, or correct the codes it names (see `freerace rules`)."],
                "defaultConfiguration": ["level": "warning"],
                "properties": ["precision": "very-high", "tags": ["maintainability"]],
            ])
            let index = sarifRules.count - 1
            for u in r.unusedSuppressions {
                results.append([
                    "ruleId": UnusedSuppression.code,
                    "ruleIndex": index,
                    "level": "warning",
                    "message": ["text": u.message],
                    "locations": [["physicalLocation": ["artifactLocation": artifact(u.path),
                                                        "region": ["startLine": u.line]]]],
                    "partialFingerprints": ["freerace/v1": Finding.makeID(
                        code: UnusedSuppression.code, path: u.path, key: "\(u.codes)|\(u.fileLevel)|\(u.line)")],
                    "properties": ["codes": u.codes],
                ])
            }
        }
        let doc: [String: Any] = [
            "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
            "version": "2.1.0",
            "runs": [[
                "tool": ["driver": ["name": "freerace", "version": toolVersion, "semanticVersion": toolVersion,
                                    "informationUri": "\(projectURL)/blob/main/docs/rules/README.md",
                                    "rules": sarifRules]],
                // one code scanning category per target: a free-threaded audit and a GIL one of
                // the same code are two analyses, neither closes the other's alerts
                "automationDetails": ["id": "freerace/\(r.target)/"],
                "columnKind": "unicodeCodePoints",
                // relative paths are relative to the repository root (or the folder freerace ran in)
                "originalUriBaseIds": ["%SRCROOT%": ["uri": "file://" + PathText.percentEncoded(rootPrefix)]],
                "results": results,
                "invocations": [["executionSuccessful": true,
                                 "toolExecutionNotifications": r.warnings.map { w -> [String: Any] in
                                     var n: [String: Any] = ["level": "warning",
                                                             "message": ["text": String(warningLine(w).dropLast())]]
                                     if w.line != nil {
                                         var region: [String: Any] = ["startLine": w.line ?? 1]
                                         if let c = w.column { region["startColumn"] = c }
                                         n["locations"] = [["physicalLocation": ["artifactLocation": artifact(w.path),
                                                                                 "region": region]]]
                                     }
                                     return n
                                 }]],
            ]],
        ]
        guard let data = try? JSONSerialization.data(withJSONObject: doc, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }

    // MARK: GitHub annotations

    /// `quiet`: each annotation holds the headline only, without the trace, why and help.
    static func github(_ placed: Placed, quiet: Bool = false) -> String {
        let r = placed.report
        func esc(_ s: String) -> String {
            s.replacingOccurrences(of: "%", with: "%25").replacingOccurrences(of: "\r", with: "%0D")
                .replacingOccurrences(of: "\n", with: "%0A")
        }
        func prop(_ s: String) -> String { esc(s).replacingOccurrences(of: ":", with: "%3A").replacingOccurrences(of: ",", with: "%2C") }
        var out = ""
        for f in r.findings {
            var body = f.message
            if !quiet {
                for n in f.notes { body += "\n" + (n.thread.map { "thread \($0)  " } ?? "") + "\(n.location.description): \(n.message)" }
                body += "\nwhy: \(f.why)\nhelp: \(f.help)"
            }
            let end = placed.ends[f.location].map { ",endColumn=\($0)" } ?? ""
            out += "::\(f.severity == .error ? "error" : "warning") file=\(prop(f.location.path)),line=\(f.location.line),col=\(f.location.column)\(end),title=\(prop("\(f.code) \(f.name)"))::\(esc(body))\n"
        }
        for u in r.unusedSuppressions {
            out += "::warning file=\(prop(u.path)),line=\(u.line),title=\(prop("\(UnusedSuppression.code) \(UnusedSuppression.name)"))::\(esc(u.message))\n"
        }
        for w in r.warnings {
            let at = (w.line.map { ",line=\($0)" } ?? "") + (w.line != nil ? w.column.map { ",col=\($0)" } ?? "" : "")
            out += "::warning file=\(prop(w.path))\(at)::\(esc(w.message))\n"
        }
        return out
    }
}
