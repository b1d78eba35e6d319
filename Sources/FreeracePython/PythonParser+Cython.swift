// Cython statements: cdef / cpdef declarations and functions, cdef class, extern blocks,
// ctypedef, struct / enum blocks, DEF, IF / ELIF / ELSE, include, cimport, old-style property.

extension PyParser {
    /// A parsed C declaration (`int *x = 1, y`, `object f(self) except -1 nogil`).
    struct CDecl {
        var name = ""
        var namePos = PyPos(line: 1, column: 1)
        var type = ""
        var isFunction = false
        var isFunctionPointer = false
        var params = ParamList()
        var nogil = false
        var names: [String] = []
        var values: [PyExpr?] = []
    }

    /// Parses a Cython statement at the current token; false when it is not one.
    mutating func parseCythonStatement(into out: inout [PyStmt]) -> Bool {
        let t = tok
        let n = peek(1)
        switch t.kw {
        case .cdef, .cpdef:
            parseCdef(decorators: [], into: &out)
            return true
        case .ctypedef:
            var sink: PyExternDecl?
            var extras: [PyStmt] = []
            out.append(parseCtypedef(extern: &sink, extras: &extras))
            out.append(contentsOf: extras)
            return true
        case .cimport:
            guard n.kind == .name else { return false }
            finishSimple(parseImport(cimport: true), start: t, into: &out)
            return true
        case .DEF:
            guard n.kind == .name && peek(2).isOp(.assign) else { return false }
            skipToLineEnd()
            if tok.kind == .newline { advance() }
            out.append(PyStmt(kind: .other, pos: pos(t)))
            return true
        case .include:
            guard n.kind == .string else { return false }
            advance()
            let s = PyStmt(kind: .include(stringContent(tok)), pos: pos(t))
            advance()
            finishSimple(s, start: t, into: &out)
            return true
        case .IF:
            guard !n.isOp(.assign) && !n.isOp(.dot) && n.kind != .newline else { return false }
            out.append(parseCompileTimeIf())
            return true
        case .property:
            // old-style `property name:` with __get__ / __set__ methods; the methods are kept
            guard n.kind == .name && peek(2).isOp(.colon) else { return false }
            advance()
            advance()
            out.append(contentsOf: parseSuiteAfterColon())
            return true
        default:
            return false
        }
    }

    mutating func parseSuiteAfterColon() -> [PyStmt] {
        if tok.isOp(.colon) { advance() }
        return parseSuite()
    }

    /// Ends a simple statement: `;`, NEWLINE or EOF; otherwise recovers the line.
    mutating func finishSimple(_ s: PyStmt, start: PyTok, into out: inout [PyStmt]) {
        if !failed {
            if tok.kind == .newline {
                out.append(s)
                advance()
                return
            }
            if tok.kind == .eof {
                out.append(s)
                return
            }
            if tok.isOp(.semi) {
                out.append(s)
                advance()
                if tok.kind == .newline {
                    advance()
                } else if tok.kind != .eof {
                    parseSimpleLine(into: &out)
                }
                return
            }
            fail("unexpected '\(text(tok))'")
        }
        recoverLine(start: start, into: &out)
    }

    mutating func parseCompileTimeIf() -> PyStmt {
        let p = here
        var branches: [PyBranch] = []
        advance()
        let test = parseTest()
        branches.append(PyBranch(test: test, body: headerColonAndSuite()))
        while tok.isKw(.ELIF) {
            failed = false
            advance()
            let t = parseTest()
            branches.append(PyBranch(test: t, body: headerColonAndSuite()))
        }
        var orelse: [PyStmt] = []
        if tok.isKw(.ELSE) {
            failed = false
            advance()
            orelse = headerColonAndSuite()
        }
        return PyStmt(kind: .compileTimeIf(branches: branches, orelse: orelse), pos: p)
    }

    mutating func skipModifiers() {
        while tok.kind == .name {
            switch tok.kw {
            case .publicKw, .api, .readonly, .inline, .staticKw:
                // `cdef public` alone would be a name; a modifier is followed by more declaration
                if peek(1).kind == .name || peek(1).isOp(.lpar) { advance() } else { return }
            default:
                return
            }
        }
    }

