import FreeraceModel
import FreeraceSyntax

/// FR303: a module that declares `Py_MOD_GIL_NOT_USED` lazily initializes or replaces static
/// state from entry points without a lock, an atomic or a once-initialization.
public struct UnlockedStaticStateInGILFreeModule: Rule {
    public init() {}
    public let code = "FR303"
    public let name = "unlocked-static-state-in-gil-free-module"
    public let summary = "A GIL-free module lazily initializes or replaces static pointer state without a lock, atomic or once-init"
    public var group: RuleGroup { .referencesAndState }
    public let maturity = Maturity.preview
    public let languages: [Language] = [.c, .cpp]
    public let doc = RuleDoc(
        whatItDoes: """
            Finds static or global pointers (`static PyObject *cache`, a function-level `static`, a \
            pointer field of a global struct) that an entry point of a module declaring \
            `Py_MOD_GIL_NOT_USED` assigns — a lazy `if (cache == NULL) cache = ...`, a `Py_XSETREF`, a \
            `Py_CLEAR` — with no lock, critical section or stop-the-world held, where the variable is not \
            atomic, and some entry point that runs concurrently with others releases what it holds \
            (`Py_CLEAR`, `Py_XSETREF`, a decref). Assignments made only from the module's exec slot or \
            init function are fine, and so is a lazy initialization that nothing but module teardown \
            ever releases: two threads racing through it at worst leak one reference, which is not a \
            lifetime bug.
            """,
        whyIsThisBad: """
            Without the GIL, one thread can load the static and call into the object while another \
            replaces or clears it and drops the last reference: the first thread then uses freed \
            memory. Two threads that both see `NULL` both create the object, and when the state is \
            also released elsewhere, one of them can decref an object another thread still uses.
            """,
        example: """
            static PyObject *json_module;
            static PyObject *dumps(PyObject *m, PyObject *obj) {
                if (json_module == NULL) {
                    json_module = PyImport_ImportModule("json");   /* two threads can race here */
                }
                return PyObject_CallMethod(json_module, "dumps", "O", obj);
            }
            static PyObject *reset(PyObject *m, PyObject *unused) {
                Py_CLEAR(json_module);              /* while dumps() on another thread uses it */
                Py_RETURN_NONE;
            }
            """,
        useInstead: """
            Initialize the state once, in the module's `Py_mod_exec` slot, ideally in module state \
            (`PyModule_GetState`); or guard the check-and-set with a `PyMutex` (or run it once with \
            `pthread_once` / C11 `call_once`); or publish with a C11 atomic compare-exchange \
            (`atomic_compare_exchange_strong`) and keep the winner.
            """,
        knownLimitations: """
            Only pointer-typed state is checked. Double-checked locking that reads the pointer outside \
            the lock is reported only if the write itself is unlocked.
            """,
        references: [
            "https://docs.python.org/3/howto/free-threading-extensions.html#module-state",
            "https://docs.python.org/3/c-api/init.html#c.PyMutex",
            "PEP 703 — Making the Global Interpreter Lock Optional",
        ])

