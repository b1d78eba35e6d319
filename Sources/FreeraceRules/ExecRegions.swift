import FreeraceModel
import FreeraceSyntax

/// Executable memory in the program: mapping sites whose memory becomes executable, and the
/// fields/globals that hold pointers into it.
public struct ExecRegions: Sendable {
    public struct Evidence: Sendable {
        /// Where the memory was made executable (`mmap(..., PROT_EXEC)` or `mprotect(..., PROT_EXEC)`).
        public var location: Location
        public var function: String
        public var text: String
    }
    /// Allocation sites (`Origin.alloc`) whose memory is executable, with evidence.
    public var sites: [Origin: Evidence] = [:]
    /// Places holding pointers into executable memory → the sites they derive from.
    public var places: [Origin: Set<Origin>] = [:]

    public init(_ ctx: RuleContext) {
        let p = ctx.program
        let engine = ctx.lifetimeEngine
        // 1. Sites: mmap with PROT_EXEC, or memory later passed to mprotect(..., PROT_EXEC)
        for (fi, fn) in p.functions.enumerated() {
            for (ci, call) in fn.calls.enumerated() {
                guard let name = call.callee, let api = CAPI.lookup(name), let protArg = api.protArgument,
                      protArg < call.argTexts.count else { continue }
                let prot = call.argTexts[protArg]
                guard prot.contains("PROT_EXEC") || prot.contains("PAGE_EXECUTE") else { continue }
                let ev = Evidence(location: fn.location(call.pos), function: fn.name,
                                  text: "\(name)(\(call.argTexts.joined(separator: ", ")))")
                if api.effects.contains(.mapsMemory) {
                    sites[.alloc(fi, ci)] = ev
                } else if let a = api.argument, a < call.args.count {
                    let at = engine.index(fi).opOfCall[ci]
                    for o in engine.origins(fi, call.args[a], at: at) {
                        if case .alloc = o { sites[o] = ev }
                    }
                }
            }
        }
        guard !sites.isEmpty else { return }
        // 2. Places: fields and globals assigned pointers into those sites (to a fixpoint), looked
        // for in the files that map executable memory and the files they include or are included by
        var near = Set<String>()
        for case .alloc(let f, _) in sites.keys { near.formUnion(p.includeClosure(p.functions[f].file)) }
        for file in p.includesOf.keys where !p.includeClosure(file).isDisjoint(with: near) { near.insert(file) }
        let candidates = p.functions.indices.filter { near.contains(p.functions[$0].file) }
        for _ in 0..<4 {
            var changed = false
            for fi in candidates {
                let fn = p.functions[fi]
                for (i, op) in fn.ops.enumerated() {
                    guard case .assign(let target, let value, _, _) = op else { continue }
                    switch value.stripped {
                    case .literal, .null, .string, .unknown: continue
                    default: break
                    }
                    var derived = Set<Origin>()
                    for o in engine.origins(fi, value, at: i) {
                        if sites[o] != nil { derived.insert(o) }
                        if let s = places[o] { derived.formUnion(s) }
                    }
                    guard !derived.isEmpty else { continue }
                    for t0 in engine.origins(fi, path: target, at: i) {
                        guard let t = engine.resolveAtEntry(t0, function: fi) else { continue }
                        switch t {
                        case .field, .global:
                            let before = places[t]?.count ?? 0
                            places[t, default: []].formUnion(derived)
                            if places[t]!.count != before { changed = true }
                        default: break
                        }
                    }
                }
            }
            if !changed { break }
        }
    }

    /// The executable sites an origin points into (empty if none).
    public func sitesOf(_ o: Origin) -> Set<Origin> {
        if sites[o] != nil { return [o] }
        return places[o] ?? []
    }

    public var isEmpty: Bool { sites.isEmpty }
}
