import FreeraceSyntax

// A byte lexer for Python and Cython: names, numbers, strings (f-strings skipped as one token),
// operators, NEWLINE / INDENT / DEDENT. Never fails: stray bytes become `.error` tokens.

enum PyTokKind: UInt8 {
    case name, number, string, op, newline, indent, dedent, eof, error
}

/// Operator codes (`PyTok.code` of `.op` tokens).
enum PyOp: UInt8 {
    case none = 0
    case lpar, rpar, lsqb, rsqb, lbrace, rbrace, comma, colon, semi, dot, ellipsis
    case plus, minus, star, doubleStar, slash, doubleSlash, percent, at, amp, pipe, caret, tilde
    case lt, gt, le, ge, eqeq, ne, ltgt, shl, shr, assign, arrow, walrus, question, bang, backtick
    case plusEq, minusEq, starEq, slashEq, doubleSlashEq, percentEq, atEq, ampEq, pipeEq, caretEq
    case shlEq, shrEq, doubleStarEq
    case backslash, other
}

/// Word codes (`PyTok.code` of `.name` tokens). Up to `yield` hard Python keywords; after, soft words
/// that only matter in some places (Cython keywords, `match`, `print`, ...).
enum PyKw: UInt8 {
    case none = 0
    case kwFalse, kwNone, kwTrue, kwAnd, kwAs, kwAssert, kwAsync, kwAwait, kwBreak, kwClass, kwContinue
    case kwDef, kwDel, kwElif, kwElse, kwExcept, kwFinally, kwFor, kwFrom, kwGlobal, kwIf, kwImport
    case kwIn, kwIs, kwLambda, kwNonlocal, kwNot, kwOr, kwPass, kwRaise, kwReturn, kwTry, kwWhile
    case kwWith, kwYield
    // soft
    case match, caseKw, type, print, exec, cdef, cpdef, ctypedef, cimport, include, DEF, IF, ELIF, ELSE
    case nogil, gil, extern, structKw, unionKw, enumKw, fused, inline, publicKw, readonly, api, packed
    case cppclass, const, noexcept, by, sizeof, new, property, staticKw, volatile
}

struct PyTok {
    var kind: PyTokKind
    var code: UInt8
    var start: Int32
    var len: Int32
    var line: Int32
    var col: Int32

    @inline(__always) var end: Int { Int(start) + Int(len) }
    @inline(__always) var op: PyOp { kind == .op ? PyOp(rawValue: code) ?? .other : .none }
    @inline(__always) var kw: PyKw { kind == .name ? PyKw(rawValue: code) ?? .none : .none }
    @inline(__always) func isOp(_ o: PyOp) -> Bool { kind == .op && code == o.rawValue }
    @inline(__always) func isKw(_ k: PyKw) -> Bool { kind == .name && code == k.rawValue }
    /// A hard Python keyword (cannot be a name).
    @inline(__always) var isHardKeyword: Bool {
        kind == .name && code != 0 && code <= PyKw.kwYield.rawValue
    }
}

struct PyLexResult {
    var toks: [PyTok]
    var comments: [PyComment]
    var diagnostics: [LineDiagnostic]
}

struct PyLexer {
    var c: ByteCursor
    let bytes: [UInt8]
    let isCython: Bool
    var toks: [PyTok] = []
    var comments: [PyComment] = []
    var diagnostics: [LineDiagnostic] = []
    var line = 1
    var lineStart = 0
    var depth = 0
    var lineHasTokens = false
    var physLineHasTok = false
    var indents: [Int] = [0]
    var realIndent: [Bool] = [true]

    static let maxDiagnostics = 50

    init(_ c: ByteCursor, bytes: [UInt8], isCython: Bool) {
        self.c = c
        self.bytes = bytes
        self.isCython = isCython
        toks.reserveCapacity(c.end / 6 + 16)
    }

    static func lex(_ bytes: [UInt8], isCython: Bool) -> PyLexResult {
        bytes.withUnsafeBufferPointer { buf in
            var lx = PyLexer(ByteCursor(buf), bytes: bytes, isCython: isCython)
            lx.run()
            return PyLexResult(toks: lx.toks, comments: lx.comments, diagnostics: lx.diagnostics)
        }
    }

    mutating func diag(_ s: String) {
        if diagnostics.count < PyLexer.maxDiagnostics { diagnostics.append(LineDiagnostic(line: line, column: c.pos - lineStart + 1, message: s)) }
    }

