import Foundation
import FreeraceRepro
import FreeraceSyntax

/// File discovery: the files under the given paths that freerace reads, by extension, skipping
/// version-control, build and hidden directories. Symbolic links to files are read; links to
/// directories are not followed.
public struct SourceSet: Sendable {
    public var files: [(path: String, language: Language)] = []
    public var warnings: [FileWarning] = []
    /// Paths the user named that do not exist (a usage error).
    public var missing: [String] = []
    /// Files read only as the context of a named file (see `addProjectContext`): the rest of its
    /// project. Their own findings are not reported. Paths as spelled in `files`.
    public var contextFiles: Set<String> = []
    /// The files named one by one on the command line (not found by walking a folder), as spelled.
    public private(set) var namedFiles: [String] = []
    /// Files whose contents were given rather than read (standard input), by the path they are
    /// analyzed and reported at.
    public var given: [String: [UInt8]] = [:]

    static let skippedDirectories: Set<String> = [
        "build", "dist", "node_modules", "__pycache__", "site-packages", "venv", "env", "_build", "CMakeFiles",
    ]

    /// `excludeFor(folder)` adds the patterns that govern the entries of one folder (those of the
    /// configuration nearest to it); it is asked once per folder walked.
    public init(paths: [String], exclude: [String] = [], excludeFor: (String) -> [String] = { _ in [] }) {
        var seen = Set<String>()
        for raw in paths {
            let path = raw.count > 1 && raw.hasSuffix("/") ? String(raw.dropLast()) : raw
            guard let st = FileSystem.status(path) else {
                missing.append(raw)
                continue
            }
            if st.kind == .directory {
                walk(path, seen: &seen, exclude: exclude, excludeFor: excludeFor)
            } else if let lang = Language.of(path: path) {
                if seen.insert(Self.identity(path)).inserted {
                    files.append((path, lang))
                    namedFiles.append(path)
                }
            } else {
                warnings.append(FileWarning(path: path, message: "not a C, C++, Cython or Python file; skipped"))
            }
        }
        files.sort { $0.path < $1.path }
        if files.isEmpty, missing.count < paths.count {
            let looked = paths.filter { !missing.contains($0) }.joined(separator: ", ")
            warnings.append(FileWarning(path: looked, message: "no C, C++, Cython or Python files found"))
        }
    }

    /// Adds a file whose contents were given (standard input, `check -`), analyzed and reported
    /// at `path`: it replaces a file at the same place found on disk (an editor's unsaved buffer).
    public mutating func addGiven(path: String, language: Language, bytes: [UInt8]) {
        let id = Self.identity(path)
        files.removeAll { Self.identity($0.path) == id }
        files.append((path, language))
        files.sort { $0.path < $1.path }
        given[path] = bytes
        // named on the command line (as `-`): checked with its project as context
        namedFiles.append(path)
    }

    /// Reads a file of the set: its given contents, or the file on disk.
    public func load(_ path: String, language: Language) -> SourceLoader.Outcome {
        SourceLoader.load(path: path, language: language, bytes: given[path])
    }

    /// The size of a file given rather than read (standard input), if it is one.
    public func givenSize(_ path: String) -> Int? { given[path]?.count }

    /// The bytes of a file of the set, checked as every input is.
    public func readBytes(_ path: String) -> Result<[UInt8], FileWarning> {
        if let b = given[path] { return SourceLoader.accept(b, path: path) }
        return SourceLoader.readBytes(path: path)
    }

    /// One key per file however its path was spelled (`ex/a.c`, `./ex/a.c`, `/abs/ex/a.c`,
    /// `ex/sub/../a.c`): overlapping arguments must not analyze (and report) a file twice.
    static func identity(_ path: String) -> String {
        FileSystem.absolute(path)
    }

