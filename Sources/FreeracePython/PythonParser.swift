// A tolerant recursive-descent parser over the token list. Errors never throw: a statement that
// cannot be parsed is skipped to the end of its logical line and recorded as `.unparsed`; a broken
// compound-statement header is skipped to its last `:` so the body is still parsed.

import FreeraceSyntax

struct PyParser {
    let toks: [PyTok]
    let bytes: [UInt8]
    let isCython: Bool
    var i = 0
    /// The statement being parsed hit an error (set once; reset per statement).
    var failed = false
    var exprDepth = 0
    var blockDepth = 0
    var recoveries = 0
    var functionDepth = 0
    var functionCount = 0
    var recoveredFunctionCount = 0
    var fileScopeRecoveries = 0
    var diagnostics: [LineDiagnostic] = []
    var inPattern = false

    /// Guarded expression frames (about four per bracket level: 100 nested brackets). Deep enough for
    /// real code while keeping the recursion within about 150 KB of stack (release; ~2 MB debug).
    static let maxExprDepth = 400
    /// Longest chain of operators or trailers (`a + a + …`, `a.b.b…`, `f()()…`) one expression
    /// may have. A chain is parsed in a loop but nests one tree level per link, and everything
    /// that walks the tree recurses: 300,000 links would overflow any stack.
    static let maxChain = 5000
    static let maxBlockDepth = 100
    static let maxDiagnostics = 100

    init(toks: [PyTok], bytes: [UInt8], isCython: Bool) {
        self.toks = toks
        self.bytes = bytes
        self.isCython = isCython
    }

    // MARK: - token access

    @inline(__always) var tok: PyTok { toks[i] }
    @inline(__always) func peek(_ k: Int) -> PyTok { toks[min(i + k, toks.count - 1)] }
    @inline(__always) mutating func advance() { if i < toks.count - 1 { i += 1 } }
    @inline(__always) func pos(_ t: PyTok) -> PyPos { PyPos(line: Int(t.line), column: Int(t.col)) }
    @inline(__always) var here: PyPos { pos(tok) }

    func text(_ t: PyTok) -> String { text(t.start, t.end) }

    func text(_ s: Int32, _ e: Int) -> String {
        let s = max(0, min(Int(s), bytes.count))
        let e = max(s, min(e, bytes.count))
        return String(decoding: bytes[s..<e], as: UTF8.self)
    }

