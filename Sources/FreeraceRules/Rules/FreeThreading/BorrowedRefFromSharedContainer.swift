import FreeraceModel
import FreeraceSyntax

/// FR302: a borrowed reference is taken from a mutable container that other threads can reach,
/// in free-threading-enabled code.
public struct BorrowedRefFromSharedContainer: Rule {
    public init() {}
    public let code = "FR302"
    public let name = "borrowed-ref-from-shared-container"
    public let summary = "A borrowed reference is taken from a shared mutable container in free-threading-enabled code"
    public var group: RuleGroup { .referencesAndState }
    public let maturity = Maturity.preview
    public let languages: [Language] = [.c, .cpp, .cython]
    public let doc = RuleDoc(
        whatItDoes: """
            Finds calls to APIs that return a borrowed reference out of a list, dict, weakref, cell or \
            `sys.modules` — `PyList_GetItem`, `PyList_GET_ITEM`, `PyDict_GetItem`, \
            `PyDict_GetItemWithError`, `PyDict_GetItemString`, `PyDict_SetDefault`, `PyWeakref_GetObject`, \
            `PyWeakref_GET_OBJECT`, `PyImport_AddModule`, `PyCell_GET` — and `PyDict_Next` outside a \
            critical section on the dict, when the container is shared (a field such as `self->items`, a \
            global, a parameter) and the module runs without the GIL. A field or global counts as a \
            mutable container when something mutates or replaces it; a dict that is only added to \
            (`PyDict_SetDefault`, which never replaces an item) and that no method releases keeps \
            its items and is not reported. Cython code that calls these functions itself \
            (`from cpython.dict cimport PyDict_GetItem`) is checked too, in a module declaring \
            `freethreading_compatible = True`; an attribute of an argument (`inst._cache`, \
            `inst.__dict__` of the instance a descriptor's `__get__` receives) is the caller's \
            container. An object the caller passed in stays the caller's through the project's \
            helpers: unpacked from the argument tuple (`PyArg_ParseTuple`, or by hand with \
            `PyTuple_GET_ITEM(args, i)`) and handed back through an out-parameter \
            (`*psrc = Py_NewRef(item)`). `PyImport_AddModule` of a module the same function has \
            just imported, or whose package it imported, keeping the import's result \
            (`pkg = PyImport_ImportModule("pkg"); PyImport_AddModule("pkg.sub")`), is not reported: \
            the module does not live by its `sys.modules` entry alone.
            """,
        whyIsThisBad: """
            A borrowed reference is only valid while the container holds the object. Without the GIL, \
            another thread can replace or remove the item — and drop the last reference — between the \
            lookup and the use: a use-after-free. `Py_INCREF` after the lookup is too late.
            """,
        example: """
            PyObject *item = PyList_GetItem(self->items, 0);   /* borrowed */
            return PyObject_Repr(item);                        /* another thread may have freed it */
            """,
        useInstead: """
            Use the strong-reference API and release it: `PyList_GetItemRef`, `PyDict_GetItemRef`, \
            `PyDict_GetItemStringRef`, `PyDict_SetDefaultRef`, `PyWeakref_GetRef`, \
            `PyImport_AddModuleRef` (3.13+; `pythoncapi_compat.h` backports them), and `PyCell_Get` \
            instead of `PyCell_GET`. For `PyDict_Next`, hold `Py_BEGIN_CRITICAL_SECTION(dict)` around \
            the loop.
            """,
        knownLimitations: """
            A container is local when it was created in the same function (`PyList_New`, `PyDict_New`, \
            `PyDict_Copy`) and not yet published; containers returned by arbitrary calls are assumed \
            unshared. A critical section held by a caller is accepted for any container; suspension of a \
            critical section by a blocking call between the lookup and the use is not modelled. A line \
            carrying NumPy's audit marker `// noqa: borrowed-ref OK` (its maintainers reviewed the borrow) \
            counts as suppressed; `noqa: borrowed-ref - manual fix needed` is still reported.
            """,
        references: [
            "https://docs.python.org/3/howto/free-threading-extensions.html#borrowed-references",
            "https://github.com/python/pythoncapi-compat",
            "PEP 703 — Making the Global Interpreter Lock Optional",
        ])

