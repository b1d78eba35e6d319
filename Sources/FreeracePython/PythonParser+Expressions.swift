// Expressions: precedence climbing over the token list. On an error the parser sets `failed`,
// returns `.unknown` without consuming the offending token, and every loop stops.

extension PyParser {
    /// Enters one guarded recursion level; false (and `failed`) past the depth bound.
    @inline(__always)
    mutating func enter() -> Bool {
        exprDepth += 1
        if exprDepth > Self.maxExprDepth {
            exprDepth -= 1
            fail("expression nested too deeply")
            return false
        }
        return true
    }

    func canStartExpr(_ t: PyTok) -> Bool {
        switch t.kind {
        case .name:
            if !t.isHardKeyword { return true }
            switch t.kw {
            case .kwNone, .kwTrue, .kwFalse, .kwLambda, .kwNot, .kwAwait, .kwYield: return true
            default: return false
            }
        case .number, .string: return true
        case .op:
            switch t.op {
            case .lpar, .lsqb, .lbrace, .minus, .plus, .tilde, .ellipsis, .star, .doubleStar, .backtick: return true
            case .lt, .amp: return isCython
            default: return false
            }
        default:
            return false
        }
    }

    var atCompFor: Bool { tok.isKw(.kwFor) || (tok.isKw(.kwAsync) && peek(1).isKw(.kwFor)) }

    /// namedexpr_test: lambda, conditional, walrus (and `as` in match patterns).
    mutating func parseTest() -> PyExpr {
        guard enter() else { return .unknown(here) }
        defer { exprDepth -= 1 }
        if tok.isKw(.kwLambda) { return parseLambda() }
        let start = tok
        var e = parseBinary(1)
        if failed { return e }
        if tok.isKw(.kwIf) && !inPattern { // in a `case` pattern, `if` starts the guard
            advance()
            let test = parseBinary(1)
            if tok.isKw(.kwElse) {
                advance()
                let orelse = parseTest()
                e = .conditional(test, e, orelse, pos(start))
            } else {
                fail("expected 'else'")
            }
        }
        if !failed && tok.isOp(.walrus) {
            advance()
            let v = parseTest()
            e = .binary(":=", e, v, pos(start))
        }
        if !failed && inPattern && tok.isKw(.kwAs) {
            advance()
            if tok.kind == .name {
                e = .binary("as", e, .name(text(tok), here), pos(start))
                advance()
            } else {
                fail("expected a name after 'as'")
            }
        }
        return e
    }

    /// `*x` or a test.
    mutating func parseTestOrStar() -> PyExpr {
        if tok.isOp(.star) {
            let t = tok
            advance()
            return .starred(parseBinary(5), pos(t))
        }
        return parseTest()
    }

    /// Comma-separated tests (a tuple when there is a comma), trailing comma allowed.
    mutating func parseExprList() -> PyExpr {
        let start = tok
        let first = parseTestOrStar()
        if failed || !tok.isOp(.comma) { return first }
        var items: [PyExpr] = []
        items.reserveCapacity(4)
        items.append(first)
        while tok.isOp(.comma) && !failed {
            advance()
            if !canStartExpr(tok) { break }
            items.append(parseTestOrStar())
        }
        return .collection(items, pos(start))
    }

    /// A `for` / `as` target: no comparisons (stops before `in`).
    mutating func parseTargetItem() -> PyExpr {
        if tok.isOp(.star) {
            let t = tok
            advance()
            return .starred(parseBinary(5), pos(t))
        }
        return parseBinary(5)
    }

    mutating func parseTargetList() -> PyExpr {
        let start = tok
        let first = parseTargetItem()
        if failed || !tok.isOp(.comma) { return first }
        var items: [PyExpr] = []
        items.reserveCapacity(4)
        items.append(first)
        while tok.isOp(.comma) && !failed {
            advance()
            if tok.isKw(.kwIn) || !canStartExpr(tok) { break }
            items.append(parseTargetItem())
        }
        return .collection(items, pos(start))
    }