    /// Tokens `a..<b` as written, whitespace (and comments, continuations) between them collapsed to
    /// one space. Long texts are cut.
    func typeText(_ a: Int, _ b: Int) -> String {
        guard a < b, b <= toks.count else { return "" }
        var out: [UInt8] = []
        out.reserveCapacity(32)
        var k = a
        while k < b {
            let t = toks[k]
            if t.kind == .newline || t.kind == .indent || t.kind == .dedent || t.kind == .eof { k += 1; continue }
            if k > a && !out.isEmpty && Int(t.start) > toks[k - 1].end { out.append(0x20) }
            let s = Int(t.start)
            let e = min(t.end, bytes.count)
            if s < e { out.append(contentsOf: bytes[s..<e]) }
            if out.count > 300 { break }
            k += 1
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The content of a string token without prefix and quotes.
    func stringContent(_ t: PyTok) -> String {
        var s = Int(t.start)
        var e = min(t.end, bytes.count)
        while s < e && bytes[s] != 0x22 && bytes[s] != 0x27 { s += 1 }
        guard s < e else { return "" }
        let q = bytes[s]
        let triple = e - s >= 6 && bytes[s + 1] == q && bytes[s + 2] == q
        let n = triple ? 3 : 1
        s += n
        if e - n >= s && bytes[e - 1] == q { e -= n }
        return String(decoding: bytes[s..<max(s, e)], as: UTF8.self)
    }

    /// The trimmed text of the physical line of a token, at most 80 characters.
    func lineText(_ t: PyTok) -> String {
        let start = max(0, Int(t.start) - Int(t.col) + 1)
        var e = start
        let limit = min(bytes.count, start + 400)
        while e < limit && bytes[e] != 0x0A { e += 1 }
        var s = start
        while s < e && (bytes[s] == 0x20 || bytes[s] == 0x09) { s += 1 }
        while e > s && (bytes[e - 1] == 0x20 || bytes[e - 1] == 0x09 || bytes[e - 1] == 0x0D) { e -= 1 }
        let str = String(decoding: bytes[s..<min(e, s + 320)], as: UTF8.self)
        return str.utf8.count > 80 ? String(str.prefix(80)) : str
    }

    /// Line of the last significant token before the current one (multi-line strings included).
    func lastLine() -> Int {
        var j = i - 1
        while j > 0 && (toks[j].kind == .newline || toks[j].kind == .indent || toks[j].kind == .dedent
                        || toks[j].kind == .eof) { j -= 1 }
        guard j >= 0 else { return 1 }
        let t = toks[j]
        var line = Int(t.line)
        if t.kind == .string || t.kind == .error {
            var k = Int(t.start)
            let e = min(t.end, bytes.count)
            while k < e {
                if bytes[k] == 0x0A { line += 1 }
                k += 1
            }
        }
        return line
    }

    // MARK: - errors and recovery

    mutating func fail(_ msg: String) {
        if failed { return }
        failed = true
        if diagnostics.count < Self.maxDiagnostics {
            diagnostics.append(LineDiagnostic(line: Int(tok.line), column: Int(tok.col), message: msg))
        }
    }

    mutating func note(_ msg: String) {
        if diagnostics.count < Self.maxDiagnostics { diagnostics.append(LineDiagnostic(line: Int(tok.line), column: Int(tok.col), message: msg)) }
    }

    /// Counts one recovery (in the innermost function, or at file scope).
    mutating func recover() {
        recoveries += 1
        if functionDepth == 0 { fileScopeRecoveries += 1 }
    }

    @discardableResult
    mutating func expect(_ op: PyOp) -> Bool {
        if tok.isOp(op) {
            advance()
            return true
        }
        fail("expected '\(Self.opText(op))'")
        return false
    }

    var atLineEnd: Bool { tok.kind == .newline || tok.kind == .eof }

    mutating func skipToLineEnd() {
        while tok.kind != .newline && tok.kind != .eof { advance() }
    }

    /// Skips an indented block whose INDENT is the current token.
    mutating func skipBlock() {
        guard tok.kind == .indent else { return }
        var level = 0
        while tok.kind != .eof {
            if tok.kind == .indent { level += 1 }
            if tok.kind == .dedent {
                level -= 1
                if level == 0 {
                    advance()
                    return
                }
            }
            advance()
        }
    }

    /// Skips the rest of the logical line and any block indented under it (no recovery counted).
    mutating func skipLineAndBlock() {
        skipToLineEnd()
        if tok.kind == .newline { advance() }
        if tok.kind == .indent { skipBlock() }
    }

    /// Skips a balanced bracket group starting at the current opening bracket, within the line.
    mutating func skipBalanced() {
        var depth = 0
        while tok.kind != .newline && tok.kind != .eof {
            let o = tok.op
            if o == .lpar || o == .lsqb || o == .lbrace { depth += 1 }
            if o == .rpar || o == .rsqb || o == .rbrace {
                depth -= 1
                if depth <= 0 {
                    advance()
                    return
                }
            }
            advance()
        }
    }

    /// After a broken compound-statement header: skips to the last `:` of the logical line.
    mutating func recoverHeader() {
        recover()
        failed = false
        var j = i
        var lastColon = -1
        while toks[j].kind != .newline && toks[j].kind != .eof {
            if toks[j].isOp(.colon) { lastColon = j }
            j += 1
        }
        i = lastColon >= 0 ? lastColon : j
    }

    // MARK: - module and blocks

    mutating func parseModule() -> [PyStmt] {
        var body: [PyStmt] = []
        while tok.kind != .eof {
            if tok.kind == .dedent || tok.kind == .newline {
                advance()
                continue
            }
            let before = i
            parseStatement(into: &body)
            if i == before {
                recover()
                advance()
            }
        }
        return body
    }

    /// `:` then a suite; a broken header (or missing `:`) is recovered first.
    mutating func headerColonAndSuite() -> [PyStmt] {
        if failed || !tok.isOp(.colon) {
            if !failed { fail("expected ':'") }
            recoverHeader()
        }
        if tok.isOp(.colon) { advance() }
        return parseSuite()
    }

    mutating func parseSuite() -> [PyStmt] {
        failed = false
        if tok.kind == .newline {
            advance()
            if tok.kind == .indent {
                advance()
                return parseIndentedBody()
            }
            note("expected an indented block")
            recover()
            return []
        }
        if tok.kind == .eof {
            recover()
            return []
        }
        var out: [PyStmt] = []
        parseSimpleLine(into: &out)
        return out
    }

    /// Statements up to the matching DEDENT (the INDENT already consumed); consumes the DEDENT.
    mutating func parseIndentedBody() -> [PyStmt] {
        blockDepth += 1
        defer { blockDepth -= 1 }
        if blockDepth > Self.maxBlockDepth {
            note("blocks nested too deeply")
            recover()
            var level = 1
            while tok.kind != .eof {
                if tok.kind == .indent { level += 1 }
                if tok.kind == .dedent {
                    level -= 1
                    if level == 0 { break }
                }
                advance()
            }
            if tok.kind == .dedent { advance() }
            return []
        }
        var out: [PyStmt] = []
        out.reserveCapacity(4)
        while tok.kind != .dedent && tok.kind != .eof {
            let before = i
            parseStatement(into: &out)
            if i == before {
                recover()
                advance()
            }
        }
        if tok.kind == .dedent { advance() }
        return out
    }

    // MARK: - statements

    mutating func parseStatement(into out: inout [PyStmt]) {
        failed = false
        let t = tok
        switch t.kind {
        case .newline:
            advance()
            return
        case .eof, .dedent:
            return
        case .indent:
            note("unexpected indent")
            recover()
            advance()
            out.append(contentsOf: parseIndentedBody())
            return
        default:
            break
        }
        if t.kind == .op && t.isOp(.at) {
            parseDecorated(into: &out)
            return
        }
        if t.kind == .name {
            switch t.kw {
            case .kwIf: out.append(parseIf()); return
            case .kwWhile: out.append(parseWhile()); return
            case .kwFor: out.append(parseFor()); return
            case .kwTry: out.append(parseTry()); return
            case .kwWith: out.append(parseWith()); return
            case .kwDef: out.append(parseFunctionDef(kind: .def, decorators: [], stmtTok: t)); return
            case .kwClass: out.append(parseClassDef(isCdef: false, stmtTok: t)); return
            case .kwAsync:
                let n = peek(1)
                if n.isKw(.kwDef) {
                    advance()
                    out.append(parseFunctionDef(kind: .asyncDef, decorators: [], stmtTok: t))
                    return
                }
                if n.isKw(.kwFor) {
                    advance()
                    var s = parseFor()
                    s.pos = pos(t)
                    out.append(s)
                    return
                }
                if n.isKw(.kwWith) {
                    advance()
                    var s = parseWith()
                    s.pos = pos(t)
                    out.append(s)
                    return
                }
            case .kwElif, .kwElse, .kwExcept, .kwFinally:
                // a branch without its statement
                fail("'\(text(t))' without a matching statement")
                recoverHeader()
                out.append(PyStmt(kind: .unparsed(lineText(t)), pos: pos(t)))
                if tok.isOp(.colon) { advance() }
                out.append(contentsOf: parseSuite())
                return
            case .match:
                if isMatchStatement() {
                    out.append(parseMatch())
                    return
                }
            default:
                break
            }
            if isCython && parseCythonStatement(into: &out) { return }
        }
        parseSimpleLine(into: &out)
    }

    /// Simple statements separated by `;` up to and including the NEWLINE.
    mutating func parseSimpleLine(into out: inout [PyStmt]) {
        while true {
            failed = false
            let start = tok
            let s = parseSmallStatement()
            if !failed {
                if tok.isOp(.semi) {
                    out.append(s)
                    advance()
                    if atLineEnd {
                        if tok.kind == .newline { advance() }
                        return
                    }
                    continue
                }
                if tok.kind == .newline {
                    out.append(s)
                    advance()
                    return
                }
                if tok.kind == .eof {
                    out.append(s)
                    return
                }
                fail("unexpected '\(text(tok))'")
            }
            recoverLine(start: start, into: &out)
            return
        }
    }

    /// Records the failed statement starting at `start` as unparsed and skips its line (and a block
    /// indented under it, whose statements are kept).
    mutating func recoverLine(start: PyTok, into out: inout [PyStmt]) {
        recover()
        failed = false
        skipToLineEnd()
        out.append(PyStmt(kind: .unparsed(lineText(start)), pos: pos(start)))
        if tok.kind == .newline { advance() }
        if tok.kind == .indent {
            advance()
            out.append(contentsOf: parseIndentedBody())
        }
    }

    mutating func parseSmallStatement() -> PyStmt {
        let t = tok
        let p = pos(t)
        if t.kind == .name {
            switch t.kw {
            case .kwPass:
                advance()
                return PyStmt(kind: .pass, pos: p)
            case .kwBreak:
                advance()
                return PyStmt(kind: .breakStmt, pos: p)
            case .kwContinue:
                advance()
                return PyStmt(kind: .continueStmt, pos: p)
            case .kwReturn:
                advance()
                let v: PyExpr? = canStartExpr(tok) ? parseExprList() : nil
                return PyStmt(kind: .ret(v), pos: p)
            case .kwRaise:
                advance()
                var v: PyExpr?
                if canStartExpr(tok) {
                    v = parseTest()
                    if tok.isKw(.kwFrom) {
                        advance()
                        _ = parseTest()
                    } else if tok.isOp(.comma) {
                        // Python 2: raise E, value[, tb]
                        advance()
                        _ = parseExprList()
                    }
                }
                return PyStmt(kind: .raise(v), pos: p)
            case .kwGlobal, .kwNonlocal:
                advance()
                var names: [String] = []
                while tok.kind == .name && !failed {
                    names.append(text(tok))
                    advance()
                    if tok.isOp(.comma) { advance() } else { break }
                }
                if names.isEmpty { fail("expected a name") }
                return PyStmt(kind: t.isKw(.kwGlobal) ? .global(names) : .other, pos: p)
            case .kwDel:
                advance()
                let first = tok
                let e = parseExprList()
                if case .collection(let items, _) = e, !first.isOp(.lpar), !first.isOp(.lsqb) {
                    return PyStmt(kind: .delete(items), pos: p)
                }
                return PyStmt(kind: .delete([e]), pos: p)
            case .kwAssert:
                advance()
                _ = parseTest()
                if tok.isOp(.comma) {
                    advance()
                    _ = parseTest()
                }
                return PyStmt(kind: .other, pos: p)
            case .kwImport:
                return parseImport(cimport: false)
            case .kwFrom:
                return parseFromImport()
            case .print, .exec:
                if isPrintStatement() { return parsePrintStatement() }
            case .type:
                let n = peek(1)
                if n.kind == .name && !n.isHardKeyword && (peek(2).isOp(.assign) || peek(2).isOp(.lsqb)) {
                    advance()
                    let name = PyExpr.name(text(n), pos(n))
                    advance()
                    if tok.isOp(.lsqb) { skipBalanced() }
                    expect(.assign)
                    let v = parseTest()
                    return PyStmt(kind: .assign(targets: [name], value: v), pos: p)
                }
            default:
                break
            }
        }
        return parseExprStatement()
    }

    mutating func parseExprStatement() -> PyStmt {
        let p = here
        let first = tok.isKw(.kwYield) ? parseYieldExpr() : parseExprList()
        if failed { return PyStmt(kind: .expr(first), pos: p) }
        let t = tok
        if t.kind == .op {
            switch t.op {
            case .assign:
                var targets = [first]
                var value = first
                while tok.isOp(.assign) && !failed {
                    advance()
                    let v = tok.isKw(.kwYield) ? parseYieldExpr() : parseExprList()
                    if tok.isOp(.assign) {
                        targets.append(v)
                    } else {
                        value = v
                    }
                }
                return PyStmt(kind: .assign(targets: targets, value: value), pos: p)
            case .plusEq, .minusEq, .starEq, .slashEq, .doubleSlashEq, .percentEq, .atEq, .ampEq, .pipeEq,
                 .caretEq, .shlEq, .shrEq, .doubleStarEq:
                let opText = text(t)
                advance()
                let v = tok.isKw(.kwYield) ? parseYieldExpr() : parseExprList()
                return PyStmt(kind: .augAssign(target: first, op: opText, value: v), pos: p)
            case .colon:
                advance()
                let a = i
                _ = parseTest()
                let ann = typeText(a, i)
                var v: PyExpr?
                if tok.isOp(.assign) {
                    advance()
                    v = tok.isKw(.kwYield) ? parseYieldExpr() : parseExprList()
                }
                if case .name(let n, _) = first {
                    return PyStmt(kind: .declare(names: [n], type: ann, values: [v]), pos: p)
                }
                if let v { return PyStmt(kind: .assign(targets: [first], value: v), pos: p) }
                return PyStmt(kind: .other, pos: p)
            default:
                break
            }
        }
        return PyStmt(kind: .expr(first), pos: p)
    }

    func isPrintStatement() -> Bool {
        let n = peek(1)
        switch n.kind {
        case .string, .number: return true
        case .name: return !n.isHardKeyword || n.isKw(.kwNone) || n.isKw(.kwTrue) || n.isKw(.kwFalse) || n.isKw(.kwNot)
        case .op: return n.isOp(.shr) || n.isOp(.backtick)
        default: return false
        }
    }

    /// Python 2 `print x, y` / `print >>f, x` / `exec code in ns`.
    mutating func parsePrintStatement() -> PyStmt {
        let t = tok
        advance()
        var args: [PyArg] = []
        if tok.isOp(.shr) {
            advance()
            _ = parseTest()
            if tok.isOp(.comma) { advance() }
        }
        while canStartExpr(tok) && !failed {
            args.append(PyArg(name: nil, value: parseTest(), star: 0))
            if tok.isOp(.comma) { advance() } else { break }
        }
        let callee = PyExpr.name(text(t), pos(t))
        return PyStmt(kind: .expr(.call(callee, args, pos(t))), pos: pos(t))
    }

    /// `as NAME` after an imported name, if present.
    mutating func importAlias() -> String? {
        guard tok.isKw(.kwAs) else { return nil }
        advance()
        guard tok.kind == .name else {
            fail("expected a name after 'as'")
            return nil
        }
        defer { advance() }
        return text(tok)
    }

    mutating func dottedName() -> String {
        var s = ""
        guard tok.kind == .name else {
            fail("expected a module name")
            return s
        }
        s = text(tok)
        advance()
        while tok.isOp(.dot) && peek(1).kind == .name {
            advance()
            s += "." + text(tok)
            advance()
        }
        return s
    }

    mutating func parseImport(cimport: Bool) -> PyStmt {
        let p = here
        advance()
        var names: [PyImportName] = []
        while !failed {
            let n = dottedName()
            names.append(PyImportName(name: n, alias: importAlias()))
            if tok.isOp(.comma) { advance() } else { break }
        }
        return PyStmt(kind: .importModules(names, cimport: cimport), pos: p)
    }

    mutating func parseFromImport() -> PyStmt {
        let p = here
        advance()
        var module = ""
        while tok.isOp(.dot) || tok.isOp(.ellipsis) {
            module += tok.isOp(.dot) ? "." : "..."
            advance()
        }
        if tok.kind == .name && !tok.isKw(.kwImport) && !(isCython && tok.isKw(.cimport)) {
            module += dottedName()
        }
        var cimport = false
        if tok.isKw(.kwImport) {
            advance()
        } else if isCython && tok.isKw(.cimport) {
            cimport = true
            advance()
        } else {
            fail("expected 'import'")
            return PyStmt(kind: .other, pos: p)
        }
        var names: [PyImportName] = []
        if tok.isOp(.star) {
            advance()
            names.append(PyImportName(name: "*", alias: nil))
            return PyStmt(kind: .importFrom(module: module, names: names, cimport: cimport), pos: p)
        }
        let paren = tok.isOp(.lpar)
        if paren { advance() }
        while !failed {
            if paren && tok.isOp(.rpar) { break }
            guard tok.kind == .name else {
                fail("expected a name to import")
                break
            }
            let n = text(tok)
            advance()
            names.append(PyImportName(name: n, alias: importAlias()))
            if tok.isOp(.comma) { advance() } else { break }
        }
        if paren { expect(.rpar) }
        return PyStmt(kind: .importFrom(module: module, names: names, cimport: cimport), pos: p)
    }

    // MARK: compound statements

    mutating func parseDecorated(into out: inout [PyStmt]) {
        var decorators: [PyExpr] = []
        let recBefore = recoveries
        while tok.isOp(.at) {
            failed = false
            let at = tok
            advance()
            let d = parseTest()
            if failed || tok.kind != .newline {
                fail("bad decorator")
                recover()
                failed = false
                skipToLineEnd()
                out.append(PyStmt(kind: .unparsed(lineText(at)), pos: pos(at)))
            } else {
                decorators.append(d)
            }
            if tok.kind == .newline { advance() }
        }
        failed = false
        let t = tok
        if t.isKw(.kwDef) {
            var s = parseFunctionDef(kind: .def, decorators: decorators, stmtTok: t, recBefore: recBefore)
            s.pos = pos(t)
            out.append(s)
        } else if t.isKw(.kwAsync) && peek(1).isKw(.kwDef) {
            advance()
            out.append(parseFunctionDef(kind: .asyncDef, decorators: decorators, stmtTok: t, recBefore: recBefore))
        } else if t.isKw(.kwClass) {
            out.append(parseClassDef(isCdef: false, stmtTok: t))
        } else if isCython && (t.isKw(.cdef) || t.isKw(.cpdef)) {
            parseCdef(decorators: decorators, into: &out)
        } else {
            note("decorator without a function or class")
            recover()
        }
    }

    mutating func parseFunctionDef(kind: PyFunction.Kind, decorators: [PyExpr], stmtTok: PyTok,
                                   recBefore: Int? = nil) -> PyStmt {
        let recStart = recBefore ?? recoveries
        functionDepth += 1
        advance() // def
        var name = ""
        var namePos = here
        if tok.kind == .name && !tok.isHardKeyword {
            name = text(tok)
            namePos = here
            advance()
        } else {
            fail("expected a function name")
        }
        if !failed && tok.isOp(.lsqb) { skipBalanced() }
        var params: [PyParam] = []
        if !failed && expect(.lpar) {
            params = parseParams(closer: .rpar).params
        }
        var returnType: String?
        if !failed && tok.isOp(.arrow) {
            advance()
            let a = i
            _ = parseTest()
            returnType = typeText(a, i)
        }
        let body = headerColonAndSuite()
        functionDepth -= 1
        let recovered = recoveries > recStart
        functionCount += 1
        if recovered { recoveredFunctionCount += 1 }
        let f = PyFunction(name: name, kind: kind, params: params, returnType: returnType, decorators: decorators,
                           body: body, pos: namePos, endLine: lastLine(), nogil: false, recovered: recovered)
        return PyStmt(kind: .function(f), pos: pos(stmtTok))
    }

    mutating func parseClassDef(isCdef: Bool, stmtTok: PyTok) -> PyStmt {
        advance() // class
        var name = ""
        var namePos = here
        if tok.kind == .name && !tok.isHardKeyword {
            name = text(tok)
            namePos = here
            advance()
            // Cython `cdef class pkg.Name`
            while isCdef && tok.isOp(.dot) && peek(1).kind == .name {
                advance()
                name = text(tok)
                namePos = here
                advance()
            }
        } else {
            fail("expected a class name")
        }
        if !failed && tok.isOp(.lsqb) { skipBalanced() }
        var bases: [PyExpr] = []
        if !failed && tok.isOp(.lpar) {
            let open = tok
            advance()
            for a in parseCallArgs(open: open) where a.name == nil {
                bases.append(a.star == 1 ? .starred(a.value, a.value.pos) : a.value)
            }
        }
        if isCdef && !failed && tok.isOp(.lsqb) { skipBalanced() } // [object X, type Y]
        var body: [PyStmt] = []
        if isCdef && !failed && atLineEnd {
            // forward declaration (`cdef class X` in a .pxd)
            if tok.kind == .newline { advance() }
        } else {
            body = headerColonAndSuite()
        }
        return PyStmt(kind: .classDef(PyClass(name: name, bases: bases, body: body, pos: namePos, isCdef: isCdef)),
                      pos: pos(stmtTok))
    }

    mutating func parseIf() -> PyStmt {
        let p = here
        var branches: [PyBranch] = []
        advance()
        let test = parseTest()
        branches.append(PyBranch(test: test, body: headerColonAndSuite()))
        var orelse: [PyStmt] = []
        while tok.isKw(.kwElif) {
            failed = false
            advance()
            let t = parseTest()
            branches.append(PyBranch(test: t, body: headerColonAndSuite()))
        }
        if tok.isKw(.kwElse) {
            failed = false
            advance()
            orelse = headerColonAndSuite()
        }
        return PyStmt(kind: .ifStmt(branches: branches, orelse: orelse), pos: p)
    }

    mutating func parseElse() -> [PyStmt] {
        guard tok.isKw(.kwElse) else { return [] }
        failed = false
        advance()
        return headerColonAndSuite()
    }

    mutating func parseWhile() -> PyStmt {
        let p = here
        advance()
        let test = parseTest()
        let body = headerColonAndSuite()
        let orelse = parseElse()
        return PyStmt(kind: .whileStmt(test: test, body: body, orelse: orelse), pos: p)
    }

    mutating func parseFor() -> PyStmt {
        let p = here
        advance()
        let target = parseTargetList()
        var iter = PyExpr.unknown(here)
        if tok.isKw(.kwIn) {
            advance()
            iter = parseExprList()
        } else if isCython && tok.isKw(.kwFrom) {
            // for i from 0 <= i < n [by step]:
            advance()
            iter = parseTest()
            if tok.isKw(.by) {
                advance()
                _ = parseTest()
            }
        } else if !failed {
            fail("expected 'in'")
        }
        let body = headerColonAndSuite()
        let orelse = parseElse()
        return PyStmt(kind: .forStmt(target: target, iter: iter, body: body, orelse: orelse), pos: p)
    }

    mutating func parseTry() -> PyStmt {
        let p = here
        advance()
        let body = headerColonAndSuite()
        var handlers: [PyHandler] = []
        while tok.isKw(.kwExcept) {
            failed = false
            advance()
            if tok.isOp(.star) { advance() }
            var type: PyExpr?
            var name: String?
            if !tok.isOp(.colon) {
                // a tuple when comma-separated (3.14 `except A, B:`; Python 2 `except E, e:` reads the same)
                type = parseExprList()
                if tok.isKw(.kwAs) {
                    advance()
                    if tok.kind == .name {
                        name = text(tok)
                        advance()
                    } else {
                        fail("expected a name after 'as'")
                    }
                }
            }
            handlers.append(PyHandler(type: type, name: name, body: headerColonAndSuite()))
        }
        let orelse = parseElse()
        var fin: [PyStmt] = []
        if tok.isKw(.kwFinally) {
            failed = false
            advance()
            fin = headerColonAndSuite()
        }
        if handlers.isEmpty && fin.isEmpty && orelse.isEmpty && !tok.isKw(.kwFinally) {
            // `try:` with nothing after its body
            note("'try' without 'except' or 'finally'")
        }
        return PyStmt(kind: .tryStmt(body: body, handlers: handlers, orelse: orelse, finally: fin), pos: p)
    }

    /// `with (a as b, c):` — a parenthesized item list followed by `:`.
    func isParenthesizedWithItems() -> Bool {
        guard tok.isOp(.lpar) else { return false }
        var depth = 0
        var j = i
        var sawAs = false
        while j < toks.count {
            let t = toks[j]
            if t.kind == .newline || t.kind == .eof { return false }
            let o = t.op
            if o == .lpar || o == .lsqb || o == .lbrace { depth += 1 }
            if o == .rpar || o == .rsqb || o == .rbrace {
                depth -= 1
                if depth == 0 { return sawAs && toks[min(j + 1, toks.count - 1)].isOp(.colon) }
            }
            if depth == 1 && (t.isKw(.kwAs) || o == .comma) { sawAs = true }
            j += 1
        }
        return false
    }

    mutating func parseWith() -> PyStmt {
        let p = here
        advance()
        var items: [PyWithItem] = []
        let paren = isParenthesizedWithItems()
        if paren { advance() }
        while !failed {
            if paren && tok.isOp(.rpar) { break }
            let ctx = parseTest()
            var target: PyExpr?
            if tok.isKw(.kwAs) {
                advance()
                target = parseTargetItem()
            }
            items.append(PyWithItem(context: ctx, target: target))
            if tok.isOp(.comma) { advance() } else { break }
        }
        if paren && !failed { expect(.rpar) }
        let body = headerColonAndSuite()
        return PyStmt(kind: .with(items: items, body: body), pos: p)
    }

    /// `match x:` followed by an indented `case`.
    func isMatchStatement() -> Bool {
        let n = peek(1)
        if n.kind == .newline || n.kind == .eof { return false }
        if n.kind == .op {
            switch n.op {
            case .assign, .dot, .comma, .rpar, .colon, .plusEq, .minusEq, .starEq, .slashEq, .percentEq, .pipeEq,
                 .ampEq, .caretEq, .shlEq, .shrEq, .doubleStarEq, .doubleSlashEq, .atEq, .walrus:
                return false
            default: break
            }
        }
        var j = i + 1
        while j < toks.count && toks[j].kind != .newline && toks[j].kind != .eof { j += 1 }
        guard j < toks.count - 2, toks[j - 1].isOp(.colon), toks[j + 1].kind == .indent else { return false }
        return toks[j + 2].isKw(.caseKw)
    }

    mutating func parseMatch() -> PyStmt {
        let p = here
        advance()
        let subject = parseExprList()
        if failed || !tok.isOp(.colon) {
            if !failed { fail("expected ':'") }
            recoverHeader()
        }
        if tok.isOp(.colon) { advance() }
        var branches: [PyBranch] = []
        guard tok.kind == .newline else {
            var rest: [PyStmt] = []
            parseSimpleLine(into: &rest)
            return PyStmt(kind: .ifStmt(branches: [PyBranch(test: subject, body: rest)], orelse: []), pos: p)
        }
        advance()
        guard tok.kind == .indent else {
            recover()
            return PyStmt(kind: .ifStmt(branches: [], orelse: []), pos: p)
        }
        advance()
        blockDepth += 1
        defer { blockDepth -= 1 }
        while tok.kind != .dedent && tok.kind != .eof {
            let before = i
            if tok.isKw(.caseKw) {
                failed = false
                let ct = tok
                advance()
                inPattern = true
                let pattern = parseExprList()
                inPattern = false
                var test = PyExpr.binary("match", subject, pattern, pos(ct))
                if tok.isKw(.kwIf) {
                    advance()
                    let g = parseTest()
                    test = .binary("and", test, g, pos(ct))
                }
                branches.append(PyBranch(test: test, body: headerColonAndSuite()))
            } else {
                // not a case clause
                var stray: [PyStmt] = []
                let t = tok
                fail("expected 'case'")
                recoverLine(start: t, into: &stray)
                branches.append(PyBranch(test: .unknown(pos(t)), body: stray))
            }
            if i == before {
                recover()
                advance()
            }
        }
        if tok.kind == .dedent { advance() }
        return PyStmt(kind: .ifStmt(branches: branches, orelse: []), pos: p)
    }

    // MARK: parameters

    struct ParamList {
        var params: [PyParam] = []
        /// Each parameter as written (Cython extern prototypes).
        var texts: [String] = []
    }

    /// Parameters up to and including `closer` (`)`; the `(` already consumed). Python
    /// (`name: ann = default`, `*args`, `**kw`, `/`, `*`) and Cython C declarators (`char *s`,
    /// `double[:, ::1] a not None`, `int (*f)(int)`, `...`).
    mutating func parseParams(closer: PyOp) -> ParamList {
        var out = ParamList()
        while !failed && !tok.isOp(closer) && !atLineEnd {
            let pStart = i
            if tok.isOp(.slash) {
                advance()
                if tok.isOp(.comma) { advance() }
                continue
            }
            var star = 0
            if tok.isOp(.star) {
                star = 1
                advance()
            } else if tok.isOp(.doubleStar) {
                star = 2
                advance()
            }
            if star == 1 && (tok.isOp(.comma) || tok.isOp(closer)) {
                out.texts.append("*")
                if tok.isOp(.comma) { advance() }
                continue
            }
            var name = ""
            var type: String?
            var declEnd = i
            let n1 = peek(1)
            if tok.kind == .name && !tok.isHardKeyword
                && (n1.isOp(.colon) || n1.isOp(.assign) || n1.isOp(.comma) || n1.isOp(closer)) {
                name = text(tok)
                advance()
                if tok.isOp(.colon) {
                    advance()
                    let a = i
                    _ = parseTestOrStar() // `*args: *Ts`
                    type = typeText(a, i)
                }
                declEnd = i
            } else if isCython && (tok.kind == .name || tok.isOp(.lpar) || tok.isOp(.ellipsis)) {
                let dStart = i
                while !tok.isOp(.comma) && !tok.isOp(.assign) && !tok.isOp(closer) && !atLineEnd {
                    if tok.isOp(.lpar) || tok.isOp(.lsqb) { skipBalanced() } else { advance() }
                }
                declEnd = i
                (name, type) = analyzeDeclarator(dStart, i)
            } else {
                fail("bad parameter")
                break
            }
            out.texts.append(typeText(pStart, declEnd))
            var def: PyExpr?
            if tok.isOp(.assign) {
                advance()
                if (tok.isOp(.star) || tok.isOp(.question)) && (peek(1).isOp(.comma) || peek(1).isOp(closer)) {
                    def = .literal(tok.isOp(.star) ? "*" : "?", here) // Cython .pxd `x=*`, `x=?`
                    advance()
                } else {
                    def = parseTest()
                }
            }
            out.params.append(PyParam(name: name, type: type, defaultValue: def, star: star))
            if tok.isOp(.comma) { advance() } else { break }
        }
        expect(closer)
        return out
    }

    /// Name and type of a C declarator in tokens `a..<b` (`char *s`, `int a[3]`, `int (*f)(int)`,
    /// `object o not None`). An unnamed declarator gives name "" and the whole text as type.
    func analyzeDeclarator(_ a: Int, _ b: Int) -> (String, String?) {
        var last = b - 1
        if last - 1 > a && toks[last].isKw(.kwNone) && (toks[last - 1].isKw(.kwNot) || toks[last - 1].isKw(.kwOr)) {
            last -= 2
        }
        guard last >= a else { return ("", nil) }
        let lt = toks[last]
        if lt.kind == .name && !lt.isHardKeyword {
            if last == a { return (text(lt), nil) }
            return (text(lt), typeText(a, last))
        }
        if lt.isOp(.rpar) {
            // function pointer: ( * name )
            var k = a
            while k + 2 <= last {
                if toks[k].isOp(.lpar) && (toks[k + 1].isOp(.star) || toks[k + 1].isOp(.amp)) && toks[k + 2].kind == .name {
                    return (text(toks[k + 2]), typeText(a, last + 1))
                }
                k += 1
            }
        }
        if lt.isOp(.rsqb) {
            // C array `int a[3]` vs memoryview / template type without a name
            var depth = 0
            var k = last
            while k >= a {
                if toks[k].isOp(.rsqb) { depth += 1 }
                if toks[k].isOp(.lsqb) {
                    depth -= 1
                    if depth == 0 { break }
                }
                k -= 1
            }
            if k - 1 > a && toks[k - 1].kind == .name && toks[k - 2].kind == .name || (k - 1 > a && toks[k - 1].kind == .name && toks[k - 2].isOp(.star)) {
                return (text(toks[k - 1]), typeText(a, k - 1) + typeText(k, last + 1))
            }
        }
        return ("", typeText(a, last + 1))
    }

    static func opText(_ op: PyOp) -> String {
        switch op {
        case .lpar: "("
        case .rpar: ")"
        case .lsqb: "["
        case .rsqb: "]"
        case .lbrace: "{"
        case .rbrace: "}"
        case .colon: ":"
        case .comma: ","
        case .assign: "="
        case .gt: ">"
        case .backtick: "`"
        default: "\(op)"
        }
    }
}
