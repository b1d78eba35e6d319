import FreeraceModel
import FreeraceSyntax

/// FR301: a free-threading type frees an internal buffer while other entry points read it
/// without a critical section (the multidict resize race).
public struct ObjectBufferFreedDuringUnlockedRead: Rule {
    public init() {}
    public let code = "FR301"
    public let name = "object-buffer-freed-during-unlocked-read"
    public let summary = "A free-threading type frees or reallocates an internal buffer while other methods read it without a critical section"
    public let maturity = Maturity.preview
    public let languages: [Language] = [.c, .cpp, .cython]
    public let doc = RuleDoc(
        whatItDoes: """
            Finds a field of a Python object struct (`T.f`, a raw buffer such as a hash table) that one \
            entry point frees or reallocates (directly, through a wrapper like `htkeys_free`, or by \
            replacing it) while other entry points — methods, type slots, getters, iterators' `tp_iternext` — \
            read it, with no lock held by both sides. Also the most common free-threaded crash: a \
            method that replaces a field holding a reference (`Py_XSETREF(self->f, v)`, `Py_CLEAR`, \
            `old = self->f; self->f = v; Py_DECREF(old)`) and so drops the old object, while other \
            entry points load the field and use or incref it. Handing the buffer to another place \
            (`st->scratch = self->cache; self->cache = NULL;`, a cache taken for one call and put back \
            after it) uses it too: two threads can take the same buffer before either clears the \
            field. Applies to modules that declare \
            `Py_MOD_GIL_NOT_USED` (or under `--target free-threaded`). Quiet on an object confined to \
            one thread (installed as the calling thread's trace or profile object with \
            `PyEval_SetTrace`/`PyEval_SetProfile`) and on initializers (`__init__`), which work on an \
            object no other thread has yet, and on a reader whose method first sets a flag of the \
            object that the freeing method tests and leaves on (a state guard: `close()` raising \
            while `self._running` is set). Cython extension types are objects too: a `cdef class`'s C \
            attributes (`cdef char *buf`, in the class body or its `.pxd`) are its fields, `self.buf` in \
            its methods is `self->buf`, and a pointer inside a C struct embedded by value \
            (`cdef msgpack_packer pk`; `self.pk.buf`) is the object's field `Packer.pk.buf` — also when \
            a C helper of the project's headers reallocates it through `&self.pk`. Its `def`/`cpdef` \
            methods and special methods (`__getbuffer__`, `__next__`) are entry points; `__cinit__`, \
            `__init__` and `__dealloc__` are not concurrent with the object's methods. \
            `@cython.critical_section` and `with cython.critical_section(self):` are critical sections, \
            `with self._lock:` (a lock object in a field or global) a mutex. C++ extension types too: a class the object holds \
            (a pimpl, `Registry *reg;`) is the object's state; `items.push_back(x)`, `resize`, `clear`, \
            `erase` and `reset()` end the memory a member owns (a vector's buffer, a smart pointer's \
            object), `items[i]`, iteration and a copy read it, and `std::lock_guard`, `std::unique_lock`, \
            `std::scoped_lock` (or a project guard whose constructor locks) hold a mutex to the end of \
            their block. A Cython module applies \
            with `# cython: freethreading_compatible = True` (or under `--target free-threaded`).
            """,
        whyIsThisBad: """
            Without the GIL, two threads can call methods of the same object at once. If one resizes \
            the table and frees the old one while another is reading it — or an iterator still holds a \
            position into it — the reader touches freed memory: a crash or silent corruption \
            (multidict on 3.13t/3.14t: concurrent iteration and insertion segfaulted).
            """,
        example: """
            static int resize(TableObject *self) {
                entry_t *old = self->entries;
                self->entries = PyMem_Calloc(2 * self->size, sizeof(entry_t));
                ...
                PyMem_Free(old);              /* thread B frees the old table */
            }
            static PyObject *get(TableObject *self, PyObject *key) {
                return lookup(self->entries, key);   /* thread A reads it, no critical section */
            }
            """,
        useInstead: """
            Take the object's critical section at every entry point that reads or writes the buffer, as \
            CPython's own dict does:

                Py_BEGIN_CRITICAL_SECTION(self);
                result = lookup(self->entries, key);
                Py_END_CRITICAL_SECTION();

            In an iterator, lock the container (`Py_BEGIN_CRITICAL_SECTION(it->table)`). Argument Clinic's \
            `@critical_section` does this for generated wrappers.
            """,
        knownLimitations: """
            Fields are identified by struct type, not by object: a read of `T.f` on one object and a free \
            on another are assumed to race. A released reference is reported only when a method \
            releases a field of its own object (`self`), the object surely shared. Locks are matched by kind and type (`Py_BEGIN_CRITICAL_SECTION` \
            on an object of type T protects T's fields); a critical section suspended by a blocking call \
            inside it is not modelled. In Cython, a `with` block holds a lock only when its object is \
            named like one (`_lock`, `mutex`); locks taken through `PyThread_acquire_lock` in a \
            helper method are not lifted to its callers, and a lock field that is never allocated \
            (so the helper skips it) is not told apart from a real one.
            """,
        references: [
            "PEP 703 — Making the Global Interpreter Lock Optional",
            "https://docs.python.org/3/howto/free-threading-extensions.html",
            "https://docs.python.org/3/c-api/init.html#python-critical-section-api",
            "multidict PR #1317: use-after-free in the C extension under free-threaded CPython",
        ])

