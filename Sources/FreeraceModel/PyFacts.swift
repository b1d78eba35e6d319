import Foundation
import FreeracePython
import FreeraceSyntax

/// Extracts `FileFacts` from a parsed Python or Cython file, in the same model as C: functions
/// with ops (reads, assignments, calls), regions (`with nogil`), thread entry points.
public enum PyFactExtractor {
    public static func extract(_ file: PyParsedFile, language: Language) -> FileFacts {
        var x = PyExtractor(file: file, language: language)
        x.run()
        return x.facts
    }
}

/// Python-level spellings of C-API facts: `sys._current_frames()` is `_PyThread_CurrentFrames()`.
enum PythonAPI {
    static let aliases: [String: String] = [
        "sys._current_frames": "_PyThread_CurrentFrames",
        "sys._current_exceptions": "_PyThread_CurrentExceptions",
    ]
    /// Methods that return elements of their receiver (so origins flow through them).
    static let elementMethods: Set<String> = [
        "items", "values", "keys", "get", "copy", "pop", "setdefault", "__getitem__", "popitem",
    ]
    /// Calls that return their second argument unchanged (static type casts).
    static let identityCasts: Set<String> = ["typing.cast", "typing_extensions.cast"]
    /// Builtins that return their argument's elements in a new container.
    static let elementBuiltins: Set<String> = ["list", "tuple", "dict", "sorted", "reversed", "iter", "next", "enumerate"]
}

struct PyExtractor {
    let file: PyParsedFile
    let language: Language
    var facts: FileFacts
    /// Local name of an imported module → module name (`import sys as _sys` → `_sys` → `sys`).
    var moduleAliases: [String: String] = [:]
    /// Names imported from other modules (`from x import f`).
    var importedNames: Set<String> = []
    var moduleGlobals: Set<String> = []
    /// Cython extension types (`cdef class`) of this file: their methods' `self` is the object.
    var extensionTypes: Set<String> = []

    init(file: PyParsedFile, language: Language) {
        self.file = file
        self.language = language
        self.facts = FileFacts(path: file.path, language: language)
    }

    mutating func run() {
        facts.functionCount = file.functionCount
        facts.recoveredFunctions = file.recoveredFunctionCount
        facts.suppressions = Suppressions.parse(comments: file.comments.map { ($0.line, $0.text, $0.ownLine) },
                                                commentPrefix: "#")
        if let v = file.directives["freethreading_compatible"], v.lowercased() == "true" {
            facts.declaresGILFree.append(Pos(line: 1, column: 1))
        }
        for d in file.diagnostics.prefix(5) { facts.warnings.append(d) }
        collectImportsAndGlobals(file.body)
        if language == .cython { collectExtensionTypes(file.body) }
        // module body: import-time code, as a function of its own
        var module = FunctionWalker(x: self, name: "<module \(Self.moduleName(file.path))>", className: nil,
                                    params: [], pos: Pos(line: 1, column: 1), callable: false)
        module.block(file.body, topLevel: true)
        module.finish(endLine: Int(facts.functions.last?.endPos.line ?? 1))
        facts.functions.append(module.function)
        facts.threadTargets.append(contentsOf: module.threadTargets)
        visitDefinitions(file.body, className: nil)
    }

    static func moduleName(_ path: String) -> String {
        let base = Program.baseName(path)
        return base.split(separator: ".").first.map(String.init) ?? base
    }

    mutating func collectImportsAndGlobals(_ body: [PyStmt]) {
        for s in body {
            switch s.kind {
            case .importModules(let names, _):
                for n in names {
                    let local = n.alias ?? String(n.name.split(separator: ".").first ?? Substring(n.name))
                    moduleAliases[local] = n.alias == nil ? local : n.name
                }
            case .importFrom(let module, let names, _):
                for n in names {
                    let local = n.alias ?? n.name
                    importedNames.insert(local)
                    // `from a.b import c` may import a submodule: calls `c.f()` resolve to `f`
                    moduleAliases[local] = module.isEmpty ? n.name : module + "." + n.name
                }
            case .assign(let targets, _):
                for t in targets { if case .name(let n, _) = t { moduleGlobals.insert(n) } }
            case .declare(let names, let type, _):
                for n in names {
                    moduleGlobals.insert(n)
                    facts.globals.append(GlobalFacts(name: n, type: Self.typeRef(type), isStatic: true, isExtern: false,
                                                     isThreadLocal: false, initializer: nil, file: file.path,
                                                     pos: Pos(line: s.pos.line, column: s.pos.column)))
                }
            case .include(let name):
                facts.includes.append(name)
            case .externBlock(let ext):
                for st in ext.structs {
                    facts.structs.append(StructFacts(name: st.name, typedefNames: [],
                                                     fields: st.fields.map { FieldFact(name: $0.name, type: Self.typeRef($0.type)) },
                                                     isPythonObject: false, file: file.path,
                                                     pos: Pos(line: st.pos.line, column: st.pos.column)))
                }
                for (k, v) in ext.typedefs { facts.typedefs[k] = Self.typeRef(v) }
            case .compileTimeIf(let branches, let orelse):
                for b in branches { collectImportsAndGlobals(b.body) }
                collectImportsAndGlobals(orelse)
            default:
                break
            }
        }
    }

