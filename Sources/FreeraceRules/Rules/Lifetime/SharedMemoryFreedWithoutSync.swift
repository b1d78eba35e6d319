import FreeraceModel
import FreeraceSyntax

/// FR102: memory reachable from a global or a shared struct is freed in one thread context while
/// another context can still read it, with no lock in common.
public struct SharedMemoryFreedWithoutSync: Rule {
    public init() {}
    public let code = "FR102"
    public let name = "shared-memory-freed-without-sync"
    public let summary = "Memory reachable from a global or shared object is freed while another thread can still read it, with no common lock"
    public let maturity = Maturity.preview
    public let languages: [Language] = [.c, .cpp]
    public let doc = RuleDoc(
        whatItDoes: """
            Finds a global (or a field of a non-object struct reached from one) whose memory one entry \
            point frees (`free`, `PyMem_Free`, `PyMem_RawFree`, `PyObject_Free`, `munmap`, or a wrapper \
            that frees its argument) while another entry point reads it, and the two hold no lock in \
            common. Reported where threads can really interleave: in modules that declare \
            `Py_MOD_GIL_NOT_USED` (or under `--target free-threaded`), or when one side runs without \
            the GIL (a native thread, a `Py_BEGIN_ALLOW_THREADS` region). A type's `tp_dealloc`, \
            `tp_finalize` and GC slots count as concurrent here: an object's last reference goes away \
            on whichever thread drops it, while other threads keep running (only that object's own \
            fields are private there). Module init and teardown (`Py_mod_exec`, `m_free`, `m_clear`) \
            are not reported. Two more ends of a life: a block given back to a global free list or \
            cache (`b->next = free_list; free_list = b`, or a slot of an array of pointers, in a \
            function named as a destructor, `…_free`, `…_release`) while another thread takes blocks \
            from it with no common lock; and memory handed to a thread the code starts \
            (`pthread_create(&t, NULL, run, arg)`, `PyThread_start_new_thread(run, arg)`) that another \
            context frees before anything waits for the thread to end (`pthread_join`, a wait on a \
            condition the thread signals).
            """,
        whyIsThisBad: """
            The reader may load the pointer just before the free and use it just after: a \
            use-after-free that corrupts memory or crashes far from the cause.
            """,
        example: """
            static char *cache;                                   /* shared by all threads */
            static PyObject *set_cache(PyObject *m, PyObject *s) {
                char *old = cache;
                cache = strdup(PyUnicode_AsUTF8(s));
                free(old);                                        /* thread B */
                Py_RETURN_NONE;
            }
            static PyObject *get_cache(PyObject *m, PyObject *unused) {
                return PyUnicode_FromString(cache);               /* thread A may read `old` */
            }
            """,
        useInstead: """
            Hold the same lock on both sides (`PyMutex_Lock(&cache_lock)` around the read and around \
            the replace-and-free), or publish the new pointer atomically and free the old one only when \
            no reader can hold it (reference counting, deferred reclamation). Guard a free list's push \
            and pop with one lock, or keep it per thread; join a thread before freeing what it was given.
            """,
        knownLimitations: """
            Memory is identified by the global or by struct type and field; aliasing through containers \
            is not followed. Readers that copy the pointer under a lock and use it after releasing it are \
            considered protected. A join anywhere before the free, on any path, counts as waiting for \
            the thread; which thread a join waits for is not checked.
            """,
        references: [
            "PEP 703 — Making the Global Interpreter Lock Optional",
            "https://docs.python.org/3/howto/free-threading-extensions.html",
            "https://docs.python.org/3/c-api/init.html#c.PyMutex",
        ])

    struct Free {
        var entry: EntryPoint
        var effect: Effect
    }

    /// Readers collected per finding (its notes show the first few and count the rest).
    static let maxReaders = 24

