import FreeraceSyntax

/// One step of a member path stored through a pointer parameter (`MemberOut`): a named member,
/// or the member at an offset the code computes (`(MDB_val *)((char *)out + spec->offset)`),
/// known by its type only.
public enum MemberStep: Sendable, Hashable {
    case name(String)
    case any(type: String)
}

/// An unpinned buffer pointer that a function stores into a member of what one of its pointer
/// parameters points to (`val->mv_data = view.buf; PyBuffer_Release(&view);`).
public struct MemberOut: Sendable, Hashable {
    /// The member, relative to what the parameter points to.
    public var fields: [MemberStep]
    public var origin: Origin
    /// A view holder parameter: the function keeps the views it takes in storage this parameter
    /// points to (`PyObject_GetBuffer(obj, &holder->views[n], …)`, released by the caller once it
    /// is done). A caller that passes a holder gets pinned pointers; the unpinned ones are the
    /// fallback for callers that pass NULL.
    public var unlessHolder: Int?
}

// MARK: buffer pins

/// A pointer into a Python object's buffer is safe to use while a view (`Py_buffer`) of the
/// object is held: exporters refuse to resize while views exist. The view ends at
/// `PyBuffer_Release`, and the old buffer API (`PyObject_AsReadBuffer`) releases its view before it
/// returns. A pointer whose view ended, or never existed, is an *unpinned buffer*
/// (`Origin.unpinnedBuffer`): once other threads run (the GIL released), one of them may resize
/// or free the object's memory under it. The model follows such pointers from where the pin ends
/// through locals, return values, out-parameters and the members of structs passed by address
/// (`Summary.memberOuts`), also at offsets the code computes from a table, where the member is
/// known by the type the callee gives it.
extension SummaryEngine {
    /// Most unpinned stores a summary keeps per parameter.
    static let maxMemberOuts = 16

    /// Where a pointer value points: into what a parameter points to, or into a local (for
    /// `&local`), at a member path; `offset` when the code adds a computed offset
    /// (`(char *)out + spec->offset`), so the member there is known only by its type.
    struct MemberBase {
        var root: AccessPath.Root
        var name: String
        var fields: [String]
        var offset: Bool
    }

    static func isParamPath(_ p: AccessPath) -> Bool {
        if case .param = p.root { return true }
        return false
    }

    static func isUnpinned(_ o: Origin) -> Bool {
        if case .unpinnedBuffer = o { return true }
        return false
    }

    /// The member a pointer value points at, through casts, offsets and a few local copies
    /// (`dst = (uint8_t *)out + spec->offset; fill((MDB_val *)dst)`).
    func memberBase(_ f: Int, _ v: Value, at: Int, depth: Int = 0) -> MemberBase? {
        var offset = false
        var cur = v
        while true {
            switch cur {
            case .cast(_, let inner):
                cur = inner
            case .offset(let inner):
                offset = true
                cur = inner
            case .addressOf(let p):
                // `&val->mv_data`, `&local`, `&local.member` (not the address of a parameter variable)
                guard p.root == .local || (Self.isParamPath(p) && !p.fields.isEmpty) else { return nil }
                return MemberBase(root: p.root, name: p.name, fields: p.fields, offset: offset)
            case .path(let p):
                if Self.isParamPath(p) { return MemberBase(root: p.root, name: p.name, fields: p.fields, offset: offset) }
                let stores = program.functions[f].storesThrough
                guard p.root == .local, p.fields.isEmpty, depth < 4,
                      let last = index(f).assigns[p.name]?.last(where: { $0.op < at && !stores.contains($0.op) }),
                      var b = memberBase(f, last.value, at: last.op, depth: depth + 1) else { return nil }
                b.offset = b.offset || offset
                return b
            default:
                return nil
            }
        }
    }

    /// The struct type a pointer parameter points to (the type of a member at a computed offset
    /// that the caller passes there), canonical, or nil if it is not a struct.
    func pointeeStruct(_ g: Int, _ j: Int) -> String? {
        let params = program.functions[g].params
        guard j < params.count, params[j].type.pointers == 1, program.structFor(params[j].type.name) != nil else { return nil }
        return program.canonicalType(params[j].type.name)
    }

    /// Whether argument `k` of a call is NULL.
    static func passesNull(_ call: CallFact, _ k: Int) -> Bool {
        guard k < call.args.count else { return false }
        switch call.args[k].stripped {
        case .null: return true
        case .literal(let l): return l == "0"
        default: return false
        }
    }

    /// Whether the object a buffer call reads (its first argument) was created by this function:
    /// no other thread has it, so nothing resizes it.
    func exporterIsFresh(_ f: Int, call c: Int) -> Bool {
        let call = program.functions[f].calls[c]
        guard let obj = call.args.first else { return false }
        let o = origins(f, obj, at: index(f).opOfCall[c])
        return !o.isEmpty && o.allSatisfy { $0 == .freshObject || $0 == .freshContainer }
    }