    /// Cython extension types (`cdef class Packer:`) are Python objects whose C attributes
    /// (`cdef char *buf`, `cdef msgpack_packer pk`) live in the object struct, like the members
    /// after `PyObject_HEAD` of a C type: each becomes a struct of the class's name. A base type
    /// (`cdef class B(A)`) is a first member of type `A` by value (`Program.baseField`), through
    /// which `A`'s attributes are found.
    mutating func collectExtensionTypes(_ body: [PyStmt]) {
        for s in body {
            switch s.kind {
            case .classDef(let cls) where cls.isCdef:
                extensionTypes.insert(cls.name)
                var fields: [FieldFact] = []
                if let b = cls.bases.first {
                    let base = Self.render(b).split(separator: ".").last.map(String.init) ?? ""
                    if !base.isEmpty, base != "object", base != "?" {
                        fields.append(FieldFact(name: Program.baseField, type: TypeRef(name: base)))
                    }
                }
                Self.attributes(cls.body, into: &fields)
                facts.structs.append(StructFacts(name: cls.name, typedefNames: [], fields: fields, isPythonObject: true,
                                                 file: file.path, pos: Pos(line: cls.pos.line, column: cls.pos.column)))
            case .compileTimeIf(let branches, let orelse):
                for b in branches { collectExtensionTypes(b.body) }
                collectExtensionTypes(orelse)
            default:
                break
            }
        }
    }

    /// The `cdef` attribute declarations of a class body.
    static func attributes(_ body: [PyStmt], into fields: inout [FieldFact]) {
        for s in body {
            switch s.kind {
            case .declare(let names, let type, _):
                for n in names where !fields.contains(where: { $0.name == n }) {
                    fields.append(FieldFact(name: n, type: cTypeRef(type)))
                }
            case .compileTimeIf(let branches, let orelse):
                for b in branches { attributes(b.body, into: &fields) }
                attributes(orelse, into: &fields)
            default:
                break
            }
        }
    }

    /// A C type as Cython writes it, with a cimported module's prefix dropped
    /// (`xpath.xmlXPathContext*` → `xmlXPathContext *`).
    static func cTypeRef(_ text: String) -> TypeRef {
        var t = typeRef(text)
        if let dot = t.name.lastIndex(of: "."), !t.name.contains(" ") { t.name = String(t.name[t.name.index(after: dot)...]) }
        return t
    }

    /// `PyObject *` → TypeRef(PyObject, 1); `dict` → TypeRef(dict).
    static func typeRef(_ text: String) -> TypeRef {
        // most annotations are one word: no string surgery needed
        if !text.utf8.contains(where: { $0 == 0x2A || $0 == 0x20 || $0 == 0x3F }) {
            return TypeRef(name: text.isEmpty ? "object" : text)
        }
        var t = text
        for q in ["const ", "unsigned ", "signed ", "volatile "] { t = t.replacingOccurrences(of: q, with: "") }
        let stars = t.filter { $0 == "*" }.count
        let name = t.replacingOccurrences(of: "*", with: "").replacingOccurrences(of: "?", with: "")
            .trimmingCharacters(in: .whitespaces)
        return TypeRef(name: name.isEmpty ? "object" : name, pointers: stars)
    }

