import FreeraceModel
import FreeraceSyntax

/// FR401: inside a region that releases the GIL, code reads a buffer owned by a Python object
/// that another thread can free or reallocate meanwhile.
public struct ObjectStateUsedWithoutGIL: Rule {
    public init() {}
    public let code = "FR401"
    public let name = "object-state-used-without-gil"
    public let summary = "A Python object's buffer is used with the GIL released while another method can free or reallocate it"
    public let maturity = Maturity.preview
    public let languages: [Language] = [.c, .cpp, .cython]
    public let doc = RuleDoc(
        whatItDoes: """
            Finds reads of a field of a Python object struct (`self->buf`) inside \
            `Py_BEGIN_ALLOW_THREADS` … `Py_END_ALLOW_THREADS` (or between `PyEval_SaveThread` and \
            `PyEval_RestoreThread`, or NumPy's `NPY_BEGIN_THREADS`) — directly or in functions called \
            there — when another entry point frees or reallocates that field, and no lock is held by \
            both sides; and the mirror shape, a field freed with the GIL released while other entry \
            points read it holding the GIL. This happens with or without free-threading: releasing the \
            GIL lets other threads run Python code, including the method that frees the buffer. A \
            project macro that wraps the release (`#define UNLOCKED(out, e) Py_BEGIN_ALLOW_THREADS out \
            = (e); Py_END_ALLOW_THREADS`) is expanded where it is used; a critical section held around \
            the region does not protect it (the thread suspends it when it detaches). A library's \
            destructor counts as a free: a call on the field followed by `field = NULL`, or a call \
            named as one (`…_close`, `…_free`, `…Destroy`) on the field or on the address of a handle \
            embedded in the object, after which the method records the end in a flag of the same \
            object (`mysql_close(&self->conn); self->open = 0;`); a library call given the address \
            of an embedded handle (`lib_query(&self->conn, q)`) uses it. Locks count when taken \
            through the project's own small helpers (`conn_lock(self)` around \
            `PyThread_acquire_lock(self->lock, …)`) and macros built on them; a lock taken only \
            when it exists (`if (self->lock) …`) that nothing in the project creates holds \
            nothing, and a note says so. A pointer unlinked \
            from the object while the GIL is held (`db = self->db; self->db = NULL;`) and freed \
            after the release races only with readers that already hold it inside their own \
            released region, not with readers that hold the GIL. Initializers (`__init__`) neither \
            free nor read an object another thread has. A state guard keeps the two sides apart: \
            the freeing method tests a flag of the object and leaves when it is set (`if \
            self._running == 1: raise …`, `if (self->running) return NULL;`), and the reading \
            method sets that flag, holding the GIL, before its released region (`self._running = \
            1`, lowered after it) — `close()` refusing a running loop. One finding per freed field \
            and freeing function lists the readers. In Cython, `with nogil:` is the released region (`with gil:` \
            inside it holds the GIL again) and the C attributes of a `cdef class` are the object's \
            fields (`self.buf`, `self.pk.buf` in an embedded struct), freed by `PyMem_Free`, `free`, \
            `PyMem_Realloc` in a method, a cdef helper or a C helper of the project; a lock object \
            held on both sides (`with self._lock:`) orders them. It also finds pointers into an \
            object's buffer that no view pins, used with the GIL released: the `Py_buffer` from \
            `PyObject_GetBuffer` released before the region (`val->mv_data = view.buf; \
            PyBuffer_Release(&view);` in a helper, the caller passing `&arg.key` to a library call \
            inside `Py_BEGIN_ALLOW_THREADS`), or the pointer taken with `PyObject_AsReadBuffer`, \
            which keeps no view. The other thread is any thread that holds the object (a \
            `bytearray` resized by `extend()`), shown where the pin ends. The pointer is followed \
            through locals, return values and the members of a struct passed by address, also \
            into a member at an offset the code computes from a table (matched by the member's \
            type); a helper that keeps its views in a holder its caller passes (`&holder->views[n]`) \
            pins them for callers that pass one.
            """,
        whyIsThisBad: """
            Once the GIL is released, another thread can call `resize()` or `close()` on the same \
            object: `self->buf` is reallocated and the old block freed while this thread is still \
            copying from it. The result is a use-after-free that crashes or silently corrupts data \
            (and only under load).
            """,
        example: """
            static PyObject *checksum(BufObject *self, PyObject *unused) {
                unsigned long sum = 0;
                Py_BEGIN_ALLOW_THREADS
                for (Py_ssize_t i = 0; i < self->len; i++)
                    sum += (unsigned char)self->buf[i];   /* another thread may realloc self->buf */
                Py_END_ALLOW_THREADS
                return PyLong_FromUnsignedLong(sum);
            }
            """,
        useInstead: """
            Make what the released region uses independent of the object: copy the data (or the \
            pointer and length together with a pin) before `Py_BEGIN_ALLOW_THREADS`, pin the memory \
            with `PyObject_GetBuffer` and read through the `Py_buffer` (exporters refuse to resize while \
            a view is held), or hold a `PyMutex` across the region that the freeing method also takes.
            """,
        knownLimitations: """
            A pointer copied to a local before the release and dereferenced inside it is followed, \
            and so are cursor fields into another field's buffer (`self->pos = self->buf + n`, also \
            stored in an embedded library stream: `self->zs.next_in = pos`), pointer parameters \
            used in a released region (the caller's argument), and a local struct's pointer \
            members handed over by address (`in.src = self->buf; decode(&in)`). \
            Objects are identified by \
            struct type. A reader is reported only when its trace shows where the GIL was released. \
            An exported function nobody in the project calls is not blamed as the freeing side (its \
            callers' locks are unknown). In Cython, memory published into a shared C structure \
            (`self._ctxt.doc = c_doc`) and freed after the released region through a local is not \
            followed, and a lock is recognized by a `with` on an object named like one. A state \
            guard is a plain field: in a free-threaded build two threads can both pass between \
            one's test and the other's store; the guard is taken as the ordering the code means. \
            Unpinned buffers: the analysis does not know which objects are immutable (a `bytes` \
            object cannot be resized), nor which branch of a view-holding helper runs (a helper \
            given a holder is taken to pin, even on a path for a full holder); a pointer stored \
            through `*(T **)p = v` into a computed offset is not followed.
            """,
        references: [
            "https://docs.python.org/3/c-api/init.html#releasing-the-gil-from-extension-code",
            "https://docs.python.org/3/c-api/buffer.html",
        ])