    public func check(_ ctx: RuleContext) -> [Finding] {
        let program = ctx.program
        var bySite: [Step: (EntryPoint, Effect)] = [:]
        var order: [Step] = []
        ctx.borrowEngine.prepare(ctx.cAPIConcurrentEntries.map(\.function))
        for e in ctx.cAPIConcurrentEntries {
            for fx in ctx.borrowEngine.entryEffects(e.function, keepParameters: true) where fx.kind == .borrow {
                guard let site = fx.chain.last, ctx.freeThreadingApplies(site.function) else { continue }
                // a backport of the strong-reference API (pythoncapi_compat.h) borrows by design, and is
                // only compiled for Pythons that have a GIL
                if Self.strongReplacements.contains(program.functions[site.function].name) { continue }
                // a weak reference's referent, the module registry: shared whatever this thread holds
                let alwaysShared = fx.source.api.flatMap(CAPI.lookup)?.effects.contains(.borrowsFromAlwaysShared) ?? false
                // a module the function has just imported (it, or the package that imported it) is
                // held by the reference the import returned: the registry's entry is not its only one
                if alwaysShared, Self.importedBefore(program.functions[site.function], at: site) { continue }
                guard alwaysShared || isShared(fx.origin, entry: e, program: program) else { continue }
                // a field of a per-call struct holds a shared container only if something shared is stored in it
                if case .field(let owner, let field) = fx.origin, !program.isPythonObject(owner) {
                    if !ctx.fieldContents(owner, field).contains(where: { Self.isOutside($0) }) { continue }
                }
                let callerObject = Self.holdsCallerObject(ctx, fx.origin)
                // a field or global nobody mutates or replaces (Py_XSETREF, Py_CLEAR) after it is
                // published is not a mutable container: a plain store publishes, it frees nothing
                if Self.isCallerProvided(fx.origin) {} else if !callerObject, !alwaysShared,
                    mutator(ctx, of: fx.origin) == nil || Self.onlyGrows(ctx, fx.origin) { continue }
                guard !protected(ctx, fx, site: site) else { continue }
                if bySite[site] == nil {
                    order.append(site)
                    bySite[site] = (e, fx)
                }
            }
        }
        return order.compactMap { site in
            guard let (entry, fx) = bySite[site] else { return nil }
            return report(ctx, site: site, entry: entry, effect: fx)
        }
    }

    static let strongReplacements: Set<String> = Set(CAPI.entries.compactMap(\.replacement))

    /// `PyImport_AddModule("pkg.sub")` after the same function imported `"pkg.sub"` or its package
    /// `"pkg"` and kept the result (`m = PyImport_ImportModule("pkg")`): the import returned a
    /// strong reference to the module, or to the package that binds the submodule it imported as
    /// an attribute, so the borrowed module does not live by its `sys.modules` entry alone.
    static func importedBefore(_ fn: FunctionFacts, at site: Step) -> Bool {
        guard let borrow = fn.calls.first(where: { $0.pos == site.pos }), borrow.callee.flatMap(CAPI.lookup)?.argument == nil,
              let name = borrow.argTexts.first.flatMap(moduleName) else { return false }
        return fn.calls.contains { c in
            guard c.pos < borrow.pos, c.resultUse != .discarded, let callee = c.callee,
                  CAPI.lookup(callee)?.effects.contains(.importsModule) == true,
                  let imported = c.argTexts.first.flatMap(moduleName) else { return false }
            return name == imported || name.hasPrefix(imported + ".")
        }
    }

    /// The module name a string literal argument spells (`"asyncio.tasks"`).
    static func moduleName(_ text: String) -> String? {
        guard text.count > 2, text.hasPrefix("\""), text.hasSuffix("\"") else { return nil }
        return String(text.dropFirst().dropLast())
    }

    /// A field of a per-call struct that holds a container passed in by a caller (ujson's
    /// `tc->dictObj`, the dict being encoded): as shared as a parameter, any Python code may mutate it.
    static func holdsCallerObject(_ ctx: RuleContext, _ o: Origin) -> Bool {
        guard case .field(let owner, let field) = o, !ctx.program.isPythonObject(owner) else { return false }
        return ctx.fieldContents(owner, field).contains { if case .param = $0 { return true } else { return false } }
    }

    /// A value that comes from outside the function or from shared state.
    static func isOutside(_ o: Origin) -> Bool {
        switch o {
        case .param, .global: return true
        case .field: return true
        default: return false
        }
    }

    /// Whether the container can be reached by other threads.
    /// A container the caller handed in (a parameter, or an object unpacked from the arguments):
    /// any thread holding a reference to it can mutate it.
    static func isCallerProvided(_ o: Origin) -> Bool {
        switch o {
        case .param, .callerArgument: true
        default: false
        }
    }