    /// `cdef` / `cpdef` and what follows (at the keyword). A `cdef:` block parses each of its lines
    /// as if prefixed with the keyword.
    mutating func parseCdef(decorators: [PyExpr], into out: inout [PyStmt]) {
        let kwTok = tok
        let kind: PyFunction.Kind = kwTok.isKw(.cpdef) ? .cpdef : .cdef
        advance()
        if tok.isOp(.colon) {
            // cdef: block of declarations
            advance()
            if tok.kind == .newline {
                advance()
                guard tok.kind == .indent else {
                    recover()
                    return
                }
                advance()
                blockDepth += 1
                defer { blockDepth -= 1 }
                while tok.kind != .dedent && tok.kind != .eof {
                    let before = i
                    failed = false
                    if tok.kind == .newline {
                        advance()
                    } else if tok.kind == .indent {
                        recover()
                        skipBlock()
                    } else if tok.kind == .string || tok.isKw(.kwPass) || tok.isOp(.at)
                                || tok.isKw(.cdef) || tok.isKw(.cpdef) || tok.isKw(.ctypedef) {
                        parseStatement(into: &out)
                    } else {
                        parseCdefRest(kind: kind, decorators: [], stmtTok: tok, into: &out)
                    }
                    if i == before {
                        recover()
                        advance()
                    }
                }
                if tok.kind == .dedent { advance() }
            } else {
                parseCdefRest(kind: kind, decorators: decorators, stmtTok: tok, into: &out)
            }
            return
        }
        parseCdefRest(kind: kind, decorators: decorators, stmtTok: kwTok, into: &out)
    }

    mutating func parseCdefRest(kind: PyFunction.Kind, decorators: [PyExpr], stmtTok: PyTok, into out: inout [PyStmt]) {
        failed = false
        skipModifiers()
        let t = tok
        let p = pos(stmtTok)
        switch t.kw {
        case .kwClass:
            out.append(parseClassDef(isCdef: true, stmtTok: stmtTok))
            return
        case .extern:
            out.append(contentsOf: parseExtern(stmtTok: stmtTok))
            return
        case .structKw, .unionKw, .packed:
            var sink: PyExternDecl?
            _ = parseStruct(extern: &sink)
            out.append(PyStmt(kind: .other, pos: p))
            return
        case .enumKw, .cppclass, .fused:
            skipLineAndBlock()
            out.append(PyStmt(kind: .other, pos: p))
            return
        default:
            break
        }
        let recStart = recoveries
        guard var d = parseCDecl(kind: kind) else {
            recoverLine(start: stmtTok, into: &out)
            return
        }
        if d.isFunction {
            var body: [PyStmt] = []
            var hasBody = false
            if failed && !lineEndsWithColon() {
                recoverLine(start: stmtTok, into: &out)
                return
            }
            if failed || tok.isOp(.colon) {
                // a body follows (or the header is broken): parse it as a function
                functionDepth += 1
                body = headerColonAndSuite()
                functionDepth -= 1
                hasBody = true
            }
            let recovered = recoveries > recStart
            if hasBody {
                functionCount += 1
                if recovered { recoveredFunctionCount += 1 }
            }
            let f = PyFunction(name: d.name, kind: kind, params: d.params.params,
                               returnType: d.type.isEmpty ? nil : d.type, decorators: decorators, body: body,
                               pos: d.namePos, endLine: lastLine(), nogil: d.nogil, recovered: recovered)
            let s = PyStmt(kind: .function(f), pos: p)
            if hasBody {
                out.append(s)
            } else {
                finishSimple(s, start: stmtTok, into: &out)
            }
            return
        }
        if d.isFunctionPointer { skipTrailers() }
        d.names.insert(d.name, at: 0)
        let s = PyStmt(kind: .declare(names: d.names, type: d.type.isEmpty ? "object" : d.type, values: d.values), pos: p)
        finishSimple(s, start: stmtTok, into: &out)
    }

    /// Whether the current logical line ends with `:` (a block follows).
    func lineEndsWithColon() -> Bool {
        var j = i
        while toks[j].kind != .newline && toks[j].kind != .eof { j += 1 }
        return j > i && toks[j - 1].isOp(.colon)
    }

    /// Skips `noexcept nogil except -1` style trailers to the end of the line (or a `:`).
    mutating func skipTrailers() {
        while !atLineEnd && !tok.isOp(.colon) && !tok.isOp(.semi) {
            if tok.isOp(.lpar) || tok.isOp(.lsqb) { skipBalanced() } else { advance() }
        }
    }