    public func check(_ ctx: RuleContext) -> [Finding] {
        objectBufferFindings(ctx) + unpinnedBufferFindings(ctx)
    }

    func objectBufferFindings(_ ctx: RuleContext) -> [Finding] {
        let program = ctx.program
        // every freeing entry point per field: the one that matters is the one no lock orders with
        // a given reader (a locked free next to an unlocked one must not hide it)
        var frees: [Origin: [(EntryPoint, Effect)]] = [:]
        // An exported function nobody here calls is a guess at an entry point: its real callers
        // (and the locks they hold, as `*_locked` helpers expect) are unknown, so it is not
        // blamed as the freeing side.
        // An initializer works on an object no other thread has yet.
        let entries = ctx.objectConcurrentEntries.filter { !$0.initializesItsObject }
        ctx.lifetimeEngine.prepare(entries.map(\.function))
        for e in entries where e.kind != .exported {
            for fx in ctx.lifetimeEngine.entryEffects(e.function) where fx.kind == .free {
                guard case .field(let owner, _) = fx.origin, program.isPythonObject(owner),
                      !program.threadConfinedTypes.contains(owner) else { continue }
                frees[fx.origin, default: []].append((e, fx))
            }
        }
        guard !frees.isEmpty else { return [] }
        // one finding per freed field and freeing function (the root cause, fixed on the freeing
        // side: the other readers it races with are listed in the notes)
        struct Race { var reader: EntryPoint; var read: Effect; var freer: EntryPoint; var free: Effect }
        var detachedReads: [String: [Race]] = [:]
        var order: [String] = []
        var mirrors: [(String, Race)] = []
        var findings: [Finding] = []
        var seen = Set<String>()
        // nor does it read one another thread can have
        let reads = ctx.readEngine(of: Set(frees.keys))
        reads.prepare(entries.map(\.function))
        for r in entries {
            for rd in reads.entryEffects(r.function) where rd.kind == .read {
                guard let candidates = frees[rd.origin], let step = rd.chain.last else { continue }
                // the pointer handed to the freeing call itself is the free, not a reader of it
                if candidates.contains(where: { $0.1.chain.last.map { $0.function == step.function && $0.pos.line == step.pos.line } ?? false }) {
                    continue
                }
                // the two sides can interleave when either runs without the GIL: the reader inside
                // Py_BEGIN_ALLOW_THREADS, or the freer (then readers holding the GIL race with it too)
                let readerDetached = rd.gil == .released
                // (a pointer unlinked from its place while the GIL was held cannot reach a reader
                // that holds the GIL, even if the free runs detached)
                // (a state guard: the freeing side leaves on a flag the reading side raises first)
                guard let (fe, fx) = candidates.first(where: { c in
                    (readerDetached || (c.1.gil == .released && (c.1.unlinkedGIL ?? .released) == .released))
                        && !LockSet.orders(c.1.locks, rd.locks)
                        && !Self.stateGuarded(program, free: c.1, read: rd)
                }) else { continue }
                // the root cause: the freed field and the function that frees it
                let blamed = ctx.blamedStep(fx.chain, kind: .free, origin: fx.origin, engine: ctx.lifetimeEngine)
                let key = "\(rd.origin)|\(program.functions[fx.chain[blamed].function].name)"
                if readerDetached {
                    // evidence first: the trace must show where the GIL was released (a chain cut
                    // short by its length cannot, and is not reported)
                    guard Self.releaseSite(program, rd.chain) != nil else { continue }
                    let readerKey = "\(key)|\(program.functions[step.function].name)"
                    guard seen.insert(readerKey).inserted else { continue }
                    if detachedReads[key] == nil { order.append(key) }
                    detachedReads[key, default: []].append(Race(reader: r, read: rd, freer: fe, free: fx))
                } else {
                    let fstep = fx.chain.last!
                    // a function racing with its own free is the same call on another thread: still
                    // reported, but not a use before the free on one thread
                    if fstep.function == step.function, step.pos <= fstep.pos { continue }
                    guard seen.insert("detached-free|" + key).inserted else { continue }
                    mirrors.append((key, Race(reader: r, read: rd, freer: fe, free: fx)))
                }
            }
        }
        for key in order {
            guard let races = detachedReads[key], let first = races.first else { continue }
            var f = report(ctx, reader: first.reader, read: first.read, freer: first.freer, free: first.free, key: key)
            if races.count > 1 {
                // the other functions that read it detached, each at its read
                let more = races.dropFirst()
                for race in more.prefix(4) {
                    let step = race.read.chain.last!
                    f.notes.insert(Note(location: ctx.location(step),
                                        message: "\(ctx.chainText(entry: race.reader, race.read.chain)) also \(step.what) with the GIL released, \(race.read.locks)",
                                        thread: "A"), at: f.notes.count - 1)
                }
                if more.count > 4 {
                    let rest = more.dropFirst(4).map { "`\(ctx.functionName($0.read.chain.last!))`" }
                    f.notes.insert(Note(location: ctx.location(more[more.startIndex + 4].read.chain.last!),
                                        message: "\(rest.count) more readers with the GIL released: \(ctx.shortList(rest, max: 24))",
                                        thread: "A"), at: f.notes.count - 1)
                }
            }
            findings.append(f)
        }
        // the mirror shape, unless the same free is already reported with its detached readers
        for (key, race) in mirrors where detachedReads[key] == nil {
            findings.append(reportDetachedFree(ctx, reader: race.reader, read: race.read, freer: race.freer, free: race.free,
                                               key: "detached-free|" + key))
        }
        return findings
    }