    /// The binary operator at the current token: text, precedence, token count.
    func binaryOp() -> (String, Int, Int)? {
        let t = tok
        switch t.kind {
        case .name:
            switch t.kw {
            case .kwOr: return ("or", 1, 1)
            case .kwAnd: return ("and", 2, 1)
            case .kwIn: return ("in", 4, 1)
            case .kwNot: return peek(1).isKw(.kwIn) ? ("not in", 4, 2) : nil
            case .kwIs: return peek(1).isKw(.kwNot) ? ("is not", 4, 2) : ("is", 4, 1)
            default: return nil
            }
        case .op:
            switch t.op {
            case .lt: return ("<", 4, 1)
            case .gt: return (">", 4, 1)
            case .eqeq: return ("==", 4, 1)
            case .ge: return (">=", 4, 1)
            case .le: return ("<=", 4, 1)
            case .ne: return ("!=", 4, 1)
            case .ltgt: return ("<>", 4, 1)
            case .pipe: return ("|", 5, 1)
            case .caret: return ("^", 6, 1)
            case .amp: return ("&", 7, 1)
            case .shl: return ("<<", 8, 1)
            case .shr: return (">>", 8, 1)
            case .plus: return ("+", 9, 1)
            case .minus: return ("-", 9, 1)
            case .star: return ("*", 10, 1)
            case .slash: return ("/", 10, 1)
            case .doubleSlash: return ("//", 10, 1)
            case .percent: return ("%", 10, 1)
            case .at: return ("@", 10, 1)
            default: return nil
            }
        default:
            return nil
        }
    }

    /// Precedence climbing: or 1, and 2, not 3, comparisons 4, | 5, ^ 6, & 7, shifts 8, + - 9, * / 10.
    mutating func parseBinary(_ minPrec: Int) -> PyExpr {
        guard enter() else { return .unknown(here) }
        defer { exprDepth -= 1 }
        let start = tok
        var left: PyExpr
        if start.isKw(.kwNot) {
            guard minPrec <= 3 else {
                fail("unexpected 'not'")
                return .unknown(here)
            }
            advance()
            let operand = parseBinary(3)
            left = .unary("not", operand, pos(start))
        } else {
            left = parseUnary()
        }
        var links = 0
        while !failed, let (op, prec, width) = binaryOp(), prec >= minPrec {
            links += 1
            guard links <= Self.maxChain else {
                fail("expression too long")
                return .unknown(here)
            }
            advance()
            if width == 2 { advance() }
            let right = parseBinary(prec + 1)
            left = .binary(op, left, right, pos(start))
        }
        return left
    }

    mutating func parseUnary() -> PyExpr {
        guard enter() else { return .unknown(here) }
        defer { exprDepth -= 1 }
        let t = tok
        if t.kind == .op {
            switch t.op {
            case .minus:
                advance()
                return .unary("-", parseUnary(), pos(t))
            case .plus:
                advance()
                return .unary("+", parseUnary(), pos(t))
            case .tilde:
                advance()
                return .unary("~", parseUnary(), pos(t))
            case .amp where isCython:
                advance()
                return .unary("&", parseUnary(), pos(t))
            case .lt where isCython:
                return parseCast()
            default:
                break
            }
        } else if isCython && t.isKw(.new) && peek(1).kind == .name {
            advance()
            return .unary("new", parsePower(), pos(t))
        }
        return parsePower()
    }

    /// Cython `<T>expr`, `<T?>expr`, `<T*>expr`, `<np.ndarray[double, ndim=1]>expr`.
    mutating func parseCast() -> PyExpr {
        let lt = tok
        advance()
        let a = i
        var depth = 0
        var n = 0
        while !atLineEnd && n < 64 {
            let o = tok.op
            if depth == 0 && (o == .gt || o == .shr) { break }
            if o == .lpar || o == .lsqb { depth += 1 }
            if o == .rpar || o == .rsqb { depth -= 1 }
            if depth < 0 { break }
            advance()
            n += 1
        }
        guard tok.isOp(.gt), i > a else {
            fail("bad cast")
            return .unknown(pos(lt))
        }
        let type = typeText(a, i)
        advance()
        let operand = parseUnary()
        return .cast(type, operand, pos(lt))
    }

