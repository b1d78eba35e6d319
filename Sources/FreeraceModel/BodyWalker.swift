import Foundation
import FreeraceSyntax

/// Walks one C function body in source order and records ops, calls and regions.
/// Regions (critical sections, locks, GIL release, stop-the-world) are tracked with a stack:
/// an unlock nested deeper than its lock (an early-exit path) does not end the region.
struct BodyWalker {
    let x: Extractor
    var function: FunctionFacts
    var tree: SyntaxTree { x.tree }
    var file: ParsedFile { x.file }
    var paramIndex: [String: Int] = [:]
    var staticLocals: [String: String] = [:]
    /// Open regions: index into `function.regions` and the block depth that opened it.
    var open: [(region: Int, depth: Int)] = []
    /// Regions that end with the block they were opened in (an early-exit re-acquire of the GIL).
    var blockScoped = Set<Int>()
    var depth = 0
    var guards: [[AccessPath]] = []
    var gilFreeDeclarations: [Pos] = []
    /// Function-level statics, recorded as globals named `function.name`.
    var staticGlobals: [GlobalFacts] = []
    var globalTypes: [String: TypeRef] = [:]

    /// C++: the class of a member function and its bases, nearest first (for implicit `this`).
    var classChain: [StructFacts] = []
    /// C++: scoped lock guards declared in a block (`std::lock_guard<std::mutex> g(m);`): region
    /// index → the guard variable's name. They end with the block that declares them.
    var guardRegions: [Int: String] = [:]

    init(x: Extractor, function: FunctionFacts) {
        self.x = x
        self.function = function
        for (i, p) in function.params.enumerated() { paramIndex[p.name] = i }
        globalTypes = x.globalTypes
        if let c = function.memberOf, let s = x.classFacts(c) {
            var chain = [s]
            var k = 0
            while k < chain.count, chain.count < 6 {
                for b in chain[k].bases where !chain.contains(where: { $0.name == b }) {
                    if let bs = x.classFacts(b) { chain.append(bs) }
                }
                k += 1
            }
            classChain = chain
        }
    }

    /// The class (this one or a base) whose non-static data member `name` is.
    func memberClass(of name: String) -> String? {
        classChain.first { $0.fields.contains { $0.name == name } }?.name
    }

    /// Whether `name` is a method of this member function's class (or a base).
    func isSiblingMethod(_ name: String) -> Bool {
        classChain.contains { $0.methods.contains(name) && !$0.staticMembers.contains(name) }
    }

    /// `this`, as the value of the implicit object of a member function.
    var thisValue: Value? {
        guard let k = function.thisIndex else { return nil }
        return .path(AccessPath(root: .param(k), name: "this", rootType: function.params[k].type, text: "this"))
    }

    var activeRegions: [Int] { open.map(\.region) }

    /// Records that the memory a field or global points to is used (see `Op.deref`).
    mutating func noteDeref(_ v: Value, at tok: Int32) {
        guard case .path(let p) = v.stripped else { return }
        // a local pointer is recorded where it is loaded (`p = self->buf` uses the buffer) — and
        // again where it is used with the GIL released: a pointer copied before
        // Py_BEGIN_ALLOW_THREADS and dereferenced inside reads memory another thread may free
        // (so is a pointer parameter: the caller's argument is used here, detached)
        guard !p.fields.isEmpty || p.root == .global
            || ((p.root == .local || isParam(p)) && gilReleasedHere) else { return }
        function.ops.append(.deref(p, pos: pos(tok), regions: activeRegions))
    }

    func isParam(_ p: AccessPath) -> Bool {
        if case .param = p.root { return true }
        return false
    }

    /// The innermost open region that released or re-acquired the GIL, with its kind.
    var innermostGILRegion: (kind: RegionKind, depth: Int, opener: String)? {
        guard let o = open.last(where: { [.gilReleased, .gilHeldAgain].contains(function.regions[$0.region].kind) })
        else { return nil }
        let r = function.regions[o.region]
        return (r.kind, o.depth, r.opener)
    }

    /// Whether the innermost open GIL region released the GIL.
    var gilReleasedHere: Bool { innermostGILRegion?.kind == .gilReleased }

    /// Appends an assignment, remembering the conditions it is guarded by.
    mutating func assign(_ target: AccessPath, _ value: Value, at tok: Int32) {
        function.ops.append(.assign(target: target, value: value, pos: pos(tok), regions: activeRegions))
        if !guards.isEmpty {
            let keys = guards.flatMap { $0 }.map(\.key)
            if !keys.isEmpty { function.guardedAssignments[function.ops.count - 1] = keys }
        }
    }

    func pos(_ tok: Int32) -> Pos { x.pos(tok) }

    // MARK: regions

    mutating func openRegion(_ kind: RegionKind, subject: AccessPath?, subject2: AccessPath? = nil, at tok: Int32,
                             opener: String) {
        let p = pos(tok)
        function.regions.append(RegionFact(kind: kind, subject: subject, subjects2: subject2, begin: p, end: p,
                                           opener: opener))
        open.append((function.regions.count - 1, depth))
    }

    /// Closes the innermost open region satisfying `match`; an early-exit close (deeper than
    /// the opening) leaves it open.
    mutating func closeRegion(at tok: Int32, _ match: (RegionFact) -> Bool) {
        guard let k = open.lastIndex(where: { match(function.regions[$0.region]) }) else { return }
        if depth > open[k].depth, function.regions[open[k].region].kind == .mutex { return }
        function.regions[open[k].region].end = pos(tok)
        open.remove(at: k)
    }

    /// Whether a block's last statement leaves it (`return`, `goto`, `break`, `continue`, a
    /// return-like macro).
    func endsWithJump(_ block: Int32) -> Bool {
        guard let last = tree.children(block).last else { return false }
        switch tree[last].kind {
        case .returnStmt, .gotoStmt, .breakStmt, .continueStmt: return true
        case .macroStmt: return tree.macroStatement(last)?.role == .returnStatement
        default: return false
        }
    }

