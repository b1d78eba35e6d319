import Foundation
import FreeraceSyntax

/// Parse health per language: how many function bodies parse without any recovery.
public struct ParseStats: Sendable, Codable {
    public struct Language: Sendable, Codable {
        public var files = 0
        public var bytes = 0
        public var functions = 0
        public var clean = 0
        public var recovered = 0
        /// Recovery points outside function bodies (file scope).
        public var recoveredRegions = 0
        public var percentClean: Double { functions == 0 ? 100 : Double(clean) * 100 / Double(functions) }

        enum CodingKeys: String, CodingKey { case files, bytes, functions, clean, recovered, recoveredRegions, percentClean }

        public init() {}

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(files, forKey: .files)
            try c.encode(bytes, forKey: .bytes)
            try c.encode(functions, forKey: .functions)
            try c.encode(clean, forKey: .clean)
            try c.encode(recovered, forKey: .recovered)
            try c.encode(recoveredRegions, forKey: .recoveredRegions)
            try c.encode((percentClean * 100).rounded() / 100, forKey: .percentClean)
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            files = try c.decode(Int.self, forKey: .files)
            bytes = try c.decode(Int.self, forKey: .bytes)
            functions = try c.decode(Int.self, forKey: .functions)
            clean = try c.decode(Int.self, forKey: .clean)
            recovered = try c.decode(Int.self, forKey: .recovered)
            recoveredRegions = try c.decodeIfPresent(Int.self, forKey: .recoveredRegions) ?? 0
        }

        mutating func add(_ o: Language) {
            files += o.files
            bytes += o.bytes
            functions += o.functions
            clean += o.clean
            recovered += o.recovered
            recoveredRegions += o.recoveredRegions
        }
    }

    public var languages: [String: Language] = [:]
    /// Files skipped (binary, unreadable, too large) and generated files left out.
    public var skipped: [FileWarning] = []
    public var generatedSkipped = 0
    /// Functions whose body needed recovery, with the first recovery location (for `--show-recovered`).
    public var recoveredFunctions: [String] = []

    enum CodingKeys: String, CodingKey { case languages, skipped, generatedSkipped }
}

extension ParseStats {
    public func jsonText() -> String {
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return (try? String(decoding: enc.encode(self), as: UTF8.self)) ?? "{}"
    }

    public func text() -> String {
        var out = ""
        for (name, l) in languages.sorted(by: { $0.key < $1.key }) {
            out += "\(name): \(counted(l.files, "file")), \(counted(l.bytes, "byte")), \(counted(l.functions, "function")), "
                + "\(l.clean) clean, \(l.recovered) recovered (\(String(format: "%.2f", l.percentClean))% clean), "
                + "\(counted(l.recoveredRegions, "file-scope recovery", "file-scope recoveries"))\n"
        }
        if generatedSkipped > 0 { out += "left out: \(counted(generatedSkipped, "Cython-generated C file"))\n" }
        for w in skipped { out += "\(w.path): warning: \(w.message)\n" }
        return out
    }
}