    struct Free {
        var entry: EntryPoint
        var effect: Effect
        var blamed: Int
    }

    public func check(_ ctx: RuleContext) -> [Finding] {
        let program = ctx.program
        // 1. Frees of object fields, grouped by (type, field, freeing function)
        var groups: [String: [Free]] = [:]
        var order: [String] = []
        // files a free under its root cause, blamed on the function that frees; `perFreer`: one
        // group per freeing function (a replaced field is one root cause whoever replaces it)
        func group(_ e: EntryPoint, _ fx: Effect, perFreer: Bool) {
            let b = ctx.blamedStep(fx.chain, kind: fx.kind, origin: fx.origin, engine: ctx.lifetimeEngine)
            let freer = fx.chain[b].function
            guard ctx.freeThreadingApplies(freer) else { return }
            let key = "\(fx.origin)|\(fx.kind)" + (perFreer ? "|\(program.functions[freer].name)" : "")
            if groups[key] == nil { order.append(key) }
            groups[key, default: []].append(Free(entry: e, effect: fx, blamed: b))
        }
        // an initializer works on an object no other thread has yet; an object confined to its
        // thread (a per-thread tracer) does not race with itself
        let entries = ctx.objectConcurrentEntries.filter { !$0.initializesItsObject }
        ctx.lifetimeEngine.prepare(entries.map(\.function))
        for e in entries {
            for fx in ctx.lifetimeEngine.entryEffects(e.function) where fx.kind == .free {
                guard case .field(let owner, _) = fx.origin, program.isObjectState(owner),
                      !program.threadConfinedTypes.contains(owner) else { continue }
                group(e, fx, perFreer: true)
            }
            // A reference released while its field is replaced is reported only on the entry's own
            // object (`self`): that object is surely shared, while a field of an argument or of a
            // helper's object may belong to one the caller just made.
            guard let selfType = e.selfType, program.isPythonObject(selfType),
                  !program.threadConfinedTypes.contains(selfType) else { continue }
            for var fx in ctx.lifetimeEngine.summary(e.function).effects where fx.kind == .release {
                guard case .param(0, let fields) = fx.origin, fields.count == 1 else { continue }
                fx.origin = .field(selfType, fields[0])
                group(e, fx, perFreer: false)
            }
        }
        guard !order.isEmpty else { return [] }
        // 2. Reads of each freed field, per entry point in entry order (collected once: a type
        // with thousands of methods that free and read one field must not cost entries² scans)
        let freedOrigins = Set(groups.values.compactMap { $0.first?.effect.origin })
        var readsByOrigin: [Origin: [(EntryPoint, [Effect])]] = [:]
        // an initializer works on an object no other thread has yet: not a reader
        let reads = ctx.readEngine(of: freedOrigins)
        reads.prepare(entries.map(\.function))
        for r in entries {
            var mine: [Origin: [Effect]] = [:]
            for rd in reads.entryEffects(r.function) where rd.kind == .read && freedOrigins.contains(rd.origin) {
                mine[rd.origin, default: []].append(rd)
            }
            for (o, rds) in mine { readsByOrigin[o, default: []].append((r, rds)) }
        }
        var findings: [Finding] = []
        for key in order {
            guard let frees = groups[key], let first = frees.first else { continue }
            guard case .field(let owner, let field) = first.effect.origin else { continue }
            // readers of the same field whose locks do not order them with some free
            var readers: [(EntryPoint, Effect)] = []
            // the function that swaps the reference out owns the old pointer it loads and drops:
            // its own loads are not the readers the release races with
            let releasers = Set(frees.filter { $0.effect.kind == .release }.compactMap { $0.effect.chain.last?.function })
            for (r, rds) in readsByOrigin[first.effect.origin] ?? [] {
                let rds = rds.filter { !releasers.contains($0.chain.last!.function) }
                // a free the reader's own state guard keeps apart from it does not race with it
                if let rd = rds.first(where: { rd in frees.contains {
                    !LockSet.orders($0.effect.locks, rd.locks)
                        && !program.stateGuardSeparates(free: $0.effect.chain, use: rd.chain, owner: owner)
                } }) {
                    readers.append((r, rd))
                }
            }
            guard !readers.isEmpty else { continue }
            // the free shown is one that really races with the first reader shown (a locked free
            // next to an unlocked one must not be the evidence)
            var shown = frees
            if let k = frees.firstIndex(where: {
                !LockSet.orders($0.effect.locks, readers[0].1.locks)
                    && !program.stateGuardSeparates(free: $0.effect.chain, use: readers[0].1.chain, owner: owner)
            }), k > 0 {
                shown.swapAt(0, k)
            }
            findings.append(report(ctx, owner: owner, field: field, frees: shown, readers: readers))
        }
        return findings
    }