    /// Whether a branch leaves the function: a `return` (or a return-like macro), alone or last
    /// in its block; with `throughGoto`, also a `goto` (to the cleanup at the function's end).
    func leaves(_ branch: Int32, throughGoto: Bool = false) -> Bool {
        var last = branch
        if tree[branch].kind == .compound {
            guard let l = tree.children(branch).last else { return false }
            last = l
        }
        switch tree[last].kind {
        case .returnStmt: return true
        case .gotoStmt: return throughGoto
        case .macroStmt: return tree.macroStatement(last)?.role == .returnStatement
        default: return false
        }
    }

    /// The state guard an `if` that leaves tests: one field of an object compared with a constant
    /// (`self->state == CLOSED`, `self->running != 0`) or tested for truth (`self->closed`).
    func exitGuard(_ cond: Int32, reads: [AccessPath]) -> ExitGuard? {
        let fieldReads = reads.filter { !$0.fields.isEmpty }
        guard fieldReads.count == 1, let place = fieldReads.first, place.root != .global else { return nil }
        func squeezed(_ t: String) -> String { t.filter { !$0.isWhitespace } }
        var text = squeezed(file.text(node: cond))
        while text.hasPrefix("("), text.hasSuffix(")") { text = String(text.dropFirst().dropLast()) }
        let lhs = squeezed(place.text)
        guard !lhs.isEmpty, text.hasPrefix(lhs) else { return nil }
        let rest = text.dropFirst(lhs.count)
        if rest.isEmpty { return ExitGuard(place: place, value: nil, pos: pos(tree[cond].firstTok)) }
        if rest.hasPrefix("!=") {
            let r = rest.dropFirst(2)
            return r == "0" || r == "NULL" || r == "false" ? ExitGuard(place: place, value: nil, pos: pos(tree[cond].firstTok)) : nil
        }
        guard rest.hasPrefix("==") else { return nil }
        let r = String(rest.dropFirst(2))
        guard let c = r.first, c.isNumber || c.isLetter || c == "_" || c == "-",
              r.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" }) else { return nil }
        return ExitGuard(place: place, value: r, pos: pos(tree[cond].firstTok))
    }

    mutating func closeAll() {
        for o in open { function.regions[o.region].end = function.endPos }
        open.removeAll()
    }

    // MARK: statements

    mutating func statement(_ n: Int32) {
        guard nesting < Self.maxNesting else { return }
        nesting += 1
        defer { nesting -= 1 }
        let node = tree[n]
        switch node.kind {
        case .compound:
            depth += 1
            let firstCall = function.calls.count
            for c in tree.children(n) { statement(c) }
            // the calls of a block that leaves the function reach nothing after it (the innermost
            // such block, already marked, is the nearest end)
            // (not the function's own body: leaving at its end is where every path ends)
            if depth > 1, leaves(n, throughGoto: true) {
                let end = Int32(function.ops.count)
                for k in firstCall..<function.calls.count where function.calls[k].exitBlockEnd == nil {
                    function.calls[k].exitBlockEnd = end
                }
            }
            // scoped lock guards end with their block
            if !guardRegions.isEmpty {
                while let k = open.lastIndex(where: { $0.depth == depth && guardRegions[$0.region] != nil }) {
                    function.regions[open[k].region].end = pos(node.lastTok)
                    guardRegions[open[k].region] = nil
                    open.remove(at: k)
                }
            }
            // a re-acquire on an early-exit path holds the GIL to the end of its block only; a block
            // that re-acquires and falls through ends the release for good
            if let k = open.lastIndex(where: { $0.depth == depth && blockScoped.contains($0.region) }) {
                function.regions[open[k].region].end = pos(node.lastTok)
                open.remove(at: k)
                if !endsWithJump(n) {
                    closeRegion(at: node.lastTok) { $0.kind == .gilReleased }
                }
            }
            depth -= 1
        case .declStmt:
            for c in tree.children(n) where tree[c].kind == .declaration { localDeclaration(c) }
        case .declaration:
            localDeclaration(n)
        case .exprStmt:
            if let e = tree.operand(n) { _ = eval(e, use: .discarded) }
        case .returnStmt:
            let v = tree.operand(n).map { eval($0, use: .used) } ?? .unknown
            function.ops.append(.ret(v, pos: pos(node.firstTok)))
        case .ifStmt:
            let kids = Array(tree.children(n))
            guard let cond = kids.first else { return }
            let before = open.count
            withGuard(cond) { w in
                if kids.count > 1, w.leaves(kids[1]), let g = w.exitGuard(cond, reads: w.guards.last ?? []) {
                    w.function.exitGuards.append(g)
                }
                if kids.count > 1 { w.statement(kids[1]) }
            }
            if kids.count > 2 {
                // the else branch does not run after the then branch: a region the then branch
                // opened (`if (cheap) { NPY_BEGIN_THREADS; }`) is not open there; after the whole
                // statement it may be, and stays open
                let openedInThen = open.count > before ? Array(open[before...]) : []
                if !openedInThen.isEmpty { open.removeLast(openedInThen.count) }
                statement(kids[2])
                open.append(contentsOf: openedInThen)
            }
        case .whileStmt, .switchStmt:
            let kids = Array(tree.children(n))
            guard let cond = kids.first else { return }
            withGuard(cond) { w in
                for k in kids.dropFirst() { w.statement(k) }
            }
        case .doStmt:
            let kids = Array(tree.children(n))
            if let body = kids.first, kids.count > 1, tree[body].kind == .compound, file.text(node: kids[1]) == "0" {
                // `do { … } while (0)` is a macro's statement wrapper, not a block: a lock it takes
                // is taken at the depth of the statement (so an early-exit unlock deeper than that
                // still leaves it held on the main path)
                for c in tree.children(body) { statement(c) }
            } else if let body = kids.first {
                statement(body)
            }
            if kids.count > 1 { _ = eval(kids[1], use: .used) }
        case .forStmt:
            let kids = Array(tree.children(n))
            guard !kids.isEmpty else { return }
            let body = kids[kids.count - 1]
            // C++ range-for (`for (auto x : items)`): the loop walks the container's elements
            let rangeFor = isCpp && kids.count == 3 && tree[kids[0]].kind == .declaration
                && tree.child(kids[0], kind: .initDeclarator) == nil && tree.child(kids[0], kind: .declarator) != nil
            for k in kids.dropLast() {
                if tree[k].kind == .declaration {
                    localDeclaration(k)
                    if rangeFor, let d = tree.child(k, kind: .declarator), tree[d].mainTok >= 0,
                       let spec = tree.declarationSpecifiers(k) {
                        function.locals[x.text(tree[d].mainTok)] = x.typeRef(spec: spec.id, declarator: d)
                    }
                } else {
                    let v = eval(k, use: .used)
                    if rangeFor { noteDeref(v, at: tree[k].firstTok) }
                }
            }
            statement(body)
        case .caseStmt:
            break
        case .macroStmt:
            macroStatement(n)
        case .tryStmt:
            for c in tree.children(n) { statement(c) }
        case .labelStmt, .gotoStmt, .breakStmt, .continueStmt, .emptyStmt, .defaultStmt, .asmStmt, .staticAssert,
             .unparsed:
            break
        default:
            // expressions standing where a statement was expected (recovered code)
            if node.kind.rawValue >= NodeKind.ident.rawValue { _ = eval(n, use: .discarded) }
        }
    }