    /// The unpinned buffer that argument `arg` of call `c` receives: `PyObject_AsReadBuffer(obj,
    /// &p, &n)` stores a pointer whose view already ended.
    func unpinnedOut(_ f: Int, call c: Int, arg: Int) -> Origin? {
        let call = program.functions[f].calls[c]
        guard let name = call.callee, let api = CAPI.lookup(name), api.effects.contains(.exposesUnpinnedBuffer),
              api.argument == arg, !exporterIsFresh(f, call: c) else { return nil }
        return .unpinnedBuffer(f, c)
    }

    /// The `PyObject_GetBuffer` call that filled local view `view`.
    func pinCall(_ f: Int, view: String) -> Int? {
        let fn = program.functions[f]
        return fn.calls.indices.first { c in
            guard let name = fn.calls[c].callee, let api = CAPI.lookup(name), api.effects.contains(.pinsBuffer),
                  let a = api.argument, a < fn.calls[c].args.count else { return false }
            switch fn.calls[c].args[a].stripped {
            case .addressOf(let p), .path(let p): return p.root == .local && p.fields.isEmpty && p.name == view
            default: return false
            }
        }
    }

    /// `view.buf` (or `view->buf`) of a local view released before op `at`
    /// (`PyBuffer_Release(&view)`): the pin ended there.
    func unpinnedView(_ f: Int, _ p: AccessPath, at: Int) -> Origin? {
        guard p.root == .local, p.fields.first == "buf",
              program.functions[f].locals[p.name]?.name == "Py_buffer",
              let release = index(f).viewReleases[p.name]?.first(where: { r in
                  // a release on a path that then leaves the function (an error exit) ends nothing here
                  r.op < at && program.functions[f].calls[r.call].mayPrecede(op: at)
              }) else { return nil }
        if let get = pinCall(f, view: p.name), exporterIsFresh(f, call: get) { return nil }
        return .unpinnedBuffer(f, release.call)
    }

    /// A local pointer copied from a view's data (`p = view.buf`, through a few copies) and used
    /// at op `at`, after the view was released.
    func unpinnedCopy(_ f: Int, _ p: AccessPath, at: Int) -> Origin? {
        guard p.root == .local, p.fields.isEmpty else { return nil }
        var q = p
        var op = at
        for _ in 0..<4 {
            guard let last = index(f).assigns[q.name]?.last(where: { $0.op < op }), let next = placeOf(last.value),
                  next.root == .local else { return nil }
            if next.fields.first == "buf" { return unpinnedView(f, next, at: at) }
            guard next.fields.isEmpty else { return nil }
            q = next
            op = last.op
        }
        return nil
    }

    /// The parameter `f` keeps views in (`PyObject_GetBuffer(obj, view, …)` with `view` pointing
    /// into what the parameter points to, `view = &bvl->views[bvl->count]`), if any.
    func viewHolder(_ f: Int) -> Int? {
        let fn = program.functions[f]
        for (c, call) in fn.calls.enumerated() {
            guard let name = call.callee, let api = CAPI.lookup(name), api.effects.contains(.pinsBuffer),
                  let a = api.argument, a < call.args.count,
                  let b = memberBase(f, call.args[a], at: index(f).opOfCall[c]), case .param(let k) = b.root
            else { continue }
            // a view released here is not kept for the caller
            let released = fn.calls.contains { r in
                guard let rn = r.callee, CAPI.lookup(rn)?.effects.contains(.releasesBuffer) == true,
                      let first = r.args.first, let rb = memberBase(f, first, at: Int.max) else { return false }
                return rb.root == b.root && rb.name == b.name
            }
            if !released { return k }
        }
        return nil
    }

    /// The type of member `field` of a struct type, for a function's locals (a struct defined in
    /// the body, or one of the program).
    func memberType(_ fn: FunctionFacts, _ t: TypeRef, _ field: String) -> TypeRef? {
        guard t.pointers <= 1 else { return nil }
        let fields = fn.localStructs[t.name] ?? program.structFor(t.name)?.fields
        return fields?.first(where: { $0.name == field })?.type
    }

    /// Whether a use of local path `p` reaches a member stored at `stored` (relative to the
    /// local): one path is a prefix of the other (a use of `arg.key` covers `arg.key.mv_data`),
    /// and a member at a computed offset matches the member of the local that has its type.
    func memberPathMatches(_ stored: [MemberStep], _ p: AccessPath, in f: Int) -> Bool {
        let fn = program.functions[f]
        var type = fn.locals[p.name]
        for (i, step) in stored.prefix(p.fields.count).enumerated() {
            let field = p.fields[i]
            let ft = type.flatMap { memberType(fn, $0, field) }
            switch step {
            case .name(let n):
                if n != field { return false }
            case .any(let t):
                guard let ft, ft.pointers == 0, !ft.isArray, program.canonicalType(ft.name) == t else { return false }
            }
            type = ft
        }
        return true
    }