    /// Adds the context of each named file that belongs to a project (`ProjectRoots`): every other
    /// file of that project, found as a walk of the project's folder would find them (the same
    /// skipped folders and exclusions), spelled from the current folder (`../b.c`, `src/b.c`).
    /// `freerace check a.c` then sees the headers `a.c` includes and the files that hold its
    /// entry points and types, as `freerace check .` would. Files under no project get none.
    public mutating func addProjectContext(exclude: [String] = [], excludeFor: (String) -> [String] = { _ in [] }) {
        var finder = ProjectRoots()
        var roots: [String] = []
        for f in namedFiles {
            let r = finder.root(ofFile: f)
            if !r.isEmpty, !roots.contains(r) { roots.append(r) }
        }
        guard !roots.isEmpty else { return }
        var seen = Set(files.map { Self.identity($0.path) })
        let before = files.count
        let cwd = FileSystem.absolute(".")
        for r in roots {
            walk(FileSystem.relative(r, from: cwd), seen: &seen, exclude: exclude, excludeFor: excludeFor, quiet: true)
        }
        for f in files[before...] { contextFiles.insert(f.path) }
        files.sort { $0.path < $1.path }
    }

    /// Names are bytes: a file or folder whose name is not UTF-8 is walked and analyzed like any
    /// other (see `PathText`). `quiet`: a context walk, whose unreadable folders and broken links
    /// concern files nobody named.
    private mutating func walk(_ root: String, seen: inout Set<String>, exclude: [String],
                               excludeFor: (String) -> [String], quiet: Bool = false) {
        var stack = [root]
        while let dir = stack.popLast() {
            guard let names = FileSystem.list(dir) else {
                if !quiet { warnings.append(FileWarning(path: dir, message: "cannot read directory")) }
                continue
            }
            let patterns = exclude + excludeFor(dir)
            for name in names.sorted() {
                if name.hasPrefix(".") { continue }
                let full = dir == "." ? name : dir + "/" + name
                if patterns.contains(where: { Self.matches(full, pattern: $0) }) { continue }
                guard var st = FileSystem.status(full, followLinks: false) else { continue }
                if st.kind == .symlink {
                    // a link to a source file is read; a link to a directory is not followed (cycles)
                    guard let target = FileSystem.status(full) else {
                        if !quiet, Language.of(path: name) != nil {
                            warnings.append(FileWarning(path: full, message: "broken symbolic link; skipped"))
                        }
                        continue
                    }
                    if target.kind == .directory { continue }
                    st = target
                }
                if st.kind == .directory {
                    if Self.skippedDirectories.contains(name) || name.hasPrefix(".build") { continue }
                    stack.append(full)
                } else if st.kind == .regular, let lang = Language.of(path: name) {
                    if seen.insert(Self.identity(full)).inserted { files.append((full, lang)) }
                }
            }
        }
    }

    /// A small glob: `*` matches within a path segment, `**` across segments; a pattern without
    /// `/` matches any path segment.
    public static func matches(_ path: String, pattern: String) -> Bool {
        if !pattern.contains("/") {
            return path.split(separator: "/").contains { glob(Substring($0), Substring(pattern)) }
        }
        return glob(Substring(path), Substring(pattern)) || glob(Substring(path), Substring("**/" + pattern))
    }

    static func glob(_ s: Substring, _ p: Substring) -> Bool {
        if p.isEmpty { return s.isEmpty }
        if p.hasPrefix("**") {
            let rest = p.dropFirst(2).drop { $0 == "/" }
            var i = s.startIndex
            while true {
                if glob(s[i...], rest) { return true }
                if i == s.endIndex { return false }
                i = s.index(after: i)
            }
        }
        if p.first == "*" {
            let rest = p.dropFirst()
            var i = s.startIndex
            while true {
                if glob(s[i...], rest) { return true }
                if i == s.endIndex || s[i] == "/" { return false }
                i = s.index(after: i)
            }
        }
        guard let c = s.first, let q = p.first, c == q || q == "?" else { return false }
        return glob(s.dropFirst(), p.dropFirst())
    }
}

/// Reading one file with the checks every input gets.
public enum SourceLoader {
    public static let maxBytes = 64 << 20

    public enum Outcome: Sendable {
        case source(SourceFile)
        case skipped(FileWarning)
    }

