import FreeraceSyntax

/// Where a pointer value comes from. Summaries speak in origins so that effects found in a
/// callee (`htkeys_free` frees its parameter 0) become effects on the caller's data
/// (`_md_resize` frees `MultiDictObject.keys`).
public enum Origin: Hashable, Sendable, Codable, CustomStringConvertible, Comparable {
    /// The content of field `field` of a struct `owner` (canonical name): any object of that type.
    case field(String, String)
    /// The content of a global place (`name` or `name.f1.f2`).
    case global(String)
    /// Parameter `k` with a field path (`[]` for the parameter itself).
    case param(Int, [String])
    /// Memory returned by an allocation or mapping call: function index and call index.
    case alloc(Int, Int)
    /// Frames of other threads (`_PyThread_CurrentFrames`, `sys._current_frames()`), with the
    /// function and call index of the source.
    case foreignFrames(Int, Int)
    /// Thread states of other threads (`PyInterpreterState_ThreadHead`/`PyThreadState_Next`).
    case foreignThread(Int, Int)

    /// Frames or thread states of other threads.
    public var isForeign: Bool {
        switch self {
        case .foreignFrames, .foreignThread: true
        default: false
        }
    }

    /// The call that produced foreign frames or thread states.
    public var foreignSource: (function: Int, call: Int)? {
        switch self {
        case .foreignFrames(let f, let c), .foreignThread(let f, let c): (f, c)
        default: nil
        }
    }
    /// A container created in the function (not yet shared).
    case freshContainer
    /// A Python object allocated in the function (`PyObject_New`, `tp_alloc`): not yet shared.
    case freshObject
    /// A container whose provenance is unknown (the result of an arbitrary call).
    case unknownContainer
    /// An object the caller passed in, unpacked from the argument tuple (`PyArg_ParseTuple(args,
    /// "O", &obj)`): as shared as a parameter.
    case callerArgument
    /// A pointer into a Python object's buffer that nothing pins: function index and call index
    /// of the API that gave it without a view (`PyObject_AsReadBuffer`) or of the
    /// `PyBuffer_Release` that ended its view. The exporter (a `bytearray`) may be resized or
    /// freed by any thread that runs while the pointer is in use.
    case unpinnedBuffer(Int, Int)

    public var description: String {
        switch self {
        case .field(let o, let f): "\(o).\(f)"
        case .global(let g): g
        case .param(let k, let fs): (["param\(k)"] + fs).joined(separator: ".")
        case .alloc(let f, let c): "alloc(\(f):\(c))"
        case .foreignFrames(let f, let c): "foreign frames(\(f):\(c))"
        case .foreignThread(let f, let c): "foreign thread state(\(f):\(c))"
        case .freshContainer: "fresh container"
        case .freshObject: "fresh object"
        case .unknownContainer: "container of unknown origin"
        case .callerArgument: "an argument object"
        case .unpinnedBuffer(let f, let c): "unpinned buffer(\(f):\(c))"
        }
    }
}

public enum GILState: UInt8, Sendable, Codable {
    /// Whatever the caller has.
    case inherit
    /// Inside `Py_BEGIN_ALLOW_THREADS` (or after `PyEval_SaveThread`).
    case released
    /// Explicitly re-acquired (`Py_BLOCK_THREADS`, `PyGILState_Ensure`).
    case held
}

/// One step of a trace: a call or the event itself, in a function.
public struct Step: Sendable, Codable, Hashable {
    public var function: Int
    public var pos: Pos
    public var what: String
}

extension Origin {
    private var rank: Int {
        switch self {
        case .field: 0
        case .global: 1
        case .param: 2
        case .alloc: 3
        case .foreignFrames: 4
        case .foreignThread: 5
        case .freshContainer: 6
        case .freshObject: 7
        case .unknownContainer: 8
        case .callerArgument: 9
        case .unpinnedBuffer: 10
        }
    }

    /// A total order, so that summaries add the effects of a set of origins in the same order in
    /// every run (a `Set`'s order changes from process to process, and which effects a bounded
    /// summary keeps, and which one a report shows first, must not).
    public static func < (a: Origin, b: Origin) -> Bool {
        switch (a, b) {
        case let (.field(o1, f1), .field(o2, f2)): return (o1, f1) < (o2, f2)
        case let (.global(g1), .global(g2)): return g1 < g2
        case let (.param(k1, f1), .param(k2, f2)): return k1 != k2 ? k1 < k2 : f1.lexicographicallyPrecedes(f2)
        case let (.alloc(f1, c1), .alloc(f2, c2)), let (.foreignFrames(f1, c1), .foreignFrames(f2, c2)),
             let (.foreignThread(f1, c1), .foreignThread(f2, c2)), let (.unpinnedBuffer(f1, c1), .unpinnedBuffer(f2, c2)):
            return (f1, c1) < (f2, c2)
        default: return a.rank < b.rank
        }
    }
}

/// The steps from a function down to an event, first to last. A callee's effect lifted into a
/// caller gets one more step in front and shares the rest with the callee's summary (a list of
/// nodes, not an array copied per caller): summaries of a large call graph hold millions of
/// lifted effects, and their chains were most of the analysis' memory.
public struct Chain: Sendable, Codable, BidirectionalCollection, ExpressibleByArrayLiteral {
    final class Node: Sendable {
        let step: Step
        let next: Node?
        let count: Int
        init(_ step: Step, _ next: Node?) {
            self.step = step
            self.next = next
            self.count = (next?.count ?? 0) + 1
        }
    }
    private let head: Node?

    private init(head: Node?) { self.head = head }

    public init<S: Sequence>(_ steps: S) where S.Element == Step {
        var node: Node?
        for s in Array(steps).reversed() { node = Node(s, node) }
        head = node
    }

    public init(arrayLiteral steps: Step...) { self.init(steps) }

    /// This chain with `step` in front (the caller's call).
    public func prepending(_ step: Step) -> Chain { Chain(head: Node(step, head)) }

    public var startIndex: Int { 0 }
    public var endIndex: Int { head?.count ?? 0 }
    public var count: Int { head?.count ?? 0 }
    public var isEmpty: Bool { head == nil }
    public func index(after i: Int) -> Int { i + 1 }
    public func index(before i: Int) -> Int { i - 1 }

    public subscript(i: Int) -> Step {
        var node = head!
        for _ in 0..<i { node = node.next! }
        return node.step
    }

    public var first: Step? { head?.step }

    /// The event (a walk of at most the chain's length, bounded by `SummaryEngine.maxChain`).
    public var last: Step? {
        guard var node = head else { return nil }
        while let n = node.next { node = n }
        return node.step
    }

    public struct Iterator: IteratorProtocol {
        var node: Node?
        public mutating func next() -> Step? {
            guard let n = node else { return nil }
            node = n.next
            return n.step
        }
    }

    public func makeIterator() -> Iterator { Iterator(node: head) }

    public init(from decoder: any Decoder) throws { self.init(try [Step](from: decoder)) }
    public func encode(to encoder: any Encoder) throws { try Array(self).encode(to: encoder) }
}

public enum EffectKind: UInt8, Sendable, Codable, Hashable {
    case free, unmap, read, write, exec, frameRead, borrow
    /// A container's items are replaced or removed (`PyList_SetItem`, `PyDict_DelItem`, `Py_SETREF`).
    case mutate
    /// The reference a field or global holds is dropped while the place is replaced or cleared
    /// (`Py_XSETREF(self->x, v)`, `Py_CLEAR(self->x)`, `old = self->x; self->x = v; Py_DECREF(old)`):
    /// the object it pointed to may be freed under a thread that loaded the old pointer.
    case release
    /// A block is given back to a free list or cache instead of being freed (`b->next = free_list;
    /// free_list = b`, `cache[n].slots[cache[n].available++] = p`, in a function named as a
    /// destructor): the next thread to take it from there owns it, so the push ends the block's
    /// life with its previous owner, and a load from the list is a use.
    case recycle
    /// Memory is handed to a thread the function starts (`pthread_create(&t, NULL, run, arg)`):
    /// that thread uses it until it is joined.
    case handOff
}

/// Something a function does (itself or through callees), with the context it happens in.
public struct Effect: Sendable, Codable {
    public var kind: EffectKind
    public var origin: Origin
    /// The locks held where it happens.
    public var locks: LockSet
    public var gil: GILState
    /// Field names read by the conditions guarding the event (`refcount`).
    public var guards: [String]
    /// From the function whose summary holds the effect down to the event; the last step is the event.
    public var chain: Chain
    /// What did it: the API called or the place accessed.
    public var source: EffectSource
    /// For a free through a pointer first unlinked from its shared place (`env = self->env;
    /// self->env = NULL; … mdb_env_close(env)`): the GIL state at the unlinking store. Threads
    /// that hold the GIL cannot load the pointer after it, even when the free itself runs detached.
    public var unlinkedGIL: GILState? = nil
}

/// What an effect was done by, typed so rules never re-parse text.
public enum EffectSource: Sendable, Codable, Hashable, CustomStringConvertible {
    /// A call of a C-API or library function by name (`PyMem_Free`, `PyList_GetItem`).
    case api(String)
    /// An access to a place (`self->keys`, `frame->f_back`).
    indirect case access(AccessPath)
    /// A call through a function pointer, with the pointer's source text.
    case callThrough(String)

