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
    public var unusedSuppressions: [String]
    /// Files read only as the context of the files checked (`check a.c` reads a.c's project);
    /// `filesAnalyzed` does not count them.
    public var contextFiles = 0

    public init(findings: [Finding], filesAnalyzed: Int, bytesAnalyzed: Int, elapsedSeconds: Double,
                warnings: [FileWarning], modules: [ModuleStatus], target: String, suppressed: Int, baselined: Int,
                unusedSuppressions: [String]) {
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

public enum OutputFormat: String, Sendable, CaseIterable {
    case text, json, sarif, github
}

public enum Renderer {
    public static let toolVersion = "0.1.0"
    public static let jsonSchemaVersion = 1

    public static func render(_ report: Report, format: OutputFormat, rules: [any Rule], color: Bool = false,
                              statistics: Bool = false, quiet: Bool = false,
                              lineText: (String, Int) -> String? = { _, _ in nil }) -> String {
        // A path that is not UTF-8 carries its bytes as escapes (`PathText`); people see `\xNN`,
        // JSON an escaped backslash, SARIF URIs the bytes percent-encoded.
        switch format {
        case .text: return PathText.display(text(report, color: color, statistics: statistics, quiet: quiet, lineText: lineText))
        case .json: return PathText.display(json(report), inJSON: true) + "\n"
        case .sarif: return PathText.display(sarif(report, rules: rules), inJSON: true) + "\n"
        case .github: return PathText.display(github(report))
        }
    }

    // MARK: text

    public static func text(_ r: Report, color: Bool, statistics: Bool, quiet: Bool,
                            lineText: (String, Int) -> String?) -> String {
        var out = ""
        func paint(_ s: String, _ code: String) -> String { color ? "\u{1B}[\(code)m\(s)\u{1B}[0m" : s }
        for f in r.findings {
            let sev = f.severity == .error ? paint("error", "1;31") : paint("warning", "1;33")
            out += "\(paint(f.location.description, "1")): \(sev): \(f.message) [\(f.code)]\n"
            if !quiet, let raw = lineText(f.location.path, f.location.line) {
                // source bytes go to a terminal: control characters (ESC, BEL, …) are shown, not sent
                let line = String(String.UnicodeScalarView(raw.unicodeScalars.map { u in
                    u.value < 0x20 && u.value != 0x09 || u.value == 0x7F ? "\u{FFFD}" : u
                }))
                let num = String(f.location.line)
                let pad = String(repeating: " ", count: num.count)
                out += "  \(pad) |\n"
                out += "  \(num) | \(line)\n"
                let caretPad = String(line.prefix(max(0, f.location.column - 1)).map { $0 == "\t" ? "\t" : " " })
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
        for w in r.warnings { out += "\(w.path): warning: \(w.message)\n" }
        for u in r.unusedSuppressions { out += "\(u): warning: unused suppression\n" }
        if !quiet {
            for m in r.modules {
                let state = m.freeThreadingRules ? "free-threading rules applied" : "free-threading rules not applied"
                out += "module `\(m.module)` (\(m.file)): \(state): \(m.reason)\n"
            }
        }
        if statistics {
            for (code, n) in r.countsByCode.sorted(by: { $0.key < $1.key }) { out += "\(n)\t\(code)\n" }
        }
        let n = r.findings.count
        var tail = n == 0 ? "No findings" : "Found \(n) finding\(n == 1 ? "" : "s")"
        if n > 0 {
            tail += " (" + r.countsByCode.sorted(by: { $0.key < $1.key }).map { "\($0.key): \($0.value)" }.joined(separator: ", ") + ")"
        }
        tail += " in \(r.filesAnalyzed) file\(r.filesAnalyzed == 1 ? "" : "s")"
        if r.contextFiles > 0 { tail += " (\(r.contextFiles) more read as context)" }
        if r.suppressed > 0 { tail += "; \(r.suppressed) suppressed" }
        if r.baselined > 0 { tail += "; \(r.baselined) in baseline" }
        // no elapsed time here: the same code gives byte-identical text (`--timings` has the time)
        out += tail + ".\n"
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
                           modules: r.modules, warnings: r.warnings, unusedSuppressions: r.unusedSuppressions))
        return encode(doc)
    }

    static func encode<T: Encodable>(_ v: T) -> String {
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return (try? String(decoding: enc.encode(v), as: UTF8.self)) ?? "{}"
    }

    // MARK: SARIF 2.1.0

    public static func sarif(_ r: Report, rules: [any Rule]) -> String {
        // files under the directory freerace ran in are named relative to it (%SRCROOT%), however
        // they were spelled on the command line; others by absolute file URI
        let root = FileSystem.currentDirectory()
        let rootPrefix = root.hasSuffix("/") ? root : root + "/"
        func physical(_ l: Location) -> [String: Any] {
            let abs = FileSystem.absolute(l.path)
            let artifact: [String: Any] = abs.hasPrefix(rootPrefix)
                ? ["uri": PathText.percentEncoded(String(abs.dropFirst(rootPrefix.count))), "uriBaseId": "%SRCROOT%"]
                : ["uri": "file://" + PathText.percentEncoded(abs)]
            return ["artifactLocation": artifact,
                    "region": ["startLine": l.line, "startColumn": l.column]]
        }
        let ruleIndex = Dictionary(uniqueKeysWithValues: rules.enumerated().map { ($1.code, $0) })
        let sarifRules: [[String: Any]] = rules.map { rule in
            [
                "id": rule.code,
                "name": rule.name,
                "shortDescription": ["text": rule.summary],
                "fullDescription": ["text": rule.doc.whatItDoes],
                "help": ["text": rule.doc.useInstead, "markdown": RuleDocs.markdown(rule)],
                "helpUri": "https://github.com/freerace/freerace/blob/main/docs/rules/\(rule.code).md",
                "defaultConfiguration": ["level": rule.defaultSeverity == .error ? "error" : "warning"],
                "properties": ["precision": "high", "tags": ["concurrency", "memory-safety"], "maturity": rule.maturity.rawValue],
            ]
        }
        let results: [[String: Any]] = r.findings.map { f in
            var related: [[String: Any]] = []
            var flowLocations: [[String: Any]] = []
            for (i, n) in f.notes.enumerated() {
                let label = n.thread.map { "thread \($0): " } ?? ""
                related.append(["id": i + 1, "physicalLocation": physical(n.location), "message": ["text": label + n.message]])
                flowLocations.append(["location": ["physicalLocation": physical(n.location), "message": ["text": label + n.message]]])
            }
            var result: [String: Any] = [
                "ruleId": f.code,
                "level": f.severity == .error ? "error" : "warning",
                "message": ["text": "\(f.message)\nwhy: \(f.why)\nhelp: \(f.help)"],
                "locations": [["physicalLocation": physical(f.location),
                               "logicalLocations": [["name": f.function, "kind": "function"]]]],
                "partialFingerprints": ["freerace/v1": f.id],
                "properties": ["id": f.id, "why": f.why, "help": f.help, "function": f.function],
            ]
            if let idx = ruleIndex[f.code] { result["ruleIndex"] = idx }
            if !related.isEmpty {
                result["relatedLocations"] = related
                result["codeFlows"] = [["threadFlows": [["locations": flowLocations]]]]
            }
            if let o = f.reproOutcome {
                var p: [String: Any] = ["id": f.id, "why": f.why, "help": f.help, "function": f.function, "repro": o]
                if let t = f.reproTraceback { p["reproTraceback"] = t }
                result["properties"] = p
            }
            return result
        }
        let doc: [String: Any] = [
            "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
            "version": "2.1.0",
            "runs": [[
                "tool": ["driver": ["name": "freerace", "version": toolVersion, "semanticVersion": toolVersion,
                                    "rules": sarifRules]],
                // relative paths are relative to the directory freerace ran in
                "originalUriBaseIds": ["%SRCROOT%": ["uri": "file://" + PathText.percentEncoded(rootPrefix)]],
                "results": results,
                "invocations": [["executionSuccessful": true,
                                 "toolExecutionNotifications": r.warnings.map {
                                     ["level": "warning", "message": ["text": "\($0.path): \($0.message)"]]
                                 }]],
            ]],
        ]
        guard let data = try? JSONSerialization.data(withJSONObject: doc, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }

    // MARK: GitHub annotations

    public static func github(_ r: Report) -> String {
        func esc(_ s: String) -> String {
            s.replacingOccurrences(of: "%", with: "%25").replacingOccurrences(of: "\r", with: "%0D")
                .replacingOccurrences(of: "\n", with: "%0A")
        }
        func prop(_ s: String) -> String { esc(s).replacingOccurrences(of: ":", with: "%3A").replacingOccurrences(of: ",", with: "%2C") }
        var out = ""
        for f in r.findings {
            var body = f.message
            for n in f.notes { body += "\n" + (n.thread.map { "thread \($0)  " } ?? "") + "\(n.location.description): \(n.message)" }
            body += "\nwhy: \(f.why)\nhelp: \(f.help)"
            out += "::\(f.severity == .error ? "error" : "warning") file=\(prop(f.location.path)),line=\(f.location.line),col=\(f.location.column),title=\(prop("\(f.code) \(f.name)"))::\(esc(body))\n"
        }
        for w in r.warnings { out += "::warning file=\(prop(w.path))::\(esc(w.message))\n" }
        return out
    }
}