    mutating func visitDefinitions(_ body: [PyStmt], className: String?) {
        for s in body {
            switch s.kind {
            case .function(let fn):
                addFunction(fn, className: className)
            case .classDef(let cls):
                let isThread = cls.bases.contains { b in
                    let t = Self.render(b)
                    return t == "Thread" || t.hasSuffix(".Thread") || t.hasSuffix("PeriodicThread")
                }
                visitDefinitions(cls.body, className: cls.name)
                if isThread, cls.body.contains(where: { if case .function(let f) = $0.kind { return f.name == "run" }; return false }) {
                    facts.threadTargets.append(ThreadTarget(function: "\(cls.name).run", how: "`\(cls.name)`, a threading.Thread subclass",
                                                            pos: Pos(line: cls.pos.line, column: cls.pos.column)))
                }
            case .compileTimeIf(let branches, let orelse):
                for b in branches { visitDefinitions(b.body, className: className) }
                visitDefinitions(orelse, className: className)
            case .ifStmt(let branches, let orelse):
                // definitions under `if sys.version_info >= ...:` at module level
                for b in branches { visitDefinitions(b.body, className: className) }
                visitDefinitions(orelse, className: className)
            case .tryStmt(let b, let handlers, let orelse, let fin):
                visitDefinitions(b, className: className)
                for h in handlers { visitDefinitions(h.body, className: className) }
                visitDefinitions(orelse, className: className)
                visitDefinitions(fin, className: className)
            default:
                break
            }
        }
    }

    mutating func addFunction(_ fn: PyFunction, className: String?) {
        let qualified = className.map { "\($0).\(fn.name)" } ?? fn.name
        // the walker holds a copy of this extractor: it must be gone before `facts` grows, or
        // every append copies the whole function list (quadratic in functions per file)
        var (function, targets) = walk(fn, qualified: qualified, className: className)
        function.compact()
        facts.functions.append(function)
        facts.threadTargets.append(contentsOf: targets)
        // nested functions and classes
        visitNested(fn.body, className: className)
    }

    func walk(_ fn: PyFunction, qualified: String, className: String?) -> (FunctionFacts, [ThreadTarget]) {
        var params = fn.params.map { ParamFact(name: $0.name, type: Self.typeRef($0.type ?? "object")) }
        let decorators = Set(fn.decorators.map { Self.render($0) })
        // a method of an extension type: `self` points to its object struct, as `Packer *self` in C
        let extensionType = className.flatMap { extensionTypes.contains($0) ? $0 : nil }
        let isInstanceMethod = extensionType != nil && !params.isEmpty && fn.params[0].star == 0
            && decorators.isDisjoint(with: ["staticmethod", "classmethod"])
        if isInstanceMethod, let t = extensionType, fn.params[0].type == nil {
            params[0].type = TypeRef(name: t, pointers: 1)
        }
        var w = FunctionWalker(x: self, name: qualified, className: className, params: params,
                               pos: Pos(line: fn.pos.line, column: fn.pos.column),
                               callable: fn.kind != .cdef)
        w.function.isStatic = fn.kind == .cdef
        if isInstanceMethod { w.function.extensionType = extensionType }
        if fn.nogil { w.function.attributes.append("nogil") }
        // `@cython.critical_section` holds the critical section of the first argument (`self`)
        // for the whole body
        if language == .cython, !params.isEmpty,
           !decorators.isDisjoint(with: ["cython.critical_section", "critical_section", "cython.critical_section()"]) {
            w.openRegion(.criticalSection, at: fn.pos, opener: "@cython.critical_section", subject: w.resolve(params[0].name))
        }
        w.block(fn.body, topLevel: false)
        w.finish(endLine: fn.endLine)
        return (w.function, w.threadTargets)
    }

    mutating func visitNested(_ body: [PyStmt], className: String?) {
        for s in body {
            switch s.kind {
            case .function(let f): addFunction(f, className: nil)
            case .classDef(let c): visitDefinitions(c.body, className: c.name)
            case .ifStmt(let branches, let orelse):
                for b in branches { visitNested(b.body, className: className) }
                visitNested(orelse, className: className)
            case .whileStmt(_, let body, _), .forStmt(_, _, let body, _), .with(_, let body):
                visitNested(body, className: className)
            case .tryStmt(let b, let hs, let o, let f):
                visitNested(b, className: className)
                for h in hs { visitNested(h.body, className: className) }
                visitNested(o, className: className)
                visitNested(f, className: className)
            default: break
            }
        }
    }