    /// Unpinned buffer pointers that calls stored into local `p` (or the member of it `p` names)
    /// through its address before op `at`: `PyObject_AsReadBuffer(obj, &data, &n)`, `parse(&arg)`
    /// for a helper that stores them into the struct's members (unless it was given a view holder).
    func unpinnedMembers(_ f: Int, _ p: AccessPath, at: Int) -> Set<Origin> {
        guard let list = index(f).addressArgs[p.name] else { return [] }
        let fn = program.functions[f]
        var out = Set<Origin>()
        for a in list where a.op < at {
            let stored = a.fields.map(MemberStep.name)
            if let o = unpinnedOut(f, call: a.call, arg: a.arg), memberPathMatches(stored, p, in: f) { out.insert(o) }
            for g in program.callTargets[f][a.call] where g != f {
                for mo in summary(g).memberOuts[a.arg] ?? [] {
                    if let h = mo.unlessHolder, !Self.passesNull(fn.calls[a.call], h) { continue }
                    if memberPathMatches(stored + mo.fields, p, in: f) { out.insert(mo.origin) }
                }
            }
        }
        return out
    }

    /// What `f` stores into members reached from its pointer parameters that is an unpinned
    /// buffer: its own stores (`val->mv_data = view.buf` with the view released before it
    /// returns, `PyObject_AsReadBuffer(obj, &val->mv_data, …)`) and its callees', through the
    /// pointers it passes them (`val_from_buffer((MDB_val *)dst, obj)` with `dst` at an offset of
    /// its own parameter).
    func memberOuts(_ f: Int) -> [Int: [MemberOut]] {
        let fn = program.functions[f]
        let targets = program.callTargets[f]
        // only functions that take buffers without a pin, or call one that stores such pointers
        let relevant = fn.calls.indices.contains { c in
            if let name = fn.calls[c].callee, let api = CAPI.lookup(name),
               !api.effects.isDisjoint(with: [.exposesUnpinnedBuffer, .releasesBuffer]) { return true }
            return c < targets.count && targets[c].contains { $0 != f && !summary($0).memberOuts.isEmpty }
        }
        guard relevant else { return [:] }
        let holder = viewHolder(f)
        let end = fn.ops.count
        var out: [Int: [MemberOut]] = [:]
        func record(_ base: MemberBase, _ extra: [MemberStep], anyType: String?, _ o: Origin, holder h: Int?) {
            guard case .param(let k) = base.root else { return }
            var steps = base.fields.map(MemberStep.name)
            if base.offset {
                guard let t = anyType else { return }
                steps.append(.any(type: t))
            }
            steps += extra
            let m = MemberOut(fields: steps, origin: o, unlessHolder: h)
            var list = out[k] ?? []
            if list.count < Self.maxMemberOuts, !list.contains(m) { list.append(m) }
            out[k] = list
        }
        func ownHolder(_ o: Origin) -> Int? {
            if case .unpinnedBuffer(let g, _) = o, g == f { return holder }
            return nil
        }
        for (i, op) in fn.ops.enumerated() {
            switch op {
            case .assign(let t, let v, _, _):
                guard !t.fields.isEmpty, Self.isParamPath(t) || t.root == .local else { continue }
                // the value escapes the function: a view released anywhere here no longer pins it
                let unpinned = origins(f, v, at: end).filter(Self.isUnpinned).sorted()
                guard !unpinned.isEmpty else { continue }
                if Self.isParamPath(t) {
                    let base = MemberBase(root: t.root, name: t.name, fields: t.fields, offset: false)
                    for o in unpinned { record(base, [], anyType: nil, o, holder: ownHolder(o)) }
                } else {
                    // through a local pointer into a parameter (`MDB_val *v = out + off; v->mv_data = p`)
                    let local = AccessPath(root: .local, name: t.name, rootType: nil, text: t.name)
                    guard let base = memberBase(f, .path(local), at: i) else { continue }
                    let lt = fn.locals[t.name]
                    let anyType = lt.flatMap { $0.pointers == 1 && program.structFor($0.name) != nil ? program.canonicalType($0.name) : nil }
                    for o in unpinned {
                        record(base, t.fields.map(MemberStep.name), anyType: anyType, o, holder: ownHolder(o))
                    }
                }
            case .call(let c):
                let call = fn.calls[c]
                if let name = call.callee, let api = CAPI.lookup(name), let a = api.argument, a < call.args.count,
                   let o = unpinnedOut(f, call: c, arg: a), let b = memberBase(f, call.args[a], at: i) {
                    record(b, [], anyType: nil, o, holder: holder)
                }
                for g in targets[c] where g != f {
                    for (j, mos) in summary(g).memberOuts.sorted(by: { $0.key < $1.key }) where j < call.args.count {
                        guard let b = memberBase(f, call.args[j], at: i) else { continue }
                        let anyType = pointeeStruct(g, j)
                        for mo in mos {
                            var h: Int? = nil
                            if let ch = mo.unlessHolder, !Self.passesNull(call, ch) {
                                // the caller's own holder parameter passed on: still its caller's choice
                                guard ch < call.args.count, case .path(let hp) = call.args[ch].stripped,
                                      case .param(let k) = hp.root, hp.fields.isEmpty else { continue }
                                h = k
                            }
                            record(b, mo.fields, anyType: anyType, mo.origin, holder: h)
                        }
                    }
                }
            default:
                break
            }
        }
        return out
    }
}