    public func check(_ ctx: RuleContext) -> [Finding] {
        let program = ctx.program
        let exec = ctx.execRegions
        var groups: [String: [Free]] = [:]
        var order: [String] = []
        ctx.lifetimeEngine.prepare(ctx.nativeGlobalStateEntries.map(\.function))
        for e in ctx.nativeGlobalStateEntries {
            for fx in ctx.lifetimeEngine.entryEffects(e.function) where fx.kind == .free || fx.kind == .recycle {
                // shared memory: reachable from a global variable of the analyzed code
                guard case .global(let place) = fx.origin, Self.isSharedGlobal(place, program) else { continue }
                // an unmap of executable memory is FR101's; a block given back to a free list is not an unmap
                guard fx.kind == .recycle || exec.sitesOf(fx.origin).isEmpty, let event = fx.chain.last else { continue }
                // a free list of its own per thread (`static thread_local block *free_list`) is the fix
                let root = place.split(separator: ".").first.map(String.init) ?? place
                if fx.kind == .recycle, program.globals[root]?.isThreadLocal == true { continue }
                // one finding per shared root and freeing function (`pool` and `pool->base` together)
                let key = "\(fx.kind == .recycle ? "free list " : "")\(root)|\(program.functions[event.function].name)"
                if groups[key] == nil { order.append(key) }
                groups[key, default: []].append(Free(entry: e, effect: fx))
            }
        }
        var findings = handedToThreads(ctx)
        guard !order.isEmpty else { return findings }
        // reads of the freed places, per entry point, collected once (not once per freeing function)
        let allFreed = Set(groups.values.flatMap { $0.map(\.effect.origin) })
        var readsOfEntry: [(EntryPoint, [Effect])] = []
        let reads = ctx.readEngine(of: allFreed)
        reads.prepare(ctx.nativeGlobalStateEntries.map(\.function))
        for r in ctx.nativeGlobalStateEntries {
            let rds = reads.entryEffects(r.function).filter { $0.kind == .read && allFreed.contains($0.origin) }
            if !rds.isEmpty { readsOfEntry.append((r, rds)) }
        }
        for key in order {
            guard let frees = groups[key] else { continue }
            let freedPlaces = Set(frees.map(\.effect.origin))
            var readers: [(EntryPoint, Effect, Free)] = []
            for k in readsOfEntry.indices {
                // a finding names its first readers and counts no further: enough are known
                if readers.count >= Self.maxReaders { break }
                let r = readsOfEntry[k].0
                var best: (read: Int, free: Int, depth: Int)?
                for (ri, rd) in readsOfEntry[k].1.enumerated() where freedPlaces.contains(rd.origin) {
                    guard let fi = frees.indices.first(where: { j in
                        !LockSet.orders(frees[j].effect.locks, rd.locks)
                            && (frees[j].entry.kind != .exported || r.kind != .exported)
                            && Self.canInterleave(ctx, frees[j].entry, frees[j].effect, r, rd)
                    }) else { continue }
                    // show the deepest place read (`pool->base` rather than the `pool` NULL check)
                    let depth = rd.origin.description.count
                    if best == nil || depth > best!.depth { best = (ri, fi, depth) }
                }
                if let best { readers.append((r, readsOfEntry[k].1[best.read], frees[best.free])) }
            }
            guard let (_, _, free) = readers.first else { continue }
            // the freeing entry itself reads the pointer it frees: list other readers first; and
            // for a free list, those that take blocks from it before those that push onto it too
            // (two unlocked pushes lose a slot as surely, but a taker is the clearer witness)
            let pushSites = frees.filter { $0.effect.kind == .recycle }.compactMap(\.effect.chain.last)
            func rank(_ r: (EntryPoint, Effect, Free)) -> Int {
                (r.0.function == free.entry.function ? 2 : 0) + (pushSites.contains { Self.sameSite($0, r.1.chain.last) } ? 1 : 0)
            }
            let ordered = readers.enumerated().sorted { (rank($0.element), $0.offset) < (rank($1.element), $1.offset) }.map(\.element)
            findings.append(report(ctx, free: free, readers: ordered, freed: frees.map(\.effect.origin), key: key))
        }
        return findings
    }

