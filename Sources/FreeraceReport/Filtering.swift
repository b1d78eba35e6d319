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
        public var baselined: Int
        /// Suppression comments that matched no finding: (path, suppression).
        public var unusedSuppressions: [(String, Suppression)]
    }

    public func apply(_ findings: [Finding], suppressions: [String: [Suppression]]) -> Outcome {
        var kept: [Finding] = []
        var suppressed = 0
        var baselined = 0
        var used = Set<String>()
        for f in findings where isSelected(f.code) {
            if let s = (suppressions[f.location.path] ?? []).first(where: { Self.covers($0, f) }) {
                suppressed += 1
                used.insert("\(f.location.path):\(s.line)")
                continue
            }
            if baselineIDs.contains(f.id) {
                baselined += 1
                continue
            }
            kept.append(f)
        }
        var unused: [(String, Suppression)] = []
        for (path, list) in suppressions.sorted(by: { $0.key < $1.key }) {
            for s in list where !s.foreign && !used.contains("\(path):\(s.line)") { unused.append((path, s)) }
        }
        return Outcome(kept: kept, suppressed: suppressed, baselined: baselined, unusedSuppressions: unused)
    }

    static func covers(_ s: Suppression, _ f: Finding) -> Bool {
        let codeOK = s.codes.isEmpty || s.codes.contains { f.code.hasPrefix($0) }
        return codeOK && (s.fileLevel || s.appliesTo == f.location.line || s.line == f.location.line)
    }
}

/// `--baseline` / `--write-baseline`: the ids of known findings, so CI only fails on new ones.
public enum Baseline {
    public struct Entry: Codable, Sendable {
        public var id: String
        public var code: String
        public var path: String
        public var message: String
    }
    public struct File: Codable, Sendable {
        public var version: Int
        public var findings: [Entry]
    }

    public static func read(path: String) throws -> Set<String> {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        let f = try JSONDecoder().decode(File.self, from: data)
        return Set(f.findings.map(\.id))
    }

    public static func write(_ findings: [Finding], path: String) throws {
        let f = File(version: 1, findings: findings.map {
            Entry(id: $0.id, code: $0.code, path: $0.location.path, message: $0.message)
        })
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try enc.encode(f).write(to: URL(fileURLWithPath: path))
    }
}