    /// Whether a state guard keeps the free and the read apart: the freeing chain tests a flag of
    /// the object and leaves when it is set, and the reading chain sets it, holding the GIL, before
    /// it reads (`self._running = 1` before the `with nogil:` block, `close()` raising on
    /// `self._running == 1`).
    static func stateGuarded(_ program: Program, free: Effect, read: Effect) -> Bool {
        guard case .field(let owner, _) = free.origin else { return false }
        return program.stateGuardSeparates(free: free.chain, use: read.chain, owner: owner)
    }

    /// Lock regions on the chain whose lock nothing in the project creates (`Program.neverCreatedLocks`):
    /// the code looks locked, and the note says why it is not.
    static func neverCreatedLockNotes(_ program: Program, _ chain: Chain, thread: String) -> [Note] {
        var notes: [Note] = []
        for s in chain {
            let f = program.functions[s.function]
            for reg in f.regions where reg.kind == .mutex && reg.begin <= s.pos && s.pos <= reg.end {
                guard let subject = reg.subject, let key = program.placeKey(subject),
                      program.neverCreatedLocks.contains(key) else { continue }
                notes.append(Note(location: f.location(reg.begin),
                                  message: "`\(f.name)` takes `\(subject.text)` (\(reg.opener)), which nothing in the project creates: it holds nothing",
                                  thread: thread))
            }
        }
        return notes
    }