    /// `a.b.c` as text; other expressions as `?`.
    /// Deeper chains are cut to `…` (a chain of thousands of links would make each level's text,
    /// and so the whole walk, quadratic).
    static func render(_ e: PyExpr, depth: Int = 0) -> String {
        guard depth < 32 else { return "…" }
        switch e {
        case .name(let n, _): return n
        case .attribute(let b, let n, _): return render(b, depth: depth + 1) + "." + n
        case .call(let f, _, _): return render(f, depth: depth + 1) + "()"
        case .subscript(let b, _, _): return render(b, depth: depth + 1) + "[...]"
        case .cast(_, let v, _): return render(v, depth: depth + 1)
        default: return "?"
        }
    }
}

/// Walks one Python/Cython function body.
struct FunctionWalker {
    let x: PyExtractor
    var function: FunctionFacts
    let className: String?
    var paramIndex: [String: Int] = [:]
    var threadTargets: [ThreadTarget] = []
    var open: [Int] = []
    /// Modules imported inside this function (`import traceback` in a body).
    var localModules: [String: String] = [:]

    func moduleAlias(_ name: String) -> String? { localModules[name] ?? x.moduleAliases[name] }

    init(x: PyExtractor, name: String, className: String?, params: [ParamFact], pos: Pos, callable: Bool) {
        self.x = x
        self.className = className
        function = FunctionFacts(name: name, file: x.file.path, pos: pos, isStatic: !callable,
                                 returnType: TypeRef(name: "object"), params: params, locals: [:], regions: [],
                                 calls: [], ops: [], functionRefs: [], endPos: pos, language: x.language)
        if callable { function.attributes.append("python-callable") }
        for (i, p) in params.enumerated() { paramIndex[p.name] = i }
    }

    mutating func finish(endLine: Int) {
        function.endPos = Pos(line: max(endLine, Int(function.pos.line)), column: 1)
        for r in open { function.regions[r].end = function.endPos }
        open.removeAll()
    }

    func pos(_ p: PyPos) -> Pos { Pos(line: p.line, column: p.column) }

    // MARK: names

    func resolve(_ name: String) -> AccessPath {
        if let k = paramIndex[name] {
            return AccessPath(root: .param(k), name: name, rootType: function.params[k].type, text: name)
        }
        if let t = function.locals[name] {
            return AccessPath(root: .local, name: name, rootType: t, text: name)
        }
        return AccessPath(root: .global, name: name, rootType: nil, text: name)
    }

    func isLocal(_ name: String) -> Bool { paramIndex[name] != nil || function.locals[name] != nil }

    // MARK: statements

    mutating func block(_ body: [PyStmt], topLevel: Bool) {
        for s in body { statement(s, topLevel: topLevel) }
    }

