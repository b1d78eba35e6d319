import FreeraceModel
import FreeraceSyntax

/// FR101: executable memory is unmapped while other threads may still execute in it
/// (the perf-trampoline class).
public struct ExecMemoryUnmappedWhileRunning: Rule {
    public init() {}
    public let code = "FR101"
    public let name = "exec-memory-unmapped-while-running"
    public let summary = "Executable memory is unmapped or freed while other threads may be executing in it"
    public var defaultSeverity: Severity { .error }
    public let maturity = Maturity.preview
    public let languages: [Language] = [.c, .cpp]
    public let doc = RuleDoc(
        whatItDoes: """
            Finds memory made executable (`mmap(..., PROT_EXEC)`, or `mprotect(..., PROT_EXEC)` after \
            mapping; `VirtualAlloc`/`VirtualProtect` with `PAGE_EXECUTE*`) that one entry point unmaps \
            (`munmap`, `VirtualFree`, or a wrapper) while code reached from another entry point calls a \
            function pointer into it — typically an eval-frame hook (`_PyInterpreterState_SetEvalFrameFunc`, \
            `interp->eval_frame = f`) that runs on every thread evaluating Python code. Reported only \
            when nothing orders the two: no lock held by both, no reference count or liveness check \
            guarding the unmap, no stop-the-world, no deferral to a destroy callback.
            """,
        whyIsThisBad: """
            A thread that called into the region may still be running there — or be about to return \
            through it, or be unwinding through it on an exception — when another thread unmaps the \
            pages. The next instruction fetch faults: SIGSEGV on 3.12, corrupted error state on 3.13+ \
            (CPython's perf trampoline, gh-143228). The GIL does not help: the executing thread keeps \
            its return address inside the region while it runs Python code and drops the GIL.
            """,
        example: """
            static PyObject *evaluator(PyThreadState *ts, _PyInterpreterFrame *f, int exc) {
                trampoline_t t = compile_trampoline();      /* pointer into the mapped arena */
                return t(ts, f, exc, _PyEval_EvalFrameDefault);
            }
            void free_arenas(void) {                      /* reached from sys.deactivate_stack_trampoline() */
                munmap(arena->start, arena->size);        /* other threads may still be inside t() */
            }
            """,
        useInstead: """
            Keep each region alive while any thread can be inside it: count its users (for example the \
            code objects whose trampolines live in it) and unmap only when the count drops to zero, \
            from a `PyCode_AddWatcher` callback on `PY_CODE_EVENT_DESTROY` — the design of CPython's fix \
            for gh-143228. Stopping the world around the unmap is not enough on its own: threads park \
            at safe points inside the frame evaluator, which the trampoline called, so their stacks \
            still hold return addresses into the region they will resume through.
            """,
        knownLimitations: """
            Pointers into a region are followed through fields, globals, returns and object-like macros \
            (`#define arena _PyRuntime.x.arena`), not through opaque stores such as `_PyCode_SetExtra`; \
            the call through the pointer must be visible in the analyzed files. An unmap inside \
            `_PyEval_StopTheWorld` … `_PyEval_StartTheWorld` is not reported, although parked threads \
            can still return into the region (see above): such code needs a review by hand.
            """,
        references: [
            "CPython gh-143228: use-after-free in perf_trampoline (fix: PR #143233, refcounted arenas)",
            "https://docs.python.org/3/howto/perf_profiling.html",
            "PEP 523 — Adding a frame evaluation API to CPython",
        ])

    static let refcountNames = ["refcount", "refcnt", "ref_count", "refs", "nusers", "users", "live", "in_use",
                                "active", "pins", "ob_refcnt"]

    public func check(_ ctx: RuleContext) -> [Finding] {
        let exec = ctx.execRegions
        guard !exec.isEmpty else { return [] }
        let program = ctx.program
        // thread A candidates: calls through pointers into executable memory, per entry
        var runners: [(EntryPoint, Effect, Set<Origin>)] = []
        ctx.execEngine.prepare(ctx.nativeConcurrentEntries.map(\.function))
        for e in ctx.nativeConcurrentEntries {
            for fx in ctx.execEngine.entryEffects(e.function) where fx.kind == .exec {
                let s = exec.sitesOf(fx.origin)
                if !s.isEmpty { runners.append((e, fx, s)) }
            }
        }
        guard !runners.isEmpty else { return [] }
        var findings: [Finding] = []
        var seen = Set<String>()
        for e in ctx.nativeConcurrentEntries {
            for fx in ctx.lifetimeEngine.entryEffects(e.function) where fx.kind == .unmap {
                let sites = exec.sitesOf(fx.origin)
                guard !sites.isEmpty, let event = fx.chain.last else { continue }
                // an allocator unmapping its own, never-published region on an error path
                if case .alloc(let af, _) = fx.origin, af == event.function { continue }
                // ordered by a refcount/liveness check, or stop-the-world
                if fx.guards.contains(where: { g in Self.refcountNames.contains { g.lowercased().contains($0) } }) { continue }
                if fx.locks.holdsStopTheWorld { continue }
                let racing = runners.filter { r in
                    !r.2.isDisjoint(with: sites) && !LockSet.orders(r.1.locks, fx.locks)
                }
                guard let (runEntry, runFx, _) = racing.first else { continue }
                let key = "\(program.functions[event.function].name)|\(fx.origin)"
                guard seen.insert(key).inserted else { continue }
                findings.append(report(ctx, unmapEntry: e, unmap: fx, runEntry: runEntry, run: runFx, sites: sites,
                                       others: racing.dropFirst().map { ctx.entryText($0.0) }, key: key))
            }
        }
        return findings
    }