    func isShared(_ o: Origin, entry: EntryPoint, program: Program) -> Bool {
        switch o {
        case .freshContainer, .freshObject, .unknownContainer, .alloc, .foreignFrames, .foreignThread, .unpinnedBuffer:
            return false
        case .field, .global, .callerArgument:
            return true
        case .param(let k, let fs):
            guard fs.isEmpty else { return true }
            let fn = program.functions[entry.function]
            guard k < fn.params.count else { return false }
            // the keyword-arguments dict of a call is created for that call
            let name = fn.params[k].name.lowercased()
            if name.hasPrefix("kw") || name == "kwargs" || name == "kwds" { return false }
            if k == 2, entry.pythonSpelling == "__init__" || entry.pythonSpelling == "__call__" || entry.kind == .constructor {
                return false
            }
            return true
        }
    }

    /// A critical section on the same container in the function, or one held by a caller.
    func protected(_ ctx: RuleContext, _ fx: Effect, site: Step) -> Bool {
        let fn = ctx.program.functions[site.function]
        guard let call = fn.calls.first(where: { $0.pos == site.pos }) else { return false }
        let container = call.args.first.flatMap { $0.path }
        for r in call.regions {
            let reg = fn.regions[r]
            guard [.criticalSection, .criticalSection2, .criticalSectionMutex].contains(reg.kind) else { continue }
            if let c = container, reg.subject?.key == c.key || reg.subjects2?.key == c.key { return true }
        }
        if fx.locks.holdsStopTheWorld { return true }
        // held by a caller (the borrow's own function holds no critical section)
        let own = ctx.lifetimeEngine.lockKeys(site.function, regions: call.regions)
        return fx.locks.contains { if case .criticalSection = $0 { return !own.contains($0) }; return false }
    }

    func report(_ ctx: RuleContext, site: Step, entry: EntryPoint, effect fx: Effect) -> Finding {
        let program = ctx.program
        let fn = program.functions[site.function]
        let callIndex = fn.calls.firstIndex { $0.pos == site.pos }!
        let call = fn.calls[callIndex]
        let api = call.callee ?? fx.source.description
        let container = CAPI.lookup(api)?.argument == nil ? "sys.modules" : (call.argTexts.first ?? "the container")
        let replacement = CAPI.lookup(api)?.replacement
        var notes: [Note] = []
        let loc = fn.location(call.pos)
        let isNext = api == "PyDict_Next"
        var borrowed = "the result"
        // the local the borrowed reference lands in, and where it is used
        if let (name, use) = Self.firstUse(fn, callIndex: callIndex) {
            borrowed = "`\(name)`"
            notes.append(Note(location: loc, message: "`\(name)` is borrowed from `\(container)` (\(api) returns a borrowed reference)", thread: "A"))
            if let use {
                notes.append(Note(location: fn.location(use), message: "`\(name)` is used here, \(fx.locks)", thread: "A"))
            }
        } else {
            notes.append(Note(location: loc, message: isNext
                ? "`\(fn.name)` iterates `\(container)` with PyDict_Next, which hands out borrowed keys and values, \(fx.locks)"
                : "\(api) returns a reference borrowed from `\(container)`, \(fx.locks)", thread: "A"))
        }
        if entry.function != site.function {
            notes.append(Note(location: loc, message: "reached from \(ctx.chainText(entry: entry, fx.chain))", thread: "A"))
        }
        if !Self.holdsCallerObject(ctx, fx.origin), let (who, at) = mutator(ctx, of: fx.origin) {
            notes.append(Note(location: at, message: "\(who) can replace or remove items of `\(container)` at the same time, dropping the last reference", thread: "B"))
        } else {
            let other = Self.isCallerProvided(fx.origin) || Self.holdsCallerObject(ctx, fx.origin)
                ? "any other thread holding a reference to the same container can mutate it at the same time"
                : "other threads can mutate `\(container)` at the same time and drop the last reference to the item"
            notes.append(Note(location: loc, message: other, thread: "B"))
        }
        let ft = ctx.freeThreading(site.function)
        let why = "\(ft.reason); `\(container)` is \(Self.sharing(fx.origin)), so the borrowed reference is not kept alive by anything this thread holds"
        var help: String
        if isNext {
            help = "hold Py_BEGIN_CRITICAL_SECTION(\(container)) … Py_END_CRITICAL_SECTION() around the PyDict_Next loop, and take strong references (Py_NewRef) to keys and values used after any call that may block"
        } else if let r = replacement {
            help = "use \(r) (strong reference; release it with Py_DECREF), available since 3.13 and in pythoncapi_compat.h for older versions"
            if api.hasPrefix("PyList") || api.hasPrefix("PyDict") {
                help += ", or hold Py_BEGIN_CRITICAL_SECTION(\(container)) until you are done with the item"
            }
        } else {
            help = "take a strong reference under a critical section on the container"
        }
        let message: String
        if isNext {
            message = "`\(fn.name)` iterates shared dict `\(container)` with PyDict_Next outside a critical section; items it yields may be freed by a concurrent mutation"
        } else if borrowed == "the result" {
            message = "\(api) returns a reference borrowed from shared `\(container)` that a concurrent mutation may free"
        } else {
            message = "\(borrowed) is borrowed from shared `\(container)` with \(api) and may be freed by a concurrent mutation"
        }
        return finding(message: message, function: fn.name, location: loc, notes: notes, why: why, help: help,
                       key: "\(fn.name)|\(api)|\(container)|\(callIndex)",
                       repro: ReproHint(module: ctx.moduleName(site.function), typeName: entry.pyType,
                                        mutators: Self.holdsCallerObject(ctx, fx.origin) ? []
                                            : [ctx.firstMutator[fx.origin]?.0.pythonSpelling].compactMap { $0 },
                                        readers: [entry.pythonSpelling ?? fn.name], scenario: .containerMutateVsBorrow))
    }