    /// The API called, if the effect is a call of one.
    public var api: String? {
        if case .api(let n) = self { return n }
        return nil
    }

    /// The accessed place, if the effect is an access.
    public var place: AccessPath? {
        if case .access(let p) = self { return p }
        return nil
    }

    public var description: String {
        switch self {
        case .api(let n): n
        case .access(let p): p.text
        case .callThrough(let t): t
        }
    }
}

/// What a function does, as seen by its callers.
public struct Summary: Sendable {
    public var effects: [Effect] = []
    public var returns: Set<Origin> = []
    /// What the function stores through its pointer-to-pointer parameters (`*parg = item`),
    /// by parameter index: at a caller, the value of the local whose address it passes there.
    public var outs: [Int: Set<Origin>] = [:]
    /// Unpinned buffer pointers the function stores into the members of what its pointer
    /// parameters point to (`val->mv_data = view.buf` after `PyBuffer_Release(&view)`), by
    /// parameter index: at a caller, members of the struct it passes there (`BufferPins`).
    public var memberOuts: [Int: [MemberOut]] = [:]
}

/// Runs work on several threads (the driver's threads), for summaries computed in parallel
/// (`SummaryEngine.prepare`).
public protocol ParallelRunner: Sendable {
    /// How many threads it runs at once.
    var jobs: Int { get }
    /// `work` for each index, results in index order.
    func map<T: Sendable>(count: Int, _ work: @escaping @Sendable (Int) -> T) -> [T]
}

/// Summaries an engine computed, handed to engines of other threads (`SummaryEngine.init(program:seed:)`).
public struct SummarySnapshot: Sendable {
    let kinds: Set<EffectKind>
    let languages: Set<Language>
    let memo: [Int: Summary]
    let doneComponents: Set<Int>
    let entryCache: [Int: [Effect]]
}

/// Per-function facts precomputed for origin resolution.
public struct FunctionIndex: Sendable {
    /// local name → (op index, value) of each assignment, in order.
    var assigns: [String: [(op: Int, value: Value)]] = [:]
    /// local name → (op index, call index, arg index) where `&local` is passed to a call.
    var outParams: [String: [(op: Int, call: Int, arg: Int)]] = [:]
    /// call index → op index.
    public var opOfCall: [Int] = []
    /// Locals some of whose members are assigned (`args.pattern = pattern`).
    var localsWithAssignedMembers: Set<String> = []
    /// local name → (op index, call index, arg index, member path) where `&local` or
    /// `&local.member` is passed to a call: a callee may store into its members.
    var addressArgs: [String: [(op: Int, call: Int, arg: Int, fields: [String])]] = [:]
    /// local view (`Py_buffer view` released as `PyBuffer_Release(&view)`, or a `Py_buffer *`
    /// released as `PyBuffer_Release(view)`) → (op index, call index) of each release.
    var viewReleases: [String: [(op: Int, call: Int)]] = [:]

    init(_ f: FunctionFacts) {
        opOfCall = Array(repeating: 0, count: f.calls.count)
        for (i, op) in f.ops.enumerated() {
            switch op {
            case .assign(let t, let v, _, _):
                // locals and fields of local structs (`args.pattern = pattern`)
                if t.root == .local {
                    assigns[t.key, default: []].append((i, v))
                    if !t.fields.isEmpty { localsWithAssignedMembers.insert(t.name) }
                }
            case .call(let c):
                opOfCall[c] = i
                for (ai, a) in f.calls[c].args.enumerated() {
                    var s = a
                    while case .cast(_, let inner) = s { s = inner }
                    if case .addressOf(let p) = s, p.root == .local, p.fields.isEmpty {
                        outParams[p.name, default: []].append((i, c, ai))
                    }
                    if case .addressOf(let p) = s, p.root == .local {
                        addressArgs[p.name, default: []].append((i, c, ai, p.fields))
                    }
                }
                if let name = f.calls[c].callee, let api = CAPI.lookup(name), api.effects.contains(.releasesBuffer),
                   let a = api.argument, a < f.calls[c].args.count {
                    switch f.calls[c].args[a].stripped {
                    case .addressOf(let p) where p.root == .local && p.fields.isEmpty:
                        viewReleases[p.name, default: []].append((i, c))
                    case .path(let p) where p.root == .local && p.fields.isEmpty:
                        viewReleases[p.name, default: []].append((i, c))
                    default: break
                    }
                }
            default: break
            }
        }
    }
}

/// Computes summaries bottom-up over the call graph, on demand, memoized; recursion through a
/// cycle sees the partial (empty) summary of the function in progress. Only effects of `kinds`
/// whose origin passes `keep` are kept, so each client pays for what it asks.
public final class SummaryEngine {
    public let program: Program
    let kinds: Set<EffectKind>
    let keep: @Sendable (EffectKind, Origin) -> Bool
    private var memo: [Int: Summary] = [:]
    /// Summaries computed elsewhere on the same program (another context's, or this engine's
    /// before it handed work to other threads), read-only here; looked up after `memo`.
    private var seedMemos: [[Int: Summary]] = []
    private var seedDone: [Set<Int>] = []
    /// Threads to compute summaries on (`prepare`); none: everything on the calling thread.
    public var runner: (any ParallelRunner)?
    private var indexes: [Int: FunctionIndex] = [:]
    private var writtenMemo: [Int: [Origin: LockSet]] = [:]
    private var interiorMemo: [String: [String]]?
    /// Maximum effects kept per (kind, origin) with distinct lock context.
    let perKey = 3
    let maxChain = 10
    /// Most effects one summary keeps (the nearest ones); measured on CPython's `Objects`+`Python`
    /// as one project, where summaries otherwise grew with the whole call graph.
    let maxEffects = 200

    /// Languages whose functions this engine summarizes (the others get empty summaries).
    let languages: Set<Language>
    /// Whether plain reads (a NULL check) count as read effects; otherwise only `.deref` uses do.
    public var readsCountAsUses = false

    public init(program: Program, kinds: Set<EffectKind>, languages: Set<Language> = Set(Language.allCases),
                keep: @escaping @Sendable (EffectKind, Origin) -> Bool = { _, _ in true }) {
        self.program = program
        self.kinds = kinds
        self.languages = languages
        self.keep = keep
    }

    /// An engine that starts from the summaries another engine of the same kinds and languages,
    /// keeping every effect, computed on the same program (on another thread: the snapshot is a
    /// value). It computes what the snapshot lacks as any engine would.
    public convenience init(program: Program, seed: SummarySnapshot) {
        self.init(program: program, kinds: seed.kinds, languages: seed.languages)
        seedMemos = [seed.memo]
        seedDone = [seed.doneComponents]
        entryCache = seed.entryCache
    }

    /// What this engine has computed so far, to seed engines of other threads. Only for an
    /// engine that keeps every effect (a `keep` filter is a closure a snapshot cannot carry).
    public func snapshot() -> SummarySnapshot {
        var all = memo
        var done = doneComponents
        for (m, d) in zip(seedMemos, seedDone) {
            all.merge(m) { mine, _ in mine }
            done.formUnion(d)
        }
        return SummarySnapshot(kinds: kinds, languages: languages, memo: all, doneComponents: done, entryCache: entryCache)
    }

    public func index(_ f: Int) -> FunctionIndex {
        if let i = indexes[f] { return i }
        let i = FunctionIndex(program.functions[f])
        indexes[f] = i
        return i
    }

    // MARK: origins

    /// Origins of a value at op `at` of function `f`.
    public func origins(_ f: Int, _ v: Value, at: Int, depth: Int = 0) -> Set<Origin> {
        guard depth < 12 else { return [] }
        switch v {
        case .addressOf(let p) where p.root == .local && p.fields.isEmpty:
            // `&in` of a local struct: what its members point to (`in.src = self->buf + n`)
            var out = origins(f, path: p, at: at, depth: depth + 1)
            if out.isEmpty {
                for (key, list) in index(f).assigns where key.hasPrefix(p.name + ".") {
                    guard let last = list.last(where: { $0.op < at }), placeOf(last.value) != nil else { continue }
                    out.formUnion(origins(f, last.value, at: last.op, depth: depth + 1))
                }
            }
            return out
        case .path(let p), .addressOf(let p):
            return origins(f, path: p, at: at, depth: depth + 1)
        // Wrappers cost no depth: a value is a finite tree, and the budget bounds hops (an
        // assignment followed, a call entered), not how many casts or subscripts one expression has.
        case .cast(_, let inner), .offset(let inner):
            return origins(f, inner, at: at, depth: depth)
        case .choice(let vs):
            var out = Set<Origin>()
            for x in vs { out.formUnion(origins(f, x, at: at, depth: depth)) }
            return out
        case .call(let c):
            return callResultOrigins(f, c, depth: depth + 1)
        default:
            return []
        }
    }

