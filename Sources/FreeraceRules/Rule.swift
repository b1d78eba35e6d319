import FreeraceModel
import FreeraceSyntax

public enum Maturity: String, Sendable, Codable { case preview, stable }

/// A rule's documentation, printed by `freerace explain` and rendered to `docs/rules/`.
public struct RuleDoc: Sendable {
    public var whatItDoes: String
    public var whyIsThisBad: String
    public var example: String
    public var useInstead: String
    public var knownLimitations: String
    public var references: [String]

    public init(whatItDoes: String, whyIsThisBad: String, example: String, useInstead: String,
                knownLimitations: String, references: [String]) {
        self.whatItDoes = whatItDoes
        self.whyIsThisBad = whyIsThisBad
        self.example = example
        self.useInstead = useInstead
        self.knownLimitations = knownLimitations
        self.references = references
    }
}

/// Which summaries a rule mostly reads. Rules of one group share a `RuleContext` (its engines are
/// computed once, on demand); the groups have contexts of their own and run at the same time
/// when there are cores for it, so one large project uses more than one core. The split does not
/// depend on `--jobs`: every run computes the same summaries in the same order, so the output is
/// the same whatever the number of cores.
public enum RuleGroup: Int, Sendable, CaseIterable, Comparable {
    /// Reads and calls into memory that something frees or unmaps (the lifetime, read and
    /// executable-region summaries).
    case freedMemory
    /// References borrowed from or replaced in containers, lazily initialized global state and
    /// foreign frames (the borrow, mutation, global-write and frame summaries).
    case referencesAndState

    public static func < (a: RuleGroup, b: RuleGroup) -> Bool { a.rawValue < b.rawValue }
}

/// A rule: static metadata and a check over the program.
public protocol Rule: Sendable {
    var code: String { get }
    var name: String { get }
    var summary: String { get }
    var maturity: Maturity { get }
    var languages: [Language] { get }
    var doc: RuleDoc { get }
    /// The severity of most of its findings (SARIF's default level); a finding may differ.
    var defaultSeverity: Severity { get }
    /// The rules it shares its summaries with (see `RuleGroup`).
    var group: RuleGroup { get }
    func check(_ context: RuleContext) -> [Finding]
}

extension Rule {
    public var defaultSeverity: Severity { .warning }
    public var group: RuleGroup { .freedMemory }

    /// A finding of this rule with its metadata filled in.
    func finding(message: String, function: String, location: Location, notes: [Note], why: String, help: String,
                 key: String, severity: Severity = .warning, repro: ReproHint? = nil) -> Finding {
        Finding(code: code, name: name, severity: severity, message: message, function: function, location: location,
                notes: notes, why: why, help: help, key: key, repro: repro)
    }
}

/// What rules read: the program and summary engines built once and shared.
public final class RuleContext {
    public let program: Program
    private let lifetimeSeed: SummarySnapshot?
    /// Threads the engines compute summaries on (`SummaryEngine.prepare`), if any.
    public let runner: (any ParallelRunner)?

    /// A context for `program`; `lifetimes`, if given, are the lifetime summaries another context
    /// computed on the same program (`lifetimeSummaries()`), so they are not computed twice.
    public init(program: Program, lifetimes: SummarySnapshot? = nil, runner: (any ParallelRunner)? = nil) {
        self.program = program
        self.lifetimeSeed = lifetimes
        self.runner = runner
    }

    /// An engine of this context, computing on its threads.
    private func engine(_ e: SummaryEngine) -> SummaryEngine {
        e.runner = runner
        return e
    }

    /// Frees, unmaps, releases, blocks given back to free lists and memory handed to threads
    /// (sparse effects).
    public lazy var lifetimeEngine = engine(lifetimeSeed.map { SummaryEngine(program: program, seed: $0) }
        ?? SummaryEngine(program: program, kinds: [.free, .unmap, .release, .recycle, .handOff], languages: Self.objectMemory))

    /// The lifetime summaries of every function, for the contexts of other groups of rules: what
    /// every group needs first (each asks which places something frees).
    public func lifetimeSummaries() -> SummarySnapshot {
        lifetimeEngine.prepare(program.functions.indices)
        for f in program.functions.indices { _ = lifetimeEngine.entryEffects(f) }
        return lifetimeEngine.snapshot()
    }

    /// The effects of each entry point's function, the summaries computed on the context's
    /// threads first.
    public func entryEffects(_ engine: SummaryEngine, of entries: [EntryPoint]) -> [[Effect]] {
        engine.prepare(entries.map(\.function))
        return entries.map { engine.entryEffects($0.function) }
    }