    /// The innermost function on a chain whose step lies in a region that released the GIL.

    static func releaseSite(_ program: Program, _ chain: Chain) -> (FunctionFacts, RegionFact)? {
        for s in chain.reversed() {
            let f = program.functions[s.function]
            if let reg = f.regions.first(where: { $0.kind == .gilReleased && $0.begin <= s.pos && s.pos <= $0.end }) {
                return (f, reg)
            }
        }
        return nil
    }

    /// The mirror shape: the free runs with the GIL released, the reader holds the GIL.
    func reportDetachedFree(_ ctx: RuleContext, reader: EntryPoint, read: Effect, freer: EntryPoint, free: Effect,
                            key: String) -> Finding {
        let program = ctx.program
        guard case .field(let owner, let field) = read.origin else { fatalError("field origin expected") }
        let fstep = free.chain.last!
        let blamed = ctx.blamedStep(free.chain, kind: .free, origin: free.origin, engine: ctx.lifetimeEngine)
        let freeFn = program.functions[fstep.function]
        var notes: [Note] = []
        if let (f, reg) = Self.releaseSite(program, free.chain) {
            notes.append(Note(location: f.location(reg.begin), message: "`\(f.name)` releases the GIL here (\(reg.opener))", thread: "B"))
        }
        notes.append(Note(location: ctx.location(free.chain[blamed]),
                          message: "\(ctx.chainText(entry: freer, free.chain, upTo: blamed)) frees `\(owner).\(field)` (\(fstep.what)) with the GIL released, \(free.locks)",
                          thread: "B"))
        let rstep = read.chain.last!
        notes.append(Note(location: ctx.location(rstep),
                          message: "\(ctx.chainText(entry: reader, read.chain)) \(rstep.what) holding the GIL, \(read.locks): the GIL does not order it with a thread that released it",
                          thread: "A"))
        let message = "`\(freeFn.name)` frees `\(owner).\(field)` with the GIL released while \(ctx.entryText(reader)) may read it on another thread"
        let why = "code between Py_BEGIN_ALLOW_THREADS and Py_END_ALLOW_THREADS runs at the same time as other threads' Python code; \(ctx.entryText(reader)) reads `\(field)` and no lock is held by both sides"
        let help = freeFn.language == .cython
            ? "free (and clear) `\(field)` after the `with nogil:` block, with the GIL held, or hold a lock object around the free and around every read of `\(field)`"
            : "free (and clear) `\(field)` after Py_END_ALLOW_THREADS, with the GIL held, or hold a PyMutex around the free and around every read of `\(field)`"
        return finding(message: message, function: freeFn.name, location: ctx.location(free.chain[blamed]), notes: notes,
                       why: why, help: help, key: key,
                       repro: ReproHint(module: ctx.moduleName(freer.function), typeName: freer.pyType ?? reader.pyType,
                                        mutators: [freer.pythonSpelling].compactMap { $0 },
                                        readers: [reader.pythonSpelling].compactMap { $0 }, scenario: .gilReleasedBuffer))
    }