    /// Origins of the content of a place. A path rooted at a parameter yields only `.param`
    /// (callers substitute their argument, and entry points resolve it by the parameter's type);
    /// other paths also yield the type-based `.field` — except paths into an object the function
    /// allocated itself, which no other thread can see yet.
    public func origins(_ f: Int, path p: AccessPath, at: Int, depth: Int = 0, forWrite: Bool = false) -> Set<Origin> {
        guard depth < 12 else { return [] }
        var out = Set<Origin>()
        var typeBased = !p.fields.isEmpty
        switch p.root {
        case .param(let k):
            out.insert(.param(k, p.fields))
            // callers substitute their argument; but a cast refined the type here
            // (`md = (MultiDictObject *)op`): keep the field of that type too
            let declared = k < program.functions[f].params.count ? program.functions[f].params[k].type.name : nil
            typeBased = typeBased && p.rootType != nil && p.rootType?.name != declared
        case .global:
            out.insert(.global(p.key))
        case .local:
            let idx = index(f)
            let fn = program.functions[f]
            // the longest prefix of the path that was assigned: `args.pattern->node_list` after `args.pattern = pattern`
            // (writing that very member replaces it: the place written is the member, not the
            // place its old value came from)
            var prefix = idx.localsWithAssignedMembers.contains(p.name) ? p.fields.count - (forWrite ? 1 : 0) : 0
            var found: (op: Int, value: Value)?
            while prefix > 0 {
                let key = ([p.name] + p.fields.prefix(prefix)).joined(separator: ".")
                if let last = idx.assigns[key]?.last(where: { $0.op < at }) {
                    found = last
                    break
                }
                prefix -= 1
            }
            // a struct held by value is a copy: writing `s.seq` after `RawSeqStore_t s = kNull;` does
            // not write the global (reading `s.obj->f` reads what the copied pointer points to)
            let copiedStruct = forWrite && (p.rootType.map { $0.pointers == 0 && !$0.isArray } ?? false)
            if let last = found, !(copiedStruct && prefix == 0), var q = placeOf(last.value) {
                q.fields += p.fields.dropFirst(prefix)
                q.text = p.text
                let rewritten = origins(f, path: q, at: last.op, depth: depth + 1)
                if case .param = q.root {
                    // a field of a Python object reached through a local pointer is still that
                    // object's field after this function stored a parameter's value into it
                    // (`pattern = state->pattern; pattern->buf = state->buf; realloc(pattern->buf)`)
                    if typeBased, prefix == p.fields.count, p.rootType.map({ $0.pointers > 0 }) ?? false,
                       let o = program.fieldOrigin(p), case .field(let owner, _) = o, program.isPythonObject(owner) {
                        return rewritten.union([o])
                    }
                    return rewritten
                }
                return rewritten.union(typeBased ? program.fieldOrigin(p).map { [$0] } ?? [] : [])
            }
            if found != nil {
                // assigned something that is not a place (a call result): type-based, unless the
                // object the path starts from was allocated here
                if let rootAssign = idx.assigns[p.name]?.last(where: { $0.op < at }),
                   origins(f, rootAssign.value, at: rootAssign.op, depth: depth + 1).contains(.freshObject) {
                    typeBased = false
                }
            } else if let last = idx.assigns[p.name]?.last(where: { $0.op < at }) {
                if p.fields.isEmpty {
                    out.formUnion(origins(f, last.value, at: last.op, depth: depth + 1))
                } else if !copiedStruct, var q = placeOf(last.value) {
                    // `a = (T *)value` where `value` is an item of a container built here
                    if q.root == .local, q.fields.isEmpty, itemOfFreshContainer(f, q.name, at: last.op, depth: depth) {
                        typeBased = false
                    }
                    // `it = self->md; it->keys` is `self->md->keys`
                    if q.fields.isEmpty, p.rootType != nil, q.rootType?.name == "PyObject" || q.rootType == nil {
                        q.rootType = p.rootType
                    }
                    q.fields += p.fields
                    q.text = p.text
                    let rewritten = origins(f, path: q, at: last.op, depth: depth + 1)
                    if case .param = q.root { return rewritten }
                    out.formUnion(rewritten)
                } else {
                    let base = origins(f, last.value, at: last.op, depth: depth + 1)
                    if base.contains(.freshObject) { typeBased = false }
                    out.formUnion(base.filter(\.isForeign))
                }
            }
            // out-parameters: `PyDict_Next(frames, &pos, &key, &frame)`
            if p.fields.isEmpty, let outs = idx.outParams[p.name] {
                for o in outs where o.op < at || at == Int.max {
                    let call = fn.calls[o.call]
                    // `PyArg_ParseTuple(args, "O", &obj)`: the caller's object
                    if let name = call.callee, CAPI.lookup(name)?.effects.contains(.unpacksArguments) == true {
                        out.insert(.callerArgument)
                        continue
                    }
                    if let name = call.callee, Self.isContainerAccess(name), let c0 = call.args.first {
                        let base = origins(f, c0, at: o.op, depth: depth + 1)
                        out.formUnion(base.filter(\.isForeign))
                    }
                    // a helper of the project that stores through the pointer (`*parg = …`)
                    out.formUnion(outArgumentOrigins(f, call: o.call, arg: o.arg))
                }
            }
            if found == nil, itemOfFreshContainer(f, p.name, at: at, depth: depth) {
                typeBased = false
                if p.fields.isEmpty { out.insert(.freshObject) }
            }
            // buffer pointers no view pins any more (`BufferPins`)
            if idx.addressArgs[p.name] != nil { out.formUnion(unpinnedMembers(f, p, at: at)) }
            if let o = unpinnedView(f, p, at: at) { out.insert(o) }
        case .unknown:
            break
        }
        if typeBased, let o = program.fieldOrigin(p) {
            out.insert(o)
        }
        return out
    }

    private struct OutSite: Hashable { var function: Int; var call: Int; var arg: Int }
    private var outMemo: [OutSite: Set<Origin>] = [:]

    /// What the project functions called at `call` store through its argument `arg` (`&local`),
    /// seen from the caller. Memoized per call site and computed from a fresh depth budget (an
    /// out-parameter chain through helpers would otherwise multiply at every local that reads
    /// it); a site in progress contributes nothing to itself.
    func outArgumentOrigins(_ f: Int, call c: Int, arg: Int) -> Set<Origin> {
        let key = OutSite(function: f, call: c, arg: arg)
        if let m = outMemo[key] { return m }
        outMemo[key] = []
        var out = Set<Origin>()
        for g in program.callTargets[f][c] where g != f {
            for x in summary(g).outs[arg] ?? [] { out.formUnion(substitute(x, f: f, call: c, depth: 0)) }
        }
        outMemo[key] = out
        return out
    }

    /// Whether local `name` only ever receives items of a container this function created
    /// (`PyDict_Next(dict, …, &value)` after `dict = PyDict_New()`): objects put there by this
    /// call, not another thread's.
    func itemOfFreshContainer(_ f: Int, _ name: String, at: Int, depth: Int) -> Bool {
        let idx = index(f)
        guard idx.assigns[name]?.contains(where: { $0.op < at }) != true, let outs = idx.outParams[name], !outs.isEmpty
        else { return false }
        let fn = program.functions[f]
        return outs.allSatisfy { o in
            let call = fn.calls[o.call]
            guard o.op < at, let callee = call.callee, Self.isContainerAccess(callee), let c0 = call.args.first
            else { return false }
            return origins(f, c0, at: o.op, depth: depth + 1) == [.freshContainer]
        }
    }

    /// An origin seen from outside a function (at an entry point): parameter paths become
    /// type-based fields (`param0.keys` of `MultiDictObject *self` → `MultiDictObject.keys`).
    public func resolveAtEntry(_ o: Origin, function f: Int, keepParameters: Bool = false) -> Origin? {
        guard case .param(let k, let fs) = o else { return o }
        let fn = program.functions[f]
        if fs.isEmpty, keepParameters { return o }
        guard !fs.isEmpty, k < fn.params.count else { return nil }
        let p = AccessPath(root: .param(k), name: fn.params[k].name, rootType: fn.params[k].type, fields: fs, text: "")
        // an attribute of an argument of no struct type the program knows (`inst._cache` in
        // Cython, where `inst` is any object): as much the caller's as the argument itself
        if keepParameters, fs.count == 1, program.structFor(fn.params[k].type.name) == nil { return o }
        return program.fieldOrigin(p)
    }

    /// The effects of a function as seen at an entry point: parameter origins resolved by type.
    public func entryEffects(_ f: Int, keepParameters: Bool = false) -> [Effect] {
        if let c = keepParameters ? entryCacheKeepingParameters[f] : entryCache[f] { return c }
        let list = summary(f).effects.compactMap { e -> Effect? in
            guard let o = resolveAtEntry(e.origin, function: f, keepParameters: keepParameters) else { return nil }
            var r = e
            r.origin = o
            return r
        }
        if keepParameters { entryCacheKeepingParameters[f] = list } else { entryCache[f] = list }
        return list
    }

    func placeOf(_ v: Value) -> AccessPath? {
        switch v {
        case .path(let p): return p
        case .addressOf(let p): return p   // `h = &g_default; h->p` is `g_default.p`
        case .cast(let t, let inner):
            guard var p = placeOf(inner) else { return nil }
            if p.fields.isEmpty, t.pointers > 0, t.name != "void", t.name != "char" { p.rootType = t }
            return p
        case .offset(let inner): return placeOf(inner)
        default: return nil
        }
    }

    static let callsObject: Set<String> = [
        "PyObject_CallObject", "PyObject_Call", "PyObject_CallNoArgs", "PyObject_CallOneArg", "PyObject_CallFunction",
        "PyObject_CallFunctionObjArgs", "PyObject_Vectorcall", "PyObject_VectorcallDict", "_PyObject_CallNoArgs",
        "PyObject_CallMethodNoArgs",
    ]

