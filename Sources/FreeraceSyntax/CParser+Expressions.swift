extension CParser {
    /// `a, b, c`.
    mutating func parseExpression() -> Int32 {
        let start = pos
        let first = parseAssignment()
        guard kind == .comma else { return first }
        let m = scratch.count
        push(first)
        while kind == .comma {
            let before = pos
            advance()
            push(parseAssignment())
            if pos == before { break }
        }
        return finish(.comma, mark: m, first: start)
    }

    mutating func parseAssignment() -> Int32 {
        let start = pos
        guard depth < Self.maxDepth else { return tooDeep() }
        depth += 1
        defer { depth -= 1 }
        let lhs = parseConditional()
        if kind.isAssignmentOperator {
            let m = scratch.count
            let op = pos
            push(lhs)
            advance()
            push(kind == .lBrace ? parseInitList() : parseAssignment())
            return finish(.assign, mark: m, first: start, main: op)
        }
        return lhs
    }

    /// Nesting beyond `maxDepth`: skip the rest of the innermost group and record it as unparsed.
    mutating func tooDeep() -> Int32 {
        let start = pos
        noteRecovery()
        var level = 0
        while !atEOF {
            let k = kind
            if pos > start, definitionStartsAt(pos) { break }  // unclosed: the next definition begins
            if k == .lParen || k == .lBracket || k == .lBrace { level += 1 }
            if k == .rParen || k == .rBracket || k == .rBrace {
                if level == 0 { break }
                level -= 1
            }
            if level == 0, k == .semicolon || k == .comma { break }
            advance()
        }
        let m = scratch.count
        return finish(.unparsed, mark: m, first: start)
    }

    mutating func parseConditional() -> Int32 {
        let start = pos
        let c = parseBinary(0)
        guard kind == .question else { return c }
        guard depth < Self.maxDepth else { return tooDeep() }
        depth += 1
        defer { depth -= 1 }
        let m = scratch.count
        push(c)
        advance()
        if kind != .colon { push(parseExpression()) }  // GNU `a ?: b` leaves it out
        if eat(.colon) {
            push(parseConditionalOrAssignmentInCpp())
        } else {
            noteRecovery()
        }
        return finish(.conditional, mark: m, first: start)
    }

    private mutating func parseConditionalOrAssignmentInCpp() -> Int32 {
        cpp ? parseAssignment() : parseConditional()
    }

    static func precedence(_ k: TokenKind) -> Int {
        switch k {
        case .pipePipe: 1
        case .ampAmp: 2
        case .pipe: 3
        case .caret: 4
        case .amp: 5
        case .eqEq, .bangEq: 6
        case .lt, .gt, .le, .ge: 7
        case .shl, .shr: 8
        case .plus, .minus: 9
        case .star, .slash, .percent: 10
        case .dotStar, .arrowStar: 11
        default: 0
        }
    }

    /// Precedence climbing; recursion depth is bounded by the number of precedence levels.
    mutating func parseBinary(_ minPrec: Int) -> Int32 {
        let start = pos
        var lhs = parseUnary()
        while true {
            let p = Self.precedence(kind)
            if p <= minPrec { break }
            // `T *` inside macro arguments: a type, not a multiplication
            if kind == .star, kind(1) == .comma || kind(1) == .rParen || kind(1) == .star && (kind(2) == .comma || kind(2) == .rParen) {
                break
            }
            let m = scratch.count
            let op = pos
            push(lhs)
            advance()
            push(parseBinary(p))
            lhs = finish(.binary, mark: m, first: start, main: op)
        }
        return lhs
    }

    mutating func parseUnary() -> Int32 {
        let start = pos
        guard depth < Self.maxDepth else { return tooDeep() }
        depth += 1
        defer { depth -= 1 }
        let m = scratch.count
        switch kind {
        case .plusPlus, .minusMinus, .amp, .star, .plus, .minus, .tilde, .bang:
            advance()
            push(parseUnary())
            return finish(.prefix, mark: m, first: start, main: start)
        case .ampAmp:
            // GNU label address `&&label`, or C++ rvalue context
            advance()
            push(parseUnary())
            return finish(.prefix, mark: m, first: start, main: start)
        case .kwSizeof, .kwAlignof:
            advance()
            if kind == .ellipsis { advance() }  // C++ sizeof...
            if kind == .lParen, isTypeNameAhead(at: pos + 1) {
                let save = mark()
                advance()
                let t = parseTypeName()
                if eat(.rParen), kind != .lBrace {
                    push(t)
                    return finish(.sizeofExpr, mark: m, first: start, main: start)
                }
                reset(save)
            }
            push(parseUnary())
            return finish(.sizeofExpr, mark: m, first: start, main: start)
        case .kwExtension:
            advance()
            return parseUnary()
        case .kwNew where cpp:
            advance()
            if kind == .lParen { skipBalanced() }  // placement
            if kind == .lParen { skipBalanced() } else { _ = parseTypeNameForNew() }
            if kind == .lParen {
                parseCallArguments()
            } else if kind == .lBrace {
                push(parseInitList())
            }
            return finish(.newExpr, mark: m, first: start, main: start)
        case .kwDelete where cpp:
            advance()
            if kind == .lBracket { skipBalanced() }
            push(parseUnary())
            return finish(.prefix, mark: m, first: start, main: start)
        case .kwThrow where cpp:
            advance()
            if kind != .semicolon, kind != .rParen, kind != .comma { push(parseAssignment()) }
            return finish(.prefix, mark: m, first: start, main: start)
        case .lParen:
            if let castEnd = castAhead() {
                _ = castEnd
                let save = mark()
                advance()
                let t = parseTypeName()
                if eat(.rParen) {
                    if kind == .lBrace {  // compound literal
                        push(t)
                        push(parseInitList())
                        let lit = finish(.compoundLiteral, mark: m, first: start)
                        return parsePostfix(lit, start: start)
                    }
                    if startsOperand(kind) {
                        push(t)
                        push(parseUnary())
                        return finish(.cast, mark: m, first: start, main: start)
                    }
                }
                reset(save)
            }
        default:
            break
        }
        let p = parsePrimary()
        return parsePostfix(p, start: start)
    }

    /// C++ `new T[n]`/`new T(args)`: a type name without consuming the argument list.
    mutating func parseTypeNameForNew() -> Int32 {
        let start = pos
        let m = scratch.count
        if kind == .identifier || kind == .colonColon {
            // `new Foo(1)`, `new ns::Foo<T>`: the type is a (qualified) name, arguments follow
            if !consumeCppTypeName() { advance() }
            while kind == .star || kind == .amp { advance() }
            while kind == .lBracket { skipBalanced() }
            return finish(.typeName, mark: m, first: start)
        }
        push(parseSpecifiers())
        while kind == .star || kind == .amp { advance() }
        while kind == .lBracket { skipBalanced() }
        return finish(.typeName, mark: m, first: start)
    }

    /// Tokens that can begin the operand of a cast.
    func startsOperand(_ k: TokenKind) -> Bool {
        switch k {
        case .identifier, .number, .string, .char, .lParen, .plusPlus, .minusMinus, .amp, .star, .plus, .minus,
             .tilde, .bang, .kwSizeof, .kwAlignof, .kwGeneric, .kwExtension, .kwThis, .lBracket, .colonColon,
             .kwNew, .kwCppCast, .lBrace:
            return true
        default:
            return false
        }
    }

    /// At `(`: whether this opens a cast `(type)`. Type keywords and known type names decide
    /// directly; otherwise shape decides: `(T *)x`, or `(T)` followed by something that cannot
    /// continue a parenthesized expression (an identifier, a literal, `!`, `~`).
    func castAhead() -> Int? {
        let i = pos + 1
        guard i < toks.count else { return nil }
        let k = toks[i].kind
        if k.isTypeKeyword || k == .kwConst || k == .kwVolatile || k == .kwAtomic || k == .kwTypename {
            return i
        }
        guard k == .identifier else { return nil }
        if let mac = macro(i), mac.role == .typeWrapper || mac.role == .annotation { return i }
        if cpp, toks[i + 1].kind == .colonColon || toks[i + 1].kind == .lt {
            // `(std::size_t)x`, `(Foo<T> *)p`
            var j = i
            while j + 1 < toks.count, toks[j].kind == .identifier, toks[j + 1].kind == .colonColon { j += 2 }
            if j < toks.count, toks[j].kind == .identifier {
                var e = j + 1
                if e < toks.count, toks[e].kind == .lt, let a = anglesEnd(from: e) { e = a }
                while e < toks.count, toks[e].kind == .star || toks[e].kind == .amp || toks[e].kind == .kwConst { e += 1 }
                if e < toks.count, toks[e].kind == .rParen, e + 1 < toks.count, startsOperand(toks[e + 1].kind),
                   toks[e + 1].kind != .plus, toks[e + 1].kind != .minus, toks[e + 1].kind != .amp,
                   toks[e + 1].kind != .star {
                    return i
                }
            }
            return nil
        }
        let known = isTypeName(i)
        var j = i + 1
        var stars = 0
        while j < toks.count, toks[j].kind == .star || toks[j].kind == .kwConst || toks[j].kind == .kwVolatile
            || toks[j].kind == .kwRestrict {
            if toks[j].kind == .star { stars += 1 }
            j += 1
        }
        guard j < toks.count else { return nil }
        let after = toks[j].kind
        if after == .rParen {
            if known || stars > 0 { return i }
            // `(x)` with an unknown name: a cast only if an operand that cannot follow `)` comes next
            let n = j + 1 < toks.count ? toks[j + 1].kind : .eof
            switch n {
            case .identifier, .number, .string, .char, .bang, .tilde, .kwSizeof:
                return localNames.contains(hash(i)) ? nil : i
            default:
                return nil
            }
        }
        if after == .lParen, known || stars > 0 {
            // function pointer type `(T (*)(args))`
            if j + 1 < toks.count, toks[j + 1].kind == .star { return i }
        }
        if after == .lBracket, known { return i }
        return nil
    }

    /// Whether a type name starts at `i` (for `sizeof(`).
    func isTypeNameAhead(at i: Int) -> Bool {
        guard i < toks.count else { return false }
        let k = toks[i].kind
        if k.isTypeKeyword || k == .kwConst || k == .kwVolatile { return true }
        guard k == .identifier else { return false }
        if isTypeName(i) {
            let n = toks[i + 1].kind
            return n == .rParen || n == .star || n == .lBracket || n == .lParen || n == .identifier
        }
        // `sizeof(Foo *)`, `sizeof(struct_t)`, `sizeof(MyObject)` (unknown): only the starred shape
        var j = i + 1
        var stars = 0
        while j < toks.count, toks[j].kind == .star { stars += 1; j += 1 }
        return stars > 0 && j < toks.count && toks[j].kind == .rParen
    }

    mutating func parsePrimary() -> Int32 {
        let start = pos
        let m = scratch.count
        switch kind {
        case .identifier, .kwThis:
            if cpp { return parseCppName() }
            advance()
            return leaf(.ident, start)
        case .colonColon where cpp:
            return parseCppName()
        case .number, .char:
            advance()
            // a unit macro after a number: `64 KB`
            if kind(-1) == .number, kind == .identifier, isAllCaps(pos), !toks[pos].atLineStart, kind(1) != .lParen,
               kind(1) != .identifier {
                advance()
                return finish(.number, mark: m, first: start, main: start)
            }
            return leaf(kind(-1) == .number ? .number : .char, start)
        case .string:
            advance()
            // adjacent literals, and macros between them: "%" PY_FORMAT_SIZE_T "d"
            while kind == .string || (kind == .identifier && isAllCaps(pos) && kind(1) == .string) {
                advance()
            }
            if kind == .identifier, isAllCaps(pos), kind(-1) == .string, toks[pos].flags & Token.Flags.spaceBefore != 0,
               kind(1) == .rParen || kind(1) == .comma || kind(1) == .semicolon {
                advance()  // "fmt" PRId64)
            }
            return finish(.string, mark: m, first: start, main: start)
        case .lParen:
            advance()
            if kind == .lBrace {  // GNU statement expression
                push(parseCompound())
                if !eat(.rParen) { noteRecovery() }
                return finish(.stmtExpr, mark: m, first: start)
            }
            push(parseExpression())
            if !eat(.rParen) {
                noteRecovery()
            }
            return finish(.paren, mark: m, first: start)
        case .lBrace:
            return parseInitList()
        case .kwGeneric:
            advance()
            if kind == .lParen { skipBalanced() }
            return finish(.generic, mark: m, first: start, main: start)
        case .kwCppCast:
            advance()
            if kind == .lt, !skipAngles() { noteRecovery() }
            if kind == .lParen {
                advance()
                push(parseExpression())
                _ = eat(.rParen)
            }
            return finish(.cppCast, mark: m, first: start, main: start)
        case .lBracket where cpp:
            // lambda: [captures](params) mutable -> ret { body }
            skipBalanced()
            if kind == .lt { _ = skipAngles() }
            if kind == .lParen { push(parseParamList()) }
            while kind == .kwMutable || kind == .kwConstexpr || kind == .kwNoexcept { advance() }
            if kind == .arrow {
                advance()
                _ = parseTypeName()
            }
            if kind == .lBrace { push(parseCompound()) }
            return finish(.lambda, mark: m, first: start)
        case _ where cpp && (kind.isTypeKeyword || kind == .kwDecltype):
            // functional cast `int(x)` or `decltype(x)`
            advance()
            if kind == .lParen { skipBalanced() }
            return finish(.cppCast, mark: m, first: start, main: start)
        default:
            noteRecovery()
            return finish(.unparsed, mark: m, first: start)
        }
    }

    /// C++ names: `a::b::c`, `~T`, `f<T>` when followed by `(` or `::`, `operator+`.
    mutating func parseCppName() -> Int32 {
        let start = pos
        var last = pos
        while !atEOF {
            if kind == .colonColon { advance(); continue }
            if kind == .tilde { advance(); continue }
            if kind == .kwTemplate { advance(); continue }
            if kind == .identifier || kind == .kwThis {
                last = pos
                advance()
                if kind == .lt, let e = anglesEnd(from: pos) {
                    let after = e < toks.count ? toks[e].kind : .eof
                    if after == .lParen || after == .colonColon || after == .lBrace {
                        pos = e
                    }
                }
                if kind == .colonColon { continue }
                break
            }
            if kind == .kwOperator {
                last = pos
                advance()
                while !atEOF, kind != .lParen { advance() }
                break
            }
            break
        }
        if pos == start { advance() }
        let m = scratch.count
        return finish(.ident, mark: m, first: start, main: last)
    }

    /// Postfix operators: calls, indexing, member access, `++`/`--`.
    mutating func parsePostfix(_ base: Int32, start: Int) -> Int32 {
        var e = base
        while true {
            let m = scratch.count
            switch kind {
            case .lParen:
                push(e)
                parseCallArguments()
                e = finish(.call, mark: m, first: start)
            case .lBracket:
                if cpp, kind(1) == .lBracket { return e }
                push(e)
                advance()
                push(parseExpression())
                if !eat(.rBracket) { noteRecovery() }
                e = finish(.index, mark: m, first: start)
            case .dot, .arrow:
                // `PyVarObject_HEAD_INIT(NULL, 0)` then `.tp_name = ...` on the next line: a designator
                if kind == .dot, toks[pos].atLineStart, kind(1) == .identifier, kind(2) == .assign { return e }
                let arrow = kind == .arrow
                push(e)
                advance()
                if cpp { while kind == .kwTemplate || kind == .tilde { advance() } }
                let name = pos
                if kind == .identifier || kind.isKeyword { advance() } else { noteRecovery() }
                if cpp, kind == .lt, let end = anglesEnd(from: pos), end < toks.count, toks[end].kind == .lParen {
                    pos = end
                }
                e = finish(.member, mark: m, first: start, main: name, flags: arrow ? 1 : 0)
            case .plusPlus, .minusMinus:
                push(e)
                let op = pos
                advance()
                e = finish(.postfix, mark: m, first: start, main: op)
            case .lBrace where cpp && tree[e].kind == .ident && !toks[pos].atLineStart:
                // C++ brace initialization `T{args}`
                push(e)
                push(parseInitList())
                e = finish(.call, mark: m, first: start)
            default:
                return e
            }
        }
    }

    /// `( args )` pushing each argument. An argument that is not an expression (a type, as in
    /// `PyMem_New(char *, n)`, or arbitrary macro text) becomes a type name or an `unparsed` node;
    /// that is how macros are written, not a parse failure.
    mutating func parseCallArguments() {
        guard kind == .lParen else { return }
        advance()
        while !atEOF, kind != .rParen {
            let before = pos
            let save = mark()
            let e = kind == .lBrace ? parseInitList() : parseAssignment()
            if kind == .comma || kind == .rParen {
                push(e)
            } else {
                reset(save)
                let t = parseTypeName()
                if kind == .comma || kind == .rParen, pos > before {
                    push(t)
                } else {
                    reset(save)
                    skipMacroArgument()
                    let um = scratch.count
                    push(finish(.unparsed, mark: um, first: before))
                }
            }
            if kind == .comma { advance() }
            if pos == before { advance() }
            if kind == .semicolon || kind == .rBrace { break }
        }
        if !eat(.rParen) { noteRecovery() }
    }
}