    @inline(__always)
    mutating func emit(_ kind: PyTokKind, _ code: UInt8, _ start: Int, _ end: Int) {
        toks.append(PyTok(kind: kind, code: code, start: Int32(truncatingIfNeeded: start),
                          len: Int32(truncatingIfNeeded: end - start), line: Int32(truncatingIfNeeded: line),
                          col: Int32(truncatingIfNeeded: start - lineStart + 1)))
        if kind != .newline && kind != .indent && kind != .dedent {
            lineHasTokens = true
            physLineHasTok = true
        }
    }

    @inline(__always) mutating func newLine() {
        line += 1
        lineStart = c.pos
    }

    mutating func run() {
        // UTF-8 byte order mark
        if c.peek() == 0xEF && c.peek(1) == 0xBB && c.peek(2) == 0xBF {
            c.advance(3)
        }
        var atLineStart = true
        while true {
            if atLineStart {
                atLineStart = false
                physLineHasTok = false
                lineIndentation()
            }
            // horizontal whitespace
            c.skip { $0 == 0x20 || $0 == 0x09 || $0 == 0x0C || $0 == 0x0D || $0 == 0x0B }
            if c.atEnd { break }
            let b = c.peek()
            let start = c.pos
            switch b {
            case 0x0A: // \n
                if depth == 0 && lineHasTokens {
                    emit(.newline, 0, start, start + 1)
                    lineHasTokens = false
                }
                c.advance()
                newLine()
                atLineStart = true
            case 0x23: // #
                let e = c.find(0x0A, from: start)
                var te = e
                while te > start, ASCII.isHorizontalSpace(c.byte(at: te - 1)) { te -= 1 }
                comments.append(PyComment(line: line, text: text(start, min(te, start + 2000)), ownLine: !physLineHasTok))
                c.pos = e
            case 0x5C: // backslash
                if c.peek(1) == 0x0A {
                    c.advance(2)
                    newLine()
                } else if c.peek(1) == 0x0D && c.peek(2) == 0x0A {
                    c.advance(3)
                    newLine()
                } else if c.pos + 1 >= c.end {
                    c.advance()
                } else {
                    c.advance()
                    emit(.op, PyOp.backslash.rawValue, start, start + 1)
                }
            case 0x22, 0x27: // " '
                lexString(prefixStart: start, isF: false)
            case 0x30...0x39:
                lexNumber()
            case 0x2E where ASCII.isDigit(c.peek(1)):
                lexNumber()
            default:
                if Self.isIdentStart(b) {
                    lexName()
                } else {
                    lexOperator()
                }
            }
        }
        if lineHasTokens {
            emit(.newline, 0, c.end, c.end)
            lineHasTokens = false
        }
        while indents.count > 1 {
            indents.removeLast()
            if realIndent.removeLast() { emit(.dedent, 0, c.end, c.end) }
        }
        emit(.eof, 0, c.end, c.end)
    }

    @inline(__always) static func isIdentStart(_ b: UInt8) -> Bool {
        (b >= 0x61 && b <= 0x7A) || (b >= 0x41 && b <= 0x5A) || b == 0x5F || b >= 0x80
    }

    /// Letters, digits, `_` and any non-ASCII byte (bit sets of the low and high ASCII halves).
    @inline(__always) static func isIdentContinue(_ b: UInt8) -> Bool {
        if b >= 0x80 { return true }
        let word: UInt64 = b < 64 ? 0x03FF_0000_0000_0000 : 0x07FF_FFFE_87FF_FFFE
        return (word >> UInt64(b & 63)) & 1 != 0
    }

    func text(_ s: Int, _ e: Int) -> String {
        let s = max(0, min(s, bytes.count))
        return String(decoding: bytes[s..<max(s, min(e, bytes.count))], as: UTF8.self)
    }