    /// A C declaration: type, declarator, then either a function signature (parameters and
    /// trailers, stopping before `:`) or variables with optional values. nil on failure.
    mutating func parseCDecl(kind: PyFunction.Kind?) -> CDecl? {
        var d = CDecl()
        let typeStart = i
        var nameIdx = -1
        var fnParen = -1
        var steps = 0
        scan: while !atLineEnd && steps < 10_000 {
            steps += 1
            let t = tok
            if t.kind == .name {
                if t.isHardKeyword {
                    // a keyword is a declarator name only in C declarations (`int32_t min, as`)
                    let n = peek(1)
                    guard nameIdx >= 0, n.kind == .newline || n.isOp(.comma) || n.isOp(.semi) || n.isOp(.lsqb)
                    else { break }
                }
                nameIdx = i
                advance()
                while tok.isOp(.dot) && peek(1).kind == .name {
                    advance()
                    advance()
                }
                if tok.kind == .string { advance() } // C name: int x "c_x"
                continue
            }
            switch t.op {
            case .lsqb:
                skipBalanced()
            case .dot where peek(1).kind == .name:
                advance()
                advance()
            case .star, .doubleStar, .amp:
                advance()
            case .lpar:
                let n1 = peek(1)
                let isPointerDeclarator = (n1.isOp(.star) || n1.isOp(.amp) || n1.isOp(.doubleStar))
                    && (peek(2).kind == .name || peek(2).isOp(.star)) && nameIdx >= 0
                let prev = toks[i - 1]
                let prevIsName = nameIdx >= 0 && (i - 1 == nameIdx || (prev.kind == .string && i - 2 == nameIdx))
                if prevIsName && !isPointerDeclarator && toks[nameIdx].kind == .name && i > typeStart {
                    fnParen = i
                    break scan
                }
                if isPointerDeclarator {
                    // function pointer (*name)(params)
                    advance()
                    while tok.isOp(.star) || tok.isOp(.doubleStar) || tok.isOp(.amp) { advance() }
                    if tok.kind == .name {
                        nameIdx = i
                        advance()
                    }
                    if tok.kind == .string { advance() } // C name
                    if tok.isOp(.lsqb) { skipBalanced() }
                    if !expect(.rpar) { return nil }
                    if tok.isOp(.lpar) { skipBalanced() }
                    d.isFunctionPointer = true
                    break scan
                }
                skipBalanced() // ctuple (int, double)
            default:
                break scan
            }
        }
        guard nameIdx >= 0 else {
            fail("expected a declaration")
            return nil
        }
        let nt = toks[nameIdx]
        d.name = text(nt)
        d.namePos = pos(nt)
        let declEnd = fnParen >= 0 ? fnParen : i
        if d.isFunctionPointer {
            d.type = typeText(typeStart, declEnd)
        } else {
            var suffix = ""
            if nameIdx + 1 < declEnd {
                var k = nameIdx + 1
                while k < declEnd && toks[k].kind == .string { k += 1 }
                if k < declEnd { suffix = typeText(k, declEnd) }
            }
            d.type = typeText(typeStart, nameIdx) + suffix
        }
        if fnParen >= 0 {
            d.isFunction = true
            advance() // (
            d.params = parseParams(closer: .rpar)
            if failed { return d }
            // trailers: except [?+*] value, noexcept, nogil, with gil, const
            while !atLineEnd && !tok.isOp(.colon) && !tok.isOp(.semi) {
                if tok.isKw(.nogil) { d.nogil = true }
                if tok.isOp(.lpar) || tok.isOp(.lsqb) { skipBalanced() } else { advance() }
            }
            return d
        }
        if d.isFunctionPointer { return d }
        // variables: = value, more declarators
        if tok.isOp(.assign) {
            advance()
            d.values.append(parseTest())
        } else {
            d.values.append(nil)
        }
        while !failed && tok.isOp(.comma) {
            advance()
            while tok.isOp(.star) || tok.isOp(.doubleStar) || tok.isOp(.amp) { advance() }
            guard tok.kind == .name else {
                fail("expected a name")
                break
            }
            d.names.append(text(tok))
            advance()
            if tok.kind == .string { advance() }
            if tok.isOp(.lsqb) { skipBalanced() }
            if tok.isOp(.assign) {
                advance()
                d.values.append(parseTest())
            } else {
                d.values.append(nil)
            }
        }
        return d
    }