    /// `bytes`: the file's contents when they were given rather than read (standard input).
    public static func load(path: String, language: Language, bytes given: [UInt8]? = nil) -> Outcome {
        switch given.map({ accept($0, path: path) }) ?? readBytes(path: path) {
        case .failure(let w):
            return .skipped(w)
        case .success(var bytes):
            normalizeLoneCarriageReturns(&bytes)
            var lang = language
            if lang == .c, path.hasSuffix(".h"), looksLikeCpp(bytes) { lang = .cpp }
            return .source(SourceFile(path: path, language: lang, bytes: bytes))
        }
    }

    /// Classic Mac line endings (a CR not followed by LF) become LF, byte for byte: directives,
    /// `//` comments and line numbers all end at a newline, so a CR-only file would otherwise be
    /// one endless line. Offsets are unchanged; CRLF files are left as they are.
    static func normalizeLoneCarriageReturns(_ bytes: inout [UInt8]) {
        let n = bytes.count
        // most files have no CR at all: one memchr over the bytes
        guard let start = bytes.withUnsafeBufferPointer({ ByteCursor.firstIndex(of: 0x0D, in: $0) }) else { return }
        for i in start..<n where bytes[i] == 0x0D && (i + 1 == n || bytes[i + 1] != 0x0A) {
            bytes[i] = 0x0A
        }
    }

    /// The bytes of a regular, non-binary file within the size limit, or why it is skipped.
    public static func readBytes(path: String) -> Result<[UInt8], FileWarning> {
        // Non-blocking open and a check on the opened descriptor: a FIFO or device named as a
        // source must not block the run, and nothing larger than the limit is read into memory.
        let fd = FileSystem.withCPath(path) { open($0, O_RDONLY | O_NONBLOCK | O_CLOEXEC) }
        guard fd >= 0 else {
            return .failure(FileWarning(path: path, message: "cannot open file: \(errnoText())"))
        }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            return .failure(FileWarning(path: path, message: "cannot read file: \(errnoText())"))
        }
        guard st.st_mode & S_IFMT == S_IFREG else {
            return .failure(FileWarning(path: path, message: "not a regular file (FIFO, device or socket); skipped"))
        }
        let tooLarge = FileWarning(path: path, message: "file is larger than \(maxBytes >> 20) MB; skipped")
        if Int(st.st_size) > maxBytes { return .failure(tooLarge) }
        // files whose size stat does not report (/proc) are still bounded
        guard let bytes = FileSystem.readAll(fd, expected: Int(st.st_size), limit: maxBytes) else {
            return .failure(FileWarning(path: path, message: "cannot read file: \(errnoText())"))
        }
        return accept(bytes, path: path)
    }

    /// The checks on contents, wherever they came from: the size limit, and no binary data.
    public static func accept(_ bytes: [UInt8], path: String) -> Result<[UInt8], FileWarning> {
        if bytes.count > maxBytes {
            return .failure(FileWarning(path: path, message: "file is larger than \(maxBytes >> 20) MB; skipped"))
        }
        if isBinary(bytes) {
            return .failure(FileWarning(path: path, message: "binary file (NUL bytes); skipped"))
        }
        return .success(bytes)
    }

    static func errnoText() -> String { String(cString: strerror(errno)) }

    /// A `.h` header written in C++ (templates, namespaces, `std::`) is read as C++.
    static func looksLikeCpp(_ bytes: [UInt8]) -> Bool {
        ByteCursor.containsAny(bytes, ["\nnamespace ", "template <", "template<", "std::", "\npublic:", "\nclass "])
    }

    static func isBinary(_ bytes: [UInt8]) -> Bool {
        bytes.prefix(8192).contains(0)
    }

    /// A stress script `freerace repro` wrote: never analyzed.
    public static func isReproScript(_ source: SourceFile) -> Bool {
        source.language == .python && ReproScript.isGenerated(head: source.bytes)
    }

    /// C generated by Cython: analyzed through its `.pyx` instead.
    public static func isGeneratedByCython(_ source: SourceFile) -> Bool {
        guard source.language == .c || source.language == .cpp else { return false }
        let head = source.bytes.prefix(200)
        return String(decoding: head, as: UTF8.self).contains("Generated by Cython")
    }
}
