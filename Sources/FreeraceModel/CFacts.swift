import Foundation
import FreeraceSyntax

/// Extracts `FileFacts` from a parsed C/C++ file.
public enum CFactExtractor {
    /// Parses a C/C++ file and extracts its facts. Statement macros around the file's own lock
    /// wrappers (`#define BEGIN_OP(c) do { if (conn_lock(c) < 0) return NULL; } while (0)` with
    /// `conn_lock` a function of the file around `PyThread_acquire_lock`) are expanded too: the
    /// file is parsed a second time, only when it has such macros. The wrappers are found once per
    /// parse and serve both the decision and the extraction.
    public static func parseAndExtract(_ source: SourceFile, env: MacroEnvironment,
                                       projectMacros: ProjectMacros = ProjectMacros()) -> FileFacts {
        let base = CAPI.macroExpansionPolicy
        var parsed = CFrontend.parse(source, env: env, expansions: projectMacros.statement, policy: base)
        var wrappers = Extractor.lockWrappers(parsed)
        if let policy = policyWithLockWrappers(parsed, wrappers: wrappers, base: base) {
            parsed = CFrontend.parse(source, env: env, expansions: projectMacros.statement, policy: policy)
            wrappers = Extractor.lockWrappers(parsed)
        }
        var x = Extractor(file: parsed)
        x.projectMacros = projectMacros
        x.lockWrappers = wrappers
        x.run()
        return x.facts
    }

    /// The expansion policy that also selects the file's macros calling its lock `wrappers`, or
    /// nil when `policy` already selects every macro that matters.
    static func policyWithLockWrappers(_ file: ParsedFile, wrappers: [String: CallMacro],
                                       base policy: MacroExpansionPolicy) -> MacroExpansionPolicy? {
        guard !wrappers.isEmpty else { return nil }
        // the wrappers, and the file's macros that call them (`#define END_OP(c) conn_unlock(c)`)
        var names = Set(wrappers.keys)
        let macros = file.view.macros.filter(\.active)
        var grew = true
        while grew {
            grew = false
            for m in macros where !names.contains(m.name) && !Set(BodyWalker.words(m.body)).isDisjoint(with: names) {
                names.insert(m.name)
                grew = true
            }
        }
        let extended = MacroExpansionPolicy(triggers: policy.triggers.union(names))
        let cpp = file.source.language == .cpp
        let changes = macros.contains { m in
            policy.selects(m, cpp: cpp) == nil && extended.selects(m, cpp: cpp) != nil
        }
        return changes ? extended : nil
    }

    public static func extract(_ file: ParsedFile, projectMacros: ProjectMacros = ProjectMacros()) -> FileFacts {
        var x = Extractor(file: file)
        x.projectMacros = projectMacros
        x.run()
        return x.facts
    }
}

struct Extractor {
    let file: ParsedFile
    var facts: FileFacts
    /// Function-like macros defined in the file: for each parameter, whether the body may use
    /// what it points to (`a->f`, `a[i]`, `*a`, an argument of a call). `PIB(a, p)` comparing
    /// pointers uses neither.
    var macroParamDerefs: [String: [Bool]] = [:]
    /// Macros of the project's headers (`#define MUTEX_LOCK(m) PyMutex_Lock(m)` in Imaging.h):
    /// used where the file has no definition of its own.
    var projectMacros = ProjectMacros()
    /// The file's lock wrappers, when the caller has found them already (`lockWrappers(file)`).
    var lockWrappers: [String: CallMacro]?
    /// The type of each global declared so far (the last declaration of a name wins), kept as
    /// `facts.globals` grows: every function body starts from it.
    var globalTypes: [String: TypeRef] = [:]

    func callMacro(_ name: String) -> CallMacro? { facts.callMacros[name] ?? projectMacros.call[name] }
    func placeMacro(_ name: String) -> String? { facts.placeMacros[name] ?? projectMacros.place[name] }
    var tree: SyntaxTree { file.tree }

    init(file: ParsedFile) {
        self.file = file
        self.facts = FileFacts(path: file.source.path, language: file.source.language)
    }

    func pos(_ tok: Int32) -> Pos {
        let l = file.location(of: tok)
        return Pos(line: l.line, column: l.column)
    }

    func text(_ tok: Int32) -> String { file.text(tok) }

