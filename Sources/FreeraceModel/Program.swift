import Foundation
import FreeraceSyntax

/// Who may run a function, ordered from most to least constrained.
/// module-init (once, at import) < teardown (last reference: dealloc, finalize, m_free) < any thread.
public enum ThreadContext: Int, Sendable, Codable, Comparable {
    case moduleInit = 0
    case teardown = 1
    case anyThread = 2
    public static func < (a: ThreadContext, b: ThreadContext) -> Bool { a.rawValue < b.rawValue }

    public var label: String {
        switch self {
        case .moduleInit: "module initialization"
        case .teardown: "teardown (last reference)"
        case .anyThread: "any thread"
        }
    }
}

/// A function the runtime (or another thread) can call directly.
public struct EntryPoint: Sendable, Codable {
    public enum Kind: String, Sendable, Codable {
        case method, getter, setter, slot, moduleMethod, moduleExec, moduleInit, dealloc, gc, constructor
        case callback, threadBody, destroyCallback, exitCallback, exported, pythonCallable
    }
    public var function: Int
    public var kind: Kind
    public var context: ThreadContext
    /// Canonical struct name of `self`, when known.
    public var selfType: String?
    /// How a user reaches it: `MultiDict.getall()`, `tp_iternext of _ItemsIter`, `eval-frame hook`.
    public var label: String
    /// The table or call that registered it.
    public var origin: Location?
    /// The Python type it belongs to (`MultiDict`), when it is a method or slot.
    public var pyType: String? = nil
    /// How Python code triggers it: `getall`, `__next__`, `__getitem__`, `x` (attribute).
    public var pythonSpelling: String? = nil

    /// An initializer (`__init__`, `tp_init`): it works on an object no other thread has yet.
    public var initializesItsObject: Bool { pythonSpelling == "__init__" }

    /// Python spelling of a type slot (`tp_iternext` → `__next__`).
    public static func dunder(_ slot: String) -> String? {
        let map: [String: String] = [
            "tp_iternext": "__next__", "tp_iter": "__iter__", "tp_repr": "__repr__", "tp_str": "__str__",
            "tp_hash": "__hash__", "tp_call": "__call__", "tp_richcompare": "__eq__", "tp_init": "__init__",
            "tp_getattro": "__getattribute__", "tp_setattro": "__setattr__", "tp_descr_get": "__get__",
            "tp_descr_set": "__set__", "mp_length": "__len__", "sq_length": "__len__",
            "mp_subscript": "__getitem__", "sq_item": "__getitem__", "mp_ass_subscript": "__setitem__",
            "sq_ass_item": "__setitem__", "sq_contains": "__contains__", "sq_concat": "__add__", "nb_add": "__add__",
            "nb_subtract": "__sub__", "nb_and": "__and__", "nb_or": "__or__", "nb_xor": "__xor__",
            "nb_bool": "__bool__", "nb_inplace_add": "__iadd__", "nb_inplace_or": "__ior__", "am_await": "__await__",
            "am_aiter": "__aiter__", "am_anext": "__anext__", "bf_getbuffer": "__buffer__",
        ]
        return map[slot]
    }
}

/// A module, with what it declares about the GIL.
public struct ModuleInfo: Sendable, Codable {
    public var name: String
    public var file: String
    /// The module declares free-threading support.
    public var gilFree: Bool
    /// Where and how it declares it (for the report).
    public var declaration: String?
}

/// All files merged: symbols, types, tables, entry points and the call graph.
public struct Program: Sendable {
    public var files: [FileFacts]
    public var functions: [FunctionFacts] = []
    public var functionsByName: [String: [Int]] = [:]
    public var structs: [String: StructFacts] = [:]
    public var typedefs: [String: TypeRef] = [:]
    public var globals: [String: GlobalFacts] = [:]
    public var entryPoints: [EntryPoint] = []
    /// Function-like macros of the project that forward their arguments to a function.
    public var forwardingMacros: [String: String] = [:]
    public var modules: [ModuleInfo] = []
    /// file path → index into `modules`.
    public var moduleOfFile: [String: Int] = [:]
    /// Resolved direct and indirect callees of each call site: `callTargets[f][callIndex]`.
    public var callTargets: [[[Int]]] = []
    /// The strongly connected components of the call graph: `sccOf[f]` indexes `sccs`, and
    /// `sccs` is in callee-first order (every component comes after the ones it calls).
    public var sccOf: [Int] = []
    /// Object types confined to one thread: installed as the calling thread's trace or profile
    /// object (`PyEval_SetTrace(callback, (PyObject *)self)`). Their callbacks and methods run
    /// on their owning thread, so they do not race with each other on the same object.
    public var threadConfinedTypes: Set<String> = []
    /// C++ classes held by Python objects (`findObjectHeldClasses`).
    public var objectHeldClasses: Set<String> = []
    /// Names of the project's macros whose value is a new object (`FileFacts.allocMacros`).
    public var allocMacros: Set<String> = []
    public var sccs: [[Int]] = []
    public var callers: [[(function: Int, call: Int)]] = []
    /// Functions stored into a place (owner.field or global), keyed by `placeKey`.
    public var storedFunctions: [String: [(function: Int, ref: FunctionRef, from: Int)]] = [:]
    public var includesOf: [String: Set<String>] = [:]
    /// Include closure of each file (computed once).
    public var closures: [String: Set<String>] = [:]
    /// Lock handles (`Owner.field` place keys of a `PyThread_type_lock` or a pointer) that some
    /// function locks but nothing in the project creates: no store of a value other than NULL,
    /// no call given the field's address. A region on one holds nothing (`findNeverCreatedLocks`).
    public var neverCreatedLocks: Set<String> = []
    public let target: AnalysisTarget
    /// Files read for another target than `target` (a nearer configuration file sets it).
    public var fileTargets: [String: AnalysisTarget] = [:]

    public init(files: [FileFacts], target: AnalysisTarget) {
        self.files = files
        self.target = target
        build()
    }

    // MARK: building