    /// Calls through pointers into executable memory. Every call through a function pointer is
    /// an `.exec` effect, and an interpreter makes millions of them (type slots): only those
    /// whose target can point into a mapped executable region are kept (a parameter is kept
    /// until its caller says what it is).
    public lazy var execEngine: SummaryEngine = {
        let exec = execRegions
        return engine(SummaryEngine(program: program, kinds: [.exec], languages: Self.native) { _, o in
            if case .param = o { return true }
            return !exec.sitesOf(o).isEmpty
        })
    }()

    /// Languages with raw memory, locks and C-API calls: C and C++.
    public static let native: Set<Language> = [.c, .cpp]

    /// Languages whose objects hold raw memory of their own: C and C++ object structs, and
    /// Cython extension types (`cdef class` with C attributes, `self.buf` as `self->buf`).
    public static let objectMemory: Set<Language> = [.c, .cpp, .cython]

    /// Origins whose raw memory is freed or unmapped anywhere.
    public lazy var freedOrigins: Set<Origin> = lifetimeOrigins(of: [.free, .unmap])

    /// Fields and globals whose referenced object is released while the place is replaced.
    public lazy var releasedOrigins: Set<Origin> = lifetimeOrigins(of: [.release])

    /// Free lists and caches that blocks are given back to.
    public lazy var recycledOrigins: Set<Origin> = lifetimeOrigins(of: [.recycle])

    /// Which functions wait for a thread to end, for memory handed to threads.
    public lazy var threadJoins = ThreadJoins(program)

    /// Globals and fields whose referenced object an entry point that runs concurrently with
    /// others releases (module teardown, which runs alone, does not count).
    public lazy var concurrentlyReleasedOrigins: Set<Origin> = {
        var s = Set<Origin>()
        for effects in entryEffects(lifetimeEngine, of: nativeGlobalStateEntries) {
            for fx in effects where fx.kind == .release { s.insert(fx.origin) }
        }
        return s
    }()

    /// Fields and globals whose memory or referenced object a method, slot or callback frees or
    /// releases while the object is in use (not its dealloc, which runs when no one else has it,
    /// nor an initializer).
    public lazy var endedWhileInUseOrigins: Set<Origin> = {
        var s = Set<Origin>()
        for effects in entryEffects(lifetimeEngine, of: nativeConcurrentEntries.filter { !$0.initializesItsObject }) {
            for fx in effects where fx.kind == .free || fx.kind == .unmap || fx.kind == .release { s.insert(fx.origin) }
        }
        return s
    }()

    func lifetimeOrigins(of kinds: Set<EffectKind>) -> Set<Origin> {
        var s = Set<Origin>()
        lifetimeEngine.prepare(program.functions.indices)
        for f in program.functions.indices {
            for e in lifetimeEngine.entryEffects(f) where kinds.contains(e.kind) { s.insert(e.origin) }
        }
        return s
    }

    /// An engine keeping the reads of the given freed places only (fields and globals): the
    /// place itself, a field of that name in a helper that gets the embedded struct's address
    /// (`Packer.pk.buf` is `buf` there), or a parameter a caller may bind to one of them, by the
    /// last name of its path (`decode(in)` inside Py_BEGIN_ALLOW_THREADS: the caller's argument
    /// decides what it is). A rule asks for the places it found freed, so it never pays for the
    /// reads of every freed place of the program.
    public func readEngine(of freed: Set<Origin>) -> SummaryEngine {
        var fieldNames = Set<String>()
        var lastNames = Set<String>()
        for o in freed {
            switch o {
            case .field(_, let f):
                let last = f.split(separator: ".").last.map(String.init) ?? f
                fieldNames.insert(f)
                fieldNames.insert(last)
                lastNames.insert(last)
            case .global(let g):
                lastNames.insert(g.split(separator: ".").last.map(String.init) ?? g)
            default: break
            }
        }
        let fields = fieldNames, names = lastNames
        return engine(SummaryEngine(program: program, kinds: [.read], languages: Self.objectMemory) { _, o in
            switch o {
            case .field(_, let f): return freed.contains(o) || fields.contains(f)
            case .global: return freed.contains(o)
            case .param(_, let fs): return fs.last.map { names.contains($0) } ?? true
            // a pointer into an object's buffer that no view pins (any thread may resize the object)
            case .unpinnedBuffer: return true
            default: return false
            }
        })
    }

    /// Writes to globals (for lazily initialized state), restricted to the places some function
    /// assigns that are shared pointer state (`Program.sharedPointerState`), so the summaries stay small.
    public lazy var globalWriteEngine: SummaryEngine = {
        var places = Set<String>()
        for fn in program.functions where Self.native.contains(fn.language) {
            for op in fn.ops {
                guard case .assign(let t, _, _, _) = op, t.root == .global, let root = program.sharedPointerState(t.key)
                else { continue }
                places.insert(t.key)
                places.insert(root)
            }
        }
        let shared = places
        let e = engine(SummaryEngine(program: program, kinds: [.write, .read], languages: Self.native) { _, o in
            if case .global(let k) = o { return shared.contains(k) }
            return false
        })
        e.readsCountAsUses = true   // the NULL check of a lazy initialization is what matters here
        return e
    }()