    func report(_ ctx: RuleContext, reader: EntryPoint, read: Effect, freer: EntryPoint, free: Effect, key: String) -> Finding {
        let program = ctx.program
        let step = read.chain.last!
        let fn = program.functions[step.function]
        guard case .field(let owner, let field) = read.origin else { fatalError("field origin expected") }
        var notes: [Note] = []
        // where the GIL was released (in the function of the read, or in a caller on the chain)
        if let (f, reg) = Self.releaseSite(program, read.chain) {
            notes.append(Note(location: f.location(reg.begin), message: "`\(f.name)` releases the GIL here (\(reg.opener))", thread: "A"))
        }
        notes += Self.neverCreatedLockNotes(program, read.chain, thread: "A")
        notes.append(Note(location: ctx.location(step),
                          message: "\(ctx.chainText(entry: reader, read.chain)) \(step.what) with the GIL released, \(read.locks)",
                          thread: "A"))
        notes += Self.neverCreatedLockNotes(program, free.chain, thread: "B")
        let fstep = free.chain.last!
        let blamed = ctx.blamedStep(free.chain, kind: .free, origin: free.origin, engine: ctx.lifetimeEngine)
        notes.append(Note(location: ctx.location(free.chain[blamed]),
                          message: "\(ctx.chainText(entry: freer, free.chain, upTo: blamed)) frees `\(owner).\(field)` (\(fstep.what)), \(free.locks)",
                          thread: "B"))
        let message = "`\(fn.name)` reads `\(owner).\(field)` with the GIL released while \(ctx.entryText(freer)) may free it on another thread"
        let why = "releasing the GIL lets other threads run Python code on the same object; \(ctx.entryText(freer)) frees or reallocates `\(field)` and no lock is held by both sides"
        let help = fn.language == .cython
            ? "copy what the `with nogil:` block needs while the GIL is held, or hold a lock object (a PyThread lock or threading.Lock in a field) around the block that `\(ctx.functionName(free.chain[blamed]))` also takes; a critical section does not help (it is suspended while the GIL is released)"
            : "copy what the region needs before Py_BEGIN_ALLOW_THREADS, pin the memory with PyObject_GetBuffer and read through the Py_buffer, or hold a PyMutex across the region that `\(ctx.functionName(free.chain[blamed]))` also takes"
        return finding(message: message, function: fn.name, location: ctx.location(step), notes: notes, why: why,
                       help: help, key: key,
                       repro: ReproHint(module: ctx.moduleName(reader.function), typeName: reader.pyType ?? freer.pyType,
                                        mutators: [freer.pythonSpelling].compactMap { $0 },
                                        readers: [reader.pythonSpelling].compactMap { $0 }, scenario: .gilReleasedBuffer))
    }

    // MARK: unpinned buffers