    mutating func parsePower() -> PyExpr {
        let start = tok
        var e: PyExpr
        if start.isKw(.kwAwait) && canStartExpr(peek(1)) && !peek(1).isOp(.star) {
            advance()
            e = .await(parsePrimary(), pos(start))
        } else {
            e = parsePrimary()
        }
        if !failed && tok.isOp(.doubleStar) {
            advance()
            let r = parseUnary()
            e = .binary("**", e, r, pos(start))
        }
        return e
    }

    mutating func parsePrimary() -> PyExpr {
        let start = tok
        var e = parseAtom()
        var links = 0
        while !failed {
            let t = tok
            guard t.kind == .op else { break }
            links += 1
            guard links <= Self.maxChain else {
                fail("expression too long")
                return .unknown(here)
            }
            if t.isOp(.dot) {
                advance()
                if tok.kind == .name {
                    e = .attribute(e, text(tok), here)
                    advance()
                } else {
                    fail("expected an attribute name")
                }
            } else if t.isOp(.lpar) {
                advance()
                if isCython, case .name(let n, _) = e, n == "sizeof" || n == "typeid" {
                    e = .call(e, [PyArg(name: nil, value: parseTypeArgument(), star: 0)], pos(start))
                } else {
                    e = .call(e, parseCallArgs(open: t), pos(start))
                }
            } else if t.isOp(.lsqb) {
                advance()
                let idx = parseSubscriptList()
                expect(.rsqb)
                e = .subscript(e, idx, pos(start))
            } else {
                break
            }
        }
        return e
    }

    /// `sizeof(T)`: the argument as type text, up to the closing `)`.
    mutating func parseTypeArgument() -> PyExpr {
        let p = here
        let a = i
        var depth = 0
        while !atLineEnd {
            let o = tok.op
            if o == .lpar || o == .lsqb { depth += 1 }
            if o == .rpar || o == .rsqb {
                if depth == 0 { break }
                depth -= 1
            }
            advance()
        }
        let t = typeText(a, i)
        expect(.rpar)
        return .literal(t, p)
    }

    /// Call arguments after `(`, through `)`.
    mutating func parseCallArgs(open: PyTok) -> [PyArg] {
        var args: [PyArg] = []
        if tok.isOp(.rpar) {
            advance()
            return args
        }
        args.reserveCapacity(4)
        while !failed && !tok.isOp(.rpar) {
            if tok.isOp(.star) {
                advance()
                args.append(PyArg(name: nil, value: parseTest(), star: 1))
            } else if tok.isOp(.doubleStar) {
                advance()
                args.append(PyArg(name: nil, value: parseTest(), star: 2))
            } else if tok.kind == .name && !tok.isHardKeyword && peek(1).isOp(.assign) {
                let n = text(tok)
                advance()
                advance()
                args.append(PyArg(name: n, value: parseTest(), star: 0))
            } else {
                var v = parseTest()
                if !failed && atCompFor { v = parseComprehension(element: v, open: open) }
                args.append(PyArg(name: nil, value: v, star: 0))
            }
            if tok.isOp(.comma) { advance() } else { break }
        }
        expect(.rpar)
        return args
    }

    /// Subscript items (a tuple when several); slices as `.binary(":", lower, upper)`.
    mutating func parseSubscriptList() -> PyExpr {
        let start = tok
        var items: [PyExpr] = []
        var comma = false
        while !failed && !tok.isOp(.rsqb) {
            items.append(parseSliceItem())
            if tok.isOp(.comma) {
                comma = true
                advance()
            } else {
                break
            }
        }
        if items.count == 1 && !comma { return items[0] }
        return .collection(items, pos(start))
    }