    /// Evaluates a condition and keeps the fields it reads as a guard while `body` runs.
    mutating func withGuard(_ cond: Int32, _ body: (inout BodyWalker) -> Void) {
        let before = function.ops.count
        let c = tree[cond].kind == .declaration ? { localDeclaration(cond); return Value.unknown }() : eval(cond, use: .used)
        _ = c
        var read: [AccessPath] = []
        for op in function.ops[before...] {
            if case .read(let p, _, _) = op, !p.fields.isEmpty || p.root == .global { read.append(p) }
        }
        guards.append(read)
        body(&self)
        guards.removeLast()
    }

    mutating func localDeclaration(_ decl: Int32) {
        guard let specs = tree.declarationSpecifiers(decl) else { return }
        let spec = specs.id
        let isStatic = specs.isStatic
        let isTypedef = specs.isTypedef
        // a struct defined in the body: its members' types, for the locals of that type
        if let st = specs.structSpec, st.hasBody {
            let s = x.structFacts(st.id)
            if !s.name.isEmpty { function.localStructs[s.name] = s.fields }
        }
        for idn in tree.children(decl) where tree[idn].kind == .initDeclarator {
            let (declarator, initializer) = tree.initDeclaratorParts(idn)
            guard let dv = declarator, dv.nameToken >= 0 else { continue }
            let d = dv.id
            let name = x.text(dv.nameToken)
            let type = x.typeRef(spec: spec, declarator: d)
            if isTypedef { continue }
            if tree.declaresFunction(d) { continue }  // local prototype
            if isStatic {
                // a function-level static is shared state, like a global (its initializer is a
                // load-time constant, not a runtime write)
                let qualified = "\(function.name).\(name)"
                staticLocals[name] = qualified
                globalTypes[qualified] = type
                staticGlobals.append(GlobalFacts(name: qualified, type: type, isStatic: true, isExtern: false,
                                                 isThreadLocal: specs.isThreadLocal,
                                                 initializer: nil, file: function.file, pos: pos(tree[d].mainTok)))
                continue
            } else {
                function.locals[name] = type
            }
            if isCpp, initializer == nil { scopedLockGuard(type: type, declarator: d, name: name) }
            guard let initNode = initializer else { continue }
            let target = resolve(name, tok: tree[d].mainTok)
            if tree[initNode].kind == .initList {
                for c in tree.children(initNode) { _ = eval(c, use: .used) }
                continue
            }
            let v = eval(initNode, use: .assigned)
            if type.pointers > 0 { noteDeref(v, at: tree[d].mainTok) }   // a local pointer aliasing the buffer
            // C++: a container or object copied by value (`list_t copy = this->items;`) reads what it owns
            if isCpp, type.pointers == 0, !type.isArray, !Self.builtinTypes.contains(type.name),
               tree[d].flags & DeclaratorFlags.reference == 0,
               case .path(let src) = v, !src.fields.isEmpty || src.root == .global {
                noteDeref(v, at: tree[d].mainTok)
            }
            assign(target, v, at: tree[d].mainTok)
            noteFunctionRef(v, .store(target), at: tree[d].mainTok)
        }
    }

    static let builtinTypes: Set<String> = [
        "int", "char", "short", "long", "unsigned", "signed", "float", "double", "bool", "_Bool", "size_t", "ssize_t",
        "Py_ssize_t", "Py_hash_t", "uint8_t", "uint16_t", "uint32_t", "uint64_t", "int8_t", "int16_t", "int32_t",
        "int64_t", "uintptr_t", "intptr_t", "ptrdiff_t", "void",
    ]

