import Foundation
import FreeraceModel
import FreeraceRules
import FreeraceSyntax

/// A readable dump of the program model, for `freerace debug-model` (development aid).
public func debugModel(paths: [String], target: AnalysisTarget, function: String?) -> String {
    var opts = AnalysisOptions(paths: paths)
    opts.target = target
    let (facts, _, _) = Analyzer.facts(opts, set: SourceSet(paths: paths))
    let program = Program(files: facts, target: target)
    return parallelMap(count: 1, jobs: 1) { _ -> String in
        var out = ""
        let ctx = RuleContext(program: program)
        if let function {
            // reads of every place something frees, releases or recycles
            let reads = ctx.readEngine(of: ctx.freedOrigins.union(ctx.releasedOrigins).union(ctx.recycledOrigins))
            for fi in program.functionsByName[function] ?? [] {
                let fn = program.functions[fi]
                out += "function \(fn.name) \(fn.location.description)\n"
                out += "  params: \(fn.params.map { "\($0.name): \($0.type)" })\n"
                for (i, r) in fn.regions.enumerated() { out += "  region \(i): \(r.kind) \(r.subject?.text ?? "") \(r.begin.line)-\(r.end.line)\n" }
                for (i, op) in fn.ops.enumerated() {
                    switch op {
                    case .assign(let t, let v, let p, let r): out += "  [\(i)] \(p.line): assign \(t.key) = \(v) regions=\(r)\n"
                    case .read(let t, let p, let r): out += "  [\(i)] \(p.line): read \(t.key) (\(t.rootType?.description ?? "?")) regions=\(r)\n"
                    case .deref(let t, let p, _): out += "  [\(i)] \(p.line): use \(t.key)\n"
                    case .call(let c):
                        let call = fn.calls[c]
                        out += "  [\(i)] \(call.pos.line): call \(call.callee ?? "*") \(call.argTexts) regions=\(call.regions) → \(program.callTargets[fi][c].map { program.functions[$0].name })\n"
                    case .ret(let v, let p): out += "  [\(i)] \(p.line): return \(v)\n"
                    }
                }
                let s = ctx.lifetimeEngine.summary(fi)
                for e in s.effects { out += "  effect \(e.kind) \(e.origin) locks=\(e.locks) via \(e.chain.map { ctx.functionName($0) }) at \(e.chain.last.map { "\($0.pos.line): \($0.what)" } ?? "-")\n" }
                out += "  returns \(s.returns)\n"
                for e in reads.summary(fi).effects { out += "  read \(e.origin) locks=\(e.locks) gil=\(e.gil) via \(e.chain.map { ctx.functionName($0) })\n" }
            }
            return out
        }
        for m in program.modules { out += "module \(m.name) (\(m.file)) gilFree=\(m.gilFree) \(m.declaration ?? "")\n" }
        for e in program.entryPoints {
            out += "entry \(program.functions[e.function].name): \(e.kind) \(e.context) self=\(e.selfType ?? "-") [\(e.label)]\n"
        }
        for o in ctx.freedOrigins.map(\.description).sorted() { out += "freed \(o)\n" }
        for (o, ev) in ctx.execRegions.sites { out += "exec site \(o): \(ev.text)\n" }
        for (o, s) in ctx.execRegions.places { out += "exec place \(o) <- \(s)\n" }
        return out
    }[0]
}