    mutating func parseSliceItem() -> PyExpr {
        let start = tok
        let p = pos(start)
        var lower: PyExpr?
        if !tok.isOp(.colon) {
            if tok.kind == .name && !tok.isHardKeyword && peek(1).isOp(.assign) {
                // Cython buffer type arguments `ndim=2`
                let n = PyExpr.name(text(tok), p)
                advance()
                advance()
                return .binary("=", n, parseTest(), p)
            }
            lower = parseTestOrStar()
            if failed || !tok.isOp(.colon) { return lower! }
        }
        advance() // :
        var upper: PyExpr?
        if !tok.isOp(.rsqb) && !tok.isOp(.comma) && !tok.isOp(.colon) { upper = parseTest() }
        var e = PyExpr.binary(":", lower ?? .unknown(p), upper ?? .unknown(p), p)
        if !failed && tok.isOp(.colon) {
            advance()
            var step: PyExpr?
            if !tok.isOp(.rsqb) && !tok.isOp(.comma) { step = parseTest() }
            e = .binary(":", e, step ?? .unknown(p), p)
        }
        return e
    }

    mutating func parseAtom() -> PyExpr {
        let t = tok
        let p = pos(t)
        switch t.kind {
        case .name:
            switch t.kw {
            case .kwNone, .kwTrue, .kwFalse:
                advance()
                return .literal(text(t), p)
            case .kwLambda:
                return parseLambda()
            case .kwYield:
                return parseYieldExpr()
            case .kwAsync, .kwAwait:
                // pre-3.7 code used them as names
                advance()
                return .name(text(t), p)
            default:
                if t.isHardKeyword {
                    fail("unexpected '\(text(t))'")
                    return .unknown(p)
                }
                advance()
                return .name(text(t), p)
            }
        case .number:
            advance()
            return .literal(text(t), p)
        case .string:
            advance()
            // adjacent literals concatenate; keep the first one's text
            while tok.kind == .string { advance() }
            let e = min(t.end, Int(t.start) + 200)
            return .literal(text(t.start, e), p)
        case .op:
            switch t.op {
            case .lpar: return parseParen()
            case .lsqb: return parseList()
            case .lbrace: return parseBrace()
            case .ellipsis:
                advance()
                return .literal("...", p)
            case .backtick:
                // Python 2 repr
                advance()
                let e = parseExprList()
                expect(.backtick)
                return .call(.name("repr", p), [PyArg(name: nil, value: e, star: 0)], p)
            default:
                fail("unexpected '\(text(t))'")
                return .unknown(p)
            }
        case .error:
            fail("invalid token")
            return .unknown(p)
        default:
            fail("unexpected end of line")
            return .unknown(p)
        }
    }

    mutating func parseParen() -> PyExpr {
        let open = tok
        let p = pos(open)
        guard enter() else { return .unknown(p) }
        defer { exprDepth -= 1 }
        advance()
        if tok.isOp(.rpar) {
            advance()
            return .collection([], p)
        }
        if tok.isKw(.kwYield) {
            let y = parseYieldExpr()
            expect(.rpar)
            return y
        }
        let first = parseTestOrStar()
        if failed { return first }
        if atCompFor {
            let c = parseComprehension(element: first, open: open)
            expect(.rpar)
            return c
        }
        if tok.isOp(.rpar) {
            advance()
            if case .starred = first { return .collection([first], p) }
            return first
        }
        guard tok.isOp(.comma) else {
            fail("expected ')'")
            return first
        }
        return collectionRest(first, closer: .rpar, at: p)
    }

    mutating func parseList() -> PyExpr {
        let open = tok
        let p = pos(open)
        guard enter() else { return .unknown(p) }
        defer { exprDepth -= 1 }
        advance()
        if tok.isOp(.rsqb) {
            advance()
            return .collection([], p)
        }
        let first = parseTestOrStar()
        if !failed && atCompFor {
            let c = parseComprehension(element: first, open: open)
            expect(.rsqb)
            return c
        }
        return collectionRest(first, closer: .rsqb, at: p)
    }

    /// The rest of a tuple or list display after its first item, through `closer`.
    mutating func collectionRest(_ first: PyExpr, closer: PyOp, at p: PyPos) -> PyExpr {
        var items: [PyExpr] = [first]
        items.reserveCapacity(4)
        while tok.isOp(.comma) && !failed {
            advance()
            if tok.isOp(closer) { break }
            items.append(parseTestOrStar())
        }
        expect(closer)
        return .collection(items, p)
    }