    /// `std::lock_guard<std::mutex> g(m);`, `std::unique_lock<…> l(*p);`, `LockGuard g(this->lock);`
    /// (a project class whose constructor takes a lock): a mutex region on the first argument,
    /// held to the end of the enclosing block.
    mutating func scopedLockGuard(type: TypeRef, declarator d: Int32, name: String) {
        guard type.pointers == 0, CPPLibrary.lockGuards.contains(type.name) || x.classFacts(type.name)?.isLockGuard == true
        else { return }
        // the direct-initialization arguments the parser skipped: `(` … `)` after the name
        let node = tree[d]
        guard node.mainTok >= 0 else { return }
        var i = Int(node.mainTok) + 1
        let toks = file.tokens
        guard i < toks.count, toks[i].kind == .lParen || toks[i].kind == .lBrace else { return }
        let close: TokenKind = toks[i].kind == .lParen ? .rParen : .rBrace
        i += 1
        var level = 0
        var argText = ""
        var j = i
        while j < toks.count, j - i < 64 {
            let k = toks[j].kind
            if k == .lParen || k == .lBrace || k == .lBracket { level += 1 }
            if k == .rParen || k == .rBrace || k == .rBracket {
                if level == 0, k == close { break }
                level -= 1
            }
            if level == 0, k == .comma { break }
            argText += x.text(Int32(j))
            j += 1
        }
        var t = Substring(argText)
        while let c = t.first, c == "*" || c == "&" { t = t.dropFirst() }
        let v = valueOfText(String(t))
        let subject = place(v)
        openRegion(.mutex, subject: subject, at: node.mainTok, opener: type.name)
        guardRegions[function.regions.count - 1] = name
    }

    mutating func macroStatement(_ n: Int32) {
        guard let macro = tree.macroStatement(n) else { return }
        let node = macro.node
        let name = x.text(macro.nameToken)
        if macro.isUnknown {  // unknown macro used as a statement
            for c in tree.children(n) {
                if tree[c].kind == .compound { statement(c) } else { _ = eval(c, use: .discarded) }
            }
            return
        }
        let role = macro.role
        let region = macro.region
        let args = macro.arguments
        switch role {
        case .blockBegin:
            guard let region else { return }
            switch region {
            case .criticalSection, .criticalSection2, .criticalSectionMutex:
                // evaluate before calling `place`: a method call captures `self` before its arguments run
                let v1 = args.first.map { eval(stripAddress: $0) }
                let v2 = args.count > 1 ? eval(stripAddress: args[1]) : nil
                let s1 = v1.flatMap { place($0) }
                let s2 = v2.flatMap { place($0) }
                openRegion(region, subject: s1, subject2: s2, at: node.mainTok, opener: name)
            case .gilReleased:
                openRegion(.gilReleased, subject: nil, at: node.mainTok, opener: name)
            case .gilHeldAgain:
                // Py_BLOCK_THREADS: re-acquire inside a released region, or end a Py_UNBLOCK_THREADS region
                let top = innermostGILRegion
                if let top, top.kind == .gilReleased, depth > top.depth {
                    // deeper than the release (of either spelling): an early-exit path (`Py_BLOCK_THREADS;
                    // return -1;`) takes the GIL back for its own block; the code after the block
                    // still runs without it
                    openRegion(.gilHeldAgain, subject: nil, at: node.mainTok, opener: name)
                    blockScoped.insert(function.regions.count - 1)
                } else if let top, top.kind == .gilReleased, top.opener.hasSuffix("UNBLOCK_THREADS") {
                    closeRegion(at: node.mainTok) { $0.kind == .gilReleased }
                } else {
                    openRegion(.gilHeldAgain, subject: nil, at: node.mainTok, opener: name)
                }
            default:
                openRegion(region, subject: nil, at: node.mainTok, opener: name)
            }
        case .blockEnd:
            guard let region else { return }
            switch region {
            case .criticalSection, .criticalSection2, .criticalSectionMutex:
                closeRegion(at: node.mainTok) {
                    [.criticalSection, .criticalSection2, .criticalSectionMutex].contains($0.kind)
                }
            case .gilHeldAgain:
                // Py_UNBLOCK_THREADS: end a re-acquired region, or release on its own
                if innermostGILRegion?.kind == .gilHeldAgain {
                    closeRegion(at: node.mainTok) { $0.kind == .gilHeldAgain }
                } else {
                    openRegion(.gilReleased, subject: nil, at: node.mainTok, opener: name)
                }
            default:
                closeRegion(at: node.mainTok) { $0.kind == region }
            }
        case .returnStatement:
            for a in args { _ = eval(a, use: .used) }
            function.ops.append(.ret(.unknown, pos: pos(node.firstTok)))
        default:
            for a in args { _ = eval(a, use: .used) }
        }
    }

    // MARK: names

    func resolve(_ name: String, tok: Int32) -> AccessPath {
        if let k = paramIndex[name] {
            return AccessPath(root: .param(k), name: name, rootType: function.params[k].type, text: name)
        }
        if let t = function.locals[name] {
            return AccessPath(root: .local, name: name, rootType: t, text: name)
        }
        if let g = staticLocals[name] {
            return AccessPath(root: .global, name: g, rootType: globalTypes[g], text: name)
        }
        // C++: a data member of the class, through the implicit `this` (typed as the class that
        // declares it, so a base's field is the same place in the base's and the derived's methods)
        if let k = function.thisIndex, let owner = memberClass(of: name) {
            return AccessPath(root: .param(k), name: "this", rootType: TypeRef(name: owner, pointers: 1),
                              fields: [name], text: name)
        }
        if let body = x.placeMacro(name) {
            return Self.placeFromText(body, display: name, globalTypes: globalTypes)
        }
        return AccessPath(root: .global, name: name, rootType: globalTypes[name], text: name)
    }

    /// `_PyRuntime.ceval.perf.code_arena` → global `_PyRuntime` with fields.
    static func placeFromText(_ body: String, display: String, globalTypes: [String: TypeRef]) -> AccessPath {
        let parts = body.replacingOccurrences(of: "->", with: ".").split(separator: ".").map(String.init)
        let root = parts.first ?? body
        return AccessPath(root: .global, name: root, rootType: globalTypes[root], fields: Array(parts.dropFirst()),
                          text: display)
    }