    /// At the start of a physical line: measures indentation and emits INDENT / DEDENT for a
    /// non-blank line at bracket depth 0.
    mutating func lineIndentation() {
        var col = 0
        while !c.atEnd {
            let b = c.peek()
            if b == 0x20 {
                col += 1
            } else if b == 0x09 {
                col = (col / 8 + 1) * 8
            } else if b == 0x0C {
                col = 0
            } else if b == 0x0D && c.peek(1) != 0x0A {
                col += 1
            } else {
                break
            }
            c.advance()
        }
        let b = c.peek()
        if c.atEnd || b == 0x0A || b == 0x23 || (b == 0x0D && c.peek(1) == 0x0A) { return }
        if depth > 0 {
            // Inside brackets: a line starting with `def` / `class` (or a Cython declaration keyword)
            // cannot continue an expression; the bracket was never closed.
            guard startsStatementKeyword() else { return }
            diag("unclosed bracket before this line")
            emit(.newline, 0, c.pos, c.pos)
            lineHasTokens = false
            depth = 0
        }
        do {
            let top = indents[indents.count - 1]
            if col > top {
                indents.append(col)
                realIndent.append(true)
                emit(.indent, 0, c.pos, c.pos)
            } else if col < top {
                while indents.count > 1 && indents[indents.count - 1] > col {
                    indents.removeLast()
                    if realIndent.removeLast() { emit(.dedent, 0, c.pos, c.pos) }
                }
                if indents[indents.count - 1] < col {
                    diag("unindent does not match any outer indentation level")
                    indents.append(col)
                    realIndent.append(false)
                }
            }
        }
    }

    /// Whether the line at the cursor starts with a keyword that cannot continue a bracketed
    /// expression (`def`, `class`, `import`, `return`, ...; in Cython also `cdef`, `cpdef`,
    /// `ctypedef`): an open bracket before it was never closed.
    func startsStatementKeyword() -> Bool {
        let s = c.pos
        var e = s
        while e < c.end && Self.isIdentContinue(c.byte(at: e)) && e - s < 10 { e += 1 }
        let n = e - s
        guard n >= 3 else { return false }
        switch c.byte(at: e) {
        case 0x20, 0x09, 0x0A, 0x0D, 0x3A, 0x3B, 0x23, 0x28: break // space tab newline : ; # (
        default: return false
        }
        if c.equals(s, n, "def") || c.equals(s, n, "class") || c.equals(s, n, "import") || c.equals(s, n, "return")
            || c.equals(s, n, "pass") || c.equals(s, n, "raise") || c.equals(s, n, "try") || c.equals(s, n, "while")
            || c.equals(s, n, "with") || c.equals(s, n, "assert") || c.equals(s, n, "del") || c.equals(s, n, "global")
            || c.equals(s, n, "nonlocal") || c.equals(s, n, "break") || c.equals(s, n, "continue") {
            return true
        }
        if c.equals(s, n, "async") {
            return c.byte(at: e) == 0x20 && c.byte(at: e + 1) == 0x64 && c.byte(at: e + 2) == 0x65 && c.byte(at: e + 3) == 0x66
        }
        if isCython {
            return c.equals(s, n, "cdef") || c.equals(s, n, "cpdef") || c.equals(s, n, "ctypedef")
        }
        return false
    }

    mutating func lexName() {
        let start = c.pos
        var p = start + 1
        let end = c.end
        while p < end && Self.isIdentContinue(c.byte(at: p)) { p += 1 }
        c.pos = p
        let n = p - start
        let q = c.peek()
        if n <= 3 && (q == 0x22 || q == 0x27) {
            var isPrefix = true
            var isF = false
            for k in start..<c.pos {
                switch c.byte(at: k) | 0x20 {
                case 0x72, 0x62, 0x75: break // r b u
                case 0x66, 0x74: isF = true // f t
                case 0x63 where isCython: break // c"..."
                default: isPrefix = false
                }
            }
            if isPrefix {
                lexString(prefixStart: start, isF: isF)
                return
            }
        }
        emit(.name, keyword(start, n).rawValue, start, c.pos)
    }

    mutating func lexNumber() {
        let start = c.pos
        if c.peek() == 0x30, (c.peek(1) | 0x20) == 0x78 || (c.peek(1) | 0x20) == 0x6F || (c.peek(1) | 0x20) == 0x62 {
            c.advance(2)
            while c.pos < c.end && Self.isIdentContinue(c.peek()) { c.advance() }
        } else {
            while c.pos < c.end && (ASCII.isDigit(c.peek()) || c.peek() == 0x5F) { c.advance() }
            if c.peek() == 0x2E {
                c.advance()
                while c.pos < c.end && (ASCII.isDigit(c.peek()) || c.peek() == 0x5F) { c.advance() }
            }
            if (c.peek() | 0x20) == 0x65 {
                let sign = c.peek(1)
                if ASCII.isDigit(sign) {
                    c.advance()
                } else if (sign == 0x2B || sign == 0x2D) && ASCII.isDigit(c.peek(2)) {
                    c.advance(2)
                }
            }
            while c.pos < c.end && Self.isIdentContinue(c.peek()) { c.advance() }
        }
        emit(.number, 0, start, c.pos)
    }

