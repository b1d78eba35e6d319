import Foundation
import FreeraceSyntax
import TOMLKit

/// Settings from `pyproject.toml` (`[tool.freerace]`) or `.freerace.toml`. The command line wins.
/// Which file governs which source is `ConfigResolver`'s business.
public struct Config: Sendable, Equatable {
    public var select: [String]?
    public var ignore: [String]?
    public var target: String?
    public var python: String?
    public var define: [String]?
    public var undefine: [String]?
    public var exclude: [String]?
    public var baseline: String?
    public var jobs: Int?
    public var includeGenerated: Bool?
    /// The file it came from.
    public var source: String?

    public init() {}

    public static let knownKeys = ["select", "ignore", "target", "python", "define", "undefine", "exclude", "baseline",
                                   "jobs", "include-generated"]

    public struct Error: Swift.Error, CustomStringConvertible {
        public var description: String
    }

    /// Loads an explicit file: `.freerace.toml` (top-level keys) or `pyproject.toml` (`[tool.freerace]`).
    public static func load(path: String) throws -> Config {
        guard let text = FileSystem.text(path) else {
            throw Error(description: "cannot read configuration file \(path): \(String(cString: strerror(errno)))")
        }
        if FileSystem.baseName(path) == "pyproject.toml" {
            return try loadPyproject(path: path) ?? Config()
        }
        let table = try parseTOML(text, path: path)
        return try from(table, source: path, prefix: "")
    }

    static func loadPyproject(path: String) throws -> Config? {
        guard let text = FileSystem.text(path) else { return nil }
        let table = try parseTOML(text, path: path)
        guard let tool = table["tool"]?.table, let entry = tool["freerace"] else { return nil }
        guard let fr = entry.table else {
            throw Error(description: "\(path): `tool.freerace` must be a table ([tool.freerace]), not a value")
        }
        return try from(fr, source: path, prefix: "tool.freerace.")
    }

    /// The table of a TOML text; a syntax error is reported at its place, compiler-style
    /// (`pyproject.toml:3:12: invalid TOML: …`).
    static func parseTOML(_ text: String, path: String) throws -> TOMLTable {
        do { return try TOMLTable(string: text) } catch let e as TOMLParseError {
            let what = e.description.hasPrefix("Error while ") ? "e" + e.description.dropFirst() : e.description
            throw Error(description: "\(path):\(e.source.begin.line):\(e.source.begin.column): invalid TOML: \(what)")
        } catch {
            throw Error(description: "\(path): invalid TOML")
        }
    }

    static func from(_ t: TOMLTable, source: String, prefix: String) throws -> Config {
        var c = Config()
        c.source = source
        for key in t.keys.sorted() {
            guard knownKeys.contains(key) else {
                throw Error(description: "\(source): unknown configuration key `\(prefix)\(key)` (known: \(knownKeys.joined(separator: ", ")))")
            }
        }
        func strings(_ k: String) throws -> [String]? {
            guard let v = t[k] else { return nil }
            if let a = v.array {
                return try a.map {
                    guard let s = $0.string else { throw Error(description: "\(source): `\(prefix)\(k)` must be a list of strings") }
                    return s
                }
            }
            if let s = v.string { return [s] }
            throw Error(description: "\(source): `\(prefix)\(k)` must be a list of strings")
        }
        func string(_ k: String) throws -> String? {
            guard let v = t[k] else { return nil }
            guard let s = v.string else { throw Error(description: "\(source): `\(prefix)\(k)` must be a string") }
            return s
        }
        c.select = try strings("select")
        c.ignore = try strings("ignore")
        c.target = try string("target")
        c.python = try string("python")
        c.define = try strings("define")
        c.undefine = try strings("undefine")
        c.exclude = try strings("exclude")
        // a path in the file is relative to the file's folder, wherever freerace runs from
        c.baseline = try string("baseline").map { $0.hasPrefix("/") ? $0 : FileSystem.normalize(FileSystem.join(FileSystem.parent(source), $0)) }
        if let v = t["jobs"] {
            guard let i = v.int, i > 0 else { throw Error(description: "\(source): `\(prefix)jobs` must be a positive integer") }
            c.jobs = i
        }
        if let v = t["include-generated"] {
            guard let b = v.bool else { throw Error(description: "\(source): `\(prefix)include-generated` must be true or false") }
            c.includeGenerated = b
        }
        return c
    }
}

/// Which configuration governs each file: the nearest `.freerace.toml`, or `pyproject.toml` with a
/// `[tool.freerace]` table, in the file's folder or above it. The first one found wins whole, as
/// in ruff (nothing is merged from configurations further up); a `pyproject.toml` without the
/// table does not count. `--config FILE` governs every file instead.
public final class ConfigResolver {
    /// The configurations found, in the order found; index 0 is the empty one (none above).
    public private(set) var configs: [Config] = [Config()]
    private var indexOfFolder: [String: Int] = [:]
    private let fixed: Bool
    /// The first configuration file that could not be read or is invalid: the run stops on it.
    public private(set) var error: Config.Error?

    /// Discovers configurations next to the files.
    public init() { fixed = false }

    /// One configuration for every file (`--config`).
    public init(fixed c: Config) {
        configs = [c]
        fixed = true
    }

    /// The configuration that governs the entries of a folder (any spelling).
    public func index(ofFolder dir: String) -> Int {
        fixed ? 0 : lookup(FileSystem.absolute(dir))
    }

    /// The configuration that governs a file (any spelling).
    public func index(ofFile path: String) -> Int {
        fixed ? 0 : lookup(FileSystem.parent(FileSystem.absolute(path)))
    }

    /// A path named on the command line: a folder is governed by its own configuration, a file
    /// by its folder's.
    public func index(ofPath path: String) -> Int {
        FileSystem.isDirectory(path) ? index(ofFolder: path) : index(ofFile: path)
    }

    private func lookup(_ dir: String) -> Int {
        if let i = indexOfFolder[dir] { return i }
        let i: Int
        if let found = load(in: dir) {
            i = found
        } else {
            let up = FileSystem.parent(dir)
            i = up == dir ? 0 : lookup(up)
        }
        indexOfFolder[dir] = i
        return i
    }

    /// The configuration file in `dir` itself, if any (added to `configs`).
    private func load(in dir: String) -> Int? {
        do {
            let dot = FileSystem.join(dir, ".freerace.toml")
            if FileSystem.exists(dot) { return add(try Config.load(path: dot)) }
            let py = FileSystem.join(dir, "pyproject.toml")
            if FileSystem.exists(py), let c = try Config.loadPyproject(path: py) { return add(c) }
        } catch let e as Config.Error {
            if error == nil { error = e }
        } catch {}
        return nil
    }

    private func add(_ c: Config) -> Int {
        configs.append(c)
        return configs.count - 1
    }
}