    /// `(PyObject *)bitarray_type`, `&Foo_Type`, `state->FooType`: an expression naming a type object.
    static func namesAType(_ text: String) -> Bool {
        let last = text.split(whereSeparator: { !($0.isLetter || $0.isNumber || $0 == "_") }).last.map(String.init) ?? ""
        return last.hasSuffix("_type") || last.hasSuffix("_Type") || last.hasSuffix("Type")
    }

    /// Item accessors of a tuple (an argument tuple when the tuple is a parameter).
    static let tupleItemAccess: Set<String> = ["PyTuple_GET_ITEM", "PyTuple_GetItem"]

    /// APIs whose result (or out-parameters) are elements of their first argument.
    static func isContainerAccess(_ name: String) -> Bool {
        name.hasPrefix("PyDict_") || name.hasPrefix("PyList_") || name.hasPrefix("PyTuple_")
            || name.hasPrefix("PySequence_") || name.hasPrefix("PyMapping_") || name == "PyIter_Next"
            || name == "PyObject_GetIter" || name == "PyObject_GetItem" || name == "Py_NewRef" || name == "Py_XNewRef"
            || name == "PyIter_NextItem"
    }

    func callResultOrigins(_ f: Int, _ c: Int, depth: Int) -> Set<Origin> {
        let fn = program.functions[f]
        let call = fn.calls[c]
        let at = index(f).opOfCall[c]
        if let name = call.callee, let api = CAPI.lookup(name) {
            let fx = api.effects
            if fx.contains(.allocatesMemory) || fx.contains(.mapsMemory) { return [.alloc(f, c)] }
            if fx.contains(.foreignThreadSource) {
                return name.contains("Frames") || name.contains("Exceptions") ? [.foreignFrames(f, c)] : [.foreignThread(f, c)]
            }
            if fx.contains(.createsContainer) { return [.freshContainer] }
            if fx.contains(.allocatesObject) { return [.freshObject] }
            if fx.contains(.readsFrame), let a = api.argument, a < call.args.count {
                let base = origins(f, call.args[a], at: at, depth: depth + 1)
                // a frame read from a foreign frame or thread state is foreign too (same source)
                return Set(base.compactMap { o -> Origin? in
                    guard let src = o.foreignSource else { return nil }
                    return .foreignFrames(src.function, src.call)
                })
            }
        }
        // a new reference to an object is that object
        if let name = call.callee, name == "Py_NewRef" || name == "Py_XNewRef", let c0 = call.args.first {
            return origins(f, c0, at: at, depth: depth + 1)
        }
        if let name = call.callee, Self.isContainerAccess(name), let c0 = call.args.first {
            let base = origins(f, c0, at: at, depth: depth + 1)
            var out = base.filter(\.isForeign)
            // the argument tuple unpacked by hand (`PyTuple_GET_ITEM(args, 0)`): the item is the
            // caller's object, as `PyArg_ParseTuple(args, "O", &obj)` would give it
            if Self.tupleItemAccess.contains(name), base.contains(where: { if case .param(_, let fs) = $0 { return fs.isEmpty }; return false }) {
                out.insert(.callerArgument)
            }
            return out
        }
        if let t = call.target?.path, t.fields.last == "tp_alloc" || t.fields.last == "tp_new" { return [.freshObject] }
        if let name = call.callee, program.allocMacros.contains(name), program.functionsByName[name] == nil {
            return [.freshObject]
        }
        // calling a type object creates an instance: `PyObject_CallObject((PyObject *)bitarray_type, args)`
        if let name = call.callee, Self.callsObject.contains(name), let first = call.argTexts.first,
           Self.namesAType(first) {
            return [.freshObject]
        }
        var out = Set<Origin>()
        for g in program.callTargets[f][c] {
            for o in summary(g).returns {
                out.formUnion(substitute(o, f: f, call: c, depth: depth + 1))
            }
        }
        return out
    }

    /// A callee's origin seen from the caller: parameters become the caller's argument origins.
    func substitute(_ o: Origin, f: Int, call c: Int, depth: Int) -> Set<Origin> {
        guard case .param(let j, let fs) = o else { return [o] }
        let call = program.functions[f].calls[c]
        guard j < call.args.count else { return [] }
        let at = index(f).opOfCall[c]
        let arg = call.args[j]
        if fs.isEmpty { return origins(f, arg, at: at, depth: depth) }
        var a = arg
        if case .addressOf(let p) = a.stripped { a = .path(p) }
        if var q = placeOf(a) {
            q.fields += fs
            var out = origins(f, path: q, at: at, depth: depth)
            // The caller may not know the type (an undeclared global): the callee's parameter type does.
            let typed = out.contains { if case .field = $0 { return true }; if case .param = $0 { return true }; return false }
            if !typed, !origins(f, arg, at: at, depth: depth).contains(.freshObject),
               let g = program.callTargets[f][c].first, let o = resolveAtEntry(.param(j, fs), function: g) {
                out.insert(o)
            }
            return out
        }
        return []
    }

    // MARK: lock context

    /// The locks of the regions active at a point. A critical section is suspended while its
    /// thread has released the GIL (detached its thread state): it holds nothing there.
    public func lockKeys(_ f: Int, regions: [Int]) -> LockSet {
        let fn = program.functions[f]
        var locks: [Lock] = []
        let detached = gilState(f, regions: regions) == .released
        for r in regions {
            let reg = fn.regions[r]
            switch reg.kind {
            case .criticalSection, .criticalSection2, .criticalSectionMutex:
                if detached { continue }
                locks.append(criticalSection(reg.subject))
                if let s2 = reg.subjects2 { locks.append(criticalSection(s2)) }
            case .mutex:
                let key = reg.subject.flatMap { program.placeKey($0) }
                // a lock handle nothing in the project creates is NULL here: nothing is held
                if let k = key, program.neverCreatedLocks.contains(k) { continue }
                locks.append(.mutex(place: key ?? reg.subject?.text ?? "?"))
            case .stopTheWorld:
                locks.append(.stopTheWorld)
            case .gilReleased, .gilHeldAgain:
                break
            }
        }
        return LockSet(locks)
    }

    func criticalSection(_ subject: AccessPath?) -> Lock {
        guard let s = subject else { return .criticalSection(type: nil) }
        var t: TypeRef?
        if s.fields.isEmpty { t = s.rootType } else if let o = program.lastOwner(s) {
            t = program.fieldType(o, s.fields.last!)
        }
        guard let ty = t, ty.name != "PyObject", ty.name != "void" else { return .criticalSection(type: nil) }
        return .criticalSection(type: program.canonicalType(ty.name))
    }

    public func gilState(_ f: Int, regions: [Int]) -> GILState {
        let fn = program.functions[f]
        for r in regions.reversed() {
            switch fn.regions[r].kind {
            case .gilReleased: return .released
            case .gilHeldAgain: return .held
            default: continue
            }
        }
        return .inherit
    }

    // MARK: summaries

    /// The summary of `f`, with everything it calls summarized first (see `ensureComputed`).
    public func summary(_ f: Int) -> Summary {
        if let s = known(f) { return s }
        ensureComputed(f)
        return memo[f] ?? Summary()
    }

    /// The summary of `f` if it is computed (here or in a seed).
    private func known(_ f: Int) -> Summary? {
        if let s = memo[f] { return s }
        for m in seedMemos { if let s = m[f] { return s } }
        return nil
    }

    private func isDone(_ component: Int) -> Bool {
        doneComponents.contains(component) || seedDone.contains { $0.contains(component) }
    }

    /// Computes the summaries `f` needs, component by component of the call graph, callees
    /// first, with an explicit stack (call chains thousands deep must not recurse). A component
    /// with a cycle is iterated: its members start from empty summaries and are recomputed until
    /// they stop growing (at most `cycleRounds` times): linear in the size of the call graph,
    /// not in the number of functions a walk happens to visit.
    private func ensureComputed(_ f: Int) {
        let start = program.sccOf[f]
        var stack: [(scc: Int, next: Int)] = [(start, 0)]
        var visiting: Set<Int> = [start]
        while let top = stack.last {
            let members = program.sccs[top.scc]
            // the callee components of this one, not yet done
            var pushed = false
            var k = top.next
            let callees = calleeComponents(top.scc)
            while k < callees.count {
                let c = callees[k]
                k += 1
                if isDone(c) || visiting.contains(c) { continue }
                stack[stack.count - 1].next = k
                stack.append((c, 0))
                visiting.insert(c)
                pushed = true
                break
            }
            if pushed { continue }
            stack.removeLast()
            computeComponent(members)
            doneComponents.insert(top.scc)
        }
    }

    private var doneComponents = Set<Int>()