    func report(_ ctx: RuleContext, unmapEntry: EntryPoint, unmap: Effect, runEntry: EntryPoint, run: Effect,
                sites: Set<Origin>, others: [String], key: String) -> Finding {
        let exec = ctx.execRegions
        let event = unmap.chain.last!
        let unmapper = ctx.functionName(event)
        var notes: [Note] = []
        let runner = ctx.program.functions[runEntry.function].name
        if let origin = runEntry.origin {
            // the entry's label reads "the eval-frame hook `f` (installed by API() in `g`)"
            let label = runEntry.label
            let by = label.range(of: "(installed by ").map { "by " + label[$0.upperBound...].dropLast() } ?? "(\(label))"
            let role = label.contains("eval-frame hook") ? "the eval-frame function" : "a callback"
            notes.append(Note(location: origin, message: "`\(runner)` is installed as \(role) \(by) and runs on every thread that evaluates Python code", thread: "A"))
        }
        let callStep = run.chain.last!
        let how = run.chain.count > 1
            ? " (reached via " + run.chain.dropLast().map { "`\(ctx.functionName($0))`" }.joined(separator: " → ") + ")"
            : ""
        notes.append(Note(location: ctx.location(callStep),
                          message: "`\(ctx.functionName(callStep))` \(callStep.what), a pointer into the executable arena (`\(run.origin)`)\(how); the thread runs inside the arena until the call returns", thread: "A"))
        if let site = sites.sorted(by: { $0.description < $1.description }).first, let ev = exec.sites[site] {
            notes.append(Note(location: ev.location, message: "`\(ev.function)` makes the arena executable: \(ev.text)", thread: "A"))
        }
        let chain = unmap.chain.map { "`\(ctx.functionName($0))`" }.joined(separator: " → ")
        notes.append(Note(location: ctx.location(event),
                          message: "\(ctx.entryText(unmapEntry)): \(chain) unmaps it with \(event.what), \(unmap.locks)",
                          thread: "B"))
        if !others.isEmpty {
            notes.append(Note(location: ctx.location(callStep), message: "also executed from \(ctx.shortList(others))", thread: "A"))
        }
        let message = "`\(unmapper)` unmaps executable memory while `\(runner)` may still be running in it on another thread"
        let why = "no lock, reference count, stop-the-world or deferral orders the unmap after the last thread has left the arena: a thread inside `\(runner)`'s call (or returning or unwinding through it) faults once the pages are gone"
        let help = "keep the arena alive while any thread can be inside it: count its users (e.g. the code objects whose trampolines live in it) and unmap only when the count drops to zero, from a PyCode_AddWatcher PY_CODE_EVENT_DESTROY callback (CPython's fix for gh-143228); stopping the world is not enough: parked threads still return through the region"
        return finding(message: message, function: unmapper, location: ctx.location(event), notes: notes, why: why,
                       help: help, key: key, severity: .error,
                       repro: ReproHint(module: ctx.moduleName(unmapEntry.function), typeName: nil,
                                        mutators: uniqued([installer(ctx, runEntry), unmapEntry].compactMap { $0?.pythonSpelling }),
                                        readers: [runner], scenario: .trampolineToggle))
    }

    /// The Python-callable entry point that installs `runEntry` (the function holding its
    /// registration): the repro toggles it together with the unmapping entry.
    func installer(_ ctx: RuleContext, _ runEntry: EntryPoint) -> EntryPoint? {
        guard let o = runEntry.origin else { return nil }
        let fns = ctx.program.functions
        guard let fi = fns.indices.first(where: {
            fns[$0].file == o.path && Int(fns[$0].pos.line) <= o.line && o.line <= Int(fns[$0].endPos.line)
        }) else { return nil }
        return ctx.program.entryPoints.first { $0.function == fi && $0.pythonSpelling != nil }
    }
}
