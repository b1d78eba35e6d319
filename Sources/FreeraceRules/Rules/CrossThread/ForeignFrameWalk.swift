import FreeraceModel
import FreeraceSyntax

/// FR201: another thread's frames or thread state are read without stopping that thread
/// (the sampling-profiler class).
public struct ForeignFrameWalk: Rule {
    public init() {}
    public let code = "FR201"
    public let name = "foreign-frame-walk"
    public let summary = "Another thread's frames or thread state are dereferenced without stopping that thread"
    public var defaultSeverity: Severity { .error }   // Python walks are warnings
    public var group: RuleGroup { .referencesAndState }
    public let maturity = Maturity.preview
    public let languages: [Language] = [.c, .cpp, .cython, .python]
    public let doc = RuleDoc(
        whatItDoes: """
            Follows frames obtained from `_PyThread_CurrentFrames()` / `sys._current_frames()` (and \
            `_PyThread_CurrentExceptions()` / `sys._current_exceptions()`), and thread states from \
            `PyInterpreterState_ThreadHead` / `PyThreadState_Next`, through variables, dict iteration and \
            calls into helpers (also across files), and reports where they are dereferenced or walked: \
            `f_back`, `f_code`, `f_locals`, `f_lineno`, `tstate->frame`, `PyFrame_GetBack`, \
            `traceback.extract_stack(frame)`, … Works on C, Cython and Python. A walk that only \
            follows the thread-state list (`ts->next`, thread ids) is reported in GIL-free modules \
            only: with the GIL, thread states are unlinked by threads that hold it.
            """,
        whyIsThisBad: """
            A frame belongs to the thread that runs it. While a sampler walks it, the owner keeps \
            running: it returns from the function and the frame is freed (or, since 3.11, its \
            interpreter frame is reused) — in C and Cython the sampler then dereferences a dangling \
            pointer (dd-trace-py's profiler crashed production workers with SIGSEGV this way). In pure \
            Python the walk still races with the owner: lazily materialized frames on 3.11+, and no \
            GIL to serialize anything on free-threaded builds.
            """,
        example: """
            cdef dict frames = <dict>_PyThread_CurrentFrames()
            for tid, frame in frames.items():
                while frame is not None:
                    code = frame.f_code          # the owning thread may have freed this frame
                    frame = frame.f_back
            """,
        useInstead: """
            Sample without dereferencing foreign frames: read them with a copy-based, fault-tolerant \
            reader (`process_vm_readv`, as out-of-process profilers do) or profile out of process; stop \
            the world (`_PyEval_StopTheWorld`) for the duration of the walk; or only walk the current \
            thread's own stack (`sys._getframe()`, `PyEval_GetFrame()`).
            """,
        knownLimitations: """
            Frames stored into containers or object attributes and walked later by unrelated code are \
            followed only through direct data flow and calls. `sys._current_frames()` used only for \
            thread ids or `len()` is (correctly) not reported.
            """,
        references: [
            "DataDog/dd-trace-py#13567: SIGSEGV in the profiler from _PyThread_CurrentFrames",
            "https://docs.python.org/3/library/sys.html#sys._current_frames",
            "https://docs.python.org/3/c-api/init.html#advanced-debugger-support",
        ])