    /// Computes the summaries of `functions` and of everything they call on `runner`'s threads:
    /// the components of the call graph in layers by height (a layer calls only lower ones), each
    /// layer split among engines of their own that read the layers below and hand back what
    /// they computed. A component's summary is a function of its callees' summaries alone, so
    /// the summaries are the ones the calling thread would compute, in any order.
    /// Without a runner of more than one job, it does nothing: summaries come on demand.
    public func prepare(_ functions: some Sequence<Int>) {
        guard let runner, runner.jobs > 1 else { return }
        let sccs = program.sccs
        // the components needed and not done yet
        var needed = [Bool](repeating: false, count: sccs.count)
        var stack: [Int] = []
        for f in functions {
            let c = program.sccOf[f]
            if !needed[c], !isDone(c) { needed[c] = true; stack.append(c) }
        }
        while let c = stack.popLast() {
            for d in calleeComponents(c) where !needed[d] && !isDone(d) {
                needed[d] = true
                stack.append(d)
            }
        }
        // heights: `sccs` is callee-first, so callees have theirs already
        var height = [Int](repeating: 0, count: sccs.count)
        var layers: [[Int]] = []
        for c in sccs.indices where needed[c] {
            var h = 0
            for d in calleeComponents(c) where needed[d] { h = max(h, height[d] + 1) }
            height[c] = h
            if h == layers.count { layers.append([]) }
            layers[h].append(c)
        }
        if interiorMemo == nil { interiorMemo = buildInterior() }
        for layer in layers {
            let members = layer.reduce(0) { $0 + sccs[$1].count }
            // a thin layer is not worth the threads
            if members < Self.parallelLayerMinimum {
                for c in layer where !isDone(c) {
                    computeComponent(sccs[c])
                    doneComponents.insert(c)
                }
                continue
            }
            let computed = computeOnThreads(layer, runner: runner)
            for part in computed {
                for (f, summary) in part.summaries { memo[f] = summary }
                for (f, index) in part.indexes where indexes[f] == nil { indexes[f] = index }
            }
            doneComponents.formUnion(layer)
        }
    }

    /// Layers with fewer functions are computed on the calling thread.
    static let parallelLayerMinimum = 64

    private struct Computed: Sendable {
        var summaries: [(Int, Summary)] = []
        var indexes: [(Int, FunctionIndex)] = []
    }

    /// What engines of other threads need to compute a layer: this engine's settings and what
    /// it knows (values: shared, not copied, while this engine waits).
    private struct LayerSeed: Sendable {
        let program: Program
        let kinds: Set<EffectKind>
        let languages: Set<Language>
        let keep: @Sendable (EffectKind, Origin) -> Bool
        let readsCountAsUses: Bool
        let memos: [[Int: Summary]]
        let done: [Set<Int>]
        let interior: [String: [String]]?
    }

    private func computeOnThreads(_ layer: [Int], runner: any ParallelRunner) -> [Computed] {
        let seed = LayerSeed(program: program, kinds: kinds, languages: languages, keep: keep,
                             readsCountAsUses: readsCountAsUses, memos: seedMemos + [memo],
                             done: seedDone + [doneComponents], interior: interiorMemo)
        let parts = min(layer.count, runner.jobs * 4)
        return runner.map(count: parts) { k in
            let w = SummaryEngine(program: seed.program, kinds: seed.kinds, languages: seed.languages, keep: seed.keep)
            w.readsCountAsUses = seed.readsCountAsUses
            w.seedMemos = seed.memos
            w.seedDone = seed.done
            w.interiorMemo = seed.interior
            var out = Computed()
            for c in stride(from: k, to: layer.count, by: parts) {
                let members = seed.program.sccs[layer[c]]
                w.computeComponent(members)
                for f in members { out.summaries.append((f, w.memo[f] ?? Summary())) }
            }
            out.indexes = w.indexes.map { ($0.key, $0.value) }
            return out
        }
    }
    private var componentCallees: [Int: [Int]] = [:]
    let cycleRounds = 3

    private func calleeComponents(_ scc: Int) -> [Int] {
        if let c = componentCallees[scc] { return c }
        var out = Set<Int>()
        for m in program.sccs[scc] {
            for targets in program.callTargets[m] {
                for g in targets where program.sccOf[g] != scc { out.insert(program.sccOf[g]) }
            }
        }
        let list = out.sorted()
        componentCallees[scc] = list
        return list
    }

    private func computeComponent(_ members: [Int]) {
        let cyclic = members.count > 1 || program.callTargets[members[0]].contains { $0.contains(members[0]) }
        guard cyclic else {
            if known(members[0]) == nil { memo[members[0]] = compute(members[0]) }
            return
        }
        for m in members where memo[m] == nil { memo[m] = Summary() }
        for _ in 0..<cycleRounds {
            var changed = false
            for m in members {
                let s = compute(m)
                if s.effects.count != memo[m]?.effects.count || s.returns != memo[m]?.returns || s.outs != memo[m]?.outs
                    || s.memberOuts != memo[m]?.memberOuts {
                    changed = true
                }
                memo[m] = s
            }
            if !changed { break }
        }
    }

    private var entryCache: [Int: [Effect]] = [:]
    private var entryCacheKeepingParameters: [Int: [Effect]] = [:]

    private struct Key: Hashable {
        var kind: EffectKind
        var origin: Origin
        /// Borrow effects are kept per call site (each is its own finding), others per origin.
        var site: Step?
    }