    /// Pointers into a Python object's buffer that no view pins any more (`Origin.unpinnedBuffer`:
    /// `PyBuffer_Release` ended the view, or `PyObject_AsReadBuffer` never kept one), used with
    /// the GIL released. The other side is any thread that holds the same object and resizes or
    /// frees its memory (`bytearray.extend`, `del b[:]`): code outside the project, so thread B
    /// is shown where the pin ends. One finding per place the pin ends, listing its users.
    func unpinnedBufferFindings(_ ctx: RuleContext) -> [Finding] {
        let program = ctx.program
        let entries = ctx.objectConcurrentEntries.filter { !$0.initializesItsObject }
        // no freed place: the engine keeps the unpinned pointers (and parameters that may be one)
        let reads = ctx.readEngine(of: [])
        reads.prepare(entries.map(\.function))
        struct Use { var reader: EntryPoint; var read: Effect }
        var uses: [Origin: [Use]] = [:]
        var order: [Origin] = []
        for r in entries {
            // per entry point, its nearest use of each unpinned pointer (the one its own code makes)
            var nearest: [Origin: Effect] = [:]
            for rd in reads.entryEffects(r.function) where rd.kind == .read && rd.gil == .released {
                guard case .unpinnedBuffer = rd.origin, Self.releaseSite(program, rd.chain) != nil else { continue }
                if let old = nearest[rd.origin], old.chain.count <= rd.chain.count { continue }
                nearest[rd.origin] = rd
            }
            for (o, rd) in nearest.sorted(by: { $0.key < $1.key }) {
                if uses[o] == nil { order.append(o) }
                uses[o, default: []].append(Use(reader: r, read: rd))
            }
        }
        var findings: [Finding] = []
        var keys = Set<String>()
        for origin in order {
            // the headline shows the use nearest to its entry point (first in entry order among those)
            guard case .unpinnedBuffer(let pf, let pc) = origin, var list = uses[origin],
                  let best = list.indices.min(by: { list[$0].read.chain.count < list[$1].read.chain.count }) else { continue }
            let first = list.remove(at: best)
            list.insert(first, at: 0)
            let pinFn = program.functions[pf]
            let call = pinFn.calls[pc]
            let api = call.callee ?? "?"
            let key = "unpinned|\(pinFn.name)|\(api)"
            guard keys.insert(key).inserted else { continue }
            let step = first.read.chain.last!
            let fn = program.functions[step.function]
            let place = first.read.source.place?.text ?? step.what
            var notes: [Note] = []
            if let (f, reg) = Self.releaseSite(program, first.read.chain) {
                notes.append(Note(location: f.location(reg.begin), message: "`\(f.name)` releases the GIL here (\(reg.opener))", thread: "A"))
            }
            notes.append(Note(location: ctx.location(step),
                              message: "\(ctx.chainText(entry: first.reader, first.read.chain)) \(step.what) with the GIL released",
                              thread: "A"))
            // the other users of the same unpinned pointer, each at its use
            let more = Array(list.dropFirst())
            for u in more.prefix(4) {
                let s = u.read.chain.last!
                notes.append(Note(location: ctx.location(s),
                                  message: "\(ctx.chainText(entry: u.reader, u.read.chain)) also \(s.what) with the GIL released",
                                  thread: "A"))
            }
            if more.count > 4 {
                let rest = more.dropFirst(4).map { "`\(ctx.functionName($0.read.chain.last!))`" }
                notes.append(Note(location: ctx.location(more[4].read.chain.last!),
                                  message: "\(rest.count) more users with the GIL released: \(ctx.shortList(rest, max: 24))",
                                  thread: "A"))
            }
            let arg = call.args.isEmpty ? "" : call.argTexts.joined(separator: ", ")
            let pinEnd: String
            if CAPI.lookup(api)?.effects.contains(.exposesUnpinnedBuffer) == true {
                pinEnd = "`\(pinFn.name)` takes the pointer with `\(api)(\(arg))`, which releases its view before it returns: nothing pins the object's buffer"
            } else {
                let stored = Self.viewDataStore(pinFn, release: pc).map { " while `\($0)` still points into it" } ?? ""
                pinEnd = "`\(pinFn.name)` ends the view with `\(api)(\(arg))`\(stored): nothing pins the object's buffer after it"
            }
            notes.append(Note(location: pinFn.location(call.pos),
                              message: pinEnd + "; another thread that holds the object can resize or free it meanwhile (a `bytearray`'s `extend()` or `clear()`)",
                              thread: "B"))
            let message = "`\(fn.name)` uses `\(place)` with the GIL released, a pointer into an object's buffer whose view ended in `\(pinFn.name)`: another thread may resize or free the buffer meanwhile"
            let why = "a pointer into an object's buffer is valid only while a view of the object is held (exporters refuse to resize while views exist); `\(api)` in `\(pinFn.name)` leaves none, and releasing the GIL lets any thread resize or free the object while this code still reads it"
            let help = "keep the `Py_buffer` from PyObject_GetBuffer until after Py_END_ALLOW_THREADS and release it then (in storage the caller passes and releases after its call), or copy the data before releasing the GIL"
            findings.append(finding(message: message, function: fn.name, location: ctx.location(step), notes: notes,
                                    why: why, help: help, key: key))
        }
        return findings
    }

    /// The place a function stores a view's data into before the release at call `c`
    /// (`val->mv_data = view.buf; PyBuffer_Release(&view);`), as the source spells it.
    static func viewDataStore(_ fn: FunctionFacts, release c: Int) -> String? {
        guard let view = fn.calls[c].args.first.flatMap({ v -> String? in
            switch v.stripped {
            case .addressOf(let p), .path(let p): return p.fields.isEmpty ? p.name : nil
            default: return nil
            }
        }) else { return nil }
        for op in fn.ops {
            guard case .assign(let t, let v, _, _) = op, let src = v.path, src.root == .local, src.name == view,
                  src.fields.first == "buf" else { continue }
            return t.text
        }
        return nil
    }
}