    mutating func statement(_ s: PyStmt, topLevel: Bool) {
        switch s.kind {
        case .expr(let e):
            _ = eval(e)
        case .assign(let targets, let value):
            let v = eval(value)
            for t in targets { bind(t, v, at: s.pos) }
        case .augAssign(let target, _, let value):
            _ = eval(value)
            _ = eval(target)
        case .declare(let names, let type, let values):
            for (i, n) in names.enumerated() {
                if !topLevel { function.locals[n] = PyExtractor.typeRef(type) }
                if i < values.count, let e = values[i] {
                    let v = eval(e)
                    bind(.name(n, s.pos), v, at: s.pos)
                }
            }
        case .ret(let e):
            let v = e.map { eval($0) } ?? .null
            function.ops.append(.ret(v, pos: pos(s.pos)))
        case .ifStmt(let branches, let orelse), .compileTimeIf(let branches, let orelse):
            for b in branches {
                _ = eval(b.test)
                if let last = b.body.last, Self.leaves(last), let g = exitGuard(b.test, at: s.pos) {
                    function.exitGuards.append(g)
                }
                block(b.body, topLevel: topLevel)
            }
            block(orelse, topLevel: topLevel)
        case .whileStmt(let test, let body, let orelse):
            _ = eval(test)
            block(body, topLevel: topLevel)
            block(orelse, topLevel: topLevel)
        case .forStmt(let target, let iter, let body, let orelse):
            let it = eval(iter)
            bind(target, .offset(it), at: s.pos)
            block(body, topLevel: topLevel)
            block(orelse, topLevel: topLevel)
        case .with(let items, let body):
            var opened = 0
            for item in items {
                if case .name(let n, let p) = item.context, n == "nogil" || n == "gil" {
                    openRegion(n == "nogil" ? .gilReleased : .gilHeldAgain, at: p, opener: "with \(n)")
                    opened += 1
                    continue
                }
                if x.language == .cython, let (kind, subjects) = lockContext(item.context) {
                    let v = eval(item.context)
                    if let t = item.target { bind(t, v, at: s.pos) }
                    openRegion(kind, at: item.context.pos, opener: "with \(PyExtractor.render(item.context))",
                               subject: subjects.first, subject2: subjects.count > 1 ? subjects[1] : nil)
                    opened += 1
                    continue
                }
                let v = eval(item.context)
                if let t = item.target { bind(t, v, at: s.pos) }
            }
            block(body, topLevel: topLevel)
            let end = Self.lastPos(body) ?? s.pos
            for _ in 0..<opened { closeRegion(at: end) }
        case .tryStmt(let body, let handlers, let orelse, let fin):
            block(body, topLevel: topLevel)
            for h in handlers {
                if let n = h.name, !topLevel { function.locals[n] = TypeRef(name: "BaseException") }
                block(h.body, topLevel: topLevel)
            }
            block(orelse, topLevel: topLevel)
            block(fin, topLevel: topLevel)
        case .raise(let e):
            if let e { _ = eval(e) }
        case .delete(let es):
            for e in es { _ = eval(e) }
        case .function(let fn):
            // a nested function is a value in this scope (it may be passed as a thread target)
            if !topLevel { function.locals[fn.name] = TypeRef(name: "function") }
        case .importModules(let names, _):
            for n in names {
                let local = n.alias ?? String(n.name.split(separator: ".").first ?? Substring(n.name))
                localModules[local] = n.alias == nil ? local : n.name
            }
        case .importFrom(let module, let names, _):
            for n in names { localModules[n.alias ?? n.name] = module.isEmpty ? n.name : module + "." + n.name }
        default:
            break
        }
    }

    /// A statement that leaves the function: `raise …`, `return …`.
    static func leaves(_ s: PyStmt) -> Bool {
        switch s.kind {
        case .raise, .ret: true
        default: false
        }
    }

    /// A test of an attribute of a parameter or local (`self._running == 1`, `self.closed`,
    /// `self._state is True`) that an `if` leaves the function on: a state guard.
    func exitGuard(_ test: PyExpr, at p: PyPos) -> ExitGuard? {
        func attributePlace(_ e: PyExpr) -> AccessPath? {
            guard case .attribute(.name(let n, _), let attr, _) = e, isLocal(n) else { return nil }
            var path = resolve(n)
            path.fields.append(attr)
            path.text = PyExtractor.render(e)
            return path
        }
        switch test {
        case .attribute:
            return attributePlace(test).map { ExitGuard(place: $0, value: nil, pos: pos(p)) }
        case .binary(let op, let l, let r, _) where op == "==" || op == "is":
            guard let place = attributePlace(l) else { return nil }
            switch r {
            case .literal(let v, _): return ExitGuard(place: place, value: v, pos: pos(p))
            case .name(let v, _) where v == "True" || v == "False": return ExitGuard(place: place, value: v, pos: pos(p))
            case .name(let v, _) where !isLocal(v): return ExitGuard(place: place, value: v, pos: pos(p))
            default: return nil
            }
        default:
            return nil
        }
    }

    static func lastPos(_ body: [PyStmt]) -> PyPos? {
        guard let last = body.last else { return nil }
        switch last.kind {
        case .ifStmt(let bs, let o):
            return lastPos(o) ?? bs.last.flatMap { lastPos($0.body) } ?? last.pos
        case .forStmt(_, _, let b, _), .whileStmt(_, let b, _), .with(_, let b):
            return lastPos(b) ?? last.pos
        case .tryStmt(let b, let hs, let o, let f):
            return lastPos(f) ?? lastPos(o) ?? hs.last.flatMap { lastPos($0.body) } ?? lastPos(b) ?? last.pos
        default:
            return last.pos
        }
    }

    mutating func openRegion(_ kind: RegionKind, at p: PyPos, opener: String, subject: AccessPath? = nil,
                             subject2: AccessPath? = nil) {
        function.regions.append(RegionFact(kind: kind, subject: subject, subjects2: subject2, begin: pos(p), end: pos(p),
                                           opener: opener))
        open.append(function.regions.count - 1)
    }

