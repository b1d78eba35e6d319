extension CParser {
    /// `{ statements }`; recovers statement by statement.
    mutating func parseCompound() -> Int32 {
        let start = pos
        let m = scratch.count
        guard kind == .lBrace else {
            return recoverStatement(from: start)
        }
        guard depth < Self.maxDepth else {
            noteRecovery()
            skipBalanced()
            return finish(.compound, mark: m, first: start)
        }
        depth += 1
        defer { depth -= 1 }
        advance()
        while !atEOF, kind != .rBrace {
            if definitionStartsAt(pos) { break }  // an unclosed body: the next definition begins
            let before = pos
            push(parseStatement())
            if pos == before { push(recoverStatement(from: pos)) }
        }
        if !eat(.rBrace) { noteUnclosed() }
        return finish(.compound, mark: m, first: start)
    }

    mutating func parseStatement() -> Int32 {
        let start = pos
        let m = scratch.count
        switch kind {
        case .lBrace:
            return parseCompound()
        case .semicolon:
            advance()
            return finish(.emptyStmt, mark: m, first: start)
        case .kwIf:
            advance()
            if cpp, kind == .kwConstexpr { advance() }
            push(parseParenCondition())
            push(parseSubStatement())
            if kind == .kwElse {
                advance()
                push(parseSubStatement())
            }
            return finish(.ifStmt, mark: m, first: start)
        case .kwWhile:
            advance()
            push(parseParenCondition())
            push(parseSubStatement())
            return finish(.whileStmt, mark: m, first: start)
        case .kwDo:
            advance()
            push(parseSubStatement())
            if eat(.kwWhile) {
                push(parseParenCondition())
            } else {
                noteRecovery()
            }
            _ = eat(.semicolon)
            return finish(.doStmt, mark: m, first: start)
        case .kwFor:
            advance()
            parseForHeader()
            push(parseSubStatement())
            return finish(.forStmt, mark: m, first: start)
        case .kwSwitch:
            advance()
            push(parseParenCondition())
            push(parseSubStatement())
            return finish(.switchStmt, mark: m, first: start)
        case .kwCase:
            advance()
            push(parseConditional())
            if kind == .ellipsis {  // GNU case range
                advance()
                push(parseConditional())
            }
            if !eat(.colon) { return recoverStatement(from: start, mark: m) }
            return finish(.caseStmt, mark: m, first: start)
        case .kwDefault:
            advance()
            if !eat(.colon) { return recoverStatement(from: start, mark: m) }
            return finish(.defaultStmt, mark: m, first: start)
        case .kwReturn:
            advance()
            if kind != .semicolon { push(parseExpression()) }
            if !eat(.semicolon) { return recoverStatement(from: start, mark: m) }
            return finish(.returnStmt, mark: m, first: start)
        case .kwBreak, .kwContinue:
            let k: NodeKind = kind == .kwBreak ? .breakStmt : .continueStmt
            advance()
            if !eat(.semicolon) { return recoverStatement(from: start, mark: m) }
            return finish(k, mark: m, first: start)
        case .kwGoto:
            advance()
            let label = pos
            if kind == .star { push(parseUnary()) } else if kind == .identifier { advance() }
            if !eat(.semicolon) { return recoverStatement(from: start, mark: m) }
            return finish(.gotoStmt, mark: m, first: start, main: label)
        case .kwAsm:
            advance()
            while kind == .kwVolatile || kind == .kwGoto || kind == .kwInline { advance() }
            if kind == .lParen { skipBalanced() }
            _ = eat(.semicolon)
            return finish(.asmStmt, mark: m, first: start)
        case .kwStaticAssert:
            advance()
            if kind == .lParen { skipBalanced() }
            _ = eat(.semicolon)
            return finish(.staticAssert, mark: m, first: start)
        case .kwTry where cpp:
            advance()
            push(parseCompound())
            while kind == .kwCatch {
                advance()
                if kind == .lParen { skipBalanced() }
                push(parseCompound())
            }
            return finish(.tryStmt, mark: m, first: start)
        case .kwUsing where cpp, .kwNamespace where cpp:
            while !atEOF, kind != .semicolon, kind != .rBrace { advance() }
            _ = eat(.semicolon)
            return finish(.emptyStmt, mark: m, first: start)
        case .kwTemplate where cpp:
            return recoverStatement(from: start)
        case .identifier:
            if kind(1) == .colon, !(cpp && kind(2) == .colon) {
                advance()
                advance()
                return finish(.labelStmt, mark: m, first: start, main: start)
            }
            if let mac = macro(pos) {
                switch mac.role {
                case .blockBegin, .blockEnd, .statement, .returnStatement:
                    return parseCatalogueMacroStatement(mac)
                default:
                    break
                }
            }
        default:
            break
        }
        if isDeclarationStart() {
            let d = parseDeclaration(topLevel: false)
            if tree[d].kind == .unparsed { return d }
            push(d)
            return finish(.declStmt, mark: m, first: start)
        }
        return parseExpressionStatement()
    }

    /// The body of `if`/`while`/`for`: a statement, tolerating a missing one before `}`.
    mutating func parseSubStatement() -> Int32 {
        if kind == .rBrace || atEOF {
            noteRecovery()
            let m = scratch.count
            return finish(.emptyStmt, mark: m, first: pos)
        }
        return parseStatement()
    }

    /// `( expr )` of `if`/`while`/`switch`; C++ allows a declaration there.
    mutating func parseParenCondition() -> Int32 {
        let start = pos
        guard eat(.lParen) else {
            noteRecovery()
            let m = scratch.count
            return finish(.unparsed, mark: m, first: start)
        }
        var e: Int32
        if cpp, isDeclarationStart() {
            let m = scratch.count
            push(parseSpecifiers())
            push(parseDeclarator(abstractOK: false))
            if eat(.assign) { push(parseInitializer()) }
            e = finish(.declaration, mark: m, first: start + 1)
            if eat(.semicolon) { e = parseExpression() }
        } else {
            e = parseExpression()
        }
        if !eat(.rParen) {
            noteRecovery()
            // skip to the matching `)`
            var level = 1
            while !atEOF, level > 0 {
                if kind == .lParen { level += 1 }
                if kind == .rParen { level -= 1 }
                if kind == .lBrace || kind == .semicolon { break }
                advance()
            }
        }
        return e
    }

    /// `( init ; cond ; step )` including C99 declarations and C++ range-for.
    mutating func parseForHeader() {
        guard eat(.lParen) else { noteRecovery(); return }
        if cpp, rangeForAhead() {
            let m = scratch.count
            let s = pos
            push(parseSpecifiers())
            push(parseDeclarator(abstractOK: false))
            push(finish(.declaration, mark: m, first: s))
            _ = eat(.colon)
            push(parseInitializer())
            if !eat(.rParen) { noteRecovery() }
            return
        }
        // init
        if kind == .semicolon {
            advance()
        } else if isDeclarationStart() {
            push(parseDeclaration(topLevel: false))
        } else {
            push(parseExpression())
            if !eat(.semicolon) { noteRecovery() }
        }
        // condition
        if kind != .semicolon { push(parseExpression()) }
        if !eat(.semicolon) { noteRecovery() }
        // step
        if kind != .rParen { push(parseExpression()) }
        if !eat(.rParen) {
            noteRecovery()
            while !atEOF, kind != .rParen, kind != .lBrace, kind != .semicolon { advance() }
            _ = eat(.rParen)
        }
    }

    /// C++ `for (decl : range)`: a `:` at depth 0 before `;` or the closing `)`.
    func rangeForAhead() -> Bool {
        var i = pos
        var level = 0
        while i < toks.count {
            switch toks[i].kind {
            case .lParen, .lBracket, .lBrace: level += 1
            case .rParen, .rBracket, .rBrace:
                if level == 0 { return false }
                level -= 1
            case .semicolon, .eof: return false
            case .colon where level == 0: return true
            default: break
            }
            i += 1
        }
        return false
    }

    /// A statement-shaped macro from the catalogue: `Py_BEGIN_ALLOW_THREADS`, `Py_BEGIN_CRITICAL_SECTION(op);`.
    mutating func parseCatalogueMacroStatement(_ mac: MacroEntry) -> Int32 {
        let start = pos
        let m = scratch.count
        advance()
        if kind == .lParen { parseMacroArguments() }
        _ = eat(.semicolon)
        let region: UInt8 = mac.region.map { $0.rawValue + 1 } ?? 0
        return finish(.macroStmt, mark: m, first: start, main: start, flags: region, aux: Int16(mac.role.rawValue))
    }

    /// An expression statement, or an unknown macro used as a statement (no `;`, or followed by a block).
    mutating func parseExpressionStatement() -> Int32 {
        let start = pos
        let m = scratch.count
        let e = parseExpression()
        if eat(.semicolon) {
            push(e)
            return finish(.exprStmt, mark: m, first: start)
        }
        let ek = tree[e].kind
        let calleeIsName = ek == .ident || (ek == .call && tree.child(e, 0).map { tree[$0].kind == .ident } == true)
        if calleeIsName, pos > start {
            if kind == .lBrace, ek == .call {
                // `FOR_EACH(x) { ... }`
                push(e)
                push(parseCompound())
                let name = Int(tree[e].firstTok)
                return finish(.macroStmt, mark: m, first: start, main: name, aux: 255)
            }
            if toks[pos].atLineStart || kind == .rBrace || atEOF {
                push(e)
                let name = Int(tree[e].firstTok)
                return finish(.macroStmt, mark: m, first: start, main: name, aux: 255)
            }
        }
        scratch.removeLast(scratch.count - m)
        return recoverStatement(from: start)
    }

    /// Whether a statement starting at `pos` is a declaration (typedef names, specifier keywords,
    /// and shapes such as `T *x =`, `T x;`, `T (*f)(...)`).
    func isDeclarationStart() -> Bool {
        let k = kind
        if k.isDeclSpecifierKeyword { return true }
        if cpp, k == .colonColon { return cppDeclarationAhead(from: pos + 1) }
        guard k == .identifier else { return false }
        if let mac = macro(pos) {
            return mac.role == .typeWrapper || mac.role == .annotation || mac.role == .threadLocalStorage
        }
        let n = kind(1)
        if cpp, n == .colonColon || n == .lt { return cppDeclarationAhead(from: pos) }
        if n == .lParen, isAllCaps(pos) {
            // `ZSTD_ALIGNED(32) U32 tmp[8];`: an attribute macro before a declaration
            let close = matchingClose(pos + 1)
            if close + 2 < toks.count, toks[close + 1].kind == .identifier || toks[close + 1].kind.isDeclSpecifierKeyword,
               toks[close + 2].kind == .identifier || toks[close + 2].kind == .star, !toks[close + 1].atLineStart {
                return true
            }
        }
        switch n {
        case .identifier:
            if toks[pos + 1].atLineStart, isAllCaps(pos), !isTypeName(pos) { return false }
            if let mac = macro(pos + 1), mac.role != .parameterName && mac.role != .annotation { return false }
            return true
        case .kwConst, .kwVolatile, .kwRestrict:
            return true
        case .kwStatic, .kwThreadLocal:
            // `SOME_MACRO static int x;`: no expression continues with a storage class
            return true
        case .star:
            if isTypeName(pos) { return true }
            if localNames.contains(hash(pos)) { return false }
            var i = pos + 1
            while i < toks.count, toks[i].kind == .star || toks[i].kind == .kwConst || toks[i].kind == .kwRestrict {
                i += 1
            }
            guard i + 1 < toks.count, toks[i].kind == .identifier else { return false }
            let a = toks[i + 1].kind
            return a == .assign || a == .semicolon || a == .comma || a == .lBracket
        case .lParen:
            return isTypeName(pos) && kind(2) == .star && kind(3) == .identifier && kind(4) == .rParen
        case .amp, .ampAmp:
            return cpp && isTypeName(pos)
        default:
            return false
        }
    }

    /// C++: `A::B<C>::D [*&]* name (= ; ( { [ , :)`.
    func cppDeclarationAhead(from start: Int) -> Bool {
        var i = start
        while i < toks.count {
            guard toks[i].kind == .identifier || toks[i].kind == .kwTypename else { return false }
            i += 1
            if i < toks.count, toks[i].kind == .lt {
                guard let j = anglesEnd(from: i) else { return false }
                i = j
            }
            if i < toks.count, toks[i].kind == .colonColon {
                i += 1
                continue
            }
            break
        }
        while i < toks.count, [.star, .amp, .ampAmp, .kwConst].contains(toks[i].kind) { i += 1 }
        guard i + 1 < toks.count, toks[i].kind == .identifier else { return false }
        let a = toks[i + 1].kind
        return a == .assign || a == .semicolon || a == .lParen || a == .lBrace || a == .lBracket || a == .comma
            || a == .colon
    }

    /// Index after the `>` closing template arguments opened at `i`, or nil.
    func anglesEnd(from i0: Int) -> Int? {
        var i = i0
        var level = 0
        var paren = 0
        while i < toks.count {
            switch toks[i].kind {
            case .lt where paren == 0: level += 1
            case .gt where paren == 0: level -= 1
            case .shr where paren == 0: level -= 2
            case .lParen: paren += 1
            case .rParen:
                if paren == 0 { return nil }
                paren -= 1
            case .semicolon, .lBrace, .rBrace, .eof, .ampAmp, .pipePipe: return nil
            default: break
            }
            i += 1
            if level <= 0 { return i }
        }
        return nil
    }
}