    /// Memory handed to a thread the code starts (`pthread_create(&t, NULL, run, arg)`) and freed
    /// by another context before anything waits for that thread to end (`pthread_join`, a wait on
    /// a condition it signals): the thread may still be running inside it. A Python object handed
    /// to a thread lives by its reference count, not here.
    func handedToThreads(_ ctx: RuleContext) -> [Finding] {
        let program = ctx.program
        // what each started thread was given: origin → (the entry that starts it, the hand-off, the routine)
        var given: [Origin: [(EntryPoint, Effect, Int)]] = [:]
        ctx.lifetimeEngine.prepare(program.entryPoints.map(\.function))
        for e in program.entryPoints {
            for fx in ctx.lifetimeEngine.entryEffects(e.function) where fx.kind == .handOff && Self.isRawMemory(fx.origin, program) {
                guard let event = fx.chain.last, let routine = program.startedThread(at: event) else { continue }
                if given[fx.origin]?.contains(where: { $0.2 == routine }) == true { continue }
                given[fx.origin, default: []].append((e, fx, routine))
            }
        }
        guard !given.isEmpty else { return [] }
        let joins = ctx.threadJoins
        var findings: [Finding] = []
        var reported = Set<String>()
        for e in ctx.nativeGlobalStateEntries {
            for fx in ctx.lifetimeEngine.entryEffects(e.function) where fx.kind == .free {
                guard let starts = given[fx.origin], let event = fx.chain.last else { continue }
                // the thread freeing what it was given is its own business; after a join it is gone
                let freers = Set(fx.chain.map(\.function))
                guard let (starter, handOff, routine) = starts.first(where: { !freers.contains($0.2) }),
                      !joins.joinsBefore(fx.chain, program) else { continue }
                let key = "thread \(fx.origin)|\(program.functions[event.function].name)"
                guard reported.insert(key).inserted else { continue }
                findings.append(reportHandOff(ctx, freer: e, free: fx, starter: starter, handOff: handOff, routine: routine, key: key))
            }
        }
        return findings
    }

    /// Raw memory a shared place points to: not a Python object (its reference count, which the
    /// thread holds, keeps it alive), nor a parameter the entry point was called with.
    static func isRawMemory(_ o: Origin, _ program: Program) -> Bool {
        let type: TypeRef?
        switch o {
        case .field(let owner, let f): type = program.fieldType(owner, f)
        case .global(let g): type = program.globals[g]?.type
        default: return false
        }
        guard let t = type else { return true }
        return !t.isFunctionPointer && !t.isPyObjectPointer && !program.isPythonObject(t.name)
    }

    func reportHandOff(_ ctx: RuleContext, freer: EntryPoint, free: Effect, starter: EntryPoint, handOff: Effect, routine: Int,
                       key: String) -> Finding {
        let program = ctx.program
        let event = free.chain.last!
        let start = handOff.chain.last!
        let what = Self.describe(free.origin)
        let thread = "the thread `\(program.functions[routine].displayName)` (started by \(handOff.source)() in `\(ctx.functionName(start))`)"
        var notes: [Note] = []
        notes.append(Note(location: ctx.location(start),
                          message: "\(ctx.chainText(entry: starter, handOff.chain)): \(start.what), which uses it until it is joined",
                          thread: "A"))
        notes.append(Note(location: program.functions[routine].location,
                          message: "\(thread) runs with \(what) and no GIL", thread: "A"))
        notes.append(Note(location: ctx.location(event),
                          message: "\(ctx.chainText(entry: freer, free.chain)) frees \(what) with \(event.what), and nothing before it waits for the thread to end",
                          thread: "B"))
        let message = "`\(ctx.functionName(event))` frees \(what) while \(thread) may still use it"
        let why = "memory handed to a thread stays in use until the thread is joined, and no join (or wait on a condition the thread signals) precedes the free"
        let help = "wake the thread and join it (pthread_join) before freeing what it was given, or let the thread free it when it is done"
        return finding(message: message, function: ctx.functionName(event), location: ctx.location(event), notes: notes, why: why,
                       help: help, key: key,
                       repro: ReproHint(module: ctx.moduleName(freer.function), typeName: nil,
                                        mutators: [freer.pythonSpelling ?? program.functions[freer.function].name],
                                        readers: [], scenario: .globalFreeVsRead))
    }

    /// Whether two trace steps are the same place of the same function.
    static func sameSite(_ a: Step?, _ b: Step?) -> Bool {
        guard let a, let b else { return false }
        return a.function == b.function && a.pos == b.pos
    }