    /// Executable memory: mapping sites and the places that point into them.
    public lazy var execRegions = ExecRegions(self)

    /// Frame reads (for foreign-frame walks).
    public lazy var frameEngine = engine(SummaryEngine(program: program, kinds: [.frameRead]))

    /// Borrowed references from containers: C and C++, and Cython, which calls the same C-API
    /// functions (`from cpython.dict cimport PyDict_GetItem`).
    public lazy var borrowEngine = engine(SummaryEngine(program: program, kinds: [.borrow], languages: Self.objectMemory))

    /// Container mutations and reference replacements (thread B of FR302).
    public lazy var mutationEngine = engine(SummaryEngine(program: program, kinds: [.mutate], languages: Self.native) { _, o in
        switch o {
        case .field, .global, .param: return true
        default: return false
        }
    })

    /// Entry points that can run at the same time as others on arbitrary threads.
    public lazy var concurrentEntries: [EntryPoint] =
        program.entryPoints.filter { $0.context == .anyThread && $0.kind != .constructor }

    /// The concurrent entry points in C and C++ (the rules about raw memory and locks).
    public lazy var nativeConcurrentEntries: [EntryPoint] =
        concurrentEntries.filter { Self.native.contains(program.functions[$0.function].language) }

    /// The concurrent entry points whose objects hold raw memory: C and C++, and the methods of
    /// Cython extension types (the rules about an object's buffers).
    public lazy var objectConcurrentEntries: [EntryPoint] = concurrentEntries.filter {
        let language = program.functions[$0.function].language
        return Self.native.contains(language) || (language == .cython && $0.selfType != nil)
    }

    /// The concurrent entry points whose code can call the C API directly: C and C++, and Cython
    /// (its module functions as well as its extension types' methods).
    public lazy var cAPIConcurrentEntries: [EntryPoint] = concurrentEntries.filter {
        Self.objectMemory.contains(program.functions[$0.function].language)
    }

    /// Entry points that can run at the same time as others towards shared global state: the
    /// concurrent ones, and a type's dealloc, finalize and GC slots. The last reference to *an
    /// object* goes away on whichever thread drops it, concurrently with everything else: only
    /// that object's own fields are private there. (A module's m_free/m_clear run at
    /// finalization and stay single-threaded.)
    public lazy var nativeGlobalStateEntries: [EntryPoint] = nativeConcurrentEntries + program.entryPoints.filter {
        ($0.kind == .dealloc || $0.kind == .gc) && ($0.selfType != nil || $0.pyType != nil) && Self.native.contains(program.functions[$0.function].language)
    }

    /// For each field or global, the first concurrent entry point that mutates it as a container.
    public lazy var firstMutator: [Origin: (EntryPoint, Effect)] = {
        // prefer mutations that can drop the last reference to an item (PyList_SetSlice, PyDict_Clear,
        // Py_CLEAR) over ones that only add (PyList_Append)
        var d: [Origin: (EntryPoint, Effect)] = [:]
        func freesItems(_ fx: Effect) -> Bool { fx.source.api.flatMap(CAPI.lookup)?.effects.contains(.mayFreeObject) ?? false }
        mutationEngine.prepare(nativeConcurrentEntries.map(\.function))
        for e in nativeConcurrentEntries {
            for fx in mutationEngine.entryEffects(e.function) {
                if let old = d[fx.origin], freesItems(old.1) || !freesItems(fx) { continue }
                d[fx.origin] = (e, fx)
            }
        }
        return d
    }()

    private var fieldContentsCache: [String: Set<Origin>] = [:]

    /// What is stored into field `owner.field` anywhere in the program (origins of the values).
    public func fieldContents(_ owner: String, _ field: String) -> Set<Origin> {
        let key = owner + "." + field
        if let c = fieldContentsCache[key] { return c }
        var out = Set<Origin>()
        let engine = lifetimeEngine
        for (fi, fn) in program.functions.enumerated() {
            for (i, op) in fn.ops.enumerated() {
                guard case .assign(let t, let v, _, _) = op, t.fields.last == field, program.lastOwner(t) == owner
                else { continue }
                let o = engine.origins(fi, v, at: i)
                out.formUnion(o.isEmpty ? [.unknownContainer] : o)
            }
        }
        fieldContentsCache[key] = out
        return out
    }

    public func location(_ step: Step) -> Location { program.functions[step.function].location(step.pos) }
    public func functionName(_ step: Step) -> String { program.functions[step.function].displayName }
}
