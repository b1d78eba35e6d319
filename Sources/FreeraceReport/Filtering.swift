import Foundation
import FreeraceModel
import FreeraceRules

/// Which findings a run keeps: `--select`/`--ignore`, inline suppressions and the baseline.
public struct FindingFilter: Sendable {
    public var select: [String] = []
    public var ignore: [String] = []
    public var baselineIDs: Set<String> = []

    public init(select: [String] = [], ignore: [String] = [], baselineIDs: Set<String> = []) {
        self.select = select
        self.ignore = ignore
        self.baselineIDs = baselineIDs
    }

    /// `FR3` selects FR301–FR399; `ALL` selects everything.
    static func matches(_ code: String, _ patterns: [String]) -> Bool {
        patterns.contains { p in
            let u = p.uppercased()
            return u == "ALL" || code.hasPrefix(u)
        }
    }

    public func isSelected(_ code: String) -> Bool {
        if !select.isEmpty, !Self.matches(code, select) { return false }
        if Self.matches(code, ignore) { return false }
        return true
    }

    public struct Outcome: Sendable {
        public var kept: [Finding]
        public var suppressed: Int
        /// Findings left out because the baseline lists them (still current findings).
        public var baselinedFindings: [Finding]
        public var baselined: Int { baselinedFindings.count }
        /// Suppression comments that matched no finding: (path, suppression).
        public var unusedSuppressions: [(String, Suppression)]
        /// Codes named by suppression comments that name no rule (`ignore[FR999]`), which
        /// therefore suppress nothing: (path, suppression, code as written).
        public var unknownCodes: [(path: String, suppression: Suppression, code: String)] = []
    }

    /// Whether a code in a suppression comment names a rule or a family of rules (`FR3`).
    public static func isKnownSuppressionCode(_ code: String, rules: [String]) -> Bool {
        !code.isEmpty && rules.contains { $0.hasPrefix(code.uppercased()) }
    }

    public func apply(_ findings: [Finding], suppressions: [String: [Suppression]],
                      ruleCodes: [String] = RuleRegistry.all.map(\.code)) -> Outcome {
        var kept: [Finding] = []
        var suppressed = 0
        var baselined: [Finding] = []
        var used = Set<String>()
        for f in findings where isSelected(f.code) {
            if let s = (suppressions[f.location.path] ?? []).first(where: { Self.covers($0, f) }) {
                suppressed += 1
                used.insert("\(f.location.path):\(s.line)")
                continue
            }
            if baselineIDs.contains(f.id) {
                baselined.append(f)
                continue
            }
            kept.append(f)
        }
        var unused: [(String, Suppression)] = []
        var unknown: [(path: String, suppression: Suppression, code: String)] = []
        for (path, list) in suppressions.sorted(by: { $0.key < $1.key }) {
            for s in list where !s.foreign {
                let bad = s.codes.filter { !Self.isKnownSuppressionCode($0, rules: ruleCodes) }
                unknown += bad.map { (path, s, $0) }
                // a comment that names only unknown codes is reported for them, not twice
                if !s.codes.isEmpty, bad.count == s.codes.count { continue }
                if !used.contains("\(path):\(s.line)") { unused.append((path, s)) }
            }
        }
        return Outcome(kept: kept, suppressed: suppressed, baselinedFindings: baselined, unusedSuppressions: unused,
                       unknownCodes: unknown)
    }

    static func covers(_ s: Suppression, _ f: Finding) -> Bool {
        let codeOK = s.codes.isEmpty || s.codes.contains { f.code.hasPrefix($0) }
        return codeOK && (s.fileLevel || s.appliesTo == f.location.line || s.line == f.location.line)
    }
}

/// `--baseline` / `--write-baseline`: the ids of known findings, so CI only fails on new ones.
///
/// The file is JSON: `{"version": 1, "findings": [{"id", "code", "path", "message"}]}`, sorted
/// by path, code and id so that it diffs well under version control.
public enum Baseline {
    public struct Entry: Codable, Sendable, Hashable {
        public var id: String
        public var code: String
        public var path: String
        public var message: String

        public init(id: String, code: String, path: String, message: String) {
            self.id = id
            self.code = code
            self.path = path
            self.message = message
        }

        public init(_ f: Finding) {
            self.init(id: f.id, code: f.code, path: f.location.path, message: f.message)
        }
    }

    public struct File: Codable, Sendable {
        public var version: Int
        public var findings: [Entry]
    }

    public struct ReadError: Error, CustomStringConvertible {
        public var description: String
    }

    /// The entries of a baseline file's contents.
    public static func parse(_ bytes: [UInt8]) throws -> [Entry] {
        do {
            return try JSONDecoder().decode(File.self, from: Data(bytes)).findings
        } catch {
            throw ReadError(description: "not a freerace baseline (expected JSON with `version` and `findings`)")
        }
    }

    /// The file's contents for these entries: each id once, in a stable order.
    public static func encode(_ entries: [Entry]) -> [UInt8] {
        var seen = Set<String>()
        let unique = entries.filter { seen.insert($0.id).inserted }
            .sorted { ($0.path, $0.code, $0.id) < ($1.path, $1.code, $1.id) }
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let data = (try? enc.encode(File(version: 1, findings: unique))) ?? Data()
        return Array(data) + [0x0A]
    }
}