    private func compute(_ f: Int) -> Summary {
        let fn = program.functions[f]
        var out = Summary()
        guard languages.contains(fn.language) else { return out }
        var byKey: [Key: [Int]] = [:]
        func siteKey(_ kind: EffectKind, _ chain: Chain) -> Step? { kind == .borrow || kind == .frameRead ? chain.last : nil }
        func isFull(_ k: Key) -> Bool { (byKey[k]?.count ?? 0) >= perKey }
        func add(_ e: Effect) {
            guard kinds.contains(e.kind), keep(e.kind, e.origin) else { return }
            let k = Key(kind: e.kind, origin: e.origin, site: siteKey(e.kind, e.chain))
            // one lookup of the key, its list updated in place
            let next = out.effects.count
            func admit(_ list: inout [Int]) -> Bool {
                if list.count >= perKey { return false }
                if list.contains(where: { out.effects[$0].locks == e.locks && out.effects[$0].gil == e.gil }) { return false }
                list.append(next)
                return true
            }
            if admit(&byKey[k, default: []]) { out.effects.append(e) }
        }
        func guardNames(_ call: CallFact) -> [String] { Array(Set(call.guards.compactMap(\.fields.last))).sorted() }
        // only a function named as a destructor gives blocks back to a pool
        let recycles = kinds.contains(.recycle) && Self.isDestructorName(fn.name)
        let helperLoads = kinds.contains(.read) ? placesLoadedByHelpers(f) : []

        for (i, op) in fn.ops.enumerated() {
            switch op {
            case .deref(let p, let pos, let regions):
                guard kinds.contains(.read), !helperLoads.contains(i) else { continue }
                // a pointer this function unlinked from its place before using it (`db = self->db;
                // self->db = NULL; … use(db)`) is its own: no other thread can load it any more
                if p.root == .local, p.fields.isEmpty, unlinkGIL(f, .path(p), at: i) != nil { continue }
                // what the engine keeps is chosen before any effect (its lock context, its text) is made
                var kept: [(Origin, String?)] = []
                for o in origins(f, path: p, at: i).sorted() {
                    if keep(.read, o) { kept.append((o, nil)) }
                    // a cursor into another field's buffer reads that buffer
                    for (q, b) in interiorOrigins(o, path: p, in: f) where keep(.read, q) { kept.append((q, b)) }
                }
                // a copy of a view's data used after the view was released here
                if let o = unpinnedCopy(f, p, at: i), keep(.read, o) { kept.append((o, nil)) }
                guard !kept.isEmpty else { continue }
                let locks = lockKeys(f, regions: regions)
                let gil = gilState(f, regions: regions)
                for (o, buffer) in kept {
                    let what = buffer.map { "uses `\(p.text)`, which points into `\($0)`" } ?? "uses `\(p.text)`"
                    add(Effect(kind: .read, origin: o, locks: locks, gil: gil, guards: [],
                               chain: [Step(function: f, pos: pos, what: what)], source: .access(p)))
                }
            case .read(let p, let pos, let regions):
                guard kinds.contains(.read) || kinds.contains(.frameRead), !helperLoads.contains(i) else { continue }
                // read effects of C/C++ come from `.deref` ops (uses of the pointed-to memory);
                // Python and Cython have no raw pointers: any attribute read counts
                if kinds.contains(.read), fn.language == .python || fn.language == .cython || readsCountAsUses {
                    let kept = origins(f, path: p, at: i).filter { keep(.read, $0) }.sorted()
                    if !kept.isEmpty {
                        let locks = lockKeys(f, regions: regions)
                        let gil = gilState(f, regions: regions)
                        let step = Step(function: f, pos: pos, what: "reads `\(p.text)`")
                        for o in kept {
                            add(Effect(kind: .read, origin: o, locks: locks, gil: gil, guards: [],
                                       chain: [step], source: .access(p)))
                        }
                    }
                }
                if kinds.contains(.frameRead), let last = p.fields.last {
                    let locks = lockKeys(f, regions: regions)
                    let gil = gilState(f, regions: regions)
                    var base = p
                    base.fields.removeLast()
                    // a frame field of a frame, or any field of another thread's state
                    for o in origins(f, path: base, at: i).sorted()
                    where Self.frameFields.contains(last) ? (o.isForeign || isParamRoot(o)) : Self.isForeignThread(o) {
                        add(Effect(kind: .frameRead, origin: o, locks: locks, gil: gil, guards: [],
                                   chain: [Step(function: f, pos: pos, what: "reads `\(p.text)`")], source: .access(p)))
                    }
                }
            case .assign(let t, let v, let pos, let regions):
                // `*parg = item` through a `PyObject **` parameter: an out-parameter
                if case .param(let k) = t.root, t.fields.isEmpty, k < fn.params.count, fn.params[k].type.pointers >= 2 {
                    let o = origins(f, v, at: i)
                    if !o.isEmpty { out.outs[k, default: []].formUnion(o) }
                }
                if recycles, let block = recycledBlock(f, op: i) {
                    let locks = lockKeys(f, regions: regions)
                    let step = Step(function: f, pos: pos, what: "`\(t.text) = \(block)` puts a block back on a free list")
                    for o in origins(f, path: t, at: i, forWrite: true).sorted() {
                        switch o {
                        case .global, .param:
                            add(Effect(kind: .recycle, origin: o, locks: locks, gil: gilState(f, regions: regions), guards: [],
                                       chain: [step], source: .access(t)))
                        default:
                            break
                        }
                    }
                }
                guard kinds.contains(.write), !(t.root == .local && t.fields.isEmpty) else { continue }
                let kept = origins(f, path: t, at: i, forWrite: true).filter { keep(.write, $0) }.sorted()
                guard !kept.isEmpty else { continue }
                let locks = lockKeys(f, regions: regions)
                let gil = gilState(f, regions: regions)
                let step = Step(function: f, pos: pos, what: "writes `\(t.text)`")
                for o in kept {
                    add(Effect(kind: .write, origin: o, locks: locks, gil: gil, guards: [], chain: [step], source: .access(t)))
                }
            case .call(let c):
                let call = fn.calls[c]
                // the call's lock context, made only if some effect is kept
                lazy var locks = lockKeys(f, regions: call.regions)
                lazy var gil = gilState(f, regions: call.regions)
                lazy var callGuards = guardNames(call)
                let api = call.callee.flatMap { CAPI.lookup($0) }
                // direct effects from the C-API table
                if let name = call.callee, let api {
                    let fx = api.effects
                    if let a = api.argument, a < call.args.count {
                        let argOrigins = origins(f, call.args[a], at: i).sorted()
                        let text = a < call.argTexts.count ? call.argTexts[a] : ""
                        // the event step every effect of this call ends with
                        let apiStep = Step(function: f, pos: call.pos, what: "\(name)(\(text))")
                        if fx.contains(.freesMemory), !call.isInterior(a) {
                            let unlinked = unlinkGIL(f, call.args[a], at: i)
                            for o in argOrigins {
                                add(Effect(kind: .free, origin: o, locks: locks, gil: gil, guards: callGuards,
                                           chain: [apiStep], source: .api(name), unlinkedGIL: unlinked))
                            }
                        }
                        // the thread's argument: memory the started thread uses until it is joined
                        if fx.contains(.startsThread), kinds.contains(.handOff), let d = api.argument2, d < call.args.count {
                            let arg = d < call.argTexts.count ? call.argTexts[d] : ""
                            let step = Step(function: f, pos: call.pos, what: "\(name)(…, \(text), \(arg)) hands `\(arg)` to the thread")
                            for o in origins(f, call.args[d], at: i).sorted() {
                                add(Effect(kind: .handOff, origin: o, locks: locks, gil: gil, guards: [],
                                           chain: [step], source: .api(name)))
                            }
                        }
                        if fx.contains(.unmapsMemory) {
                            for o in argOrigins {
                                add(Effect(kind: .unmap, origin: o, locks: locks, gil: gil, guards: callGuards,
                                           chain: [apiStep], source: .api(name)))
                            }
                        }
                        if fx.contains(.readsFrame) {
                            for o in argOrigins where o.isForeign || isParamRoot(o) {
                                add(Effect(kind: .frameRead, origin: o, locks: locks, gil: gil, guards: [],
                                           chain: [apiStep], source: .api(name)))
                            }
                        }
                        // dropping the reference a field or global holds (`Py_XDECREF(typeDict); typeDict = d;`)
                        // releases the container and may free every item in it
                        let releasesPlace = fx.contains(.releasesReference)
                            && call.args.first?.path.map { $0.root != .local } == true
                        // the object a field or global held is released while the place is replaced:
                        // `Py_XSETREF(self->x, v)`, `Py_CLEAR(self->x)`, `Py_DECREF(self->x); self->x = v`,
                        // and the swap `old = self->x; self->x = v; Py_DECREF(old)`
                        if kinds.contains(.release), fx.contains(.replacesReference) || fx.contains(.releasesReference) {
                            let replaced = fx.contains(.replacesReference) || releasesPlace
                            let stores = writtenPlaces(f)
                            for o in argOrigins where Self.isSharedPlace(o) && (replaced || stores[o] != nil) {
                                // in a swap, readers are cut off where the place is overwritten: the
                                // locks that count are the ones held at that store, not at the decref
                                let held = replaced ? locks : stores[o] ?? locks
                                add(Effect(kind: .release, origin: o, locks: held, gil: gil, guards: callGuards,
                                           chain: [apiStep], source: .api(name)))
                            }
                        }
                        if fx.contains(.mutatesContainer) || fx.contains(.replacesReference) || releasesPlace {
                            for o in argOrigins {
                                add(Effect(kind: .mutate, origin: o, locks: locks, gil: gil, guards: [],
                                           chain: [apiStep], source: .api(name)))
                            }
                        }
                        if fx.contains(.borrowsFromContainer) {
                            for o in argOrigins.isEmpty ? [Origin.unknownContainer] : argOrigins {
                                add(Effect(kind: .borrow, origin: o, locks: locks, gil: gil, guards: [],
                                           chain: [apiStep], source: .api(name)))
                            }
                        }
                    }
                }
                // a destructor: a call (to a library, or to a helper of the project) on a field or
                // global that is set to NULL right after (`mdb_txn_abort(self->txn); self->txn = NULL;`,
                // `txn_abort(self->txn); self->txn = NULL;`): the pointer is dead
                if kinds.contains(.free), let name = call.callee, api == nil,
                   let (k, place, flag) = destroyedArgument(f, call: c, op: i) {
                    let text = k < call.argTexts.count ? call.argTexts[k] : ""
                    let how = flag.map { "`\($0.text)` marks it closed after it" } ?? "the pointer is set to NULL after it"
                    for o in origins(f, .path(place), at: i).sorted() where Self.isSharedPlace(o) {
                        add(Effect(kind: .free, origin: o, locks: locks, gil: gil, guards: callGuards,
                                   chain: [Step(function: f, pos: call.pos, what: "\(name)(\(text)), a library destructor (\(how))")],
                                   source: .api(name)))
                    }
                }
                // borrowed from a container that is not an argument: `PyImport_AddModule` (sys.modules)
                if let name = call.callee, let api, api.argument == nil,
                   api.effects.contains(.borrowsFromContainer) {
                    add(Effect(kind: .borrow, origin: .global("sys.modules"), locks: locks, gil: gil, guards: [],
                               chain: [Step(function: f, pos: call.pos, what: "\(name)(\(call.argTexts.joined(separator: ", ")))")],
                               source: .api(name)))
                }
                // C++: a member function of the standard library on an object of the function
                // (`items.push_back(x)` may reallocate the element buffer, `writer.reset()`
                // deletes the owned object, `items.front()` reads the elements)
                if let m = call.method, program.callTargets[f][c].isEmpty, let recv = call.receiver,
                   let effect = CPPLibrary.memberEffect(m) {
                    let rtext = Self.text(recv).hasPrefix("&") ? String(Self.text(recv).dropFirst()) : Self.text(recv)
                    switch effect {
                    case .endsOwnedMemory where kinds.contains(.free):
                        let step = Step(function: f, pos: call.pos,
                                        what: "`\(rtext).\(m)()`, which frees or reallocates the memory `\(rtext)` owns")
                        for o in origins(f, recv, at: i).sorted() {
                            add(Effect(kind: .free, origin: o, locks: locks, gil: gil, guards: callGuards,
                                       chain: [step], source: .api("\(m)()")))
                        }
                    case .usesOwnedMemory where kinds.contains(.read):
                        guard let p = placeOf(recv), !p.fields.isEmpty || p.root == .global else { break }
                        for o in origins(f, recv, at: i).sorted() {
                            add(Effect(kind: .read, origin: o, locks: locks, gil: gil, guards: [],
                                       chain: [Step(function: f, pos: call.pos, what: "uses `\(rtext)` (`\(m)()`)")],
                                       source: .access(p)))
                        }
                    default:
                        break
                    }
                }
                // calls through pointers execute what they point to (a method call that reaches no
                // method may be a function pointer member)
                if let target = call.target, kinds.contains(.exec),
                   call.method == nil || (program.callTargets[f][c].isEmpty && CPPLibrary.memberEffect(call.method!) == nil) {
                    for o in origins(f, target, at: i).sorted() {
                        add(Effect(kind: .exec, origin: o, locks: locks, gil: gil, guards: [],
                                   chain: [Step(function: f, pos: call.pos, what: "calls through `\(Self.text(target))`")],
                                   source: .callThrough(Self.text(target))))
                    }
                }
                // callee effects, lifted (up to `maxChain` calls deep: a trace is bounded, and so is
                // the work; an effect that far from the entry is not one a report could show)
                // a callee's origin seen from here, once per origin (callees repeat an origin per
                // kind and lock context)
                var substituted: [Origin: [Origin]] = [:]
                for g in program.callTargets[f][c] where g != f {
                    // one text for every effect lifted through this call (shared, not copied)
                    let callStep = Step(function: f, pos: call.pos, what: "calls `\(program.functions[g].name)`")
                    for e in summary(g).effects where e.chain.count < maxChain {
                        // `path_new(n, self->xy + i, 1)` frees only what it made: an interior pointer is never freed
                        if e.kind == .free || e.kind == .unmap, case .param(let j, let fs) = e.origin, fs.isEmpty,
                           call.isInterior(j) { continue }
                        // a helper's `*place` load of the caller's own variable (`helper(&descr)`, a local or
                        // a parameter) is not a use of a shared place: only the address of a field or a
                        // global is one (the variable's pointer was used where it was loaded)
                        if e.kind == .read, e.gil != .released, case .param(let j, let fs) = e.origin, fs.isEmpty,
                           j < call.args.count, j < program.functions[g].params.count,
                           program.functions[g].params[j].type.pointers >= 2,
                           case .addressOf(let a) = call.args[j].stripped, a.fields.isEmpty, a.root != .global { continue }
                        var subs: [Origin]
                        if case .param = e.origin {
                            if let known = substituted[e.origin] {
                                subs = known
                            } else {
                                subs = substitute(e.origin, f: f, call: c, depth: 0).sorted()
                                substituted[e.origin] = subs
                            }
                        } else {
                            subs = [e.origin]
                        }
                        if subs.isEmpty, e.kind == .borrow { subs = [.unknownContainer] }
                        var unlinked = e.unlinkedGIL
                        if e.kind == .free || e.kind == .unmap, unlinked == nil, case .param(let j, let fs) = e.origin,
                           fs.isEmpty, j < call.args.count {
                            unlinked = unlinkGIL(f, call.args[j], at: i)
                        }
                        for o in subs {
                            // what `add` would refuse anyway, refused before the chain is copied
                            guard keep(e.kind, o), !isFull(Key(kind: e.kind, origin: o, site: siteKey(e.kind, e.chain)))
                            else { continue }
                            var l = e
                            l.origin = o
                            l.unlinkedGIL = unlinked
                            // the caller's critical sections are suspended where the callee runs detached
                            l.locks = e.locks.union(e.gil == .released ? locks.withoutCriticalSections : locks)
                            if l.gil == .inherit { l.gil = gil }
                            if !callGuards.isEmpty { l.guards = Array(Set(e.guards).union(callGuards)).sorted() }
                            l.chain = e.chain.prepending(callStep)
                            add(l)
                        }
                    }
                }
            case .ret(let v, _):
                let returned = origins(f, v, at: i)
                // a new reference (`Py_INCREF(x); return x;`, `return Py_NewRef(x)`) belongs to the
                // caller: dropping it later drops the caller's own reference, never the one the
                // field or global keeps, and while the caller holds it no release of that place
                // frees the object (the load before the incref is this function's read)
                out.returns.formUnion(returnsNewReference(f, v, at: i) ? returned.filter { !Self.isHeldPlace($0) } : returned)
            }
        }
        out.memberOuts = memberOuts(f)
        // A summary is bounded: in a dense call graph (an interpreter, where every entry reaches
        // half of the code) a function would otherwise carry every effect below it, and each
        // caller would copy them all again. The effects nearest to the function are kept.
        if out.effects.count > maxEffects {
            out.effects = out.effects.enumerated()
                .sorted { ($0.element.chain.count, $0.offset) < ($1.element.chain.count, $1.offset) }
                .prefix(maxEffects).map(\.element)
        }
        return out
    }