    /// A Cython `with` item that holds a lock for its block: `cython.critical_section(a[, b])`
    /// (the objects' critical sections), or a lock object named by a place (`with self._lock:`,
    /// a `threading.Lock`/`RLock` or a `PyThread` lock held in a field or global: a mutex by place).
    func lockContext(_ e: PyExpr) -> (RegionKind, [AccessPath])? {
        switch e {
        case .call(let f, let args, _):
            let callee = PyExtractor.render(f)
            guard callee == "cython.critical_section" || callee == "critical_section", !args.isEmpty,
                  args.count <= 2 else { return nil }
            let subjects = args.compactMap { a -> AccessPath? in
                if case .name(let n, _) = a.value { return resolve(n) }
                return nil
            }
            guard subjects.count == args.count else { return (.criticalSection, []) }
            return (subjects.count == 2 ? .criticalSection2 : .criticalSection, subjects)
        case .name(let n, _):
            guard Self.namesALock(n) else { return nil }
            return (.mutex, [resolve(n)])
        case .attribute(_, let n, _):
            guard Self.namesALock(n), Self.isDottedName(e) else { return nil }
            var p = resolve(Self.dottedParts(e).first!)
            p.fields = Array(Self.dottedParts(e).dropFirst())
            p.text = PyExtractor.render(e)
            return (.mutex, [p])
        default:
            return nil
        }
    }

    /// A name that says it holds a lock: `_lock`, `lock`, `_mutex`, `write_lock`, `rlock`.
    static func namesALock(_ name: String) -> Bool {
        let n = name.lowercased()
        return n.hasSuffix("lock") || n.hasSuffix("mutex") || n.hasPrefix("lock_") || n.hasPrefix("_lock")
    }

    mutating func closeRegion(at p: PyPos) {
        guard let r = open.popLast() else { return }
        function.regions[r].end = Pos(line: p.line + 1, column: 0)
    }

    /// Assigns a value to a target: a name, an attribute, a subscript, or a tuple to unpack.
    mutating func bind(_ target: PyExpr, _ v: Value, at p: PyPos) {
        switch target {
        case .name(let n, let np):
            if function.locals[n] == nil, paramIndex[n] == nil, !function.name.hasPrefix("<module") {
                function.locals[n] = TypeRef(name: "object")
            }
            let path = resolve(n)
            function.ops.append(.assign(target: path, value: v, pos: pos(np), regions: open))
            noteFunctionRef(v, .store(path), at: np)
        case .collection(let es, _):
            for e in es { bind(e, .offset(v), at: p) }
        case .starred(let e, _):
            bind(e, .offset(v), at: p)
        case .attribute, .subscript:
            if let path = place(target) {
                function.ops.append(.assign(target: path, value: v, pos: pos(target.pos), regions: open))
                noteFunctionRef(v, .store(path), at: target.pos)
            }
        default:
            _ = eval(target)
        }
    }

    mutating func noteFunctionRef(_ v: Value, _ dest: FunctionRef.Destination, at p: PyPos) {
        guard case .path(let ap) = v.stripped, ap.root == .global, ap.fields.isEmpty else { return }
        function.functionRefs.append(FunctionRef(name: ap.name, destination: dest, pos: pos(p)))
    }

    /// The place an attribute/subscript expression names (evaluating its base).
    mutating func place(_ e: PyExpr) -> AccessPath? {
        switch e {
        case .name(let n, _):
            return resolve(n)
        case .attribute(let b, let name, _):
            let base = eval(b)
            // a place 16 attributes deep is past anything a rule follows; longer chains stay
            // unnamed so that each level does not copy the whole path (quadratic in the chain)
            guard var p = placeOf(base), p.fields.count < 16 else { return nil }
            p.fields.append(name)
            p.text = PyExtractor.render(e)
            return p
        case .subscript(let b, let idx, _):
            _ = eval(idx)
            let base = eval(b)   // evaluate first: a method call captures `self` before its arguments
            return placeOf(base)
        default:
            return nil
        }
    }

    func placeOf(_ v: Value) -> AccessPath? {
        switch v {
        case .path(let p): return p
        case .cast(_, let i), .offset(let i): return placeOf(i)
        case .call(let c):
            let name = function.calls[c].callee ?? "(call)"
            return AccessPath(root: .unknown, name: "\(name)()", rootType: nil, text: "\(name)(...)")
        default: return nil
        }
    }

    // MARK: expressions

