#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Paths are bytes on POSIX systems, and a file or folder name need not be UTF-8. freerace
/// carries every path in a `String` that round-trips its bytes: valid UTF-8 is kept as it is,
/// and each byte of an invalid sequence becomes the private-use scalar U+10FF00 + byte
/// (U+10FF80…U+10FFFF; the idea of Python's `surrogateescape`, which Swift strings cannot hold).
/// Every system call goes through `FileSystem`, which turns the string back into its bytes, and
/// every renderer shows such a byte as `\xNN` (`display`) or `%NN` in a URI (`percentEncoded`).
///
/// A name that really contains one of those 128 plane-16 private-use characters is read right
/// (the string round-trips through `bytes`), but is displayed as the byte it stands for.
public enum PathText {
    static let escapeBase: UInt32 = 0x10FF00

    /// The string for a path's bytes (a trailing NUL, if any, is not part of it).
    public static func decode<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
        if let s = String(validating: bytes, as: UTF8.self) { return s }
        return decodeSlow(Array(bytes))
    }

    /// Byte-wise decoding for names that are not UTF-8 (rare: kept simple).
    static func decodeSlow(_ b: [UInt8]) -> String {
        var scalars = String.UnicodeScalarView()
        var i = 0
        while i < b.count {
            let n = validSequenceLength(b, i)
            if n == 0 {
                scalars.append(Unicode.Scalar(escapeBase + UInt32(b[i]))!)
                i += 1
            } else {
                scalars.append(contentsOf: String(decoding: b[i..<i + n], as: UTF8.self).unicodeScalars)
                i += n
            }
        }
        return String(scalars)
    }

    /// Length of the well-formed UTF-8 sequence at `i`, or 0 when it is not one.
    static func validSequenceLength(_ b: [UInt8], _ i: Int) -> Int {
        let c = b[i]
        func cont(_ k: Int, _ lo: UInt8 = 0x80, _ hi: UInt8 = 0xBF) -> Bool {
            i + k < b.count && b[i + k] >= lo && b[i + k] <= hi
        }
        switch c {
        case 0x00...0x7F: return 1
        case 0xC2...0xDF: return cont(1) ? 2 : 0
        case 0xE0: return cont(1, 0xA0, 0xBF) && cont(2) ? 3 : 0
        case 0xE1...0xEC, 0xEE...0xEF: return cont(1) && cont(2) ? 3 : 0
        case 0xED: return cont(1, 0x80, 0x9F) && cont(2) ? 3 : 0
        case 0xF0: return cont(1, 0x90, 0xBF) && cont(2) && cont(3) ? 4 : 0
        case 0xF1...0xF3: return cont(1) && cont(2) && cont(3) ? 4 : 0
        case 0xF4: return cont(1, 0x80, 0x8F) && cont(2) && cont(3) ? 4 : 0
        default: return 0
        }
    }

    /// The byte an escaped scalar stands for, if it is one.
    @inline(__always)
    static func escapedByte(_ s: Unicode.Scalar) -> UInt8? {
        s.value >= escapeBase + 0x80 && s.value <= escapeBase + 0xFF ? UInt8(s.value - escapeBase) : nil
    }

    /// The bytes of a path string, for a system call.
    public static func bytes(_ s: String) -> [UInt8] {
        if !containsEscapes(s) { return Array(s.utf8) }
        var out: [UInt8] = []
        out.reserveCapacity(s.utf8.count)
        for u in s.unicodeScalars {
            if let b = escapedByte(u) { out.append(b) } else { out.append(contentsOf: String(u).utf8) }
        }
        return out
    }

    /// Whether the string holds a byte that is not UTF-8 (cheap: the escapes are 4-byte
    /// sequences starting F4 8F BE/BF).
    public static func containsEscapes(_ s: String) -> Bool {
        var prev: UInt8 = 0
        for b in s.utf8 {
            if prev == 0xF4, b == 0x8F { return true }
            prev = b
        }
        return false
    }

    /// For people: each byte that is not UTF-8 shown as `\xNN` (inside JSON text `\\xNN`, so
    /// that the string it is in decodes to `\xNN`).
    public static func display(_ s: String, inJSON: Bool = false) -> String {
        guard containsEscapes(s) else { return s }
        var out = ""
        for u in s.unicodeScalars {
            if let b = escapedByte(u) { out += (inJSON ? "\\\\x" : "\\x") + hex(b) } else { out.unicodeScalars.append(u) }
        }
        return out
    }

    /// A URI path: the path's bytes, percent-encoded except unreserved characters and `/`.
    public static func percentEncoded(_ s: String) -> String {
        var out = ""
        for b in bytes(s) {
            switch b {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                 UInt8(ascii: "~"), UInt8(ascii: "/"):
                out.unicodeScalars.append(Unicode.Scalar(b))
            default:
                out += "%" + hex(b).uppercased()
            }
        }
        return out
    }

    static func hex(_ b: UInt8) -> String {
        let digits = Array("0123456789abcdef".utf8)
        return String(decoding: [digits[Int(b >> 4)], digits[Int(b & 15)]], as: UTF8.self)
    }
}

