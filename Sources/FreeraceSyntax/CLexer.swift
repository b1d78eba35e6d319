/// A problem found while reading a file; never fatal.
public struct SyntaxDiagnostic: Sendable, Equatable {
    public var offset: Int
    public var message: String
    public init(offset: Int, message: String) {
        self.offset = offset
        self.message = message
    }
}

/// Bytes → tokens for C and C++. Comments and preprocessor lines are kept as trivia tokens;
/// whitespace is not stored (the gaps between tokens are exactly the file's whitespace bytes,
/// which the round-trip test checks).
public struct CLexer {
    public let cpp: Bool

    public init(cpp: Bool) { self.cpp = cpp }

    public struct Result: Sendable {
        public var tokens: [Token]
        public var diagnostics: [SyntaxDiagnostic]
    }

    public func lex(_ bytes: [UInt8]) -> Result {
        bytes.withUnsafeBufferPointer { lex($0) }
    }

    public func lex(_ buf: UnsafeBufferPointer<UInt8>) -> Result {
        var c = ByteCursor(buf)
        var out: [Token] = []
        out.reserveCapacity(buf.count / 5 + 16)
        var diags: [SyntaxDiagnostic] = []
        var lineStart = true
        var space = false

        while !c.atEnd {
            let b = c.peek()
            let start = c.pos
            // whitespace and newlines
            if b == 0x0A {
                c.advance()
                lineStart = true
                space = true
                continue
            }
            if ASCII.isHorizontalSpace(b) {
                c.skip(while: ASCII.isHorizontalSpace)
                space = true
                continue
            }
            if b == 0x5C, isContinuation(c, c.pos) {  // backslash-newline outside a directive
                c.advance()
                c.skip(while: ASCII.isHorizontalSpace)
                if c.peek() == 0x0A { c.advance() }
                space = true
                continue
            }
            var flags: UInt8 = 0
            if lineStart { flags |= Token.Flags.lineStart }
            if space { flags |= Token.Flags.spaceBefore }

            if b == 0x2F, c.peek(1) == 0x2F {  // line comment
                scanLineComment(&c)
                out.append(Token(kind: .lineComment, flags: flags, start: start, length: c.pos - start))
                space = true
                continue
            }
            if b == 0x2F, c.peek(1) == 0x2A {  // block comment
                if !scanBlockComment(&c) {
                    diags.append(SyntaxDiagnostic(offset: start, message: "unterminated comment"))
                }
                out.append(Token(kind: .blockComment, flags: flags, start: start, length: c.pos - start))
                space = true
                continue
            }
            if b == 0x23, lineStart {  // preprocessor directive
                scanDirective(&c, &diags)
                out.append(Token(kind: .directive, flags: flags, start: start, length: c.pos - start))
                lineStart = true
                space = true
                continue
            }
            lineStart = false
            space = false

            var kind: TokenKind
            if ASCII.isIdentStart(b) {
                c.skip(while: ASCII.isIdentContinue)
                let n = c.pos - start
                let q = c.peek()
                if (q == 0x22 || q == 0x27), let raw = stringPrefix(buf, start, n) {
                    if q == 0x22 {
                        if raw && cpp {
                            if !scanRawString(&c) {
                                diags.append(SyntaxDiagnostic(offset: start, message: "unterminated raw string"))
                            }
                        } else if !scanQuoted(&c, 0x22) {
                            diags.append(SyntaxDiagnostic(offset: start, message: "unterminated string"))
                        }
                        kind = .string
                    } else if !raw {
                        if !scanQuoted(&c, 0x27) {
                            diags.append(SyntaxDiagnostic(offset: start, message: "unterminated character literal"))
                        }
                        kind = .char
                    } else {
                        kind = Keywords.lookup(buf, start, n, cpp: cpp)
                    }
                } else {
                    kind = Keywords.lookup(buf, start, n, cpp: cpp)
                }
            } else if ASCII.isDigit(b) || (b == 0x2E && ASCII.isDigit(c.peek(1))) {
                scanNumber(&c)
                kind = .number
            } else if b == 0x22 {
                if !scanQuoted(&c, 0x22) {
                    diags.append(SyntaxDiagnostic(offset: start, message: "unterminated string"))
                }
                kind = .string
            } else if b == 0x27 {
                if !scanQuoted(&c, 0x27) {
                    diags.append(SyntaxDiagnostic(offset: start, message: "unterminated character literal"))
                }
                kind = .char
            } else {
                kind = scanPunct(&c)
            }
            out.append(Token(kind: kind, flags: flags, start: start, length: c.pos - start))
        }
        out.append(Token(kind: .eof, flags: Token.Flags.lineStart, start: buf.count, length: 0))
        return Result(tokens: out, diagnostics: diags)
    }