    /// `c.pos` at the opening quote; `prefixStart` at the first prefix letter (or the quote).
    mutating func lexString(prefixStart: Int, isF: Bool) {
        let quote = c.peek()
        let startLine = line
        let startLineStart = lineStart
        let triple = c.peek(1) == quote && c.peek(2) == quote
        c.advance(triple ? 3 : 1)
        let bodyStart = c.pos
        if scanStringBody(quote: quote, triple: triple, isF: isF, nest: 0) {
            let savedLine = line
            let savedStart = lineStart
            // the token is positioned at its first line
            line = startLine
            lineStart = startLineStart
            emit(.string, 0, prefixStart, c.pos)
            line = savedLine
            lineStart = savedStart
            return
        }
        if triple {
            // Unterminated triple-quoted string: CPython would swallow the rest of the file. To keep
            // later code, end it at the end of its first line and mark it as an error.
            c.pos = bodyStart
            line = startLine
            lineStart = startLineStart
            while !c.atEnd && c.peek() != 0x0A { c.advance() }
        }
        diag("unterminated string literal")
        let savedLine = line
        let savedStart = lineStart
        line = startLine
        lineStart = startLineStart
        emit(.error, 0, prefixStart, c.pos)
        line = savedLine
        lineStart = savedStart
    }

    /// Scans to just past the closing quote. Returns false when unterminated (the cursor then rests
    /// at the newline that ended a single-quoted string, or at the end of input).
    mutating func scanStringBody(quote: UInt8, triple: Bool, isF: Bool, nest: Int) -> Bool {
        while c.pos < c.end {
            let b = c.peek()
            if b == quote {
                if !triple {
                    c.advance()
                    return true
                }
                if c.peek(1) == quote && c.peek(2) == quote {
                    c.advance(3)
                    return true
                }
                c.advance()
                continue
            }
            switch b {
            case 0x5C:
                let n = c.peek(1)
                if n == 0x0A {
                    c.advance(2)
                    newLine()
                } else if n == 0x0D && c.peek(2) == 0x0A {
                    c.advance(3)
                    newLine()
                } else if isF && (n == 0x7B || n == 0x7D) {
                    c.advance() // `\{` in an f-string: the brace still opens a field
                } else {
                    c.advance(2)
                }
            case 0x0A:
                if !triple { return false }
                c.advance()
                newLine()
            case 0x7B where isF && nest < 16:
                if c.peek(1) == 0x7B {
                    c.advance(2)
                } else {
                    c.advance()
                    if !scanReplacementField(outerQuote: quote, outerTriple: triple, nest: nest + 1) { return false }
                }
            default:
                c.advance()
            }
        }
        return false
    }

    /// Inside an f-string replacement field `{...}` (3.12 rules: nested strings may reuse the quote).
    /// Returns false when a single-quoted outer string ends at a newline.
    mutating func scanReplacementField(outerQuote: UInt8, outerTriple: Bool, nest: Int) -> Bool {
        var depth = 0
        while c.pos < c.end {
            let b = c.peek()
            switch b {
            case 0x28, 0x5B, 0x7B:
                depth += 1
                c.advance()
            case 0x29, 0x5D:
                if depth > 0 { depth -= 1 }
                c.advance()
            case 0x7D:
                c.advance()
                if depth == 0 { return true }
                depth -= 1
            case 0x21 where depth == 0 && c.peek(1) != 0x3D:
                // conversion `!r`: followed by `}` or `:` spec
                c.advance()
            case 0x3A where depth == 0:
                c.advance()
                // format spec: literal text with nested fields
                while c.pos < c.end {
                    let s = c.peek()
                    if s == 0x7D {
                        c.advance()
                        return true
                    } else if s == 0x7B {
                        c.advance()
                        if nest < 16 {
                            if !scanReplacementField(outerQuote: outerQuote, outerTriple: outerTriple, nest: nest + 1) {
                                return false
                            }
                        }
                    } else if s == 0x0A {
                        if !outerTriple { return false }
                        c.advance()
                        newLine()
                    } else if s == outerQuote && !outerTriple {
                        return true // broken: let the outer string end here
                    } else {
                        c.advance()
                    }
                }
                return false
            case 0x22, 0x27:
                let prev = c.byte(at: c.pos - 1) | 0x20
                let prev2 = c.byte(at: c.pos - 2) | 0x20
                let isF = prev == 0x66 || prev == 0x74 || ((prev == 0x72) && (prev2 == 0x66 || prev2 == 0x74))
                let triple = c.peek(1) == b && c.peek(2) == b
                if !triple && b == outerQuote && !outerTriple && nest >= 2 {
                    return true // too deep to be a real nested string; treat as the outer end
                }
                c.advance(triple ? 3 : 1)
                if !scanStringBody(quote: b, triple: triple, isF: isF, nest: nest + 1) {
                    if !outerTriple || c.atEnd { return false }
                }
            case 0x0A:
                if !outerTriple { return false }
                c.advance()
                newLine()
            case 0x5C:
                c.advance(2)
            default:
                c.advance()
            }
        }
        return false
    }