    /// The ops of `f` that stand for a callee's use of a place passed by address
    /// (`CallFact.addressArgumentUses`) where every function the call reaches is a helper of the
    /// project taking that argument as `T **`: such a helper loads the place itself (`*field`), and
    /// its summary has the use where it happens, under the locks it holds there
    /// (`Py_BEGIN_CRITICAL_SECTION(owner); v = Py_XNewRef(*field);`), not at the call.
    func placesLoadedByHelpers(_ f: Int) -> Set<Int> {
        let fn = program.functions[f]
        var out = Set<Int>()
        for (c, call) in fn.calls.enumerated() where !call.addressArgumentUses.isEmpty {
            let targets = program.callTargets[f][c]
            guard !targets.isEmpty else { continue }
            for use in call.addressArgumentUses {
                let k = Int(use.arg)
                let loadsItself = targets.allSatisfy { g in
                    let params = program.functions[g].params
                    return k < params.count && params[k].type.pointers >= 2
                }
                if loadsItself { out.formUnion([Int(use.op), Int(use.op) + 1]) }
            }
        }
        return out
    }

    /// The block that op `i` of `f` gives back to a pool, as the source spells it: `f` is named as a
    /// destructor (`…_free`, `…_release`), the value stored is one of its pointer parameters (or a
    /// local copy of one), and the place is a pool — a list head the block was first linked to
    /// (`b->next = head; head = b`), or a slot of an array of pointers (`cache[n].slots[k] = p`,
    /// `pool[n++] = p`). Storing a parameter anywhere else (a registry, a callback slot) is not
    /// a lifetime end.
    static let linkLookback = 16

    func recycledBlock(_ f: Int, op i: Int) -> String? {
        let fn = program.functions[f]
        guard case .assign(let t, let v, _, _) = fn.ops[i], t.root != .local || !t.fields.isEmpty,
              let block = v.path, block.fields.isEmpty, block.root != .global else { return nil }
        let isBlockParameter = origins(f, v, at: i).contains { o in
            guard case .param(let k, let fs) = o, fs.isEmpty, k < fn.params.count else { return false }
            let type = fn.params[k].type
            return type.pointers > 0 && !type.isFunctionPointer
        }
        guard isBlockParameter else { return nil }
        // a list head: the block was linked to the head's old value just before (a few steps
        // back, so a long destructor is not scanned again for every store)
        let linked = fn.ops[max(0, i - Self.linkLookback)..<i].contains { op in
            guard case .assign(let into, let old, _, _) = op, let head = old.path else { return false }
            return head == t && into.name == block.name && into.root == block.root && !into.fields.isEmpty
        }
        if linked { return block.text }
        // a slot of an array of pointers: a global array, or an array member of a struct
        if let last = t.fields.last {
            guard let owner = program.lastOwner(t), let type = program.fieldType(owner, last) else { return nil }
            return type.isArray && type.pointers > 0 ? block.text : nil
        }
        guard t.root == .global, let g = program.globals[t.name] else { return nil }
        return g.type.isArray && g.type.pointers > 0 ? block.text : nil
    }

    /// The argument of call `c` (at op `op`) whose referent the call destroys, and the place it
    /// names. Two ways a function says a call ended a life:
    /// - it sets the place to NULL within the next few steps, with nothing else stored there in
    ///   between (`mdb_txn_abort(self->txn); self->txn = NULL;`);
    /// - the callee is named as a destructor (`…_close`, `…_free`, `…Destroy`) and the function
    ///   then records the end in a flag of the same object (`mysql_close(&self->conn);
    ///   self->open = false;`, `db_destroy(self->db); self->closed = 1;`): a handle embedded in
    ///   the object cannot be set to NULL, so its liveness lives in a sibling field.
    func destroyedArgument(_ f: Int, call c: Int, op: Int) -> (index: Int, place: AccessPath, flag: AccessPath?)? {
        let fn = program.functions[f]
        let call = fn.calls[c]
        let destructorName = call.callee.map(Self.isDestructorName) ?? false
        for (k, a) in call.args.enumerated() {
            let p: AccessPath
            let embedded: Bool
            switch a.stripped {
            case .path(let q): p = q; embedded = false
            case .addressOf(let q) where destructorName: p = q; embedded = true
            default: continue
            }
            guard !p.fields.isEmpty || p.root == .global else { continue }
            // a field holding a Python object is released by reference counting, not destroyed
            // (in Cython, an attribute declared with a Python type: `cdef str name`, `cdef object f`)
            if let owner = program.lastOwner(p), let t = program.fieldType(owner, p.fields.last!),
               t.isPyObjectPointer || program.isPythonObject(t.name)
                || (fn.language == .cython && t.pointers == 0 && Self.cythonObjectTypes.contains(t.name)) { continue }
            let siblingPrefix = p.fields.isEmpty ? nil : Array(p.fields.dropLast())
            var j = op + 1
            while j < fn.ops.count, j <= op + 8 {
                if case .assign(let t, let v, _, _) = fn.ops[j] {
                    if t.key == p.key {
                        if !embedded, case .null = v.stripped { return (k, p, nil) }
                        break
                    }
                    // a sibling: same object (root and name: two locals share the root kind)
                    if destructorName, let prefix = siblingPrefix, t.root == p.root, t.name == p.name,
                       t.fields.count == p.fields.count,
                       Array(t.fields.dropLast()) == prefix {
                        switch v.stripped {
                        case .null, .literal: return (k, p, t)
                        default: break
                        }
                    }
                }
                j += 1
            }
        }
        return nil
    }