    mutating func eval(_ e: PyExpr) -> Value {
        switch e {
        case .name(let n, let p):
            if n == "None" { return .null }
            // Cython's null pointer (`self.handle = NULL` after a destructor marks it dead)
            if n == "NULL", x.language == .cython { return .null }
            if n == "True" || n == "False" { return .literal(n) }
            let path = resolve(n)
            if path.root == .global, x.moduleGlobals.contains(n) {
                function.ops.append(.read(path, pos: pos(p), regions: open))
            }
            return .path(path)
        case .attribute(_, let name, let p):
            // module attribute (`sys.maxsize`) or object attribute (`frame.f_back`)
            guard var path = place(e) else { return .unknown }
            path.text = PyExtractor.render(e)
            if path.root == .global, path.fields.count == 1, moduleAlias(path.name) != nil, !isLocal(path.name) {
                return .path(path)  // a module's attribute
            }
            _ = name
            function.ops.append(.read(path, pos: pos(p), regions: open))
            return .path(path)
        case .subscript(let b, let idx, _):
            let base = eval(b)
            _ = eval(idx)
            return .offset(base)
        case .call(let f, let args, let p):
            return call(f, args, at: p)
        case .cast(let type, let v, _):
            let inner = eval(v)
            return .cast(PyExtractor.typeRef(type), inner)
        case .literal(let t, _):
            return t.hasPrefix("\"") || t.hasPrefix("'") ? .string : .literal(t)
        case .collection(let es, _):
            // a tuple/list/dict holds its elements: their origins flow through it
            var vals: [Value] = []
            for el in es { vals.append(eval(el)) }
            return vals.isEmpty ? .unknown : .choice(vals)
        case .comprehension(let element, let target, let iter, let p):
            let it = eval(iter)
            bind(target, .offset(it), at: p)
            let el = eval(element)
            return .offset(el)
        case .lambda(_, let body, _):
            _ = body
            return .unknown
        case .binary(let op, let l, let r, _):
            // comparing a C pointer with NULL reads the pointer, not the memory it points to
            // (`if self.buf is NULL`): not a use, as in C
            if op == "==" || op == "!=" || op == "is" || op == "is not" {
                if case .name("NULL", _) = r, case .attribute = l { _ = place(l); return .unknown }
                if case .name("NULL", _) = l, case .attribute = r { _ = place(r); return .unknown }
            }
            _ = eval(l)
            _ = eval(r)
            return .unknown
        case .unary(let op, let v, _):
            if op == "&", let p = place(v) { return .addressOf(p) }
            let inner = eval(v)
            return op == "*" ? .offset(inner) : .unknown
        case .conditional(let test, let body, let orelse, _):
            _ = eval(test)
            let a = eval(body)
            let b = eval(orelse)
            return .choice([a, b])
        case .starred(let v, _), .await(let v, _):
            return eval(v)
        case .unknown:
            return .unknown
        }
    }

