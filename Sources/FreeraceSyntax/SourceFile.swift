/// The languages freerace reads, chosen by file extension.
public enum Language: String, Sendable, CaseIterable, Codable, Comparable {
    case c, cpp, cython, python

    public static func < (a: Language, b: Language) -> Bool { a.order < b.order }
    private var order: Int {
        switch self {
        case .c: 0
        case .cpp: 1
        case .cython: 2
        case .python: 3
        }
    }

    /// The language of a path, or nil when freerace does not read it.
    public static func of(path: String) -> Language? {
        guard let dot = path.lastIndex(of: "."), !path[dot...].contains("/") else { return nil }
        switch path[path.index(after: dot)...].lowercased() {
        case "c", "h": return .c
        case "cc", "cpp", "cxx", "c++", "hpp", "hh", "hxx", "inl", "ipp": return .cpp
        case "pyx", "pxd", "pxi": return .cython
        case "py": return .python
        default: return nil
        }
    }
}

/// A position in a file: 1-based line and column (column counts bytes).
public struct Location: Sendable, Hashable, Comparable, Codable {
    public var path: String
    public var line: Int
    public var column: Int

    public init(path: String, line: Int, column: Int) {
        self.path = path
        self.line = line
        self.column = column
    }

    public static func < (a: Location, b: Location) -> Bool {
        (a.path, a.line, a.column) < (b.path, b.line, b.column)
    }

    public var description: String { "\(path):\(line):\(column)" }
}

/// One input file: its bytes and a table of line starts. Text is sliced on demand.
public struct SourceFile: Sendable {
    public let path: String
    public let language: Language
    public let bytes: [UInt8]
    /// Byte offset at which each line starts; `lineStarts[0] == 0`.
    public let lineStarts: [Int32]

    public init(path: String, language: Language, bytes: [UInt8]) {
        self.path = path
        self.language = language
        self.bytes = bytes
        var starts: [Int32] = [0]
        starts.reserveCapacity(bytes.count / 32 + 1)
        bytes.withUnsafeBufferPointer { buf in
            var i = 0
            while let at = ByteCursor.firstIndex(of: 0x0A, in: buf, from: i) {
                starts.append(Int32(truncatingIfNeeded: at + 1))
                i = at + 1
            }
        }
        self.lineStarts = starts
    }

    public init(path: String, language: Language, text: String) {
        self.init(path: path, language: language, bytes: Array(text.utf8))
    }

    /// 1-based line of a byte offset.
    public func line(of offset: Int) -> Int {
        var lo = 0
        var hi = lineStarts.count - 1
        let target = Int32(clamping: offset)
        while lo < hi {
            let mid = (lo + hi + 1) / 2
            if lineStarts[mid] <= target { lo = mid } else { hi = mid - 1 }
        }
        return lo + 1
    }

    public func location(of offset: Int) -> Location {
        let l = line(of: offset)
        return Location(path: path, line: l, column: offset - Int(lineStarts[l - 1]) + 1)
    }

    /// Text of a byte range, with invalid UTF-8 repaired.
    public func text(_ start: Int, _ end: Int) -> String {
        let s = max(0, min(start, bytes.count))
        let e = max(s, min(end, bytes.count))
        return String(decoding: bytes[s..<e], as: UTF8.self)
    }

    /// The text of a 1-based line without its newline.
    public func lineText(_ line: Int) -> String {
        guard line >= 1, line <= lineStarts.count else { return "" }
        let s = Int(lineStarts[line - 1])
        var e = line < lineStarts.count ? Int(lineStarts[line]) : bytes.count
        while e > s, bytes[e - 1] == 0x0A || bytes[e - 1] == 0x0D { e -= 1 }
        return text(s, e)
    }

    public var lineCount: Int { lineStarts.count }
}

/// A problem with one input that did not stop the run; at a line and column (bytes) when it
/// has one.
public struct FileWarning: Error, Sendable, Hashable, Codable {
    public var path: String
    public var line: Int?
    public var column: Int?
    public var message: String
    public init(path: String, line: Int? = nil, column: Int? = nil, message: String) {
        self.path = path
        self.line = line
        self.column = column
        self.message = message
    }
}

/// A message about a place in a file being read (a parse warning), before the file's path is
/// attached: 1-based line and byte column.
public struct LineDiagnostic: Sendable, Hashable, Codable, CustomStringConvertible {
    public var line: Int
    public var column: Int
    public var message: String
    public init(line: Int, column: Int, message: String) {
        self.line = line
        self.column = column
        self.message = message
    }
    public var description: String { "\(line):\(column): \(message)" }
}