    /// Cython's names of Python types: an attribute declared with one holds a reference.
    static let cythonObjectTypes: Set<String> = [
        "object", "str", "bytes", "unicode", "basestring", "list", "dict", "tuple", "set", "frozenset",
        "bytearray", "type", "slice", "memoryview", "complex",
    ]

    /// Verbs that name the end of a life in a library's API: `mysql_close`, `ZSTD_freeDCtx`,
    /// `sqlite3_finalize`, `lib_db_destroy`, `XML_ParserFree`.
    static let destructorVerbs: Set<String> = [
        "close", "free", "destroy", "dealloc", "delete", "dispose", "release", "finalize", "fini", "finish",
        "cleanup", "shutdown", "terminate",
    ]

    /// Whether a function name's words (split at `_` and at lower-to-upper case changes) include
    /// a destructor verb.
    static func isDestructorName(_ name: String) -> Bool {
        var word: [UInt8] = []
        var previousLower = false
        for b in name.utf8 {
            let upper = b >= 65 && b <= 90
            if b == 95 || (upper && previousLower) {
                if !word.isEmpty, destructorVerbs.contains(String(decoding: word, as: UTF8.self)) { return true }
                word.removeAll(keepingCapacity: true)
            }
            if b != 95 { word.append(upper ? b + 32 : b) }
            previousLower = b >= 97 && b <= 122
        }
        return !word.isEmpty && destructorVerbs.contains(String(decoding: word, as: UTF8.self))
    }

    // MARK: interior pointers

    /// The buffers a field points into: `self->pos = self->buf + n` makes `pos` a cursor into
    /// `buf`'s memory, and so does storing it in an embedded struct (`self->zs.next_in = pos`
    /// makes the embedded `zs`, which a library reads through `&self->zs`, point into `buf`).
    /// Keyed by `Owner.field`, closed transitively; learned from every store of the project.
    func interiorTargets(_ owner: String, _ field: String) -> [String] {
        if interiorMemo == nil { interiorMemo = buildInterior() }
        return interiorMemo?[owner + "." + field] ?? []
    }

    private func buildInterior() -> [String: [String]] {
        var direct: [String: Set<String>] = [:]
        for f in program.functions.indices where languages.contains(program.functions[f].language) {
            for (i, op) in program.functions[f].ops.enumerated() {
                guard case .assign(let t, let v, _, _) = op, let head = t.fields.first, placeOf(v) != nil,
                      t.root != .unknown, t.root != .global else { continue }
                var headPath = t
                headPath.fields = [head]
                guard let owner = program.lastOwner(headPath) else { continue }
                // through embedded structs only: a store through a pointer member is another object's
                if t.fields.count > 1 {
                    guard let ht = program.fieldType(owner, head), ht.pointers == 0, !ht.isArray else { continue }
                }
                // the place the value was loaded from, through a few local copies (no summaries:
                // this map is built while summaries are computed)
                guard var q = placeOf(v) else { continue }
                var at = i
                for _ in 0..<4 where q.root == .local && q.fields.isEmpty {
                    guard let last = index(f).assigns[q.name]?.last(where: { $0.op < at }), let next = placeOf(last.value)
                    else { break }
                    q = next
                    at = last.op
                }
                guard q.fields.count == 1, q.root != .global, q.root != .unknown,
                      (q.root == t.root && q.name == t.name) || program.lastOwner(q) == owner else { continue }
                let b = q.fields[0]
                if b != head { direct[owner + "." + head, default: []].insert(b) }
            }
        }
        // transitive: `zs` points into what `pos` points into
        var out: [String: [String]] = [:]
        for (key, firsts) in direct {
            guard let dot = key.lastIndex(of: ".") else { continue }
            let owner = String(key[..<dot])
            var seen = Set<String>()
            var stack = Array(firsts)
            while let b = stack.popLast(), seen.count < 16 {
                guard seen.insert(b).inserted else { continue }
                stack += direct[owner + "." + b] ?? []
            }
            seen.remove(String(key[key.index(after: dot)...]))
            if !seen.isEmpty { out[key] = seen.sorted() }
        }
        return out
    }

    /// The origins a use of `o` (reached through `p`) also reads, as interior pointers into other
    /// fields of the same object, with the name of each buffer.
    func interiorOrigins(_ o: Origin, path p: AccessPath, in f: Int) -> [(Origin, String)] {
        switch o {
        case .field(let owner, let a):
            return interiorTargets(owner, a).map { (.field(owner, $0), $0) }
        case .param(let k, let fs) where fs.count == 1:
            // the parameter's declared type, or the cast the path made of it
            let declared = k < program.functions[f].params.count ? program.functions[f].params[k].type : nil
            let rootType = p.root == .param(k) ? p.rootType ?? declared : declared
            let head = AccessPath(root: .param(k), name: "", rootType: rootType, fields: fs, text: "")
            guard let owner = program.lastOwner(head) else { return [] }
            return interiorTargets(owner, fs[0]).map { (.param(k, [$0]), $0) }
        default:
            return []
        }
    }

    /// When `v` is a local that took its value from a shared place (a field or global) which the
    /// function then overwrote before op `at` (`env = self->env; self->env = NULL; …
    /// mdb_env_close(env)`): the GIL state at that store.
    func unlinkGIL(_ f: Int, _ v: Value, at: Int) -> GILState? {
        guard case .path(let p) = v.stripped, p.root == .local, p.fields.isEmpty,
              let last = index(f).assigns[p.name]?.last(where: { $0.op < at }), let q = placeOf(last.value),
              !q.fields.isEmpty || q.root == .global else { return nil }
        let ops = program.functions[f].ops
        for j in (last.op + 1)..<min(at, ops.count) {
            if case .assign(let t, _, _, let regions) = ops[j], t.key == q.key { return gilState(f, regions: regions) }
        }
        return nil
    }

    /// A field of some object (also a field of a parameter, resolved by the caller) or a
    /// global: a place other threads can load from.
    static func isSharedPlace(_ o: Origin) -> Bool {
        switch o {
        case .field, .global: true
        case .param(_, let fs): !fs.isEmpty
        default: false
        }
    }

    /// The fields and globals a function stores into itself (not through callees), with the
    /// locks held at the store (the least protected store when there are several).
    /// Whether `return v` at op `at` hands out a new reference: `return Py_NewRef(x)`, or a
    /// `Py_INCREF(x)` / `Py_XINCREF(x)` on the same place earlier in the function.
    func returnsNewReference(_ f: Int, _ v: Value, at: Int) -> Bool {
        var inner = v
        while case .cast(_, let i) = inner { inner = i }
        let fn = program.functions[f]
        switch inner {
        case .call(let c):
            return fn.calls[c].callee.map(Self.newReferenceCalls.contains) ?? false
        case .path(let p):
            for op in fn.ops.prefix(at) {
                guard case .call(let c) = op, let name = fn.calls[c].callee, Self.increfCalls.contains(name),
                      var a = fn.calls[c].args.first else { continue }
                while case .cast(_, let i) = a { a = i }
                if case .path(let q) = a, q.key == p.key { return true }
            }
            return false
        default:
            return false
        }
    }

    static let newReferenceCalls: Set<String> = ["Py_NewRef", "Py_XNewRef"]
    static let increfCalls: Set<String> = ["Py_INCREF", "Py_XINCREF", "Py_IncRef", "Py_XIncRef"]

    /// A place that holds a reference of its own: a global, a field, a member of a parameter.
    static func isHeldPlace(_ o: Origin) -> Bool {
        switch o {
        case .global, .field: return true
        case .param(_, let fs): return !fs.isEmpty
        default: return false
        }
    }

    func writtenPlaces(_ f: Int) -> [Origin: LockSet] {
        if let w = writtenMemo[f] { return w }
        var out: [Origin: LockSet] = [:]
        for (i, op) in program.functions[f].ops.enumerated() {
            guard case .assign(let t, _, _, let regions) = op, t.root != .local || !t.fields.isEmpty else { continue }
            let locks = lockKeys(f, regions: regions)
            for o in origins(f, path: t, at: i, forWrite: true).sorted() where Self.isSharedPlace(o) {
                if let old = out[o], old.locks.count <= locks.locks.count { continue }
                out[o] = locks
            }
        }
        writtenMemo[f] = out
        return out
    }

    static func isForeignThread(_ o: Origin) -> Bool {
        if case .foreignThread = o { return true }
        return false
    }

    func isParamRoot(_ o: Origin) -> Bool {
        if case .param(_, let fs) = o { return fs.isEmpty }
        return false
    }

    /// Fields of frames and thread states whose reads walk another thread's stack.
    public static let frameFields: Set<String> = [
        "f_back", "f_code", "f_locals", "f_globals", "f_lineno", "f_lasti", "f_trace", "f_builtins", "f_executable",
        "frame", "cframe", "current_frame", "previous", "f_funcobj", "prev_instr", "instr_ptr", "f_frame",
        "datastack_top", "tb_frame", "tb_next", "curexc_traceback",
    ]

    /// A value as source text for messages (`&self->buf`, `p`; `?` for anything else).
    static func text(_ v: Value) -> String {
        switch v {
        case .path(let p): return p.text
        case .addressOf(let p): return "&" + p.text
        case .cast(_, let i), .offset(let i): return text(i)
        default: return "?"
        }
    }
}