    /// A call: C-API names (also Python spellings such as `sys._current_frames`), functions of
    /// the analyzed code, methods on `self`, element accessors, thread starts.
    mutating func call(_ f: PyExpr, _ args: [PyArg], at p: PyPos) -> Value {
        var callee: String?
        var receiver: Value?
        var methodName: String?
        // the callee as written, rendered once (`sys._current_frames`, `self.m`)
        let calleeText = PyExtractor.render(f)
        func firstName(_ dotted: String) -> String { String(dotted[..<(dotted.firstIndex(of: ".") ?? dotted.endIndex)]) }
        switch f {
        case .name(let n, _):
            if isLocal(n) {
                receiver = .path(resolve(n))
            } else {
                callee = n
            }
        case .attribute(let b, let name, _):
            methodName = name
            let dotted = calleeText
            let head = firstName(dotted)
            // `mod.f()` names a module function only when the base is a plain dotted name:
            // in `sys._current_frames().items()` the base is a call, the method's receiver
            if Self.isDottedName(b), let module = moduleAlias(head), !isLocal(head) {
                let full = ([module] + dotted.split(separator: ".").dropFirst().map(String.init)).joined(separator: ".")
                callee = PythonAPI.aliases[full] ?? (CAPI.lookup(full) != nil || PythonAPI.identityCasts.contains(full) ? full : name)
            } else if case .name(let recv, _) = b, recv == "self" || recv == "cls", let c = className {
                callee = "\(c).\(name)"
                receiver = eval(b)
            } else {
                receiver = eval(b)
            }
        default:
            receiver = eval(f)
        }
        var values: [Value] = []
        var texts: [String] = []
        var keywords: [String: Value] = [:]
        // `self.m(x)` calls `C.m(self, x)`: the receiver is the method's first parameter
        let passesReceiver = callee.map { c in className.map { c.hasPrefix($0 + ".") } ?? false } ?? false
        if passesReceiver, let r = receiver {
            values.append(r)
            texts.append(calleeText.isEmpty ? "self" : firstName(calleeText))
        }
        for a in args {
            let v = eval(a.value)
            if let n = a.name { keywords[n] = v } else { values.append(v) }
            texts.append(PyExtractor.render(a.value))
        }
        // `typing.cast(T, x)` is `x`
        if let c = callee, PythonAPI.identityCasts.contains(c) || (c == "cast" && castIsTyping), values.count == 2 {
            return .cast(TypeRef(name: texts[0]), values[1])
        }
        // element accessors and copying builtins keep the receiver's origins
        if callee == nil, let m = methodName, PythonAPI.elementMethods.contains(m), let r = receiver { return .offset(r) }
        if let c = callee, PythonAPI.elementBuiltins.contains(c), let first = values.first { return .offset(first) }
        // thread starts: threading.Thread(target=f), executor.submit(f, ...)
        if calleeText.hasSuffix("Thread"), let t = keywords["target"] { noteThreadTarget(t, how: "\(calleeText)(target=...)", at: p) }
        if methodName == "submit" || calleeText == "_thread.start_new_thread" || calleeText.hasSuffix("start_new_thread"),
           let t = values.dropFirst(passesReceiver ? 1 : 0).first { noteThreadTarget(t, how: "\(calleeText)(...)", at: p) }
        let fact = CallFact(callee: callee, target: callee == nil ? nil : nil, args: values, argTexts: texts, pos: pos(p),
                            regions: open, guards: [], resultUse: .used)
        function.calls.append(fact)
        function.ops.append(.call(function.calls.count - 1))
        // Cython calling the C API's lock functions (`PyThread_acquire_lock(self.lock, WAIT_LOCK)`,
        // `pthread_mutex_lock(&self.mu)`): a mutex held until the matching release, as in C
        if x.language == .cython, let c = callee, let api = CAPI.lookup(c) {
            let subject: AccessPath? = api.argument.flatMap { i in
                guard i < values.count else { return nil }
                switch values[i].stripped {
                case .path(let q), .addressOf(let q): return q
                default: return nil
                }
            }
            if api.effects.contains(.locks) {
                openRegion(.mutex, at: p, opener: c, subject: subject)
            } else if api.effects.contains(.unlocks),
                      let k = open.lastIndex(where: { function.regions[$0].kind == .mutex
                          && (subject == nil || function.regions[$0].subject?.key == subject?.key) }) {
                function.regions[open[k]].end = Pos(line: p.line + 1, column: 0)
                open.remove(at: k)
            }
        }
        if let c = callee {
            for (i, v) in values.enumerated() { noteFunctionRef(v, .argument(callee: c, index: i), at: p) }
        }
        return .call(function.calls.count - 1)
    }

    /// `a`, `a.b`, `a.b.c`: a name path with no call or subscript in it.
    static func isDottedName(_ e: PyExpr) -> Bool {
        switch e {
        case .name: return true
        case .attribute(let b, _, _): return isDottedName(b)
        default: return false
        }
    }

    /// `a.b.c` → ["a", "b", "c"] (for a dotted name).
    static func dottedParts(_ e: PyExpr) -> [String] {
        switch e {
        case .name(let n, _): return [n]
        case .attribute(let b, let n, _): return dottedParts(b) + [n]
        default: return ["?"]
        }
    }

    /// `cast` was imported from `typing` (or `typing_extensions`).
    var castIsTyping: Bool {
        guard let m = moduleAlias("cast") else { return false }
        return m == "typing.cast" || m == "typing_extensions.cast"
    }

    mutating func noteThreadTarget(_ v: Value, how: String, at p: PyPos) {
        guard let path = v.path else { return }
        var name: String?
        if path.name == "self", path.fields.count == 1, let c = className { name = "\(c).\(path.fields[0])" }
        if path.fields.isEmpty { name = path.name }
        guard let n = name else { return }
        threadTargets.append(ThreadTarget(function: n, how: how, pos: pos(p)))
    }
}