    mutating func lexOperator() {
        let start = c.pos
        let b = c.peek()
        let n1 = c.peek(1)
        let n2 = c.peek(2)
        var op = PyOp.other
        var len = 1
        switch b {
        case 0x28: op = .lpar; depth += 1
        case 0x29: op = .rpar; if depth > 0 { depth -= 1 }
        case 0x5B: op = .lsqb; depth += 1
        case 0x5D: op = .rsqb; if depth > 0 { depth -= 1 }
        case 0x7B: op = .lbrace; depth += 1
        case 0x7D: op = .rbrace; if depth > 0 { depth -= 1 }
        case 0x2C: op = .comma
        case 0x3B: op = .semi
        case 0x2E:
            if n1 == 0x2E && n2 == 0x2E { op = .ellipsis; len = 3 } else { op = .dot }
        case 0x3A:
            if n1 == 0x3D { op = .walrus; len = 2 } else { op = .colon }
        case 0x2B:
            if n1 == 0x3D { op = .plusEq; len = 2 } else { op = .plus }
        case 0x2D:
            if n1 == 0x3D { op = .minusEq; len = 2 } else if n1 == 0x3E { op = .arrow; len = 2 } else { op = .minus }
        case 0x2A:
            if n1 == 0x2A {
                if n2 == 0x3D { op = .doubleStarEq; len = 3 } else { op = .doubleStar; len = 2 }
            } else if n1 == 0x3D { op = .starEq; len = 2 } else { op = .star }
        case 0x2F:
            if n1 == 0x2F {
                if n2 == 0x3D { op = .doubleSlashEq; len = 3 } else { op = .doubleSlash; len = 2 }
            } else if n1 == 0x3D { op = .slashEq; len = 2 } else { op = .slash }
        case 0x25:
            if n1 == 0x3D { op = .percentEq; len = 2 } else { op = .percent }
        case 0x40:
            if n1 == 0x3D { op = .atEq; len = 2 } else { op = .at }
        case 0x26:
            if n1 == 0x3D { op = .ampEq; len = 2 } else { op = .amp }
        case 0x7C:
            if n1 == 0x3D { op = .pipeEq; len = 2 } else { op = .pipe }
        case 0x5E:
            if n1 == 0x3D { op = .caretEq; len = 2 } else { op = .caret }
        case 0x7E: op = .tilde
        case 0x3C:
            if n1 == 0x3C {
                if n2 == 0x3D { op = .shlEq; len = 3 } else { op = .shl; len = 2 }
            } else if n1 == 0x3D { op = .le; len = 2 } else if n1 == 0x3E { op = .ltgt; len = 2 } else { op = .lt }
        case 0x3E:
            if n1 == 0x3E {
                if n2 == 0x3D { op = .shrEq; len = 3 } else { op = .shr; len = 2 }
            } else if n1 == 0x3D { op = .ge; len = 2 } else { op = .gt }
        case 0x3D:
            if n1 == 0x3D { op = .eqeq; len = 2 } else { op = .assign }
        case 0x21:
            if n1 == 0x3D { op = .ne; len = 2 } else { op = .bang }
        case 0x3F: op = .question
        case 0x60: op = .backtick
        default:
            c.advance()
            emit(.error, 0, start, start + 1)
            return
        }
        c.advance(len)
        emit(.op, op.rawValue, start, start + len)
    }