/// The file system, by byte paths (see `PathText`). Only this type and `SourceLoader` make
/// system calls on analyzed paths; nothing here goes through Foundation's `String` paths, which
/// cannot name a file whose name is not UTF-8.
public enum FileSystem {
    public enum Kind: Sendable, Equatable {
        case regular, directory, symlink, fifo, characterDevice, blockDevice, socket, other
    }

    /// What `stat`/`lstat` says of a path.
    public struct Status: Sendable, Equatable {
        public var kind: Kind
        public var mode: UInt32
        public var owner: UInt32
        public var group: UInt32
        public var device: UInt64
        public var inode: UInt64
        public var size: Int
    }

    /// Runs `body` with the path's bytes as a NUL-terminated C string.
    public static func withCPath<T>(_ path: String, _ body: (UnsafePointer<CChar>) throws -> T) rethrows -> T {
        var b = PathText.bytes(path)
        b.append(0)
        return try b.withUnsafeBufferPointer { buf in
            try buf.withMemoryRebound(to: CChar.self) { try body($0.baseAddress!) }
        }
    }

    static func status(_ st: stat) -> Status {
        let kind: Kind
        switch st.st_mode & S_IFMT {
        case S_IFREG: kind = .regular
        case S_IFDIR: kind = .directory
        case S_IFLNK: kind = .symlink
        case S_IFIFO: kind = .fifo
        case S_IFCHR: kind = .characterDevice
        case S_IFBLK: kind = .blockDevice
        case S_IFSOCK: kind = .socket
        default: kind = .other
        }
        return Status(kind: kind, mode: UInt32(st.st_mode & 0o7777), owner: UInt32(st.st_uid), group: UInt32(st.st_gid),
                      device: UInt64(st.st_dev), inode: UInt64(st.st_ino), size: Int(st.st_size))
    }

    /// `stat` (links followed) or `lstat` (the link itself); nil when the path does not resolve.
    public static func status(_ path: String, followLinks: Bool = true) -> Status? {
        var st = stat()
        let r = withCPath(path) { followLinks ? stat($0, &st) : lstat($0, &st) }
        return r == 0 ? status(st) : nil
    }

    public static func exists(_ path: String) -> Bool { status(path) != nil }

    public static func isDirectory(_ path: String) -> Bool { status(path)?.kind == .directory }

    /// The names in a directory (not `.` and `..`), or nil when it cannot be read.
    public static func list(_ directory: String) -> [String]? {
        guard let d = withCPath(directory, { opendir($0) }) else { return nil }
        defer { closedir(d) }
        var names: [String] = []
        while let e = readdir(d) {
            let name: String = withUnsafePointer(to: &e.pointee.d_name) { p in
                p.withMemoryRebound(to: UInt8.self, capacity: MemoryLayout.size(ofValue: e.pointee.d_name)) { q in
                    PathText.decode(UnsafeBufferPointer(start: q, count: strlen(UnsafeRawPointer(q).assumingMemoryBound(to: CChar.self))))
                }
            }
            if name == "." || name == ".." { continue }
            names.append(name)
        }
        return names
    }

    /// The whole contents of a file, or nil when it cannot be opened or read (also for a
    /// directory). A FIFO is read until its writer closes it.
    public static func contents(_ path: String) -> [UInt8]? {
        let fd = withCPath(path) { open($0, O_RDONLY | O_CLOEXEC) }
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        return readAll(fd)
    }