    /// `cdef extern from "h" [nogil]:` block (the `cdef` consumed, at `extern`). Extension types
    /// declared inside (`ctypedef class numpy.dtype [...]:`) follow the block as class statements.
    mutating func parseExtern(stmtTok: PyTok) -> [PyStmt] {
        var extras: [PyStmt] = []
        let s = parseExtern(stmtTok: stmtTok, extras: &extras)
        return [s] + extras
    }

    mutating func parseExtern(stmtTok: PyTok, extras: inout [PyStmt]) -> PyStmt {
        let p = pos(stmtTok)
        advance() // extern
        guard tok.isKw(.kwFrom) else {
            // cdef extern int x / cdef extern: block
            if tok.isOp(.colon) {
                var decl = PyExternDecl(header: "", functions: [], structs: [], typedefs: [:], pos: p)
                advance()
                parseExternBody(&decl, extras: &extras)
                return PyStmt(kind: .externBlock(decl), pos: p)
            }
            skipLineAndBlock()
            return PyStmt(kind: .other, pos: p)
        }
        advance()
        var header = ""
        if tok.kind == .string {
            header = stringContent(tok)
            advance()
        } else if tok.isOp(.star) {
            header = "*"
            advance()
        }
        while !atLineEnd && !tok.isOp(.colon) { advance() } // nogil, namespace "std"
        var decl = PyExternDecl(header: header, functions: [], structs: [], typedefs: [:], pos: p)
        if tok.isOp(.colon) {
            advance()
            parseExternBody(&decl, extras: &extras)
        } else if tok.kind == .newline {
            advance()
        }
        return PyStmt(kind: .externBlock(decl), pos: p)
    }

    mutating func parseExternBody(_ decl: inout PyExternDecl, extras: inout [PyStmt]) {
        if tok.kind != .newline {
            parseExternLine(&decl, extras: &extras)
            return
        }
        advance()
        guard tok.kind == .indent else { return }
        advance()
        blockDepth += 1
        defer { blockDepth -= 1 }
        while tok.kind != .dedent && tok.kind != .eof {
            let before = i
            parseExternLine(&decl, extras: &extras)
            if i == before {
                recover()
                advance()
            }
        }
        if tok.kind == .dedent { advance() }
    }

    /// One declaration line of an extern block (and any block under it).
    mutating func parseExternLine(_ decl: inout PyExternDecl, extras: inout [PyStmt]) {
        failed = false
        let start = tok
        switch start.kind {
        case .newline:
            advance()
            return
        case .indent:
            recover()
            skipBlock()
            return
        case .string:
            // verbatim C code / docstring
            advance()
            while tok.kind == .string { advance() }
            endExternLine(start: start)
            return
        default:
            break
        }
        var t = tok
        if t.isKw(.kwPass) {
            advance()
            endExternLine(start: start)
            return
        }
        if t.isKw(.ctypedef) {
            var opt: PyExternDecl? = decl
            _ = parseCtypedef(extern: &opt, extras: &extras)
            if let o = opt { decl = o }
            return
        }
        if t.isKw(.cdef) || t.isKw(.cpdef) {
            advance()
            if tok.isOp(.colon) {
                // cdef: block inside extern
                advance()
                parseExternBody(&decl, extras: &extras)
                return
            }
            skipModifiers()
            if tok.isKw(.kwClass) {
                extras.append(parseClassDef(isCdef: true, stmtTok: t))
                return
            }
            if tok.isKw(.extern) {
                let inner = parseExtern(stmtTok: t, extras: &extras)
                if case .externBlock(let e) = inner.kind {
                    decl.functions += e.functions
                    decl.structs += e.structs
                    decl.typedefs.merge(e.typedefs) { a, _ in a }
                }
                return
            }
            t = tok
        } else {
            skipModifiers()
            t = tok
        }
        switch t.kw {
        case .structKw, .unionKw, .packed:
            var opt: PyExternDecl? = decl
            _ = parseStruct(extern: &opt)
            if let o = opt { decl = o }
            return
        case .kwClass:
            extras.append(parseClassDef(isCdef: true, stmtTok: start))
            return
        case .enumKw, .cppclass, .fused, .DEF, .IF, .kwIf, .cimport, .kwFrom, .kwImport:
            skipLineAndBlock()
            return
        default:
            break
        }
        guard let d = parseCDecl(kind: nil) else {
            recoverExternLine(start: start)
            return
        }
        if d.isFunction && !failed {
            decl.functions.append(PyExternFunction(name: d.name, returnType: d.type, params: d.params.texts, pos: d.namePos))
        }
        if d.isFunctionPointer { skipTrailers() }
        endExternLine(start: start)
    }