    private mutating func build() {
        for f in files {
            for s in f.structs {
                // a Cython extension type declared in a `.pxd` (its attributes) and defined in the
                // `.pyx` (more attributes, or none): one object struct with the fields of both
                if !s.name.isEmpty, s.isPythonObject, var old = structs[s.name], old.isPythonObject, !old.fields.isEmpty {
                    for fld in s.fields where !old.fields.contains(where: { $0.name == fld.name }) {
                        if fld.name == Self.baseField { old.fields.insert(fld, at: 0) } else { old.fields.append(fld) }
                    }
                    structs[s.name] = old
                    continue
                }
                if !s.name.isEmpty, structs[s.name] == nil || structs[s.name]!.fields.isEmpty { structs[s.name] = s }
                for t in s.typedefNames where structs[t] == nil || structs[t]!.fields.isEmpty { structs[t] = s }
            }
            for (k, v) in f.typedefs where typedefs[k] == nil { typedefs[k] = v }
            allocMacros.formUnion(f.allocMacros)
            for (k, v) in f.forwardingMacros where forwardingMacros[k] == nil { forwardingMacros[k] = v }
            for g in f.globals {
                if let old = globals[g.name], old.initializer != nil, g.initializer == nil { continue }
                globals[g.name] = g
            }
            for fn in f.functions {
                functionsByName[fn.name, default: []].append(functions.count)
                functions.append(fn)
            }
        }
        inheritPythonObjectLayout()
        findObjectHeldClasses()
        findThreadConfinedTypes()
        buildIncludes()
        buildCallGraph()
        buildModules()
        buildEntryPoints()
        findNeverCreatedLocks()
    }

    /// A lock handle is created by a store (`self->lock = PyThread_allocate_lock()`) or by a call
    /// given its address (`lock_init(&self->lock)`). A handle the project locks (a mutex region,
    /// also through a lock wrapper) only after testing that it exists (`if (self->lock)
    /// PyThread_acquire_lock(self->lock, …)`), and never creates, is NULL wherever it is taken:
    /// the region protects nothing. A lock held by value (`PyMutex`, `pthread_mutex_t`) needs no
    /// creation and is never counted; a lock taken without the test must exist, by a creation
    /// the analysis does not see, and is not judged.
    private mutating func findNeverCreatedLocks() {
        var candidates = Set<String>()
        for fn in functions {
            for reg in fn.regions where reg.kind == .mutex {
                guard let subject = reg.subject, let last = subject.fields.last, let owner = lastOwner(subject),
                      let t = fieldType(owner, last), Self.isLockHandle(t) else { continue }
                candidates.insert("\(owner).\(last)")
            }
        }
        guard !candidates.isEmpty else { return }
        func key(_ p: AccessPath) -> String? {
            guard let last = p.fields.last, let owner = lastOwner(p) else { return nil }
            let k = "\(owner).\(last)"
            return candidates.contains(k) ? k : nil
        }
        // only a lock every acquisition tests first (`if (self->lock) PyThread_acquire_lock(self->lock, …)`):
        // code that takes it unconditionally relies on a creation this analysis does not see
        for fn in functions {
            for call in fn.calls {
                guard let name = call.callee, let api = CAPI.lookup(name), api.effects.contains(.locks),
                      let a = api.argument, a < call.args.count, let p = call.args[a].path, let k = key(p) else { continue }
                if !call.guards.contains(where: { key($0) == k }) { candidates.remove(k) }
            }
        }
        var created = Set<String>()
        for fn in functions {
            for op in fn.ops {
                guard case .assign(let t, let v, _, _) = op, let k = key(t) else { continue }
                switch v.stripped {
                case .null: continue
                case .literal(let l) where l == "0": continue
                default: created.insert(k)
                }
            }
            for call in fn.calls {
                for a in call.args {
                    if case .addressOf(let p) = a.stripped, let k = key(p) { created.insert(k) }
                }
            }
        }
        neverCreatedLocks = candidates.subtracting(created)
    }

    /// A lock that must be created before use: CPython's `PyThread_type_lock` (an opaque pointer)
    /// or a pointer to a lock.
    static func isLockHandle(_ t: TypeRef) -> Bool {
        (t.name == "PyThread_type_lock" && t.pointers == 0) || (t.pointers >= 1 && !t.isFunctionPointer)
    }

    /// A struct whose first member is a Python object by value (`PyCMethodObject func;` in a
    /// subclass of builtin functions, `MyBase base;` in a subtype of one's own type) is a Python
    /// object too: CPython's layout inheritance. Resolved to a fixpoint over the project's structs.
    private mutating func inheritPythonObjectLayout() {
        for _ in 0..<8 {
            var changed = false
            for (name, s) in structs where !s.isPythonObject {
                guard let first = s.fields.first, first.type.pointers == 0, !first.type.isArray else { continue }
                let base = first.type.name
                if Self.cpythonObjectStructs.contains(base) || (base != name && structFor(base)?.isPythonObject == true) {
                    var t = s
                    t.isPythonObject = true
                    structs[name] = t
                    changed = true
                }
            }
            if !changed { break }
        }
    }

    /// C++ classes whose objects a Python object holds (a pointer or value member of an object
    /// struct, `Registry *reg;`, and the classes those hold in turn, a few levels deep): the
    /// implementation behind an extension type. Their members are as shared as the object.
    private mutating func findObjectHeldClasses() {
        var frontier: [String] = structs.values.filter(\.isPythonObject).flatMap { $0.fields.map(\.type.name) }
        for _ in 0..<4 where !frontier.isEmpty {
            var next: [String] = []
            for name in frontier {
                guard let s = structFor(name), !s.isPythonObject, !s.methods.isEmpty else { continue }
                let canon = canonicalType(name)
                guard objectHeldClasses.insert(canon).inserted else { continue }
                next += s.fields.map(\.type.name)
            }
            frontier = next
        }
    }

    private mutating func findThreadConfinedTypes() {
        for fn in functions {
            for call in fn.calls {
                guard let name = call.callee, let api = CAPI.lookup(name), api.effects.contains(.installsThreadCallback),
                      let k = api.argument2, k < call.args.count else { continue }
                var v = call.args[k]
                var type: TypeRef?
                while true {
                    if case .cast(let t, let inner) = v {
                        if t.name != "PyObject" && t.name != "void" { type = t }
                        v = inner
                    } else { break }
                }
                if type == nil, let p = v.path {
                    if p.fields.isEmpty { type = p.rootType } else if let o = lastOwner(p) { type = fieldType(o, p.fields.last!) }
                }
                if let t = type, t.name != "PyObject", t.name != "void" { threadConfinedTypes.insert(canonicalType(t.name)) }
            }
        }
    }

    /// CPython's object structs that an extension type can extend by embedding one first.
    static let cpythonObjectStructs: Set<String> = [
        "PyObject", "PyVarObject", "PyListObject", "PyDictObject", "PyTupleObject", "PyTypeObject",
        "PyHeapTypeObject", "PySetObject", "PyBaseExceptionObject", "PyUnicodeObject", "PyLongObject",
        "PyBytesObject", "PyFloatObject", "PyByteArrayObject", "PyCFunctionObject", "PyCMethodObject",
        "PyModuleObject", "PyOSErrorObject", "PyImportErrorObject", "PySyntaxErrorObject", "PyComplexObject",
        "PyFunctionObject", "PyMethodObject", "PyDescrObject", "PyMethodDescrObject", "PyGetSetDescrObject",
    ]