    /// Whether `i` holds a backslash followed by optional spaces and a newline (LF or CRLF).
    @inline(__always)
    private func isContinuation(_ c: ByteCursor, _ i: Int) -> Bool {
        var k = i + 1
        while k < c.end, ASCII.isHorizontalSpace(c.byte(at: k)) || c.byte(at: k) == 0x0D { k += 1 }
        return k < c.end && c.byte(at: k) == 0x0A
    }

    /// Returns nil if `s..<s+n` is not a string prefix, otherwise whether it is a raw prefix.
    @inline(__always)
    private func stringPrefix(_ b: UnsafeBufferPointer<UInt8>, _ s: Int, _ n: Int) -> Bool? {
        switch n {
        case 1:
            let x = b[s]
            if x == 0x4C || x == 0x75 || x == 0x55 { return false }  // L u U
            if x == 0x52 { return true }  // R
        case 2:
            let x = b[s], y = b[s + 1]
            if x == 0x75, y == 0x38 { return false }  // u8
            if (x == 0x4C || x == 0x75 || x == 0x55), y == 0x52 { return true }  // LR uR UR
        case 3:
            if b[s] == 0x75, b[s + 1] == 0x38, b[s + 2] == 0x52 { return true }  // u8R
        default: break
        }
        return nil
    }

    private func scanLineComment(_ c: inout ByteCursor) {
        while !c.atEnd {
            let b = c.peek()
            if b == 0x0A { return }
            if b == 0x5C, isContinuation(c, c.pos) {
                c.advance()
                c.skip(while: ASCII.isHorizontalSpace)
                c.advance()  // the newline
                continue
            }
            c.advance()
        }
    }

    /// Scans `/* ... */`; returns false if the file ends first.
    private func scanBlockComment(_ c: inout ByteCursor) -> Bool {
        c.advance(2)
        while !c.atEnd {
            if c.peek() == 0x2A, c.peek(1) == 0x2F {
                c.advance(2)
                return true
            }
            c.advance()
        }
        return false
    }

    /// Scans a quoted literal; stops at an unescaped newline (unterminated) or the closing quote.
    private func scanQuoted(_ c: inout ByteCursor, _ quote: UInt8) -> Bool {
        c.advance()
        while !c.atEnd {
            let b = c.peek()
            if b == quote {
                c.advance()
                return true
            }
            if b == 0x5C {
                // an escape, or a line continuation (backslash-LF or backslash-CRLF)
                c.advance(c.pos + 2 < c.end && c.byte(at: c.pos + 1) == 0x0D && c.byte(at: c.pos + 2) == 0x0A ? 3 : 2)
                continue
            }
            if b == 0x0A { return false }
            c.advance()
        }
        return false
    }

    /// Scans `R"delim( ... )delim"` starting at the quote.
    private func scanRawString(_ c: inout ByteCursor) -> Bool {
        c.advance()  // "
        let dstart = c.pos
        while !c.atEnd, c.peek() != 0x28, c.peek() != 0x0A, c.pos - dstart <= 16 { c.advance() }
        guard c.peek() == 0x28 else { return scanQuotedRest(&c) }
        let dlen = c.pos - dstart
        c.advance()
        while !c.atEnd {
            if c.peek() == 0x29 {
                var ok = c.byte(at: c.pos + 1 + dlen) == 0x22
                var k = 0
                while ok, k < dlen {
                    if c.byte(at: c.pos + 1 + k) != c.byte(at: dstart + k) { ok = false }
                    k += 1
                }
                if ok {
                    c.advance(dlen + 2)
                    return true
                }
            }
            c.advance()
        }
        return false
    }

    private func scanQuotedRest(_ c: inout ByteCursor) -> Bool {
        while !c.atEnd {
            let b = c.peek()
            if b == 0x22 { c.advance(); return true }
            if b == 0x0A { return false }
            c.advance()
        }
        return false
    }

    /// A preprocessing number: digits, letters, `_`, `.`, exponent signs, and `'` separators.
    private func scanNumber(_ c: inout ByteCursor) {
        c.advance()
        while !c.atEnd {
            let b = c.peek()
            if ASCII.isIdentContinue(b) || b == 0x2E {
                c.advance()
            } else if (b == 0x2B || b == 0x2D),
                      let p = Optional(c.byte(at: c.pos - 1)), p == 0x65 || p == 0x45 || p == 0x70 || p == 0x50 {
                c.advance()
            } else if b == 0x27, ASCII.isIdentContinue(c.peek(1)) {
                c.advance()
            } else {
                return
            }
        }
    }