    mutating func endExternLine(start: PyTok) {
        if !failed {
            if tok.isOp(.semi) { advance() }
            if tok.kind == .newline {
                advance()
                if tok.kind == .indent { skipBlock() } // e.g. an unexpected body; ignore
                return
            }
            if tok.kind == .eof { return }
            fail("unexpected '\(text(tok))'")
        }
        recoverExternLine(start: start)
    }

    mutating func recoverExternLine(start: PyTok) {
        recover()
        failed = false
        skipLineAndBlock()
    }

    /// `struct X [cname]:` with field lines; at `struct` / `union` / `packed`. Adds to `extern`.
    mutating func parseStruct(extern: inout PyExternDecl?) -> PyExternStruct? {
        if tok.isKw(.packed) { advance() }
        advance() // struct / union
        guard tok.kind == .name else {
            // anonymous: skip
            skipLineAndBlock()
            return nil
        }
        let nameTok = tok
        advance()
        if tok.kind == .string { advance() }
        var st = PyExternStruct(name: text(nameTok), fields: [], pos: pos(nameTok))
        if !tok.isOp(.colon) {
            // forward declaration
            skipLineAndBlock()
            extern?.structs.append(st)
            return st
        }
        advance()
        if tok.kind != .newline {
            skipLineAndBlock()
            extern?.structs.append(st)
            return st
        }
        advance()
        guard tok.kind == .indent else {
            extern?.structs.append(st)
            return st
        }
        advance()
        blockDepth += 1
        defer { blockDepth -= 1 }
        while tok.kind != .dedent && tok.kind != .eof {
            let before = i
            failed = false
            let start = tok
            if start.kind == .newline {
                advance()
            } else if start.kind == .indent {
                recover()
                skipBlock()
            } else if start.kind == .string || start.isKw(.kwPass) {
                advance()
                while tok.kind == .string { advance() }
                endExternLine(start: start)
            } else if start.isKw(.structKw) || start.isKw(.unionKw) || start.isKw(.enumKw) || start.isKw(.cppclass) {
                skipLineAndBlock()
            } else {
                if start.isKw(.cdef) { advance() }
                skipModifiers()
                if let d = parseCDecl(kind: nil) {
                    if !d.isFunction {
                        st.fields.append(PyField(name: d.name, type: d.type))
                        for n in d.names { st.fields.append(PyField(name: n, type: d.type)) }
                    }
                    if d.isFunctionPointer { skipTrailers() }
                    endExternLine(start: start)
                } else {
                    recoverExternLine(start: start)
                }
            }
            if i == before {
                recover()
                advance()
            }
        }
        if tok.kind == .dedent { advance() }
        extern?.structs.append(st)
        return st
    }

    /// `ctypedef ...` (at `ctypedef`). Inside an extern block it adds typedefs and structs to
    /// `extern`; elsewhere the statement is `.other`.
    mutating func parseCtypedef(extern: inout PyExternDecl?, extras: inout [PyStmt]) -> PyStmt {
        let start = tok
        let p = pos(start)
        advance()
        skipModifiers()
        let t = tok
        switch t.kw {
        case .structKw, .unionKw, .packed:
            if let st = parseStruct(extern: &extern) { extern?.typedefs[st.name] = st.name }
            return PyStmt(kind: .other, pos: p)
        case .kwClass:
            // extension type declaration `ctypedef class mod.Name [object X]:`
            let c = parseClassDef(isCdef: true, stmtTok: t)
            if extern == nil { return c }
            extras.append(c)
            return PyStmt(kind: .other, pos: p)
        case .enumKw, .fused, .cppclass:
            if t.isKw(.enumKw) && peek(1).kind == .name { extern?.typedefs[text(peek(1))] = "enum" }
            skipLineAndBlock()
            return PyStmt(kind: .other, pos: p)
        default:
            break
        }
        failed = false
        if let d = parseCDecl(kind: nil), !failed {
            extern?.typedefs[d.name] = d.type
            skipTrailers()
            if tok.kind == .newline || tok.kind == .eof || tok.isOp(.semi) {
                if tok.isOp(.semi) { advance() }
                if tok.kind == .newline { advance() }
                return PyStmt(kind: .other, pos: p)
            }
        }
        recover()
        failed = false
        skipLineAndBlock()
        return PyStmt(kind: .unparsed(lineText(start)), pos: p)
    }
}