    static func sharing(_ o: Origin) -> String {
        switch o {
        case .field(let t, let f): "a field of `\(t)` (`\(f)`), reachable from other threads through the object"
        case .global(let g): "global state (`\(g)`)"
        case .param(_, let fs) where !fs.isEmpty:
            "held by an object the caller passed in (`\(fs.joined(separator: "."))`), which other threads may share"
        case .param: "passed in by the caller, who may share it with other threads"
        default: "reachable from other threads"
        }
    }

    /// The local a call's result is assigned to, and the first later use of that local.
    static func firstUse(_ fn: FunctionFacts, callIndex: Int) -> (String, Pos?)? {
        var name: String?
        var after = 0
        for (i, op) in fn.ops.enumerated() {
            if case .assign(let t, let v, _, _) = op, t.root == .local, t.fields.isEmpty,
               case .call(let c) = v.stripped, c == callIndex {
                name = t.name
                after = i
                break
            }
        }
        guard let local = name else { return nil }
        for op in fn.ops[(after + 1)...] {
            switch op {
            case .call(let c):
                if fn.calls[c].args.contains(where: { $0.path?.name == local && $0.path?.root == .local }) {
                    return (local, fn.calls[c].pos)
                }
            case .read(let p, let pos, _) where p.name == local && p.root == .local:
                return (local, pos)
            case .ret(let v, let pos) where v.path?.name == local:
                return (local, pos)
            default: break
            }
        }
        return (local, nil)
    }

    /// A dict that is only ever added to (`PyDict_SetDefault`: the mutation that `firstMutator`
    /// prefers, one that can drop an item, is not there) and not released while in use (its
    /// owner's dealloc runs when no one else has it) keeps every item it holds: no concurrent
    /// mutation frees a borrowed item (cffi's type cache, "items are never removed"). Not a list:
    /// an append reallocates the item array that `PyList_GET_ITEM` and
    /// `PySequence_Fast_GET_ITEM` read directly (numpy's `ufunc->_loops`).
    static func onlyGrows(_ ctx: RuleContext, _ o: Origin) -> Bool {
        guard let (_, fx) = ctx.firstMutator[o], let name = fx.source.api, name.hasPrefix("PyDict_"),
              let api = CAPI.lookup(name) else { return false }
        return api.effects.isDisjoint(with: [.mayFreeObject, .replacesReference, .releasesReference])
            && !ctx.endedWhileInUseOrigins.contains(o)
    }

    /// An entry point that mutates the same container (for thread B).
    func mutator(_ ctx: RuleContext, of o: Origin) -> (String, Location)? {
        guard let (e, fx) = ctx.firstMutator[o] else { return nil }
        let step = fx.chain.last!
        return ("\(ctx.entryText(e)) (\(step.what) in `\(ctx.functionName(step))`)", ctx.location(step))
    }
}