    /// Scans a directive to the end of its logical line (continuations and block comments included).
    private func scanDirective(_ c: inout ByteCursor, _ diags: inout [SyntaxDiagnostic]) {
        while !c.atEnd {
            let b = c.peek()
            if b == 0x0A { return }
            if b == 0x5C, isContinuation(c, c.pos) {
                c.advance()
                c.skip(while: ASCII.isHorizontalSpace)
                c.advance()
                continue
            }
            if b == 0x2F, c.peek(1) == 0x2A {
                let s = c.pos
                if !scanBlockComment(&c) {
                    diags.append(SyntaxDiagnostic(offset: s, message: "unterminated comment"))
                }
                continue
            }
            if b == 0x2F, c.peek(1) == 0x2F {
                scanLineComment(&c)
                return
            }
            if b == 0x22 || b == 0x27 {
                _ = scanQuoted(&c, b)
                continue
            }
            c.advance()
        }
    }

    private func scanPunct(_ c: inout ByteCursor) -> TokenKind {
        let b = c.peek()
        let n1 = c.peek(1)
        let n2 = c.peek(2)
        func take(_ n: Int, _ k: TokenKind) -> TokenKind {
            c.advance(n)
            return k
        }
        switch b {
        case 0x28: return take(1, .lParen)
        case 0x29: return take(1, .rParen)
        case 0x5B: return take(1, .lBracket)
        case 0x5D: return take(1, .rBracket)
        case 0x7B: return take(1, .lBrace)
        case 0x7D: return take(1, .rBrace)
        case 0x3B: return take(1, .semicolon)
        case 0x2C: return take(1, .comma)
        case 0x3F: return take(1, .question)
        case 0x7E: return take(1, .tilde)
        case 0x40: return take(1, .at)
        case 0x3A:
            if cpp, n1 == 0x3A { return take(2, .colonColon) }
            return take(1, .colon)
        case 0x2E:
            if n1 == 0x2E, n2 == 0x2E { return take(3, .ellipsis) }
            if cpp, n1 == 0x2A { return take(2, .dotStar) }
            return take(1, .dot)
        case 0x2D:  // -
            if n1 == 0x3E { return cpp && n2 == 0x2A ? take(3, .arrowStar) : take(2, .arrow) }
            if n1 == 0x2D { return take(2, .minusMinus) }
            if n1 == 0x3D { return take(2, .minusAssign) }
            return take(1, .minus)
        case 0x2B:
            if n1 == 0x2B { return take(2, .plusPlus) }
            if n1 == 0x3D { return take(2, .plusAssign) }
            return take(1, .plus)
        case 0x26:
            if n1 == 0x26 { return take(2, .ampAmp) }
            if n1 == 0x3D { return take(2, .ampAssign) }
            return take(1, .amp)
        case 0x7C:
            if n1 == 0x7C { return take(2, .pipePipe) }
            if n1 == 0x3D { return take(2, .pipeAssign) }
            return take(1, .pipe)
        case 0x5E:
            if n1 == 0x3D { return take(2, .caretAssign) }
            return take(1, .caret)
        case 0x21:
            if n1 == 0x3D { return take(2, .bangEq) }
            return take(1, .bang)
        case 0x2A:
            if n1 == 0x3D { return take(2, .starAssign) }
            return take(1, .star)
        case 0x2F:
            if n1 == 0x3D { return take(2, .slashAssign) }
            return take(1, .slash)
        case 0x25:
            if n1 == 0x3D { return take(2, .percentAssign) }
            return take(1, .percent)
        case 0x3C:
            if n1 == 0x3C { return n2 == 0x3D ? take(3, .shlAssign) : take(2, .shl) }
            if n1 == 0x3D { return take(2, .le) }
            return take(1, .lt)
        case 0x3E:
            if n1 == 0x3E { return n2 == 0x3D ? take(3, .shrAssign) : take(2, .shr) }
            if n1 == 0x3D { return take(2, .ge) }
            return take(1, .gt)
        case 0x3D:
            if n1 == 0x3D { return take(2, .eqEq) }
            return take(1, .assign)
        case 0x23:
            if n1 == 0x23 { return take(2, .hashHash) }
            return take(1, .hash)
        default:
            return take(1, .unknown)
        }
    }
}