    /// The expression under any parentheses and casts: `(const char *)self->buf` → `self->buf`,
    /// where a use of an argument is located.
    func strippingCasts(_ n: Int32) -> Int32 {
        var n = n
        while true {
            switch tree[n].kind {
            case .paren, .cast: guard let c = tree.operand(n) else { return n }; n = c
            default: return n
            }
        }
    }

    /// `p + k` or `p - k` (under parentheses and casts): a pointer into the middle of `p`'s memory.
    func isPointerArithmetic(_ n: Int32) -> Bool {
        let inner = strippingCasts(n)
        guard tree[inner].kind == .binary else { return false }
        let op = file.tokens[Int(tree[inner].mainTok)].kind
        return op == .plus || op == .minus
    }

    /// The place a value is the content of (through casts and offsets).
    func place(_ v: Value) -> AccessPath? {
        switch v {
        case .path(let p): return p
        case .addressOf(let p): return p
        case .cast(let t, let inner):
            guard var p = place(inner) else { return nil }
            if p.fields.isEmpty, t.pointers > 0, t.name != "void", t.name != "char" { p.rootType = t }
            return p
        case .offset(let inner): return place(inner)
        case .call(let i):
            let callee = function.calls[i].callee ?? "(call)"
            return AccessPath(root: .unknown, name: "\(callee)()", rootType: nil, text: "\(callee)(...)")
        default: return nil
        }
    }

    mutating func eval(stripAddress n: Int32) -> Value {
        let v = eval(n, use: .used)
        if case .addressOf(let p) = v { return .path(p) }
        return v
    }

    // MARK: expressions

    /// The place an lvalue expression denotes; evaluates (and records reads of) the pointers on the way.
    mutating func lvalue(_ n: Int32) -> AccessPath? {
        let node = tree[n]
        switch node.kind {
        case .ident:
            let name = x.text(node.mainTok)
            return resolve(name, tok: node.mainTok)
        case .member:
            let (baseNode, isArrow) = tree.memberParts(n)
            guard let b = baseNode else { return nil }
            let base = eval(b, use: .used)
            if isArrow { noteDeref(base, at: node.mainTok) }  // `base->field` uses what base points to
            let field = x.text(node.mainTok)
            let text = file.text(node: n)
            if let p = place(base) { return p.appending(field, text: text) }
            return AccessPath(root: .unknown, name: "(expr)", rootType: castType(base), fields: [field], text: text)
        case .index:
            let kids = Array(tree.children(n))
            guard let b = kids.first else { return nil }
            let base = eval(b, use: .used)
            noteDeref(base, at: node.firstTok)
            if kids.count > 1 { _ = eval(kids[1], use: .used) }
            return place(base)
        case .prefix where file.tokens[Int(node.mainTok)].kind == .star:
            guard let b = tree.operand(n) else { return nil }
            let v = eval(b, use: .used)
            noteDeref(v, at: node.mainTok)
            return place(v)
        case .paren, .cast:
            return tree.operand(n).flatMap { lvalue($0) }
        default:
            _ = eval(n, use: .used)
            return nil
        }
    }

    /// Whether an lvalue is `*p` or `p[i]` (under parentheses and casts).
    func storesThroughPointer(_ n: Int32) -> Bool {
        var cur = n
        while tree[cur].kind == .paren || tree[cur].kind == .cast, let inner = tree.operand(cur) { cur = inner }
        let node = tree[cur]
        return node.kind == .index || (node.kind == .prefix && file.tokens[Int(node.mainTok)].kind == .star)
    }

    func castType(_ v: Value) -> TypeRef? {
        if case .cast(let t, _) = v { return t }
        return nil
    }

    /// Recursion depth of `eval`/`statement`: a left-deep chain like `a + b + ... ` (generated
    /// code has tens of thousands of terms) must not overflow the stack.
    var nesting = 0
    static let maxNesting = 1500