    mutating func run() {
        facts.functionCount = file.functions.count
        facts.recoveredFunctions = file.functions.filter(\.recovered).count
        for d in file.view.includes { facts.includes.append(Self.includeTarget(d)) }
        facts.statementMacros = file.statementMacros
        collectLockWrappers()
        let wrappers = facts.callMacros
        for m in file.view.macros where m.active {
            if m.parameters == nil, Self.isPlaceText(m.body) { facts.placeMacros[m.name] = Self.stripParens(m.body) }
            if let c = Self.callMacro(m, wrappers: wrappers) { facts.callMacros[m.name] = c }
            if m.parameters != nil, Self.allocatesObject(body: m.body) { facts.allocMacros.append(m.name) }
            if let target = Self.forwardedFunction(m) { facts.forwardingMacros[m.name] = target }
            if let ps = m.parameters, !ps.isEmpty { macroParamDerefs[m.name] = Self.parameterDerefs(body: m.body, parameters: ps) }
        }
        facts.suppressions = Suppressions.parse(comments: file.view.comments.map {
            (file.source.line(of: Int($0.start)), file.source.text(Int($0.start), $0.end), $0.atLineStart)
        }, commentPrefix: "//")
        for d in file.diagnostics {
            let at = file.source.location(of: d.offset)
            facts.warnings.append(LineDiagnostic(line: at.line, column: at.column, message: d.message))
        }
        visitDeclarations(file.root)
    }

    /// Small functions of the file that take or release one lock named through their parameters
    /// (`static int conn_lock(Conn *c) { if (PyThread_acquire_lock(c->lock, NOWAIT_LOCK) != …)
    /// { PyErr_SetString(…); return -1; } return 0; }`, and its `conn_unlock`): a call to one is
    /// the lock call it wraps, as a `#define` of it would be. Recorded with the call macros, so a
    /// caller's lock region opens and closes at the wrapper calls.
    mutating func collectLockWrappers() {
        for (name, m) in lockWrappers ?? Self.lockWrappers(file) { facts.callMacros[name] = m }
    }

    static func lockWrappers(_ file: ParsedFile) -> [String: CallMacro] {
        let tree = file.tree
        var out: [String: CallMacro] = [:]
        for pf in file.functions {
            let kids = Array(tree.children(pf.node))
            guard kids.count >= 3, tree[kids[1]].kind == .declarator, tree[kids[1]].mainTok >= 0,
                  let body = kids.first(where: { tree[$0].kind == .compound }),
                  tree[body].lastTok - tree[body].firstTok <= 200 else { continue }
            var params: [String] = []
            if let pl = tree.functionParams(kids[1]) {
                for p in tree.children(pl) where tree[p].kind == .paramDecl {
                    if let pd = tree.declarationDeclarator(p), tree[pd].mainTok >= 0 { params.append(file.text(tree[pd].mainTok)) }
                }
            }
            guard !params.isEmpty else { continue }
            var lockCalls: [CallMacro] = []
            tree.walk(body) { n in
                guard tree[n].kind == .call, let c = tree.children(n).first, tree[c].kind == .ident else { return true }
                let callee = file.text(tree[c].mainTok)
                if let api = CAPI.lookup(callee), !api.effects.isDisjoint(with: [.locks, .unlocks]) {
                    lockCalls.append(CallMacro(parameters: params, callee: callee,
                                               arguments: tree.children(n).dropFirst().map { file.text(node: $0) }))
                }
                return true
            }
            // one lock call, on a place reached from a parameter (a wrapper that takes and releases
            // a lock is a critical section of its own, already seen where it runs); the same call
            // on the same lock twice is one (`if (!PyThread_acquire_lock(s->lock, 0)) { release
            // the GIL; PyThread_acquire_lock(s->lock, 1); … }`: try, then wait)
            var seenCalls = Set<String>()
            lockCalls = lockCalls.filter { seenCalls.insert($0.callee + "|" + ($0.arguments.first ?? "")).inserted }
            guard lockCalls.count == 1, let m = lockCalls.first, let lock = m.arguments.first,
                  !Set(BodyWalker.words(lock)).isDisjoint(with: params) else { continue }
            out[file.text(tree[kids[1]].mainTok)] = m
        }
        return out
    }

    /// Whether an expression macro's value is a new object: its outermost call (after casts) is
    /// an object allocator of the C API or a type's `tp_alloc`/`tp_new` slot.
    static func allocatesObject(body: String) -> Bool {
        var t = Substring(body.trimmingCharacters(in: .whitespaces))
        // drop leading casts and parentheses: `(s *) t.tp_alloc(&t, 0)`, `((T *)PyObject_New(T, &Ty))`
        while t.hasPrefix("(") {
            guard let close = t.firstIndex(of: ")") else { return false }
            let inner = t[t.index(after: t.startIndex)..<close]
            if inner.contains("(") {
                t = t.dropFirst()
            } else {
                t = t[t.index(after: close)...]
            }
            t = Substring(t.trimmingCharacters(in: .whitespaces))
        }
        guard let lp = t.firstIndex(of: "(") else { return false }
        let callee = t[..<lp].trimmingCharacters(in: .whitespaces)
        if callee.hasSuffix("tp_alloc") || callee.hasSuffix("tp_new") { return true }
        return CAPI.lookup(callee)?.effects.contains(.allocatesObject) == true
    }