    func keyword(_ s: Int, _ n: Int) -> PyKw {
        @inline(__always) func eq(_ lit: StaticString) -> Bool { c.equals(s, n, lit) }
        let f = c.byte(at: s)
        switch n {
        case 2:
            switch f {
            case 0x61: if eq("as") { return .kwAs }
            case 0x69:
                if eq("if") { return .kwIf }
                if eq("in") { return .kwIn }
                if eq("is") { return .kwIs }
            case 0x6F: if eq("or") { return .kwOr }
            case 0x49: if eq("IF") { return .IF }
            case 0x62: if eq("by") { return .by }
            default: break
            }
        case 3:
            switch f {
            case 0x61:
                if eq("and") { return .kwAnd }
                if eq("api") { return .api }
            case 0x64:
                if eq("def") { return .kwDef }
                if eq("del") { return .kwDel }
            case 0x66: if eq("for") { return .kwFor }
            case 0x6E:
                if eq("not") { return .kwNot }
                if eq("new") { return .new }
            case 0x74: if eq("try") { return .kwTry }
            case 0x44: if eq("DEF") { return .DEF }
            case 0x67: if eq("gil") { return .gil }
            default: break
            }
        case 4:
            switch f {
            case 0x4E: if eq("None") { return .kwNone }
            case 0x54: if eq("True") { return .kwTrue }
            case 0x65:
                if eq("elif") { return .kwElif }
                if eq("else") { return .kwElse }
                if eq("exec") { return .exec }
                if eq("enum") { return .enumKw }
            case 0x66: if eq("from") { return .kwFrom }
            case 0x70: if eq("pass") { return .kwPass }
            case 0x77: if eq("with") { return .kwWith }
            case 0x63:
                if eq("case") { return .caseKw }
                if eq("cdef") { return .cdef }
            case 0x74: if eq("type") { return .type }
            case 0x45:
                if eq("ELIF") { return .ELIF }
                if eq("ELSE") { return .ELSE }
            default: break
            }
        case 5:
            switch f {
            case 0x46: if eq("False") { return .kwFalse }
            case 0x61:
                if eq("async") { return .kwAsync }
                if eq("await") { return .kwAwait }
            case 0x62: if eq("break") { return .kwBreak }
            case 0x63:
                if eq("class") { return .kwClass }
                if eq("cpdef") { return .cpdef }
                if eq("const") { return .const }
            case 0x72: if eq("raise") { return .kwRaise }
            case 0x77: if eq("while") { return .kwWhile }
            case 0x79: if eq("yield") { return .kwYield }
            case 0x6D: if eq("match") { return .match }
            case 0x70: if eq("print") { return .print }
            case 0x6E: if eq("nogil") { return .nogil }
            case 0x66: if eq("fused") { return .fused }
            case 0x75: if eq("union") { return .unionKw }
            default: break
            }
        case 6:
            switch f {
            case 0x61: if eq("assert") { return .kwAssert }
            case 0x65:
                if eq("except") { return .kwExcept }
                if eq("extern") { return .extern }
            case 0x67: if eq("global") { return .kwGlobal }
            case 0x69:
                if eq("import") { return .kwImport }
                if eq("inline") { return .inline }
            case 0x6C: if eq("lambda") { return .kwLambda }
            case 0x72: if eq("return") { return .kwReturn }
            case 0x73:
                if eq("struct") { return .structKw }
                if eq("sizeof") { return .sizeof }
                if eq("static") { return .staticKw }
            case 0x70:
                if eq("public") { return .publicKw }
                if eq("packed") { return .packed }
            default: break
            }
        case 7:
            switch f {
            case 0x66: if eq("finally") { return .kwFinally }
            case 0x63: if eq("cimport") { return .cimport }
            case 0x69: if eq("include") { return .include }
            default: break
            }
        case 8:
            switch f {
            case 0x63:
                if eq("continue") { return .kwContinue }
                if eq("ctypedef") { return .ctypedef }
                if eq("cppclass") { return .cppclass }
            case 0x6E:
                if eq("nonlocal") { return .kwNonlocal }
                if eq("noexcept") { return .noexcept }
            case 0x72: if eq("readonly") { return .readonly }
            case 0x70: if eq("property") { return .property }
            case 0x76: if eq("volatile") { return .volatile }
            default: break
            }
        default: break
        }
        return .none
    }
}