    public func check(_ ctx: RuleContext) -> [Finding] {
        let program = ctx.program
        struct Write { var entry: EntryPoint; var effect: Effect; var root: String }
        var groups: [String: [Write]] = [:]
        var order: [String] = []
        ctx.globalWriteEngine.prepare(ctx.nativeConcurrentEntries.map(\.function))
        for e in ctx.nativeConcurrentEntries where e.kind != .exported {
            for fx in ctx.globalWriteEngine.entryEffects(e.function) where fx.kind == .write && fx.locks.isEmpty {
                guard case .global(let place) = fx.origin, let step = fx.chain.last,
                      ctx.freeThreadingApplies(step.function),
                      let root = program.sharedPointerState(place) else { continue }
                // raw memory that something frees is FR102's: one finding per root cause
                if ctx.freedOrigins.contains(.global(root)) { continue }
                // one finding per writing function: a lazy-init block sets several statics at once
                let key = program.functions[step.function].name
                if groups[key] == nil { order.append(key) }
                if !(groups[key] ?? []).contains(where: { $0.effect.origin == fx.origin }) || groups[key] == nil {
                    groups[key, default: []].append(Write(entry: e, effect: fx, root: root))
                }
            }
        }
        guard !order.isEmpty else { return [] }
        // readers of each global, for thread A notes (built once)
        var readers: [String: [(EntryPoint, Effect)]] = [:]
        for e in ctx.nativeConcurrentEntries {
            for rd in ctx.globalWriteEngine.entryEffects(e.function) where rd.kind == .read {
                if case .global(let place) = rd.origin { readers[place, default: []].append((e, rd)) }
            }
        }
        return order.compactMap { key in
            guard let writes = groups[key], let w = writes.first else { return nil }
            let roots = uniqued(writes.map(\.root))
            // Benign unless something drops what the static holds: two threads racing through
            // an idempotent lazy initialization at worst leak one reference. A lifetime bug needs
            // a release (Py_CLEAR, Py_XSETREF, a decref) of a value another thread may be using.
            // (a release at module teardown, which runs alone, does not count)
            guard roots.contains(where: { ctx.concurrentlyReleasedOrigins.contains(.global($0)) }) else { return nil }
            // what the stress test races the writer against: the entry points that read, release
            // or replace the same state elsewhere (a reset against a lazy init, and back)
            let allWrites: [Write] = order.flatMap { groups[$0] ?? [] }
            var others: [EntryPoint] = []
            for r in roots {
                others += (readers[r] ?? []).map { $0.0 }
                others += allWrites.filter { $0.root == r }.map(\.entry)
            }
            others = others.filter { $0.function != w.entry.function }
            return report(ctx, root: w.root, allRoots: roots, writes: writes.map { ($0.entry, $0.effect) },
                          first: (w.entry, w.effect), readers: readers[w.root] ?? [], partners: others)
        }
    }

    /// How the stress test calls an entry point: its Python name, qualified with its type
    /// (`Registry.reset_json`) when it belongs to another type than `owner`; nil when Python
    /// cannot call it by name (a callback, a thread body).
    static func spelling(_ e: EntryPoint, owner: String?) -> String? {
        guard let name = e.pythonSpelling, [.method, .moduleMethod, .getter, .setter, .slot].contains(e.kind) else { return nil }
        if let t = e.pyType, t != owner { return "\(t).\(name)" }
        return name
    }


