import FreeraceSyntax

/// The bytes of one line of a source file (without its line break), for excerpts and columns;
/// nil when the file or the line cannot be read. The driver supplies it (it knows which files
/// came from standard input).
public typealias SourceLines = (_ path: String, _ line: Int) -> [UInt8]?

/// Columns as people and tools count them.
///
/// The model counts columns in bytes (offsets into the file); every report counts them in
/// characters (Unicode code points, SARIF `columnKind: unicodeCodePoints`), so that `é` or `→`
/// before a finding does not push its column to the right. Bytes that are not UTF-8 count as
/// one character each, as they are shown.
public enum SourceColumns {
    /// The 1-based character column of a 1-based byte column on `line`. A column past the end
    /// of the line keeps its distance from the end.
    public static func characterColumn(byteColumn: Int, in line: [UInt8]) -> Int {
        let n = max(0, min(byteColumn - 1, line.count))
        let beyond = max(0, byteColumn - 1 - line.count)
        return String(decoding: line[0..<n], as: UTF8.self).unicodeScalars.count + beyond + 1
    }

    /// The 1-based byte column just past the token or expression that starts at `byteColumn`:
    /// an identifier with its member accesses (`self->entries`, `obj.buf`), calls and subscripts
    /// on the same line (`PyMem_Free(old)`, `items[i]`); one character for anything else.
    public static func expressionEnd(byteColumn: Int, in line: [UInt8]) -> Int {
        let start = byteColumn - 1
        guard start >= 0, start < line.count else { return byteColumn + 1 }
        var i = start
        guard isIdentifierByte(line[i]) else { return byteColumn + characterLength(line, at: i) }
        func identifier() { while i < line.count, isIdentifierByte(line[i]) { i += 1 } }
        identifier()
        while i < line.count {
            let b = line[i]
            if b == UInt8(ascii: "."), i + 1 < line.count, isIdentifierByte(line[i + 1]) {
                i += 1
                identifier()
            } else if b == UInt8(ascii: "-"), i + 2 < line.count, line[i + 1] == UInt8(ascii: ">"),
                      isIdentifierByte(line[i + 2]) {
                i += 2
                identifier()
            } else if b == UInt8(ascii: "(") || b == UInt8(ascii: "["), let close = matchingClose(line, from: i) {
                i = close + 1
            } else {
                break
            }
        }
        return i + 1
    }

    /// Letters, digits, `_`, and any byte of a non-ASCII character (Python identifiers).
    static func isIdentifierByte(_ b: UInt8) -> Bool {
        b == UInt8(ascii: "_") || (b | 0x20) >= 0x61 && (b | 0x20) <= 0x7A || b >= 0x30 && b <= 0x39 || b >= 0x80
    }

    /// Bytes of the UTF-8 character at `i` (1 for a byte that starts none).
    static func characterLength(_ line: [UInt8], at i: Int) -> Int {
        let b = line[i]
        let n = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC0 ? 2 : 1
        guard i + n <= line.count, line[(i + 1)..<(i + n)].allSatisfy({ $0 & 0xC0 == 0x80 }) else { return 1 }
        return n
    }

    /// The index of the bracket that closes the one at `open`, on this line; string and
    /// character literals are skipped. Nil when it closes on a later line.
    static func matchingClose(_ line: [UInt8], from open: Int) -> Int? {
        var depth = 0
        var i = open
        var quote: UInt8?
        while i < line.count {
            let b = line[i]
            if let q = quote {
                if b == UInt8(ascii: "\\") { i += 2; continue }
                if b == q { quote = nil }
            } else if b == UInt8(ascii: "\"") || b == UInt8(ascii: "'") {
                quote = b
            } else if b == UInt8(ascii: "(") || b == UInt8(ascii: "[") {
                depth += 1
            } else if b == UInt8(ascii: ")") || b == UInt8(ascii: "]") {
                depth -= 1
                if depth == 0 { return i }
            }
            i += 1
        }
        return nil
    }
}

/// A finding's place as reports show it: columns in characters, with the end of the token or
/// expression it points at (exclusive) when the line could be read.
public struct SourceRegion: Sendable, Hashable {
    public var line: Int
    public var column: Int
    public var endColumn: Int?

    /// `location` (byte column) measured on its line.
    public init(_ location: Location, lines: SourceLines) {
        line = location.line
        guard let text = lines(location.path, location.line) else {
            column = location.column
            endColumn = nil
            return
        }
        column = SourceColumns.characterColumn(byteColumn: location.column, in: text)
        endColumn = SourceColumns.characterColumn(
            byteColumn: SourceColumns.expressionEnd(byteColumn: location.column, in: text), in: text)
    }
}