    mutating func eval(_ n: Int32, use: CallFact.ResultUse) -> Value {
        guard nesting < Self.maxNesting else { return .unknown }
        nesting += 1
        defer { nesting -= 1 }
        let node = tree[n]
        switch node.kind {
        case .ident:
            let name = x.text(node.mainTok)
            if name == "NULL" || name == "nullptr" || name == "_Py_NULL" { return .null }
            if name == "true" || name == "false" { return .literal(name) }
            let p = resolve(name, tok: node.mainTok)
            if p.root == .global { function.ops.append(.read(p, pos: pos(node.mainTok), regions: activeRegions)) }
            return .path(p)
        case .member:
            guard let p = lvalue(n) else { return .unknown }
            function.ops.append(.read(p, pos: pos(node.mainTok), regions: activeRegions))
            return .path(p)
        case .index:
            let kids = Array(tree.children(n))
            guard let b = kids.first else { return .unknown }
            let base = eval(b, use: .used)
            noteDeref(base, at: node.firstTok)
            if kids.count > 1 { _ = eval(kids[1], use: .used) }
            return .offset(base)
        case .call:
            return .call(callFact(n, use: use))
        case .assign:
            let kids = Array(tree.children(n))
            guard kids.count == 2 else { return .unknown }
            let target = lvalue(kids[0])
            let compound = file.tokens[Int(node.mainTok)].kind != .assign
            if compound, let t = target { function.ops.append(.read(t, pos: pos(node.mainTok), regions: activeRegions)) }
            let v = tree[kids[1]].kind == .initList ? Value.unknown : eval(kids[1], use: .assigned)
            if let t = target, t.root == .local, t.fields.isEmpty, t.rootType.map({ $0.pointers > 0 }) ?? true {
                noteDeref(v, at: node.mainTok)   // `p = self->buf`: the buffer is used through `p`
            } else if let t = target, !compound, !t.fields.isEmpty || t.root == .global, case .path(let src) = v,
                      !src.fields.isEmpty || src.root == .global {
                // `state->buf = self->cache`: a field's buffer is handed to another place, which uses
                // it later (a local's pointer is used where it is dereferenced)
                noteDeref(v, at: node.mainTok)
            }
            if let t = target {
                let value: Value = compound ? .offset(.path(t)) : v
                // located at the assigned name (`json_module = …`), where a reader looks for it
                assign(t, value, at: tree[kids[0]].firstTok)
                // `*p = v`, `p[i] = v` keep `p`'s path but store into what it points to
                if t.fields.isEmpty, storesThroughPointer(kids[0]) {
                    function.storesThrough.insert(function.ops.count - 1)
                }
                noteFunctionRef(v, .store(t), at: node.mainTok)
                return .path(t)
            }
            return v
        case .prefix:
            guard let operand = tree.operand(n) else { return .unknown }
            let op = file.tokens[Int(node.mainTok)].kind
            switch op {
            case .amp:
                if let p = lvalue(operand) { return .addressOf(p) }
                return .unknown
            case .star:
                let v = eval(operand, use: .used)
                noteDeref(v, at: node.mainTok)
                // `*field` of a `T **` parameter loads the place the caller passed by address
                // (`acquire(self, &self->f)`): what it holds is used here, under this function's locks
                if case .path(var p) = v.stripped, p.fields.isEmpty, isParam(p), !gilReleasedHere,
                   (p.rootType?.pointers ?? 0) >= 2 {
                    p.text = "*" + p.text
                    function.ops.append(.deref(p, pos: pos(node.mainTok), regions: activeRegions))
                }
                return .offset(v)
            case .kwDelete:
                // `delete p`, `delete[] p`: the memory `p` points to ends here
                let v = eval(operand, use: .used)
                let array = tree[n].lastTok > node.mainTok + 1 && file.tokens[Int(node.mainTok) + 1].kind == .lBracket
                _ = syntheticCall(array ? "operator delete[]" : "operator delete", arg: v, text: file.text(node: operand),
                                  at: node.mainTok, use: use)
                return .unknown
            case .plusPlus, .minusMinus:
                if let p = lvalue(operand) {
                    function.ops.append(.read(p, pos: pos(node.mainTok), regions: activeRegions))
                    assign(p, .offset(.path(p)), at: node.mainTok)
                    return .path(p)
                }
                return .unknown
            default:
                _ = eval(operand, use: .used)
                return .unknown
            }
        case .postfix:
            guard let operand = tree.operand(n) else { return .unknown }
            if let p = lvalue(operand) {
                function.ops.append(.read(p, pos: pos(node.mainTok), regions: activeRegions))
                assign(p, .offset(.path(p)), at: node.mainTok)
                return .path(p)
            }
            return .unknown
        case .cast:
            guard let typeName = tree.castType(n), let operand = tree.operand(n) else { return .unknown }
            return .cast(typeOf(typeName: typeName), eval(operand, use: use))
        case .paren:
            return tree.operand(n).map { eval($0, use: use) } ?? .unknown
        case .binary:
            let kids = Array(tree.children(n))
            guard kids.count == 2 else { return .unknown }
            let l = eval(kids[0], use: .used)
            let r = eval(kids[1], use: .used)
            let op = file.tokens[Int(node.mainTok)].kind
            if op == .plus || op == .minus {
                // one level of `.offset` is enough: keep values shallow for long sums
                let base: Value
                if case .literal = l { base = r } else { base = l }
                if case .offset = base { return base }
                return .offset(base)
            }
            if op == .pipe, case .literal(let a) = l, case .literal(let b) = r { return .literal(a + "|" + b) }
            if op == .pipe { return .literal(file.text(node: n)) }
            return .unknown
        case .conditional:
            let kids = Array(tree.children(n))
            var vals: [Value] = []
            for (i, k) in kids.enumerated() {
                let v = eval(k, use: .used)
                if i > 0 || kids.count == 2 { vals.append(v) }
            }
            return .choice(vals)
        case .comma:
            var last = Value.unknown
            for k in tree.children(n) { last = eval(k, use: .used) }
            return last
        case .sizeofExpr:
            return .literal(file.text(node: n))
        case .number, .char:
            return .literal(file.text(node: n))
        case .string:
            return .string
        case .stmtExpr:
            for c in tree.children(n) { statement(c) }
            return .unknown
        case .compoundLiteral, .initList, .argList, .unparsed, .generic, .newExpr:
            for c in tree.children(n) where tree[c].kind.rawValue >= NodeKind.ident.rawValue || tree[c].kind == .initList {
                _ = eval(c, use: .used)
            }
            return .unknown
        case .cppCast:
            var v = Value.unknown
            for c in tree.children(n) { v = eval(c, use: .used) }
            return v
        case .lambda:
            return .unknown
        case .typeName:
            return .literal(file.text(node: n))
        default:
            return .unknown
        }
    }

    func typeOf(typeName n: Int32) -> TypeRef {
        guard let spec = tree.declarationSpecifiers(n) else { return TypeRef(name: "?") }
        return x.typeRef(spec: spec.id, declarator: tree.declarationDeclarator(n))
    }