    mutating func parseBrace() -> PyExpr {
        let open = tok
        let p = pos(open)
        guard enter() else { return .unknown(p) }
        defer { exprDepth -= 1 }
        advance()
        if tok.isOp(.rbrace) {
            advance()
            return .collection([], p)
        }
        var items: [PyExpr] = []
        items.reserveCapacity(4)
        var isDict = false
        // first item decides dict vs set
        if tok.isOp(.doubleStar) {
            let st = tok
            advance()
            items.append(.unary("**", parseBinary(5), pos(st)))
            items.append(.unknown(pos(st)))
            isDict = true
        } else {
            let k = parseTestOrStar()
            if !failed && tok.isOp(.colon) {
                advance()
                let v = parseTest()
                isDict = true
                if !failed && atCompFor {
                    let c = parseComprehension(element: .collection([k, v], k.pos), open: open)
                    expect(.rbrace)
                    return c
                }
                items.append(k)
                items.append(v)
            } else {
                if !failed && atCompFor {
                    let c = parseComprehension(element: k, open: open)
                    expect(.rbrace)
                    return c
                }
                items.append(k)
            }
        }
        while tok.isOp(.comma) && !failed {
            advance()
            if tok.isOp(.rbrace) { break }
            if isDict {
                if tok.isOp(.doubleStar) {
                    let st = tok
                    advance()
                    items.append(.unary("**", parseBinary(5), pos(st)))
                    items.append(.unknown(pos(st)))
                } else {
                    items.append(parseTest())
                    if !failed { expect(.colon) }
                    if !failed { items.append(parseTest()) }
                }
            } else {
                items.append(parseTestOrStar())
            }
        }
        expect(.rbrace)
        return .collection(items, p)
    }

    /// `for target in iter [if cond]* [for ...]*` after the element; keeps the first `for`.
    mutating func parseComprehension(element: PyExpr, open: PyTok) -> PyExpr {
        var target: PyExpr?
        var iter: PyExpr = .unknown(here)
        while !failed && atCompFor {
            if tok.isKw(.kwAsync) { advance() }
            advance() // for
            let t = parseTargetList()
            if !failed && !tok.isKw(.kwIn) { fail("expected 'in'") }
            if failed { break }
            advance()
            let it = parseBinary(1)
            if target == nil {
                target = t
                iter = it
            }
            while !failed && tok.isKw(.kwIf) {
                advance()
                _ = parseBinary(1)
            }
        }
        return .comprehension(element: element, target: target ?? .unknown(pos(open)), iter: iter, pos(open))
    }

    mutating func parseLambda() -> PyExpr {
        let t = tok
        guard enter() else { return .unknown(pos(t)) }
        defer { exprDepth -= 1 }
        advance()
        var names: [String] = []
        while !failed && !tok.isOp(.colon) {
            if tok.isOp(.star) || tok.isOp(.doubleStar) {
                advance()
                if tok.isOp(.comma) {
                    advance()
                    continue
                }
                if tok.isOp(.colon) { break }
            } else if tok.isOp(.slash) {
                advance()
                if tok.isOp(.comma) { advance() }
                continue
            }
            guard tok.kind == .name && !tok.isHardKeyword else {
                fail("bad lambda parameter")
                break
            }
            names.append(text(tok))
            advance()
            if tok.isOp(.assign) {
                advance()
                _ = parseTest()
            }
            if tok.isOp(.comma) { advance() } else { break }
        }
        expect(.colon)
        if failed { return .lambda(names, .unknown(here), pos(t)) }
        let body = parseTest()
        return .lambda(names, body, pos(t))
    }

    mutating func parseYieldExpr() -> PyExpr {
        let t = tok
        advance()
        if tok.isKw(.kwFrom) {
            advance()
            return .unary("yield from", parseTest(), pos(t))
        }
        if canStartExpr(tok) { return .unary("yield", parseExprList(), pos(t)) }
        return .unary("yield", .literal("None", pos(t)), pos(t))
    }
}