    /// Resolves each `#include` to one file: relative to the including file's directory if it is
    /// there, else the candidate whose path shares the longest prefix with the includer (an
    /// include is one file, not every file of that name in the tree).
    private mutating func buildIncludes() {
        var byBase: [String: [String]] = [:]
        for f in files { byBase[Self.baseName(f.path), default: []].append(f.path) }
        for f in files {
            var set = Set<String>()
            let dir = Self.directory(of: f.path)
            for inc in f.includes where !inc.isEmpty {
                let cands = (byBase[Self.baseName(inc)] ?? []).filter { $0.hasSuffix("/" + inc) || $0 == inc }
                guard !cands.isEmpty else { continue }
                let local = dir.isEmpty ? inc : dir + "/" + inc
                if cands.contains(local) {
                    set.insert(local)
                } else if let best = cands.max(by: { Self.commonPrefix($0, f.path) < Self.commonPrefix($1, f.path) }) {
                    set.insert(best)
                }
            }
            includesOf[f.path] = set
        }
        for f in files { closures[f.path] = computeClosure(f.path) }
    }

    static func baseName(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return path }
        return String(path[path.index(after: slash)...])
    }

    static func commonPrefix(_ a: String, _ b: String) -> Int {
        var n = 0
        for (x, y) in zip(a.utf8, b.utf8) {
            if x != y { break }
            n += 1
        }
        return n
    }

    private func computeClosure(_ path: String) -> Set<String> {
        var seen: Set<String> = [path]
        var stack = [path]
        while let p = stack.popLast() {
            for q in includesOf[p] ?? [] where seen.insert(q).inserted { stack.append(q) }
        }
        return seen
    }

    /// Files reachable by `#include` from `path` (transitively), including itself.
    public func includeClosure(_ path: String) -> Set<String> {
        closures[path] ?? computeClosure(path)
    }

    /// Picks the definition a call from `file` most likely reaches.
    public func resolveFunction(_ name: String, from file: String, methods: Bool = false) -> Int? {
        guard var cands = functionsByName[name], !cands.isEmpty else { return nil }
        if !methods, cands.contains(where: { functions[$0].thisIndex != nil }) {
            cands = cands.filter { functions[$0].thisIndex == nil }
            if cands.isEmpty { return nil }
        }
        if cands.count == 1 { return cands[0] }
        if let same = cands.first(where: { functions[$0].file == file }) { return same }
        let closure = includeClosure(file)
        if let inc = cands.first(where: { closure.contains(functions[$0].file) }) { return inc }
        if let ext = cands.first(where: { !functions[$0].isStatic }) { return ext }
        return cands[0]
    }

    /// Key for a place that can hold a function pointer: `Owner.field` or a global name.
    public func placeKey(_ p: AccessPath) -> String? {
        if p.fields.isEmpty { return p.root == .global ? p.name : nil }
        let owners = self.owners(of: p)
        if let o = owners.last ?? nil { return "\(o).\(p.fields.last!)" }
        return "?.\(p.fields.last!)"
    }

    /// Tarjan's algorithm, iteratively (call chains thousands deep must not recurse on the stack).
    /// Components come out callee-first.
    private mutating func buildComponents() {
        let n = functions.count
        var index = [Int](repeating: -1, count: n)
        var low = [Int](repeating: 0, count: n)
        var onStack = [Bool](repeating: false, count: n)
        var stack: [Int] = []
        var next = 0
        sccOf = [Int](repeating: -1, count: n)
        sccs = []
        let succ: [[Int]] = callTargets.map { Array(Set($0.flatMap { $0 })).sorted() }
        for root in 0..<n where index[root] < 0 {
            var work: [(node: Int, edge: Int)] = [(root, 0)]
            index[root] = next; low[root] = next; next += 1
            stack.append(root); onStack[root] = true
            while let top = work.last {
                let v = top.node
                if top.edge < succ[v].count {
                    let w = succ[v][top.edge]
                    work[work.count - 1].edge += 1
                    if index[w] < 0 {
                        index[w] = next; low[w] = next; next += 1
                        stack.append(w); onStack[w] = true
                        work.append((w, 0))
                    } else if onStack[w] {
                        low[v] = min(low[v], index[w])
                    }
                    continue
                }
                work.removeLast()
                if let parent = work.last { low[parent.node] = min(low[parent.node], low[v]) }
                if low[v] == index[v] {
                    var members: [Int] = []
                    while let w = stack.popLast() {
                        onStack[w] = false
                        sccOf[w] = sccs.count
                        members.append(w)
                        if w == v { break }
                    }
                    sccs.append(members.sorted())
                }
            }
        }
    }

    private mutating func buildCallGraph() {
        // functions stored into places: `interp->eval_frame = f`, `static T *slot = f`
        for (fi, fn) in functions.enumerated() {
            for r in fn.functionRefs {
                guard let target = resolveFunction(r.name, from: fn.file) else { continue }
                if case .store(let p) = r.destination, let key = placeKey(p) {
                    storedFunctions[key, default: []].append((target, r, fi))
                }
            }
        }
        callTargets = functions.map { fn in
            fn.calls.map { call -> [Int] in
                if let m = call.method {
                    if let t = resolveMethod(m, receiver: call.receiver, from: fn) { return [t] }
                    if let t = call.target?.path, let key = placeKey(t) { return (storedFunctions[key] ?? []).map(\.function) }
                    return []
                }
                if let name = call.callee {
                    // a method with `this` is called on an object; a plain call reaches functions
                    // and static members only
                    if let t = resolveFunction(name, from: fn.file, methods: call.receiver != nil) { return [t] }
                    // a macro forwarding its arguments to a function of the project
                    if let target = forwardingMacros[name], let t = resolveFunction(target, from: fn.file) { return [t] }
                    // a global function pointer: `g_hook = handler; ... g_hook(x)`
                    return (storedFunctions[name] ?? []).map(\.function)
                }
                if let t = call.target?.path, let key = placeKey(t) {
                    return (storedFunctions[key] ?? []).map(\.function)
                }
                return []
            }
        }
        passReceivers()
        buildComponents()
        callers = Array(repeating: [], count: functions.count)
        for (fi, targets) in callTargets.enumerated() {
            for (ci, ts) in targets.enumerated() {
                for t in ts { callers[t].append((fi, ci)) }
            }
        }
    }

    // MARK: C++ member functions

    /// The member function a call `obj.m(…)` / `obj->m(…)` reaches: a method `m` of the class of
    /// `obj` (or of a base), or — when the receiver's type is unknown — a method of that name of
    /// the project's classes. A receiver of a type that is no class of the project (a standard
    /// container, a smart pointer) calls the library: nil.
    func resolveMethod(_ m: String, receiver: Value?, from fn: FunctionFacts) -> Int? {
        guard let cands = functionsByName[m]?.filter({ functions[$0].memberOf != nil }), !cands.isEmpty else { return nil }
        if let cls = receiver.flatMap({ receiverClass($0) }) {
            if let s = structFor(cls), !s.methods.isEmpty || !s.bases.isEmpty {
                // this class and its bases, nearest first
                var chain = [s.name]
                var k = 0
                while k < chain.count, chain.count < 8 {
                    for b in structFor(chain[k])?.bases ?? [] where !chain.contains(b) { chain.append(b) }
                    k += 1
                }
                for c in chain {
                    let own = cands.filter { functions[$0].memberOf == c }
                    if let t = own.first(where: { functions[$0].file == fn.file }) ?? own.first { return t }
                }
                // a class of the project without that method: a smart pointer's `operator->`, a
                // template parameter: by name below
            } else if !cls.isEmpty, cls != "auto", cls != "?" {
                return nil
            }
        }
        if CPPLibrary.memberEffect(m) != nil { return nil }
        if let same = cands.first(where: { functions[$0].file == fn.file }) { return same }
        let closure = includeClosure(fn.file)
        return cands.first(where: { closure.contains(functions[$0].file) }) ?? cands.first
    }

    /// The class named by the static type of a receiver (`obj` in `obj.m()`, `p` in `p->m()`).
    func receiverClass(_ v: Value) -> String? {
        let p: AccessPath
        switch v.stripped {
        case .path(let q), .addressOf(let q): p = q
        default: return nil
        }
        let t: TypeRef?
        if p.fields.isEmpty {
            t = p.rootType ?? (p.root == .global ? globals[p.name]?.type : nil)
        } else if let o = lastOwner(p) {
            t = fieldType(o, p.fields.last!)
        } else {
            t = nil
        }
        guard let ty = t else { return nil }
        var name = ty.name
        for _ in 0..<8 {
            guard let d = typedefs[name], d.name != name, structs[name] == nil else { break }
            name = d.name
        }
        return name
    }

    /// Moves each resolved member call's object to the callee's `this` parameter, after its
    /// declared parameters (missing default arguments become unknown values), so summaries
    /// substitute it like any argument.
    private mutating func passReceivers() {
        for fi in functions.indices {
            for ci in functions[fi].calls.indices {
                let call = functions[fi].calls[ci]
                guard call.receiver != nil || call.method != nil, let t = callTargets[fi][ci].first,
                      let k = functions[t].thisIndex else { continue }
                var args = Array(call.args.prefix(k))
                var texts = Array(call.argTexts.prefix(k))
                while args.count < k { args.append(.unknown); texts.append("") }
                args.append(call.receiver ?? .unknown)
                texts.append(call.receiver.map { SummaryEngine.text($0) } ?? "this")
                functions[fi].calls[ci].args = args
                functions[fi].calls[ci].argTexts = texts
                if k < 64 { functions[fi].calls[ci].interiorArgs &= (1 << UInt64(k)) - 1 }
            }
        }
    }

    // MARK: types

    /// The struct a type name denotes, through typedefs.
    public func structFor(_ typeName: String) -> StructFacts? {
        var name = typeName
        for _ in 0..<8 {
            if let s = structs[name], !s.fields.isEmpty || s.isPythonObject { return s }
            guard let t = typedefs[name], t.name != name else { return structs[name] }
            name = t.name
        }
        return nil
    }

    /// A stable display name for a struct type: its typedef name if it has one.
    public func canonicalType(_ typeName: String) -> String {
        if let s = structFor(typeName) { return s.typedefNames.first ?? (s.name.isEmpty ? typeName : s.name) }
        return typeName
    }

    /// The name of the member that stands for a Cython extension type's base type
    /// (`cdef class B(A)`): `B`'s struct starts with an `A` by value, and `A`'s attributes are
    /// found through it.
    public static let baseField = "(base)"

    public func fieldType(_ owner: String, _ field: String) -> TypeRef? {
        if let dot = field.firstIndex(of: ".") {
            // a dotted field of an object (`pk.buf`, a struct embedded by value)
            guard let t = fieldType(owner, String(field[..<dot])) else { return nil }
            return fieldType(t.name, String(field[field.index(after: dot)...]))
        }
        guard let s = structFor(owner) else { return nil }
        if let t = s.fields.first(where: { $0.name == field })?.type { return t }
        if let base = declaringOwner(owner, field), base != canonicalType(owner) { return fieldType(base, field) }
        return nil
    }

    /// The struct that declares `field` of `owner`: `owner` itself, or the extension type it
    /// inherits the attribute from (through `baseField` members, a few levels up). Fields are
    /// identified by the type that declares them, so a base type's method and a subclass's method
    /// touch the same field.
    public func declaringOwner(_ owner: String, _ field: String) -> String? {
        var name = owner
        for _ in 0..<8 {
            guard let s = structFor(name) else { return nil }
            if s.fields.contains(where: { $0.name == field }) { return canonicalType(name) }
            guard let b = s.fields.first, b.name == Self.baseField, b.type.name != name else { return nil }
            name = b.type.name
        }
        return nil
    }

    /// Whether a member of this type holds a struct by value: not a pointer, also not through
    /// a typedef of a pointer (`typedef struct ImagingMemoryInstance *Imaging;`).
    public func isStructByValue(_ t: TypeRef) -> Bool {
        guard t.pointers == 0, !t.isArray else { return false }
        var name = t.name
        for _ in 0..<8 {
            // `typedef struct image_s {…} *Image;` names the struct too: the typedef says pointer
            if let d = typedefs[name], d.pointers > 0 || d.isArray { return false }
            if let s = structs[name], !s.fields.isEmpty { return true }
            guard let d = typedefs[name], d.name != name else { return false }
            name = d.name
        }
        return false
    }

    /// The field origin of a place (`.field(owner, name)`): the struct that declares its last
    /// field, or — when the place goes through C structs embedded by value in a Python object
    /// (`self.pk.buf`, `self->state.buf`) — that object and the dotted path inside it
    /// (`Packer.pk.buf`): the memory belongs to the object, whichever struct type holds the pointer.
    public func fieldOrigin(_ p: AccessPath) -> Origin? {
        guard let last = p.fields.last else { return nil }
        let os = owners(of: p)
        guard let lastOwner = os.last ?? nil else { return nil }
        var k = p.fields.count - 1
        // walk back while the owner at k is a struct held by value in the owner at k-1
        while k > 0, let outer = os[k - 1], let t = fieldType(outer, p.fields[k - 1]), isStructByValue(t),
              !isPythonObject(t.name) {
            k -= 1
        }
        if k < p.fields.count - 1, let o = os[k], isPythonObject(o) {
            return .field(o, p.fields[k...].joined(separator: "."))
        }
        return .field(lastOwner, last)
    }

    /// The owning struct (canonical name) of each field step of a path, nil where unknown.
    public func owners(of p: AccessPath) -> [String?] {
        var t: TypeRef? = p.rootType
        if t == nil, p.root == .global { t = globals[p.name]?.type }
        var out: [String?] = []
        for f in p.fields {
            guard let cur = t, structFor(cur.name) != nil else {
                out.append(nil)
                t = nil
                continue
            }
            out.append(declaringOwner(cur.name, f) ?? canonicalType(cur.name))
            t = fieldType(cur.name, f)
        }
        return out
    }

    /// The canonical owner struct of the last field of a path.
    public func lastOwner(_ p: AccessPath) -> String? {
        guard !p.fields.isEmpty else { return nil }
        return owners(of: p).last ?? nil
    }

    public func isPythonObject(_ typeName: String) -> Bool { structFor(typeName)?.isPythonObject ?? false }

    /// A Python object struct, or a C++ class whose objects Python objects hold: its fields are
    /// an object's state, shared by every thread that reaches the object.
    public func isObjectState(_ typeName: String) -> Bool {
        isPythonObject(typeName) || objectHeldClasses.contains(canonicalType(typeName))
    }

    // MARK: modules

    private mutating func buildModules() {
        // module definitions and their slots
        for f in files {
            var fileModules: [Int] = []
            for g in f.globals where g.type.name == "PyModuleDef" && g.initializer != nil {
                var info = ModuleInfo(name: g.name, file: f.path, gilFree: false, declaration: nil)
                let entries = g.initializer?.entries ?? []
                if let n = field(entries, "m_name", positional: 1)?.text { info.name = n.trimmingCharacters(in: CharacterSet(charactersIn: "\"")) }
                if let slots = field(entries, "m_slots", positional: 5)?.text,
                   let sg = globals[slotName(slots)], let decl = gilDeclaration(in: sg) {
                    info.gilFree = true
                    info.declaration = decl
                }
                modules.append(info)
                fileModules.append(modules.count - 1)
            }
            if fileModules.isEmpty, f.functions.contains(where: { $0.name.hasPrefix("PyInit_") }) || !f.declaresGILFree.isEmpty {
                let name = f.functions.first { $0.name.hasPrefix("PyInit_") }.map { String($0.name.dropFirst(7)) }
                    ?? (f.path as NSString).lastPathComponent
                modules.append(ModuleInfo(name: name, file: f.path, gilFree: false, declaration: nil))
                fileModules.append(modules.count - 1)
            }
            // slot arrays not referenced from a PyModuleDef in this file, and SetGIL calls
            for g in f.globals where g.type.name == "PyModuleDef_Slot" {
                if let decl = gilDeclaration(in: g), let m = fileModules.first, !modules[m].gilFree {
                    modules[m].gilFree = true
                    modules[m].declaration = decl
                }
            }
            if let p = f.declaresGILFree.first, let m = fileModules.first, !modules[m].gilFree {
                modules[m].gilFree = true
                modules[m].declaration = f.language == .cython || f.language == .python
                    ? "`freethreading_compatible = True` (\(f.path):\(p.line))"
                    : "PyUnstable_Module_SetGIL(..., Py_MOD_GIL_NOT_USED) at \(f.path):\(p.line)"
            }
            for m in fileModules { moduleOfFile[f.path] = m }
        }
        // other files: included by a module file, or in the same or a parent directory
        var includedBy: [String: Int] = [:]
        for m in modules.indices {
            for inc in includeClosure(modules[m].file) where includedBy[inc] == nil { includedBy[inc] = m }
        }
        var modulesInDir: [String: [Int]] = [:]
        for m in modules.indices { modulesInDir[Self.directory(of: modules[m].file), default: []].append(m) }
        for f in files where moduleOfFile[f.path] == nil {
            if let m = includedBy[f.path] {
                moduleOfFile[f.path] = m
                continue
            }
            var dir = Self.directory(of: f.path)
            for _ in 0..<3 {
                let here = modulesInDir[dir] ?? []
                if here.count == 1 {
                    moduleOfFile[f.path] = here[0]
                    break
                }
                if here.count > 1 {
                    moduleOfFile[f.path] = here.first { modules[$0].gilFree } ?? here[0]
                    break
                }
                let parent = Self.directory(of: dir)
                if parent == dir || parent.isEmpty { break }
                dir = parent
            }
        }
    }

    /// `a/b/c.h` → `a/b` (no Foundation path normalization: this runs per file).
    static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "" }
        return String(path[..<slash])
    }

    func slotName(_ text: String) -> String {
        text.trimmingCharacters(in: CharacterSet(charactersIn: "& ()"))
    }

    /// `{Py_mod_gil, Py_MOD_GIL_NOT_USED}` in a PyModuleDef_Slot array.
    func gilDeclaration(in g: GlobalFacts) -> String? {
        for e in g.initializer?.entries ?? [] {
            let parts = e.value.entries
            guard parts.count >= 2, parts[0].value.text == "Py_mod_gil", parts[1].value.text == "Py_MOD_GIL_NOT_USED"
            else { continue }
            return "{Py_mod_gil, Py_MOD_GIL_NOT_USED} in `\(g.name)` (\(g.file):\(e.pos.line))"
        }
        return nil
    }

    /// Whether free-threading rules apply to code in `file`, and why.
    /// Whether the free-threading rules apply to a file (`freeThreading(file:)` without its reason).
    public func freeThreadingApplies(file: String) -> Bool {
        switch fileTargets[file] ?? target {
        case .freeThreaded: return true
        case .gil: return false
        case .auto: return moduleOfFile[file].map { modules[$0].gilFree } ?? false
        }
    }

    public func freeThreading(file: String) -> (applies: Bool, reason: String) {
        switch fileTargets[file] ?? target {
        case .freeThreaded: return (true, "--target free-threaded")
        case .gil: return (false, "--target gil")
        case .auto:
            if let m = moduleOfFile[file], modules[m].gilFree {
                return (true, "module `\(modules[m].name)` declares \(modules[m].declaration ?? "Py_MOD_GIL_NOT_USED")")
            }
            return (false, "no Py_MOD_GIL_NOT_USED declaration")
        }
    }

    // MARK: tables and entry points

    /// An entry of an initializer by designator, or by position when not designated.
    func field(_ entries: [InitEntry], _ name: String, positional: Int?) -> InitValue? {
        if let d = entries.first(where: { $0.designator == name || $0.designator == "." + name }) { return d.value }
        if entries.contains(where: { $0.designator != nil }) { return nil }
        if let p = positional, p < entries.count { return entries[p].value }
        return nil
    }

    /// The function an initializer value names, if any.
    func functionNamed(_ v: InitValue?, from file: String) -> Int? {
        guard case .value(let val, _)? = v else { return nil }
        var s = val.stripped
        if case .addressOf(let p) = s { s = .path(p) }
        guard case .path(let p) = s, p.fields.isEmpty else { return nil }
        return resolveFunction(p.name, from: file)
    }

    func globalNamed(_ v: InitValue?) -> String? {
        guard case .value(let val, _)? = v else { return nil }
        var s = val.stripped
        if case .addressOf(let p) = s { s = .path(p) }
        guard case .path(let p) = s, p.fields.isEmpty else { return nil }
        return p.name
    }

    /// `sizeof(T)` → T.
    func sizeofType(_ v: InitValue?) -> String? {
        guard let t = v?.text, t.hasPrefix("sizeof") else { return nil }
        let inner = t.dropFirst(6).trimmingCharacters(in: CharacterSet(charactersIn: "() "))
        let name = inner.replacingOccurrences(of: "struct ", with: "").trimmingCharacters(in: .whitespaces)
        return name.isEmpty ? nil : canonicalType(name)
    }

    static let typeObjectFields = [
        "ob_base", "tp_name", "tp_basicsize", "tp_itemsize", "tp_dealloc", "tp_vectorcall_offset", "tp_getattr",
        "tp_setattr", "tp_as_async", "tp_repr", "tp_as_number", "tp_as_sequence", "tp_as_mapping", "tp_hash",
        "tp_call", "tp_str", "tp_getattro", "tp_setattro", "tp_as_buffer", "tp_flags", "tp_doc", "tp_traverse",
        "tp_clear", "tp_richcompare", "tp_weaklistoffset", "tp_iter", "tp_iternext", "tp_methods", "tp_members",
        "tp_getset", "tp_base", "tp_dict", "tp_descr_get", "tp_descr_set", "tp_dictoffset", "tp_init", "tp_alloc",
        "tp_new", "tp_free", "tp_is_gc", "tp_bases", "tp_mro", "tp_cache", "tp_subclasses", "tp_weaklist", "tp_del",
        "tp_version_tag", "tp_finalize", "tp_vectorcall",
    ]
    static let slotTables: [String: [String]] = [
        "PyMappingMethods": ["mp_length", "mp_subscript", "mp_ass_subscript"],
        "PySequenceMethods": ["sq_length", "sq_concat", "sq_repeat", "sq_item", "was_sq_slice", "sq_ass_item",
                              "was_sq_ass_slice", "sq_contains", "sq_inplace_concat", "sq_inplace_repeat"],
        "PyNumberMethods": ["nb_add", "nb_subtract", "nb_multiply", "nb_remainder", "nb_divmod", "nb_power",
                            "nb_negative", "nb_positive", "nb_absolute", "nb_bool", "nb_invert", "nb_lshift",
                            "nb_rshift", "nb_and", "nb_xor", "nb_or", "nb_int", "nb_reserved", "nb_float",
                            "nb_inplace_add", "nb_inplace_subtract", "nb_inplace_multiply", "nb_inplace_remainder",
                            "nb_inplace_power", "nb_inplace_lshift", "nb_inplace_rshift", "nb_inplace_and",
                            "nb_inplace_xor", "nb_inplace_or", "nb_floor_divide", "nb_true_divide",
                            "nb_inplace_floor_divide", "nb_inplace_true_divide", "nb_index", "nb_matrix_multiply",
                            "nb_inplace_matrix_multiply"],
        "PyAsyncMethods": ["am_await", "am_aiter", "am_anext", "am_send"],
        "PyBufferProcs": ["bf_getbuffer", "bf_releasebuffer"],
    ]

    /// The thread context and kind of a type slot.
    static func slotContext(_ slot: String) -> (EntryPoint.Kind, ThreadContext)? {
        switch slot {
        case "tp_dealloc", "tp_finalize", "tp_del", "tp_free": return (.dealloc, .teardown)
        case "tp_traverse", "tp_clear": return (.gc, .teardown)
        case "tp_new", "tp_alloc": return (.constructor, .moduleInit)
        case "tp_name", "tp_basicsize", "tp_itemsize", "tp_flags", "tp_doc", "tp_base", "tp_dict", "tp_bases",
             "tp_mro", "tp_cache", "tp_subclasses", "tp_weaklist", "tp_version_tag", "tp_weaklistoffset",
             "tp_dictoffset", "tp_vectorcall_offset", "tp_members", "tp_methods", "tp_getset", "tp_as_async",
             "tp_as_number", "tp_as_sequence", "tp_as_mapping", "tp_as_buffer", "ob_base", "tp_is_gc":
            return nil
        default: return (.slot, .anyThread)
        }
    }

    /// Globals in a stable order (file, position): dictionary order is not deterministic.
    public var orderedGlobals: [GlobalFacts] {
        globals.values.sorted { ($0.file, $0.pos) < ($1.file, $1.pos) }
    }

    private mutating func buildEntryPoints() {
        var methodTableType: [String: String?] = [:]  // PyMethodDef/PyGetSetDef table → self type
        var slotTableType: [String: String?] = [:]    // PyMappingMethods etc. → self type
        var tableLabel: [String: String] = [:]       // method/slot table → Python type name
        var typeLabel: [String: String] = [:]        // self type → Python type name (first seen)
        var seen = Set<String>()
        func add(_ e: EntryPoint) {
            let key = "\(e.function)|\(e.kind)|\(e.label)"
            if seen.insert(key).inserted { entryPoints.append(e) }
        }
        // every file's globals: two files may each have a static `methods` table, which the
        // name-keyed `globals` holds only once; tables are keyed by file and name
        let allGlobals = files.flatMap(\.globals).sorted { ($0.file, $0.pos) < ($1.file, $1.pos) }
        var namesByFile: [String: Set<String>] = [:]
        for g in allGlobals { namesByFile[g.file, default: []].insert(g.name) }
        func key(_ name: String, from file: String) -> String {
            namesByFile[file]?.contains(name) == true ? "\(file)|\(name)" : name
        }
        func key(of g: GlobalFacts) -> String { "\(g.file)|\(g.name)" }
        func globalIn(_ name: String, from file: String) -> GlobalFacts? {
            allGlobals.first { $0.file == file && $0.name == name } ?? globals[name]
        }
        func loc(_ g: GlobalFacts, _ p: Pos) -> Location { Location(path: g.file, line: Int(p.line), column: Int(p.column)) }
        func pyName(_ v: InitValue?) -> String? {
            guard let t = v?.text, t.hasPrefix("\"") else { return nil }
            let s = t.trimmingCharacters(in: CharacterSet(charactersIn: "\""))
            return s.split(separator: ".").last.map(String.init) ?? s
        }

        // 1. Types: static PyTypeObject and PyType_Spec + PyType_Slot
        for g in allGlobals where g.type.name == "PyTypeObject" && g.type.pointers == 0 {
            let entries = g.initializer?.entries ?? []
            guard !entries.isEmpty else { continue }
            let t = sizeofType(field(entries, "tp_basicsize", positional: 2))
            let name = pyName(field(entries, "tp_name", positional: 1)) ?? g.name
            if let t, typeLabel[t] == nil { typeLabel[t] = name }
            for (i, fname) in Self.typeObjectFields.enumerated() {
                let v = field(entries, fname, positional: i)
                switch fname {
                case "tp_methods", "tp_getset":
                    if let tbl = globalNamed(v).map({ key($0, from: g.file) }), methodTableType[tbl] == nil {
                        methodTableType[tbl] = t
                        tableLabel[tbl] = name
                    }
                case "tp_as_mapping", "tp_as_sequence", "tp_as_number", "tp_as_async", "tp_as_buffer":
                    if let tbl = globalNamed(v).map({ key($0, from: g.file) }), slotTableType[tbl] == nil {
                        slotTableType[tbl] = t
                        tableLabel[tbl] = name
                    }
                default:
                    guard let (kind, ctx) = Self.slotContext(fname), let fn = functionNamed(v, from: g.file) else { continue }
                    add(EntryPoint(function: fn, kind: kind, context: ctx, selfType: t, label: "\(fname) of \(name)",
                                   origin: loc(g, g.pos), pyType: name, pythonSpelling: EntryPoint.dunder(fname)))
                }
            }
        }
        for g in allGlobals where g.type.name == "PyType_Spec" {
            let entries = g.initializer?.entries ?? []
            let t = sizeofType(field(entries, "basicsize", positional: 1))
            let name = pyName(field(entries, "name", positional: 0)) ?? g.name
            guard let slots = globalNamed(field(entries, "slots", positional: 4)), let sg = globalIn(slots, from: g.file)
            else { continue }
            if let t, typeLabel[t] == nil { typeLabel[t] = name }
            for e in sg.initializer?.entries ?? [] {
                let parts = e.value.entries
                guard parts.count >= 2, let slotMacro = parts[0].value.text else { continue }
                let slot = slotMacro.hasPrefix("Py_") ? String(slotMacro.dropFirst(3)) : slotMacro
                if slot == "tp_methods" || slot == "tp_getset" {
                    if let tbl = globalNamed(parts[1].value).map({ key($0, from: sg.file) }), methodTableType[tbl] == nil {
                        methodTableType[tbl] = t
                        tableLabel[tbl] = name
                    }
                    continue
                }
                guard let (kind, ctx) = Self.slotContext(slot), let fn = functionNamed(parts[1].value, from: sg.file)
                else { continue }
                add(EntryPoint(function: fn, kind: kind, context: ctx, selfType: t, label: "\(slot) of \(name)",
                               origin: loc(sg, e.pos), pyType: name, pythonSpelling: EntryPoint.dunder(slot)))
            }
        }
        // 2. Slot tables (mapping/sequence/number)
        for g in allGlobals {
            guard let fields = Self.slotTables[g.type.name], g.type.pointers == 0 else { continue }
            let k = slotTableType[key(of: g)] != nil ? key(of: g) : g.name
            let t = slotTableType[k] ?? nil
            let owner = tableLabel[k] ?? t.flatMap { typeLabel[$0] } ?? g.name
            let entries = g.initializer?.entries ?? []
            for (i, fname) in fields.enumerated() {
                guard let fn = functionNamed(field(entries, fname, positional: i), from: g.file) else { continue }
                add(EntryPoint(function: fn, kind: .slot, context: .anyThread, selfType: t ?? selfTypeGuess(fn),
                               label: "\(fname) of \(owner)", origin: loc(g, g.pos),
                               pyType: tableLabel[k], pythonSpelling: EntryPoint.dunder(fname)))
            }
        }
        // 3. Module definitions: methods, exec slots, free/clear
        var moduleMethodTables = Set<String>()
        for g in allGlobals where g.type.name == "PyModuleDef" {
            let entries = g.initializer?.entries ?? []
            if let m = globalNamed(field(entries, "m_methods", positional: 4)) { moduleMethodTables.insert(key(m, from: g.file)) }
            for (fname, pos) in [("m_traverse", 6), ("m_clear", 7), ("m_free", 8)] {
                if let fn = functionNamed(field(entries, fname, positional: pos), from: g.file) {
                    add(EntryPoint(function: fn, kind: fname == "m_traverse" ? .gc : .dealloc, context: .teardown,
                                   selfType: nil, label: "\(fname) of module", origin: loc(g, g.pos)))
                }
            }
        }
        for g in allGlobals where g.type.name == "PyModuleDef_Slot" {
            for e in g.initializer?.entries ?? [] {
                let parts = e.value.entries
                guard parts.count >= 2, parts[0].value.text == "Py_mod_exec",
                      let fn = functionNamed(parts[1].value, from: g.file) else { continue }
                add(EntryPoint(function: fn, kind: .moduleExec, context: .moduleInit, selfType: nil,
                               label: "Py_mod_exec", origin: loc(g, e.pos)))
            }
        }
        // 4. Method and getset tables
        for g in allGlobals where g.type.name == "PyMethodDef" || g.type.name == "PyGetSetDef" {
            let k = methodTableType[key(of: g)] != nil || moduleMethodTables.contains(key(of: g)) ? key(of: g) : g.name
            let t = methodTableType[k] ?? nil
            let owner = tableLabel[k]
            let isModule = moduleMethodTables.contains(k) || (t == nil && g.name.lowercased().contains("module"))
            for e in g.initializer?.entries ?? [] {
                let parts = e.value.entries
                guard !parts.isEmpty else { continue }
                let name = pyName(field(parts, g.type.name == "PyMethodDef" ? "ml_name" : "name", positional: 0)) ?? "?"
                if g.type.name == "PyMethodDef" {
                    guard let fn = functionNamed(field(parts, "ml_meth", positional: 1), from: g.file) else { continue }
                    let label = owner.map { "\($0).\(name)()" } ?? (isModule ? "\(name)()" : "\(name)()")
                    add(EntryPoint(function: fn, kind: isModule ? .moduleMethod : .method, context: .anyThread,
                                   selfType: isModule ? nil : (t ?? selfTypeGuess(fn)), label: label, origin: loc(g, e.pos),
                                   pyType: owner, pythonSpelling: name))
                } else {
                    for (fname, pos, kind) in [("get", 1, EntryPoint.Kind.getter), ("set", 2, .setter)] {
                        guard let fn = functionNamed(field(parts, fname, positional: pos), from: g.file) else { continue }
                        let label = (owner.map { "\($0)." } ?? "") + name + (kind == .getter ? " (getter)" : " (setter)")
                        add(EntryPoint(function: fn, kind: kind, context: .anyThread, selfType: t ?? selfTypeGuess(fn),
                                       label: label, origin: loc(g, e.pos), pyType: owner, pythonSpelling: name))
                    }
                }
            }
        }
        // 5. Single-phase init and callbacks registered at run time
        for (fi, fn) in functions.enumerated() {
            if fn.name.hasPrefix("PyInit_") {
                add(EntryPoint(function: fi, kind: .moduleInit, context: .moduleInit, selfType: nil,
                               label: "module initialization (\(fn.name))", origin: fn.location))
            }
            for r in fn.functionRefs {
                guard case .argument(let callee, let index) = r.destination, let entry = CAPI.lookup(callee),
                      entry.argument == index, let target = resolveFunction(r.name, from: fn.file) else { continue }
                let at = fn.location(r.pos)
                let fx = entry.effects
                if fx.contains(.installsAnyThreadCallback) {
                    let what = callee.contains("EvalFrame") ? "eval-frame hook" : "callback"
                    add(EntryPoint(function: target, kind: .callback, context: .anyThread, selfType: nil,
                                   label: "the \(what) `\(functions[target].name)` (installed by \(callee)() in `\(fn.name)`)",
                                   origin: at))
                } else if fx.contains(.startsThread) {
                    add(EntryPoint(function: target, kind: .threadBody, context: .anyThread, selfType: nil,
                                   label: "the thread `\(functions[target].name)` (started by \(callee)() in `\(fn.name)`)",
                                   origin: at))
                } else if fx.contains(.installsDestroyCallback) {
                    add(EntryPoint(function: target, kind: .destroyCallback, context: .teardown, selfType: nil,
                                   label: "destroy callback registered by \(callee)() in `\(fn.name)`", origin: at))
                } else if fx.contains(.installsExitCallback) {
                    add(EntryPoint(function: target, kind: .exitCallback, context: .teardown, selfType: nil,
                                   label: "exit callback registered by \(callee)()", origin: at))
                }
            }
            // stored eval-frame hooks: `interp->eval_frame = f`
            for r in fn.functionRefs {
                guard case .store(let p) = r.destination, p.fields.last == "eval_frame",
                      let target = resolveFunction(r.name, from: fn.file) else { continue }
                add(EntryPoint(function: target, kind: .callback, context: .anyThread, selfType: nil,
                               label: "eval-frame hook stored into `\(p.text)` in `\(fn.name)`", origin: fn.location(r.pos)))
            }
        }
        // 6. Python/Cython thread targets
        for f in files {
            for t in f.threadTargets {
                guard let fn = resolveFunction(t.function, from: f.path) else { continue }
                add(EntryPoint(function: fn, kind: .threadBody, context: .anyThread, selfType: nil,
                               label: "thread target of \(t.how)", origin: Location(path: f.path, line: Int(t.pos.line), column: Int(t.pos.column))))
            }
        }
        // 7. Exported functions nobody here calls: callable from other translation units
        var hasEntry = Set(entryPoints.map(\.function))
        for (fi, fn) in functions.enumerated() where !fn.isStatic && callers[fi].isEmpty
            && (fn.language == .c || fn.language == .cpp) && !fn.name.hasPrefix("PyInit_") && fn.name != "main" {
            if hasEntry.contains(fi) { continue }
            hasEntry.insert(fi)
            let route = CAPI.pythonRoutes[fn.name] ?? "exported, callable from other files"
            add(EntryPoint(function: fi, kind: .exported, context: .anyThread, selfType: selfTypeGuess(fi),
                           label: "\(fn.name) (\(route))", origin: fn.location))
        }
        // 8. Python-callable functions from the Python/Cython frontends; methods of a Cython
        // extension type are its type's methods and slots, as a C type's table makes them
        for (fi, fn) in functions.enumerated() where fn.attributes.contains("python-callable") {
            if hasEntry.contains(fi) { continue }
            if let t = fn.extensionType, isPythonObject(t) {
                let owner = canonicalType(t)
                let name = fn.name.split(separator: ".").last.map(String.init) ?? fn.name
                let (kind, context): (EntryPoint.Kind, ThreadContext) = switch name {
                case "__dealloc__": (.dealloc, .teardown)
                case "__cinit__": (.constructor, .moduleInit)
                default: (.method, .anyThread)
                }
                add(EntryPoint(function: fi, kind: kind, context: context, selfType: owner, label: "\(owner).\(name)()",
                               origin: fn.location, pyType: owner, pythonSpelling: name))
                continue
            }
            add(EntryPoint(function: fi, kind: .pythonCallable, context: .anyThread, selfType: nil,
                           label: "\(fn.name)()", origin: fn.location))
        }
        entryPoints.sort { ($0.function, $0.label) < ($1.function, $1.label) }
    }

    /// `self`'s type from a function's first parameter, when it points to a Python object struct.
    func selfTypeGuess(_ fi: Int) -> String? {
        guard let p = functions[fi].params.first, p.type.pointers == 1, isPythonObject(p.type.name) else { return nil }
        return canonicalType(p.type.name)
    }

    /// The entry points of a function (it may have several).
    public func entries(of fi: Int) -> [EntryPoint] { entryPoints.filter { $0.function == fi } }
}