    /// Records a call and applies what the C-API table says it does to regions.
    mutating func callFact(_ n: Int32, use: CallFact.ResultUse) -> Int {
        let kids = Array(tree.children(n))
        let calleeNode = kids[0]
        var calleeName: String?
        var target: Value?
        let cn = tree[calleeNode]
        var method: String?
        var receiver: Value?
        if cn.kind == .ident {
            let name = x.text(cn.mainTok)
            if paramIndex[name] != nil || function.locals[name] != nil || staticLocals[name] != nil {
                target = eval(calleeNode, use: .used)
            } else {
                calleeName = name
                // C++: a sibling method called on the same object (`clear()` in a member of the class)
                if isCpp, tree[calleeNode].firstTok == cn.mainTok, isSiblingMethod(name) { receiver = thisValue }
            }
        } else if isCpp, cn.kind == .member, case let (baseNode?, isArrow) = tree.memberParts(calleeNode) {
            // C++: `obj->m(…)` / `obj.m(…)` calls method `m` on `obj`
            let m = x.text(cn.mainTok)
            method = m
            let b = eval(baseNode, use: .used)
            if isArrow { noteDeref(b, at: cn.mainTok) }  // calling through a pointer uses the object
            let bp = place(b)
            receiver = isArrow ? b : (bp.map { Value.addressOf($0) } ?? b)
            // a function pointer member called like a method, when no method of that name exists
            if let bp { target = .path(bp.appending(m, text: file.text(node: calleeNode))) }
        } else {
            target = eval(calleeNode, use: .used)
        }
        var args: [Value] = []
        var texts: [String] = []
        var interior: UInt64 = 0
        let valueOnly = calleeName.map { Self.pointerValueCalls.contains($0) } ?? false
        let macroDerefs = calleeName.flatMap { CAPI.lookup($0) == nil ? x.macroParamDerefs[$0] : nil }
        let externalCallee = calleeName.map { CAPI.lookup($0) == nil && x.callMacro($0) == nil } ?? false
        var addressUses: [CallFact.AddressArgumentUse] = []
        for (ai, a) in kids.dropFirst().enumerated() {
            let v = eval(a, use: .used)
            // a callee may use what the pointer points to; a macro of this file says whether it does
            let derefs = macroDerefs.map { ai < $0.count ? $0[ai] : true } ?? !valueOnly
            if derefs { noteDeref(v, at: tree[strippingCasts(a)].firstTok) }
            // `lib_query(&self->conn, …)`: a library function given the address of a handle embedded
            // in an object reads the handle (and what it owns) there
            if derefs, externalCallee, case .addressOf(let ap) = v.stripped, !ap.fields.isEmpty || ap.root == .global {
                let at = pos(tree[strippingCasts(a)].firstTok)
                addressUses.append(.init(arg: Int32(truncatingIfNeeded: ai), op: Int32(truncatingIfNeeded: function.ops.count)))
                function.ops.append(.read(ap, pos: at, regions: activeRegions))
                function.ops.append(.deref(ap, pos: at, regions: activeRegions))
            } else if derefs, externalCallee, gilReleasedHere, case .addressOf(let ap) = v.stripped, ap.root == .local,
                      let t = function.locals[ap.name], t.pointers == 0, !t.isArray, !Self.builtinTypes.contains(t.name) {
                // `lib_store(fd, &blob)` with the GIL released: the library reads what the local
                // struct's members point to, detached
                function.ops.append(.deref(ap, pos: pos(tree[strippingCasts(a)].firstTok), regions: activeRegions))
            }
            args.append(v)
            texts.append(file.text(node: a))
            if ai < 64, isPointerArithmetic(a) { interior |= 1 << UInt64(ai) }
        }
        let p = pos(cn.kind == .ident ? cn.mainTok : node(n).firstTok)
        var call = CallFact(callee: calleeName, target: target, args: args, argTexts: texts, pos: p,
                            regions: activeRegions, guards: guards.flatMap { $0 }, resultUse: use,
                            interiorArgs: interior)
        call.method = method
        call.receiver = receiver
        call.addressArgumentUses = addressUses
        function.calls.append(call)
        let index = function.calls.count - 1
        function.ops.append(.call(index))
        // `guard.unlock()` on a scoped lock guard of this function ends its region early
        if let m = method, m == "unlock", case .addressOf(let g)? = receiver, g.root == .local,
           let r = guardRegions.first(where: { $0.value == g.name })?.key {
            let begin = function.regions[r].begin
            closeRegion(at: cn.mainTok) { $0.begin == begin && $0.kind == .mutex }
        }
        if let name = calleeName {
            for (i, a) in args.enumerated() { noteFunctionRef(a, .argument(callee: name, index: i), at: cn.mainTok) }
            if CAPI.lookup(name) == nil, let m = x.callMacro(name) {
                // `LOCK()` defined as `PyMutex_Lock(&mutex)`: apply the effects of the call it stands for
                var mArgs: [Value] = []
                var mTexts: [String] = []
                for a in m.arguments {
                    let bare = a.trimmingCharacters(in: CharacterSet(charactersIn: "() "))
                    if let k = m.parameters.firstIndex(of: bare), k < args.count {
                        mArgs.append(args[k])
                        mTexts.append(texts[k])
                    } else {
                        // substitute the parameters in the argument text: `&(o)->lock` with o = self
                        let text = Self.substitute(a, m.parameters, texts)
                        mArgs.append(valueOfText(text))
                        mTexts.append(text)
                    }
                }
                applyEffects(m.callee, args: mArgs, texts: mTexts, tok: cn.mainTok, index: index)
            } else {
                applyEffects(name, args: args, texts: texts, tok: cn.mainTok, index: index)
            }
        }
        return index
    }

    func node(_ n: Int32) -> Node { tree[n] }

    var isCpp: Bool { x.facts.language == .cpp }

    /// A call the walker records for a C++ expression that is not written as one (`delete p`
    /// is `operator delete(p)`).
    mutating func syntheticCall(_ name: String, arg: Value, text: String, at tok: Int32, use: CallFact.ResultUse) -> Int {
        let call = CallFact(callee: name, target: nil, args: [arg], argTexts: [text], pos: pos(tok),
                            regions: activeRegions, guards: guards.flatMap { $0 }, resultUse: use)
        function.calls.append(call)
        function.ops.append(.call(function.calls.count - 1))
        return function.calls.count - 1
    }