    public func check(_ ctx: RuleContext) -> [Finding] {
        let program = ctx.program
        // nothing to walk without a source of other threads' frames or states (most programs):
        // skip summarizing every function's frame reads
        let hasSource = program.functions.contains { fn in
            fn.calls.contains { c in c.callee.flatMap { CAPI.lookup($0) }?.effects.contains(.foreignThreadSource) ?? false }
        }
        guard hasSource else { return [] }
        // per source call: the walks that reach it, and the entry points that run them
        struct Walk { var entry: EntryPoint; var effect: Effect }
        var bySource: [String: [Walk]] = [:]
        var order: [String] = []
        var seenStep = Set<String>()
        let entries = program.entryPoints.filter { $0.kind != .gc && $0.kind != .dealloc }
        ctx.frameEngine.prepare(entries.map(\.function))
        for e in entries {
            for fx in ctx.frameEngine.entryEffects(e.function) where fx.kind == .frameRead {
                guard let src = fx.origin.foreignSource, !fx.locks.holdsStopTheWorld else { continue }
                if Self.followsOnlyTheList(fx), fx.gil != .released, !ctx.freeThreadingApplies(src.function) { continue }
                let key = "\(src.function)"
                let step = fx.chain.last!
                let stepKey = "\(key)|\(step.function)|\(step.pos.line)|\(step.pos.column)"
                guard seenStep.insert(stepKey).inserted else { continue }
                if bySource[key] == nil { order.append(key) }
                bySource[key, default: []].append(Walk(entry: e, effect: fx))
            }
        }
        return order.compactMap { key -> Finding? in
            guard let walks = bySource[key], !walks.isEmpty else { return nil }
            // report at the frames source when the function has one (`_PyThread_CurrentFrames()`),
            // else at the thread-state walk
            let sources = walks.compactMap { $0.effect.origin.foreignSource }
            let fn = program.functions[sources[0].function]
            let src = sources.first { fn.calls[$0.call].callee.map(Self.isFramesSource) ?? false } ?? sources[0]
            return report(ctx, source: src, walks: walks.map { ($0.entry, $0.effect) })
        }
    }

    /// Thread-state fields that link or identify states without reaching a frame.
    static let listFields: Set<String> = ["next", "prev", "interp", "id", "thread_id", "native_thread_id"]

    /// A walk that only follows the thread-state list (`ts = ts->next`, `ts->thread_id`) reads no
    /// frame. With the GIL, a thread state is unlinked and freed by a thread that holds the GIL, so
    /// the walker (which holds it too) cannot see it go; only free-threaded builds lose that order.
    static func followsOnlyTheList(_ fx: Effect) -> Bool {
        guard let last = fx.source.place?.fields.last else { return false }
        return listFields.contains(last)
    }

    static func isFramesSource(_ api: String) -> Bool { api.contains("CurrentFrames") || api.contains("CurrentExceptions") }