    func report(_ ctx: RuleContext, owner: String, field: String, frees: [Free], readers: [(EntryPoint, Effect)]) -> Finding {
        let first = frees[0]
        let freeStep = first.effect.chain[first.blamed]
        let freer = ctx.functionName(freeStep)
        let freeLoc = ctx.location(freeStep)
        let eventStep = first.effect.chain.last!
        var via = ""
        if first.blamed < first.effect.chain.count - 1 {
            via = " (via " + first.effect.chain[(first.blamed + 1)...].map { "`\(ctx.functionName($0))`" }.joined(separator: " → ")
                + " → \(first.effect.source))"
        } else {
            via = " (\(first.effect.source))"
        }
        // readers are one per entry point: name the first few, count the rest (a type with
        // thousands of readers must not render thousands of names per finding)
        let readerNames = uniqued(readers.prefix(24).map { ctx.entryText($0.0) })
        let iterators = readers.filter { $0.0.pythonSpelling == "__next__" }
        var notes: [Note] = []
        for (e, rd) in readers.prefix(6) {
            let step = rd.chain.last!
            notes.append(Note(location: ctx.location(step),
                              message: "\(ctx.entryText(e)) \(step.what) in `\(ctx.functionName(step))`, \(rd.locks)",
                              thread: "A"))
        }
        if readers.count > 6 {
            notes.append(Note(location: ctx.location(readers[6].1.chain.last!),
                              message: "\(readers.count - 6) more readers: \(ctx.shortList(Array(readerNames.dropFirst(6)), max: 8, total: readers.count - 6))",
                              thread: "A"))
        }
        if let (it, rd) = iterators.first {
            notes.append(Note(location: ctx.location(rd.chain.last!),
                              message: "the iterator \(ctx.entryText(it)) keeps its position into the buffer between calls: a resize in between leaves it reading the freed table",
                              thread: "A"))
        }
        let freers = uniqued(frees.map { ctx.entryText($0.entry) })
        let releases = first.effect.kind == .release
        let verb = releases ? "drops the reference held in" : "frees"
        notes.append(Note(location: freeLoc,
                          message: "\(ctx.chainText(entry: first.entry, first.effect.chain, upTo: first.blamed)) \(verb) `\(owner).\(field)`\(via), \(first.effect.locks)",
                          thread: "B"))
        if eventStep != freeStep {
            notes.append(Note(location: ctx.location(eventStep),
                              message: releases ? "the old object's reference is dropped here: it is freed if that was the last one"
                                                : "the memory is released here", thread: "B"))
        }
        // the other places that do the same: each named by its function and located there
        var otherSites: [(Free, Step)] = []
        var shownFunctions: Set<Int> = [freeStep.function]
        for f in frees.dropFirst() {
            let step = f.effect.chain[f.blamed]
            if shownFunctions.insert(step.function).inserted { otherSites.append((f, step)) }
        }
        for (f, step) in otherSites.prefix(4) {
            notes.append(Note(location: ctx.location(step),
                              message: "`\(ctx.functionName(step))` (\(ctx.entryText(f.entry))) also \(releases ? "drops the old object" : "frees it") (\(f.effect.source)), \(f.effect.locks)",
                              thread: "B"))
        }
        if otherSites.count > 4 {
            let rest = otherSites.dropFirst(4).map { "`\(ctx.functionName($0.1))`" }
            notes.append(Note(location: ctx.location(otherSites[4].1),
                              message: "\(rest.count) more: \(ctx.shortList(rest, max: 24))", thread: "B"))
        } else if otherSites.isEmpty, freers.count > 1 {
            notes.append(Note(location: freeLoc, message: "also reached from \(ctx.shortList(Array(freers.dropFirst()), max: 6))",
                              thread: "B"))
        }
        let ft = ctx.freeThreading(freeStep.function)
        let readerText = ctx.shortList(readerNames, max: 3, total: readers.count)
        let message = releases
            ? "`\(freer)` replaces `\(owner).\(field)` and drops the old object while \(readerText) may still use it on another thread without a critical section"
            : "`\(freer)` frees `\(owner).\(field)` while \(readerText) may read it on another thread without a critical section"
        let why = releases
            ? "\(ft.reason); `\(owner)` is shared between threads: a reader can load the old pointer just before it is replaced and use (or incref) it after its last reference is gone, and no lock is held by both sides"
            : "\(ft.reason); `\(owner)` is shared between threads and no lock is held by both the freeing and the reading side"
        let cython = ctx.program.functions[freeStep.function].language == .cython
            || readers.contains { ctx.program.functions[$0.0.function].language == .cython }
        let help = cython && !releases
            ? "decorate every method of `\(owner)` that reads or writes `\(field)` with @cython.critical_section (or hold `with cython.critical_section(self):` around the accesses)"
            : releases
            ? "hold Py_BEGIN_CRITICAL_SECTION(self) around the replacement and around every load of `\(field)` that is used or increfed (take a strong reference inside the section: `Py_XNewRef(self->\(field))`), as CPython's own setters do"
            : "wrap every entry point that reads or writes `\(field)` in Py_BEGIN_CRITICAL_SECTION(self) … Py_END_CRITICAL_SECTION()"
                + (iterators.isEmpty ? "" : " (in iterators, lock the container they walk)")
                + ", as CPython's dict does"
        let repro = ReproHint(module: ctx.moduleName(freeStep.function),
                              typeName: frees.compactMap(\.entry.pyType).first ?? readers.compactMap(\.0.pyType).first,
                              mutators: uniqued(frees.compactMap(\.entry.pythonSpelling)),
                              readers: uniqued(readers.compactMap(\.0.pythonSpelling)),
                              scenario: .objectMutateVsRead)
        return finding(message: message, function: freer, location: freeLoc, notes: notes, why: why, help: help,
                       key: releases ? "\(owner).\(field)|release" : "\(owner).\(field)|\(freer)", repro: repro)
    }
}