    /// Calls that look at a pointer's value, not at the memory it points to.
    static let pointerValueCalls: Set<String> = ["assert", "PyLong_FromVoidPtr", "PyCapsule_New", "Py_UNUSED",
                                                 "PyLong_FromSize_t", "PyLong_FromSsize_t"]

    /// The identifiers of a piece of code, in order.
    static func words(_ text: String) -> [String] {
        var out: [String] = []
        var word = ""
        for ch in text {
            if ch.isLetter || ch.isNumber || ch == "_" { word.append(ch) } else if !word.isEmpty {
                out.append(word)
                word = ""
            }
        }
        if !word.isEmpty { out.append(word) }
        return out
    }

    /// Replaces whole-word parameter names in a macro argument with the actual argument texts.
    static func substitute(_ text: String, _ params: [String], _ actual: [String]) -> String {
        guard !params.isEmpty else { return text }
        var out = ""
        var word = ""
        func flush() {
            if let k = params.firstIndex(of: word), k < actual.count { out += actual[k] } else { out += word }
            word = ""
        }
        for ch in text {
            if ch.isLetter || ch.isNumber || ch == "_" { word.append(ch) } else {
                flush()
                out.append(ch)
            }
        }
        flush()
        return out
    }

    /// The value of a simple expression written in a macro body: `&name`, `name`, `a->b`, `(o)->lock`.
    func valueOfText(_ text: String) -> Value {
        var t = text.replacingOccurrences(of: "(", with: "").replacingOccurrences(of: ")", with: "")
            .trimmingCharacters(in: .whitespaces)
        var address = false
        if t.hasPrefix("&") {
            address = true
            t = String(t.dropFirst()).trimmingCharacters(in: CharacterSet(charactersIn: "() "))
        }
        guard let first = t.first, first.isLetter || first == "_",
              t.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "." || $0 == "-" || $0 == ">" }) else {
            return .unknown
        }
        let parts = t.replacingOccurrences(of: "->", with: ".").split(separator: ".").map(String.init)
        guard let rootName = parts.first else { return .unknown }
        var p = resolve(rootName, tok: -1)
        for f in parts.dropFirst() { p = p.appending(f, text: t) }
        p.text = t
        return address ? .addressOf(p) : .path(p)
    }

    mutating func applyEffects(_ name: String, args: [Value], texts: [String], tok: Int32, index: Int) {
        // Reference-replacing macros write their first argument.
        if name == "Py_CLEAR" || name == "Py_SETREF" || name == "Py_XSETREF", let a = args.first, let p = place(a) {
            let v: Value = name == "Py_CLEAR" ? .null : (args.count > 1 ? args[1] : .unknown)
            assign(p, v, at: tok)
        }
        if name == "PyMem_Resize" || name == "PyMem_RESIZE", let a = args.first, let p = place(a) {
            assign(p, .call(index), at: tok)
        }
        guard let entry = CAPI.lookup(name) else { return }
        let fx = entry.effects
        func arg(_ i: Int?) -> AccessPath? {
            guard let i, i < args.count else { return nil }
            let v = args[i]
            if case .addressOf(let p) = v { return p }
            return place(v)
        }
        if fx.contains(.locks) {
            let subject = arg(entry.argument)
            // taking a lock already held here is the blocking retry of a failed try
            // (`if (!PyThread_acquire_lock(l, 0)) { …; PyThread_acquire_lock(l, 1); }`): one
            // acquisition, one region, which one release ends
            let held = subject.map { s in open.contains { o in
                function.regions[o.region].kind == .mutex && function.regions[o.region].subject?.key == s.key } } ?? false
            if !held { openRegion(.mutex, subject: subject, at: tok, opener: name) }
        }
        if fx.contains(.unlocks) {
            let key = arg(entry.argument)?.key
            closeRegion(at: tok) { $0.kind == .mutex && (key == nil || $0.subject?.key == key) }
        }
        if fx.contains(.beginsCriticalSection) {
            openRegion(entry.argument2 == nil ? .criticalSection : .criticalSection2, subject: arg(entry.argument),
                       subject2: arg(entry.argument2), at: tok, opener: name)
        }
        if fx.contains(.endsCriticalSection) {
            closeRegion(at: tok) { [.criticalSection, .criticalSection2, .criticalSectionMutex].contains($0.kind) }
        }
        if fx.contains(.releasesGIL) {
            if name == "PyGILState_Release" {
                closeRegion(at: tok) { $0.kind == .gilHeldAgain }
            } else {
                openRegion(.gilReleased, subject: nil, at: tok, opener: name)
            }
        }
        if fx.contains(.acquiresGIL) {
            if name == "PyGILState_Ensure" {
                openRegion(.gilHeldAgain, subject: nil, at: tok, opener: name)
            } else {
                closeRegion(at: tok) { $0.kind == .gilReleased }
            }
        }
        if fx.contains(.stopsTheWorld) { openRegion(.stopTheWorld, subject: nil, at: tok, opener: name) }
        if fx.contains(.startsTheWorld) { closeRegion(at: tok) { $0.kind == .stopTheWorld } }
        if fx.contains(.setsModuleGIL), let i = entry.argument, i < texts.count, texts[i].contains("Py_MOD_GIL_NOT_USED") {
            gilFreeDeclarations.append(pos(tok))
        }
    }

    /// Records that a name that may be a function went somewhere other than a call.
    mutating func noteFunctionRef(_ v: Value, _ dest: FunctionRef.Destination, at tok: Int32) {
        var s = v.stripped
        if case .addressOf(let p) = s { s = .path(p) }
        guard case .path(let p) = s, p.root == .global, p.fields.isEmpty else { return }
        function.functionRefs.append(FunctionRef(name: p.name, destination: dest, pos: pos(tok)))
    }
}