    /// Whether the two sides can run at the same time: free-threaded code, or a side without the GIL.
    static func canInterleave(_ ctx: RuleContext, _ e1: EntryPoint, _ f1: Effect, _ e2: EntryPoint, _ f2: Effect) -> Bool {
        if ctx.freeThreadingApplies(e1.function) || ctx.freeThreadingApplies(e2.function) { return true }
        if f1.gil == .released || f2.gil == .released { return true }
        if (e1.kind == .threadBody && f1.gil != .held) || (e2.kind == .threadBody && f2.gil != .held) { return true }
        return false
    }

    func report(_ ctx: RuleContext, free: Free, readers: [(EntryPoint, Effect, Free)], freed: [Origin],
                key: String) -> Finding {
        let event = free.effect.chain.last!
        let freer = ctx.functionName(event)
        let what = uniqued(freed.map { Self.describe($0) }).joined(separator: " and ")
        var notes: [Note] = []
        for (e, rd, _) in readers.prefix(5) {
            let step = rd.chain.last!
            notes.append(Note(location: ctx.location(step),
                              message: "\(ctx.entryText(e)) \(step.what) in `\(ctx.functionName(step))`, \(rd.locks)\(rd.gil == .released ? ", with the GIL released" : "")",
                              thread: "A"))
        }
        if readers.count > 5 {
            notes.append(Note(location: ctx.location(readers[5].1.chain.last!),
                              message: "and \(readers.count >= Self.maxReaders ? "at least " : "")\(readers.count - 5) more readers", thread: "A"))
        }
        let recycled = free.effect.kind == .recycle
        notes.append(Note(location: ctx.location(event),
                          message: recycled
                            ? "\(ctx.chainText(entry: free.entry, free.effect.chain)): \(event.what) (\(what)), \(free.effect.locks)"
                            : "\(ctx.chainText(entry: free.entry, free.effect.chain)) frees \(what) with \(event.what), \(free.effect.locks)",
                          thread: "B"))
        let why: String
        let ft = ctx.freeThreading(free.entry.function)
        if ft.applies {
            why = "\(ft.reason): both run concurrently on different threads, and no lock is held by both sides"
        } else {
            why = "one side runs without the GIL, so the two can interleave, and no lock is held by both sides"
        }
        let readerNames = uniqued(readers.filter { $0.0.function != free.entry.function || readers.count == 1 }
            .map { "\(ctx.entryText($0.0))" })
        let message = recycled
            ? "`\(freer)` puts a block back on the free list \(what) while \(ctx.shortList(readerNames, max: 3)) may use the list on another thread"
            : "`\(freer)` frees \(what) while \(ctx.shortList(readerNames, max: 3)) may still read it on another thread"
        let help = recycled
            ? "hold one lock (a PyMutex) around every push onto and pop from the free list, or keep the free list per thread (or skip it in free-threaded builds)"
            : "hold the same lock (a PyMutex) around the read and around the replace-and-free, or publish the new pointer atomically and free the old one only when no reader can still hold it"
        return finding(message: message, function: freer, location: ctx.location(event), notes: notes, why: why, help: help,
                       key: key, repro: ReproHint(module: ctx.moduleName(free.entry.function), typeName: nil,
                                                  mutators: [free.entry.pythonSpelling ?? ctx.program.functions[free.entry.function].name],
                                                  readers: readers.compactMap { $0.0.pythonSpelling }, scenario: .globalFreeVsRead))
    }

    /// A place rooted at a global variable declared in the analyzed code (or a function-level
    /// static, or CPython's runtime state), not a constant, a function or an immortal singleton.
    static func isSharedGlobal(_ key: String, _ program: Program) -> Bool {
        let root = String(key.split(separator: ".").first ?? "")
        if root == "_PyRuntime" { return true }
        let parts = key.split(separator: ".").map(String.init)
        if parts.count >= 2, program.globals[root] == nil, program.globals[parts[0] + "." + parts[1]] != nil {
            return true  // `fn.name`: a static local of function fn
        }
        guard let g = program.globals[root] else { return false }
        return g.type.pointers > 0 || !key.split(separator: ".").dropFirst().isEmpty || g.type.isArray
    }

    static func describe(_ o: Origin) -> String {
        switch o {
        case .global(let g): "`\(g)`"
        case .field(let t, let f): "`\(t).\(f)`"
        default: "`\(o)`"
        }
    }
}