    func report(_ ctx: RuleContext, root: String, allRoots: [String], writes: [(EntryPoint, Effect)],
                first: (EntryPoint, Effect), readers: [(EntryPoint, Effect)], partners: [EntryPoint]) -> Finding {
        let program = ctx.program
        let (entry, fx) = first
        let step = fx.chain.last!
        let fn = program.functions[step.function]
        func shown(_ r: String) -> String {
            r.contains(".") && program.globals[String(r.split(separator: ".")[0])] == nil ? String(r.split(separator: ".").last!) : r
        }
        let display = shown(root)
        let alsoSet = allRoots.dropFirst().map { "`\(shown($0))`" }
        // a lazy initialization assigns under a condition that reads the state (the NULL check)
        let guarded = fn.ops.indices.contains { i in
            if case .assign(_, _, let at, _) = fn.ops[i], at == step.pos { return fn.guardedAssignments[i]?.contains(root) ?? false }
            return false
        }
        let lazyCheck = guarded ? Self.readBefore(fn, place: root, pos: step.pos) : nil
        // thread A's steps first, then thread B's
        var notes: [Note] = []
        func write(_ when: String) -> String { "\(ctx.chainText(entry: entry, fx.chain)) \(step.what)\(when), \(fx.locks)" }
        if let check = lazyCheck {
            notes.append(Note(location: fn.location(check), message: "\(ctx.entryText(entry)) checks `\(display)` here, \(LockSet.none)", thread: "A"))
            notes.append(Note(location: ctx.location(step), message: write(""), thread: "A"))
            notes.append(Note(location: fn.location(check),
                              message: "the same code on another thread passes the same check before thread A's assignment", thread: "B"))
            notes.append(Note(location: ctx.location(step),
                              message: "and assigns `\(display)` too: one of the two values is lost (leaked, or released while still in use)",
                              thread: "B"))
        } else {
            if let (r, rd) = readers.first(where: { $0.1.chain.last?.function != step.function }) {
                notes.append(Note(location: ctx.location(rd.chain.last!),
                                  message: "\(ctx.entryText(r)) reads `\(display)`, \(rd.locks)", thread: "A"))
            }
            notes.append(Note(location: ctx.location(step), message: write(" meanwhile"), thread: "B"))
        }
        if !alsoSet.isEmpty {
            notes.append(Note(location: ctx.location(step), message: "the same code also sets \(ctx.shortList(alsoSet))",
                              thread: lazyCheck != nil ? "A" : "B"))
        }
        let ft = ctx.freeThreading(step.function)
        let kind = lazyCheck != nil ? "lazily initializes" : "assigns"
        let message = "`\(fn.name)` \(kind) static `\(display)` without a lock; concurrent calls can race on it in this GIL-free module"
        let why = "\(ft.reason): entry points run concurrently, and `\(display)` is \(lazyCheck != nil ? "checked and set" : "assigned") with no lock, atomic or once-initialization, so two threads can both initialize it (one result is lost or freed) or read it while it is replaced"
        let help = "initialize `\(display)` once in the module's Py_mod_exec slot (preferably in module state), or guard the check-and-set with a PyMutex (or run it once with pthread_once / call_once), or publish it with a C11 atomic compare-exchange and keep the winner"
        return finding(message: message, function: fn.name, location: ctx.location(step), notes: notes, why: why, help: help,
                       key: "\(root)|\(fn.name)",
                       repro: reproHint(ctx, entry: entry, step: step, fn: fn, partners: partners))
    }

    /// The stress test: the type that owns the writing method is instantiated (a module function
    /// is called on the module), and threads race through the writer and its partners.
    func reproHint(_ ctx: RuleContext, entry: EntryPoint, step: Step, fn: FunctionFacts, partners: [EntryPoint]) -> ReproHint {
        let owner = entry.kind == .moduleMethod ? nil : entry.pyType
        let writer = Self.spelling(entry, owner: owner) ?? entry.pythonSpelling ?? fn.name
        let others = uniqued(partners.compactMap { Self.spelling($0, owner: owner) }).filter { $0 != writer }
        return ReproHint(module: ctx.moduleName(step.function), typeName: owner, mutators: [writer], readers: others,
                         scenario: .lazyStaticInit)
    }

    /// A read of the same place earlier in the function (the NULL check of a lazy init).
    static func readBefore(_ fn: FunctionFacts, place: String, pos: Pos) -> Pos? {
        for op in fn.ops {
            if case .read(let p, let at, _) = op, p.root == .global, p.key == place, at < pos { return at }
        }
        return nil
    }

}

extension Program {
    /// The global a place belongs to, if it is shared pointer state of the analyzed code.
    public func sharedPointerState(_ place: String) -> String? {
        let parts = place.split(separator: ".").map(String.init)
        guard let rootName = parts.first else { return nil }
        // function-level statics are recorded as globals named `function.name`
        var rootLen = 1
        var g = globals[rootName]
        if g == nil, parts.count >= 2 {
            g = globals[parts[0] + "." + parts[1]]
            rootLen = 2
        }
        guard let g, !g.isThreadLocal, !g.type.isAtomic else { return nil }
        if parts.count == rootLen {
            return g.type.pointers > 0 && !g.type.isFunctionPointer && !g.type.isArray ? g.name : nil
        }
        // a field of a global struct: pointer fields only
        var t: TypeRef? = g.type
        for f in parts.dropFirst(rootLen) {
            guard let cur = t else { return nil }
            t = fieldType(cur.name, f)
        }
        guard let ft = t, ft.pointers > 0, !ft.isFunctionPointer, !ft.isAtomic else { return nil }
        return place
    }
}