    /// Everything left to read on a descriptor (interrupted reads retried), or nil on a read error
    /// with `errno` set. Reading stops once more than `limit` bytes are in: a result longer than
    /// `limit` says the source is too large, whatever its size claimed. `expected` reserves room.
    public static func readAll(_ fd: Int32, expected: Int = 0, limit: Int = .max) -> [UInt8]? {
        var out: [UInt8] = []
        out.reserveCapacity(expected)
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while out.count <= limit {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                return nil
            }
            if n == 0 { break }
            out.append(contentsOf: chunk[0..<n])
        }
        return out
    }

    /// The text of a file (invalid UTF-8 repaired), or nil when it cannot be read.
    public static func text(_ path: String) -> String? {
        contents(path).map { String(decoding: $0, as: UTF8.self) }
    }

    /// The target of a symbolic link, as written in it.
    public static func linkTarget(_ path: String) -> String? {
        var buf = [UInt8](repeating: 0, count: 4096)
        let n = withCPath(path) { p in buf.withUnsafeMutableBufferPointer { readlink(p, UnsafeMutableRawPointer($0.baseAddress!).assumingMemoryBound(to: CChar.self), $0.count) } }
        guard n >= 0 else { return nil }
        return PathText.decode(buf[0..<n])
    }

    /// The current directory.
    public static func currentDirectory() -> String {
        var buf = [UInt8](repeating: 0, count: 4096)
        while true {
            let ok = buf.withUnsafeMutableBufferPointer { getcwd(UnsafeMutableRawPointer($0.baseAddress!).assumingMemoryBound(to: CChar.self), $0.count) != nil }
            if ok { break }
            guard errno == ERANGE, buf.count < 1 << 20 else { return "." }
            buf = [UInt8](repeating: 0, count: buf.count * 2)
        }
        return PathText.decode(buf.prefix { $0 != 0 })
    }

    /// `path` made absolute (against the current directory) and normalized lexically: no `.`,
    /// no empty components, `..` removes the component before it.
    public static func absolute(_ path: String) -> String {
        normalize(path.hasPrefix("/") ? path : currentDirectory() + "/" + path)
    }

    /// Lexical normalization of a path (absolute or relative).
    public static func normalize(_ path: String) -> String {
        let absolute = path.hasPrefix("/")
        var parts: [Substring] = []
        for c in path.split(separator: "/", omittingEmptySubsequences: true) {
            if c == "." { continue }
            if c == "..", let last = parts.last, last != ".." {
                parts.removeLast()
                continue
            }
            if c == "..", absolute { continue }
            parts.append(c)
        }
        let joined = parts.joined(separator: "/")
        if absolute { return "/" + joined }
        return joined.isEmpty ? "." : joined
    }

    /// An absolute, normalized `path` spelled from the absolute, normalized folder `base`
    /// (lexically): `/p/a` from `/p` is `a`, `/p` from `/p/q/r` is `../..`, the same folder is `.`.
    /// When the two share nothing but `/`, the absolute path is returned as it is.
    public static func relative(_ path: String, from base: String) -> String {
        let p = path.split(separator: "/")
        let b = base.split(separator: "/")
        var common = 0
        while common < p.count, common < b.count, p[common] == b[common] { common += 1 }
        if common == 0 { return path }
        let up = Array(repeating: "..", count: b.count - common)
        let parts = up + p[common...].map(String.init)
        return parts.isEmpty ? "." : parts.joined(separator: "/")
    }

    /// The folder a path is in (lexically): `a/b` → `a`, `b` → `.`, `/b` → `/`.
    public static func parent(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        if slash == path.startIndex { return "/" }
        return String(path[..<slash])
    }

    /// `dir/name`, without doubling the slash of the root folder.
    public static func join(_ dir: String, _ name: String) -> String {
        dir.hasSuffix("/") ? dir + name : dir + "/" + name
    }

    /// The last component of a path.
    public static func baseName(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return path }
        return String(path[path.index(after: slash)...])
    }

    /// `path` with every symbolic link in its last component followed (at most 40), so that a
    /// write goes to the file the link names; relative links are resolved against the link's folder.
    public static func followLinks(_ path: String) -> String {
        var p = path
        for _ in 0..<40 {
            guard status(p, followLinks: false)?.kind == .symlink, let t = linkTarget(p) else { return p }
            p = t.hasPrefix("/") ? t : join(parent(p), t)
        }
        return p
    }
}

/// The project a file belongs to: the nearest folder, from the file's own upwards, that holds
/// `.git`, `pyproject.toml`, `setup.py` or `setup.cfg`. One finder for the whole program: file
/// grouping, finding ids and SARIF paths all ask it, and it remembers every folder it looked at.
public struct ProjectRoots: Sendable {
    /// What makes a folder a project root; another set finds another kind of root (`repro`
    /// builds from the nearest `setup.py` or `pyproject.toml`).
    public let markers: [String]
    private var rootOfDirectory: [String: String] = [:]

    public init(markers: [String] = [".git", "pyproject.toml", "setup.py", "setup.cfg"]) {
        self.markers = markers
    }

    /// The absolute project root of a file, or "" when no folder above it is one.
    public mutating func root(ofFile path: String) -> String {
        root(ofDirectory: FileSystem.parent(FileSystem.absolute(path)))
    }

    public mutating func root(ofDirectory dir: String) -> String {
        if let r = rootOfDirectory[dir] { return r }
        let r: String
        if markers.contains(where: { FileSystem.exists(FileSystem.join(dir, $0)) }) {
            r = dir
        } else {
            let up = FileSystem.parent(dir)
            r = up == dir ? "" : root(ofDirectory: up)
        }
        rootOfDirectory[dir] = r
        return r
    }

    /// An absolute path relative to a root found by `root(ofFile:)` ("" for none); its last two
    /// components when there is no root.
    public static func relativePath(_ abs: String, root r: String) -> String {
        if !r.isEmpty {
            let base = FileSystem.join(r, "")
            if abs.hasPrefix(base) { return String(abs.dropFirst(base.count)) }
        }
        return abs.split(separator: "/").suffix(2).joined(separator: "/")
    }
}