    func report(_ ctx: RuleContext, source: (function: Int, call: Int), walks: [(EntryPoint, Effect)]) -> Finding {
        let program = ctx.program
        let fn = program.functions[source.function]
        let call = fn.calls[source.call]
        let api = call.callee ?? "?"
        let isThreadStates = api.contains("ThreadHead") || api.contains("ThreadState_Next")
        let pythonSpelling = fn.language == .python ? (api.contains("Exceptions") ? "sys._current_exceptions()" : "sys._current_frames()") : "\(api)()"
        let loc = fn.location(call.pos)
        var notes: [Note] = []
        // the sampling context: a thread body if one reaches the walk
        let sampler = walks.first { $0.0.kind == .threadBody } ?? walks.first!
        if sampler.0.kind == .threadBody, let o = sampler.0.origin {
            notes.append(Note(location: o, message: "the walk runs on a separate thread: `\(program.functions[sampler.0.function].name)` is the \(sampler.0.label)", thread: "A"))
        }
        notes.append(Note(location: loc,
                          message: isThreadStates
                            ? "`\(fn.displayName)` walks other threads' states starting with \(api)()"
                            : "`\(fn.displayName)` takes the current frame of every thread with \(pythonSpelling)",
                          thread: "A"))
        // the thread-state walk, when the same function also has one
        for other in Set(walks.compactMap { $0.1.origin.foreignSource.map { $0.call } }) where other != source.call {
            let c = fn.calls[other]
            notes.append(Note(location: fn.location(c.pos),
                              message: "`\(fn.displayName)` also walks other threads' states with \(c.callee ?? "?")()", thread: "A"))
        }
        var seenWhat = Set<String>()
        let shown = walks.sorted { a, b in
            // the source's own function first, then callees by distance, then position
            let da = a.1.chain.count, db = b.1.chain.count
            let la = ctx.location(a.1.chain.last!), lb = ctx.location(b.1.chain.last!)
            return (da, la.path, la.line, la.column) < (db, lb.path, lb.line, lb.column)
        }.filter { seenWhat.insert("\($0.1.chain.last!.function)|\($0.1.chain.last!.what)").inserted }
        for (_, fx) in shown.prefix(12) {
            let step = fx.chain.last!
            let via = fx.chain.count > 1 && step.function != source.function
                ? " (the frame is passed on via " + fx.chain.dropLast().map { "`\(ctx.functionName($0))`" }.joined(separator: " → ") + ")" : ""
            let what = step.what.hasPrefix("reads") ? step.what : "calls \(step.what)"
            notes.append(Note(location: ctx.location(step), message: "`\(ctx.functionName(step))` \(what)\(via)", thread: "A"))
        }
        if shown.count > 12 {
            notes.append(Note(location: ctx.location(shown[12].1.chain.last!), message: "and \(shown.count - 12) more dereferences", thread: "A"))
        }
        // a walk of the list alone (reported only where no GIL orders thread exit)
        let listOnly = isThreadStates && walks.allSatisfy { Self.followsOnlyTheList($0.1) }
        let owner = listOnly
            ? "any other thread can exit meanwhile: it unlinks and frees its thread state, with no GIL to order that against this walk, while the walk still reads it"
            : fn.language == .python
            ? "the thread that owns each frame keeps running: it can return and drop the frame, or change it, while this walk reads it"
            : "the thread that owns each frame keeps running: when its function returns the frame is freed (on 3.11+ its interpreter frame is reused) while this walk still dereferences it"
        notes.append(Note(location: loc, message: owner, thread: "B"))
        let lang = fn.language
        let severity: Severity = lang == .python ? .warning : .error
        let message: String
        if lang == .python {
            message = "`\(fn.displayName)` walks other threads' frames from \(pythonSpelling) while those threads keep running"
        } else if listOnly {
            message = "`\(fn.displayName)` follows other threads' states from \(api)() without stopping them in a GIL-free module: use-after-free when a thread exits"
        } else if isThreadStates {
            message = "`\(fn.displayName)` reads other threads' thread states and frames from \(api)() without stopping them: use-after-free when a thread exits or returns"
        } else {
            message = "`\(fn.displayName)` dereferences other threads' frames from \(api)() without stopping them: use-after-free when a frame's thread returns"
        }
        let why = listOnly
            ? "thread states from \(api)() belong to running threads, and in a GIL-free module nothing here (no stop-the-world, no runtime lock) keeps a thread from exiting during the walk"
            : "frames and thread states from \(pythonSpelling) belong to running threads; nothing here stops those threads or copies the frames before they are read (no stop-the-world, no safe-copy reader)"
        let help = listOnly
            ? "stop the world (_PyEval_StopTheWorld) around the walk, or avoid the raw list: enumerate threads from Python (`threading.enumerate()`) or keep your own registry of threads under a PyMutex"
            : lang == .python
            ? "sample without walking foreign frames (use an out-of-process profiler, or the faulthandler/`sys.remote_exec` style of dumping), or only walk the current thread's stack with sys._getframe()"
            : "sample without dereferencing foreign frames: copy them with a fault-tolerant reader (process_vm_readv) or profile out of process; or stop the world (_PyEval_StopTheWorld) for the whole walk; or restrict to the current thread (PyEval_GetFrame)"
        return finding(message: message, function: fn.displayName, location: loc, notes: notes, why: why, help: help,
                       key: "\(fn.name)|\(api)", severity: severity,
                       repro: reproHint(ctx, walker: fn, source: source.function, sampler: sampler.0))
    }

    /// What the stress script calls: the Python-visible walker (a module function, or a method
    /// of a Python class, which the script instantiates).
    func reproHint(_ ctx: RuleContext, walker fn: FunctionFacts, source: Int, sampler: EntryPoint) -> ReproHint {
        var typeName: String?
        var reader = ctx.entryName(sampler)
        if fn.language == .python || fn.language == .cython {
            let parts = fn.name.split(separator: ".")
            reader = String(parts.last ?? Substring(fn.name))
            if parts.count >= 2 { typeName = String(parts[parts.count - 2]) }
        }
        return ReproHint(module: ctx.moduleName(source), typeName: typeName, mutators: [], readers: [reader],
                         scenario: .frameSampler)
    }
}