    /// For each macro parameter, whether the body may dereference it: followed by `->` or `[`,
    /// after a unary `*`, or inside the arguments of a call. Comparisons, arithmetic and plain
    /// copies do not dereference.
    static func parameterDerefs(body: String, parameters: [String]) -> [Bool] {
        var toks: [String] = []
        var cur = ""
        var prevWasIdent = false
        func flush() { if !cur.isEmpty { toks.append(cur); cur = "" } }
        let chars = Array(body.utf8)
        var i = 0
        while i < chars.count {
            let c = chars[i]
            let isIdent = (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c == 95
            if isIdent {
                if !prevWasIdent { flush() }
                cur.append(Character(UnicodeScalar(c)))
                prevWasIdent = true
            } else {
                flush()
                prevWasIdent = false
                if c == 32 || c == 9 || c == 10 || c == 92 { i += 1; continue }
                if i + 1 < chars.count, c == 45, chars[i + 1] == 62 { toks.append("->"); i += 2; continue }
                toks.append(String(UnicodeScalar(c)))
            }
            i += 1
        }
        flush()
        func isIdentifier(_ t: String) -> Bool { t.first.map { $0.isLetter || $0 == "_" } ?? false }
        return parameters.map { p in
            for (k, t) in toks.enumerated() where t == p {
                let next = k + 1 < toks.count ? toks[k + 1] : ""
                if next == "->" || next == "[" { return true }
                if k >= 1, toks[k - 1] == "*", k < 2 || !(isIdentifier(toks[k - 2]) || toks[k - 2] == ")" || toks[k - 2] == "]") {
                    return true
                }
                // inside the argument list of a call: find the unmatched `(` to the left
                var depth = 0
                var j = k - 1
                while j >= 0 {
                    if toks[j] == ")" { depth += 1 } else if toks[j] == "(" {
                        if depth == 0 {
                            if j >= 1, isIdentifier(toks[j - 1]), toks[j - 1] != "sizeof" { return true }
                        } else {
                            depth -= 1
                        }
                    }
                    j -= 1
                }
            }
            return false
        }
    }

    static func includeTarget(_ directive: String) -> String {
        var s = Substring(directive)
        if let q = s.firstIndex(where: { $0 == "\"" || $0 == "<" }) {
            s = s[s.index(after: q)...]
            if let e = s.firstIndex(where: { $0 == "\"" || $0 == ">" }) { s = s[..<e] }
            return String(s)
        }
        return ""
    }

    /// `#define LOCK(m) PyMutex_Lock(&(m))`, also wrapped in `do { ... } while (0)`.
    static func callMacro(_ m: MacroDefinition) -> CallMacro? {
        callMacro(m, wrappers: [:])
    }

    /// The same, where the body may also call one of the file's lock wrappers
    /// (`#define BEGIN_CONN_LOCK(c) conn_lock(c)`): the macro stands for the call it wraps.
    static func callMacro(_ m: MacroDefinition, wrappers: [String: CallMacro]) -> CallMacro? {
        var body = Substring(m.body.trimmingCharacters(in: .whitespaces))
        if body.hasPrefix("do"), let open = body.firstIndex(of: "{"), let close = body.lastIndex(of: "}") {
            body = body[body.index(after: open)..<close]
        }
        body = Substring(body.trimmingCharacters(in: CharacterSet(charactersIn: " ;")))
        guard let lp = body.firstIndex(of: "("), body.hasSuffix(")") else { return nil }
        let callee = body[..<lp].trimmingCharacters(in: .whitespaces)
        let wrapped = wrappers[callee]
        guard wrapped != nil || CAPI.lookup(callee).map({ !$0.effects.isDisjoint(with: [.locks, .unlocks,
                  .beginsCriticalSection, .endsCriticalSection, .releasesGIL, .acquiresGIL, .stopsTheWorld,
                  .startsTheWorld, .freesMemory]) }) == true,
              callee.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else { return nil }
        let inner = body[body.index(after: lp)..<body.index(before: body.endIndex)]
        var args: [String] = []
        var depth = 0
        var cur = ""
        for ch in inner {
            if ch == "(" { depth += 1 }
            if ch == ")" { depth -= 1 }
            if ch == ",", depth == 0 {
                args.append(cur.trimmingCharacters(in: .whitespaces))
                cur = ""
            } else {
                cur.append(ch)
            }
        }
        if !cur.trimmingCharacters(in: .whitespaces).isEmpty { args.append(cur.trimmingCharacters(in: .whitespaces)) }
        if let w = wrapped {
            // the wrapper's arguments, in the macro's parameters
            return CallMacro(parameters: m.parameters ?? [], callee: w.callee,
                             arguments: w.arguments.map { BodyWalker.substitute($0, w.parameters, args) })
        }
        return CallMacro(parameters: m.parameters ?? [], callee: callee, arguments: args)
    }

    /// The function a function-like macro forwards its parameters to, in order and unchanged but
    /// for casts: `#define A(u, b, n) return f(u, (const char *)b, n)` → `f`. Lock, GIL and
    /// memory macros of the C-API are `callMacro`s instead.
    static func forwardedFunction(_ m: MacroDefinition) -> String? {
        guard let params = m.parameters, !params.isEmpty else { return nil }
        var body = Substring(m.body.trimmingCharacters(in: .whitespaces))
        if body.hasPrefix("return ") { body = body.dropFirst(7) }
        body = Substring(body.trimmingCharacters(in: CharacterSet(charactersIn: " ;")))
        guard let lp = body.firstIndex(of: "("), body.hasSuffix(")") else { return nil }
        let callee = body[..<lp].trimmingCharacters(in: .whitespaces)
        guard !callee.isEmpty, callee != m.name, CAPI.lookup(callee) == nil,
              callee.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }), !(callee.first?.isNumber ?? true)
        else { return nil }
        var args: [String] = []
        var depth = 0
        var cur = ""
        for ch in body[body.index(after: lp)..<body.index(before: body.endIndex)] {
            if ch == "(" { depth += 1 }
            if ch == ")" { depth -= 1 }
            guard depth >= 0 else { return nil }
            if ch == ",", depth == 0 {
                args.append(cur)
                cur = ""
            } else {
                cur.append(ch)
            }
        }
        args.append(cur)
        guard args.count == params.count else { return nil }
        for (a, p) in zip(args, params) {
            // `(const char *)buf`, `(buf)`: the parameter itself, maybe cast
            var t = Substring(a.trimmingCharacters(in: .whitespaces))
            while t.hasPrefix("(") {
                guard let close = t.firstIndex(of: ")") else { return nil }
                let inner = t[t.index(after: t.startIndex)..<close]
                if inner.trimmingCharacters(in: .whitespaces) == p, close == t.index(before: t.endIndex) {
                    t = inner
                    break
                }
                t = t[t.index(after: close)...]
                t = Substring(t.trimmingCharacters(in: .whitespaces))
            }
            guard t.trimmingCharacters(in: .whitespaces) == p else { return nil }
        }
        return callee
    }

    static func stripParens(_ s: String) -> String {
        var t = Substring(s)
        while t.hasPrefix("("), t.hasSuffix(")") { t = t.dropFirst().dropLast() }
        return String(t).replacingOccurrences(of: " ", with: "")
    }

    /// `a.b->c` (optionally parenthesized): a place a macro can stand for.
    static func isPlaceText(_ body: String) -> Bool {
        let s = stripParens(body)
        guard let f = s.first, f.isLetter || f == "_" else { return false }
        var hasAccess = false
        var i = s.startIndex
        while i < s.endIndex {
            let c = s[i]
            if c.isLetter || c.isNumber || c == "_" {
                i = s.index(after: i)
            } else if c == "." {
                hasAccess = true
                i = s.index(after: i)
            } else if c == "-", s[s.index(after: i)...].hasPrefix("->") {
                hasAccess = true
                i = s.index(i, offsetBy: 2)
            } else {
                return false
            }
        }
        return hasAccess
    }

    // MARK: declarations

    mutating func visitDeclarations(_ n: Int32) {
        for c in tree.children(n) {
            switch tree[c].kind {
            case .functionDef:
                if var f = functionFacts(c) { f.compact(); facts.functions.append(f) }
            case .declaration:
                declaration(c, global: true)
            case .linkageSpec, .namespaceDecl:
                visitDeclarations(c)
            default:
                break
            }
        }
    }

    /// The base type named by a specifiers node.
    func baseTypeName(_ spec: Int32) -> String {
        guard let s = tree.specifiers(spec) else { return "int" }
        if s.typeToken >= 0 {
            // C++ `std::vector<T>`: the template's name, not the closing `>`
            if file.tokens[Int(s.typeToken)].kind == .gt || file.tokens[Int(s.typeToken)].kind == .shr,
               let t = templateName(closingAt: s.typeToken, from: tree[spec].firstTok) {
                return t
            }
            return text(s.typeToken)
        }
        if let st = s.structSpec, st.tagToken >= 0 { return text(st.tagToken) }
        return "int"
    }

    /// The identifier before the `<` that the `>` at `close` ends (`vector` in `std::vector<int>`).
    func templateName(closingAt close: Int32, from first: Int32) -> String? {
        var depth = 0
        var i = close
        while i >= first, close - i < 400 {
            switch file.tokens[Int(i)].kind {
            case .gt: depth += 1
            case .shr: depth += 2
            case .lt:
                depth -= 1
                if depth <= 0 {
                    return i > first && file.tokens[Int(i - 1)].kind == .identifier ? text(i - 1) : nil
                }
            default: break
            }
            i -= 1
        }
        return nil
    }

    func typeRef(spec: Int32, declarator d: Int32?) -> TypeRef {
        var t = TypeRef(name: baseTypeName(spec))
        if let s = tree.specifiers(spec) {
            t.pointers = s.pointerDepth
            t.isAtomic = s.isAtomic
        }
        if let dv = d.flatMap({ tree.declarator($0) }) {
            t.pointers += dv.pointerDepth + (dv.nested?.pointerDepth ?? 0)
            t.isFunctionPointer = dv.isFunctionPointer
            t.isArray = dv.isArray || dv.nested?.isArray == true
        }
        return t
    }

    mutating func declaration(_ decl: Int32, global: Bool) {
        guard let specs = tree.declarationSpecifiers(decl) else { return }
        let spec = specs.id
        let isTypedef = specs.isTypedef
        // struct definitions
        var structTag: String?
        var structIndex: Int?
        if let st = specs.structSpec, st.hasBody {
            let s = structFacts(st.id)
            structTag = st.tagToken >= 0 ? text(st.tagToken) : nil
            facts.structs.append(s)
            structIndex = facts.structs.count - 1
            if facts.language == .cpp, let tag = structTag, global {
                classBody(st.id, name: tag, index: facts.structs.count - 1)
            }
        }
        for idn in tree.children(decl) where tree[idn].kind == .initDeclarator {
            let (declarator, initializer) = tree.initDeclaratorParts(idn)
            guard let dv = declarator, dv.nameToken >= 0 else { continue }
            let d = dv.id
            let name = text(dv.nameToken)
            let type = typeRef(spec: spec, declarator: d)
            if isTypedef {
                facts.typedefs[name] = type
                if let i = structIndex {
                    if structTag == nil, facts.structs[i].name.isEmpty { facts.structs[i].name = name }
                    facts.structs[i].typedefNames.append(name)
                }
                continue
            }
            guard global else { continue }
            if tree.declaresFunction(d) { continue }  // prototype
            var g = GlobalFacts(name: name, type: type, isStatic: specs.isStatic, isExtern: specs.isExtern,
                                isThreadLocal: specs.isThreadLocal, initializer: nil,
                                file: facts.path, pos: pos(dv.nameToken))
            if let initNode = initializer { g.initializer = initValue(initNode) }
            facts.globals.append(g)
            globalTypes[g.name] = g.type
        }
    }

    func structFacts(_ st: Int32) -> StructFacts {
        var fields: [FieldFact] = []
        var isObject = false
        var first = true
        var s = StructFacts(name: "", typedefNames: [], fields: [], isPythonObject: false, file: facts.path,
                            pos: pos(tree[st].firstTok))
        collectFields(st, into: &fields, isObject: &isObject, first: &first, members: &s)
        s.name = tree[st].mainTok >= 0 ? text(tree[st].mainTok) : ""
        s.fields = fields
        s.isPythonObject = isObject
        if facts.language == .cpp { s.bases = baseClasses(st) }
        return s
    }

    /// The class names of a C++ class head's base clause (`class B : public ns::A, private C<T>`).
    func baseClasses(_ st: Int32) -> [String] {
        let node = tree[st]
        guard node.mainTok >= 0 else { return [] }
        var out: [String] = []
        var i = node.mainTok + 1
        var angle = 0
        guard Int(i) < file.tokens.count, file.tokens[Int(i)].kind == .colon else { return [] }
        var last: String?
        while i <= node.lastTok, Int(i) < file.tokens.count, i - node.mainTok < 200 {
            let k = file.tokens[Int(i)].kind
            if k == .lBrace { break }
            if k == .lt { angle += 1 } else if k == .gt { angle -= 1 } else if k == .shr { angle -= 2 }
            if angle == 0 {
                if k == .identifier { last = text(i) }
                if k == .comma, let l = last { out.append(l); last = nil }
            }
            i += 1
        }
        if let l = last { out.append(l) }
        return out
    }

    /// The member functions defined in a C++ class body (and in the classes nested in it): each
    /// a function of the class, with `this` unless declared `static`. A class whose constructor
    /// takes a lock is a scoped lock guard.
    mutating func classBody(_ st: Int32, name: String, index: Int) {
        var guardClass = false
        for c in tree.children(st) {
            switch tree[c].kind {
            case .functionDef:
                let kids = Array(tree.children(c))
                let isStatic = kids.first.flatMap { tree.specifiers($0) }?.isStatic ?? false
                if var f = functionFacts(c, memberOf: name, classFacts: facts.structs[index], staticMember: isStatic) {
                    if f.name == name, f.calls.contains(where: Self.takesLock) { guardClass = true }
                    f.compact()
                    facts.functions.append(f)
                }
            case .declaration:
                guard let specs = tree.declarationSpecifiers(c) else { continue }
                if specs.isTypedef {
                    // a member typedef (`typedef std::vector<T *> list_t;`) names a type for the fields
                    for idn in tree.children(c) where tree[idn].kind == .initDeclarator {
                        guard let dv = tree.initDeclaratorParts(idn).declarator, dv.nameToken >= 0 else { continue }
                        let tname = text(dv.nameToken)
                        if facts.typedefs[tname] == nil { facts.typedefs[tname] = typeRef(spec: specs.id, declarator: dv.id) }
                    }
                    continue
                }
                // nested classes: their own structs and members
                guard let inner = specs.structSpec, inner.hasBody, inner.tagToken >= 0 else { continue }
                let s = structFacts(inner.id)
                facts.structs.append(s)
                classBody(inner.id, name: text(inner.tagToken), index: facts.structs.count - 1)
            default:
                break
            }
        }
        if guardClass { facts.structs[index].isLockGuard = true }
    }

    /// A call that takes a lock: a lock function of the C-API table, a lock wrapper of the file,
    /// or a `lock()` method (`std::mutex::lock`, a project mutex's `Lock()`).
    static func takesLock(_ call: CallFact) -> Bool {
        if let m = call.method { return lockMethods.contains(m) }
        guard let name = call.callee else { return false }
        return CAPI.lookup(name)?.effects.contains(.locks) == true
    }

    static let lockMethods: Set<String> = ["lock", "Lock", "acquire", "Acquire", "lock_shared"]

    func collectFields(_ st: Int32, into fields: inout [FieldFact], isObject: inout Bool, first: inout Bool,
                       members: inout StructFacts) {
        let cpp = facts.language == .cpp
        for fd in tree.children(st) {
            let n = tree[fd]
            if cpp, n.kind == .functionDef {
                // a member function defined in the class body
                let kids = Array(tree.children(fd))
                if kids.count > 1, tree[kids[1]].mainTok >= 0 {
                    let fname = text(tree[kids[1]].mainTok)
                    members.methods.append(fname)
                    if tree.specifiers(kids[0])?.isStatic == true { members.staticMembers.append(fname) }
                }
                continue
            }
            if tree.isMacroHeadField(fd) {
                let macro = text(n.mainTok)
                if first, ["PyObject_HEAD", "PyObject_VAR_HEAD", "PyException_HEAD"].contains(macro) { isObject = true }
                first = false
                continue
            }
            guard n.kind == .fieldDecl || n.kind == .declaration, let specs = tree.declarationSpecifiers(fd) else { continue }
            let spec = specs.id
            let decls = tree.children(fd).filter { tree[$0].kind == .declarator || tree[$0].kind == .initDeclarator }
            if decls.allSatisfy({ tree[$0].mainTok < 0 && tree[$0].kind == .declarator }),
               let inner = specs.structSpec {
                // a C++ nested class is a type of its own, not members of this one
                if cpp, inner.tagToken >= 0 { continue }
                // anonymous struct/union member: its fields belong to the outer struct
                collectFields(inner.id, into: &fields, isObject: &isObject, first: &first, members: &members)
                continue
            }
            if cpp, specs.isTypedef { continue }
            for d0 in decls {
                let d = tree[d0].kind == .initDeclarator ? (tree.initDeclaratorParts(d0).declarator?.id ?? d0) : d0
                guard tree[d].mainTok >= 0 else { continue }
                if cpp, tree.declaresFunction(d) {
                    // a member function declared here, defined out of line (`T::f`)
                    members.methods.append(text(tree[d].mainTok))
                    if specs.isStatic { members.staticMembers.append(text(tree[d].mainTok)) }
                    continue
                }
                if cpp, specs.isStatic {
                    // a static data member is one object shared by all: a global
                    members.staticMembers.append(text(tree[d].mainTok))
                    continue
                }
                let t = typeRef(spec: spec, declarator: d)
                if first, t.pointers == 0, Self.objectBaseTypes.contains(t.name) { isObject = true }
                first = false
                fields.append(FieldFact(name: text(tree[d].mainTok), type: t))
            }
        }
    }

    /// A struct whose first member is one of these (by value) is a Python object.
    static let objectBaseTypes: Set<String> = [
        "PyObject", "PyVarObject", "PyListObject", "PyDictObject", "PyTupleObject", "PyTypeObject",
        "PyHeapTypeObject", "PySetObject", "PyBaseExceptionObject", "PyUnicodeObject", "PyLongObject",
        "PyBytesObject", "PyFloatObject", "PyArrayObject_fields", "PyByteArrayObject",
    ]

    func initValue(_ n: Int32) -> InitValue {
        let node = tree[n]
        // a table of constants (test vectors, lookup tables: megabytes of numbers in generated
        // code) names no function, type or place: kept as an empty list, not entry by entry
        if node.kind == .initList, isConstantTable(n) { return .list([]) }
        if node.kind == .initList {
            var entries: [InitEntry] = []
            for c in tree.children(n) {
                if tree[c].kind == .designatedInit {
                    let kids = Array(tree.children(c))
                    var designator: String?
                    if let d = kids.first, tree[d].kind == .designatorField { designator = text(tree[d].mainTok) }
                    let v = kids.last.map { initValue($0) } ?? .value(.unknown, text: "")
                    entries.append(InitEntry(designator: designator, value: v, pos: pos(tree[c].firstTok)))
                } else {
                    entries.append(InitEntry(designator: nil, value: initValue(c), pos: pos(tree[c].firstTok)))
                }
            }
            return .list(entries)
        }
        return .value(Self.constantValue(tree, file, n), text: file.text(node: n))
    }

    /// An initializer list of at least `constantTableMinimum` entries that are all literals
    /// (numbers, strings, characters, negated numbers) or lists of them.
    func isConstantTable(_ n: Int32) -> Bool {
        func isConstant(_ c: Int32, depth: Int) -> Bool {
            switch tree[c].kind {
            case .number, .string, .char: return true
            case .prefix: return tree.operand(c).map { tree[$0].kind == .number } ?? false
            case .initList: return depth < 4 && tree.children(c).allSatisfy { isConstant($0, depth: depth + 1) }
            default: return false
            }
        }
        var count = 0
        for c in tree.children(n) {
            guard isConstant(c, depth: 0) else { return false }
            count += 1
        }
        return count >= Self.constantTableMinimum
    }

    static let constantTableMinimum = 16

    /// The value of an expression in an initializer (no function context): names, casts, addresses.
    static func constantValue(_ tree: SyntaxTree, _ file: ParsedFile, _ n: Int32) -> Value {
        let node = tree[n]
        switch node.kind {
        case .ident:
            let name = file.text(node.mainTok)
            if name == "NULL" || name == "nullptr" { return .null }
            return .path(AccessPath(root: .global, name: name, rootType: nil, text: name))
        case .cast, .paren:
            if let operand = tree.operand(n) { return constantValue(tree, file, operand) }
            return .unknown
        case .prefix:
            if let inner = tree.operand(n) {
                let v = constantValue(tree, file, inner)
                if file.tokens[Int(node.mainTok)].kind == .amp, let p = v.path { return .addressOf(p) }
                return v
            }
            return .unknown
        case .call:
            // a static initializer holds constants, so a call there is a macro — in practice a cast
            // (`_PyCFunction_CAST(f)`, `_Py_FUNC_CAST(PyCFunction, f)`): the value is its last argument
            // (C++ initializers may call functions: there, only a macro named as a cast)
            let kids = Array(tree.children(n))
            if kids.count >= 2, let last = kids.last,
               file.source.language != .cpp || file.text(node: kids[0]).uppercased().contains("CAST") {
                let v = constantValue(tree, file, last)
                if v.path != nil || { if case .addressOf = v { return true } else { return false } }() { return v }
            }
            return .literal(file.text(node: n))
        case .number:
            return .literal(file.text(node: n))
        case .string:
            return .string
        case .sizeofExpr:
            return .literal(file.text(node: n))
        default:
            return .literal(file.text(node: n))
        }
    }

    // MARK: functions

    /// The class a C++ declarator qualifies its name with (`Tracker` in `ns::Tracker::track`), if
    /// that class is known here (this file or the project's headers).
    func qualifyingClass(_ nameTok: Int32) -> StructFacts? {
        var i = Int(nameTok) - 1
        if i >= 0, file.tokens[i].kind == .tilde { i -= 1 }
        guard i >= 1, file.tokens[i].kind == .colonColon else { return nil }
        i -= 1
        if file.tokens[i].kind == .gt, let t = templateName(closingAt: Int32(i), from: max(0, Int32(i) - 200)) {
            return classFacts(t)
        }
        guard file.tokens[i].kind == .identifier else { return nil }
        return classFacts(text(Int32(i)))
    }

    /// A C++ class of this file or of the project's headers.
    func classFacts(_ name: String) -> StructFacts? {
        if let s = facts.structs.last(where: { $0.name == name && (!$0.methods.isEmpty || !$0.fields.isEmpty) }) { return s }
        return projectMacros.classes[name]
    }

    mutating func functionFacts(_ fn: Int32, memberOf: String? = nil, classFacts inClass: StructFacts? = nil,
                                staticMember: Bool = false) -> FunctionFacts? {
        let kids = Array(tree.children(fn))
        guard kids.count >= 3, tree[kids[0]].kind == .specifiers, tree[kids[1]].kind == .declarator else { return nil }
        let spec = kids[0]
        let decl = kids[1]
        guard tree[decl].mainTok >= 0 else { return nil }
        var name = text(tree[decl].mainTok)
        let cpp = facts.language == .cpp
        if cpp, tree[decl].mainTok > 0, file.tokens[Int(tree[decl].mainTok) - 1].kind == .tilde { name = "~" + name }
        // a member function: defined in its class body, or out of line (`T::f`)
        var owner = inClass
        if cpp, owner == nil { owner = qualifyingClass(tree[decl].mainTok) }
        var params: [ParamFact] = []
        if let pl = tree.functionParams(decl) {
            for p in tree.children(pl) where tree[p].kind == .paramDecl {
                guard let ps = tree.declarationSpecifiers(p)?.id else { continue }
                let pd = tree.declarationDeclarator(p)
                let t = typeRef(spec: ps, declarator: pd)
                if t.name == "void", t.pointers == 0, pd.map({ tree[$0].mainTok < 0 }) ?? true { continue }
                let pname = pd.flatMap { tree[$0].mainTok >= 0 ? text(tree[$0].mainTok) : nil } ?? "_\(params.count)"
                params.append(ParamFact(name: pname, type: t))
            }
        }
        var ret = TypeRef(name: baseTypeName(spec))
        ret.pointers = (tree.specifiers(spec)?.pointerDepth ?? 0) + (tree.declarator(decl)?.pointerDepth ?? 0)
        let body = kids.first { tree[$0].kind == .compound }
        var thisIndex: Int?
        if let o = owner, !staticMember, !o.staticMembers.contains(name) {
            thisIndex = params.count
            params.append(ParamFact(name: "this", type: TypeRef(name: o.name, pointers: 1)))
        }
        // a member function is reached through its class, not only from this file: never `static` here
        var f = FunctionFacts(name: name, file: facts.path, pos: pos(tree[decl].mainTok),
                              isStatic: owner == nil && memberOf == nil && (tree.specifiers(spec)?.isStatic ?? false),
                              returnType: ret, params: params,
                              locals: [:], regions: [], calls: [], ops: [], functionRefs: [],
                              endPos: pos(tree[fn].lastTok), language: facts.language)
        f.memberOf = owner?.name ?? memberOf
        f.thisIndex = thisIndex
        if let body {
            // the walker holds a copy of this extractor: `facts` grows only once it is gone, or
            // each append would copy the arrays it shares with that copy
            let (walked, gilFree, statics) = { () -> (FunctionFacts, [Pos], [GlobalFacts]) in
                var w = BodyWalker(x: self, function: f)
                w.statement(body)
                w.closeAll()
                return (w.function, w.gilFreeDeclarations, w.staticGlobals)
            }()
            f = walked
            facts.declaresGILFree.append(contentsOf: gilFree)
            facts.globals.append(contentsOf: statics)
            for g in statics { globalTypes[g.name] = g.type }
        }
        return f
    }
}
