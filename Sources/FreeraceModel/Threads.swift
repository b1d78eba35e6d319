/// Threads the code starts itself, and the waits that end them: memory handed to a thread
/// (`pthread_create(&t, NULL, run, arg)`) is in use until the thread is joined.
public struct ThreadJoins: Sendable {
    /// Per function: whether it waits for a thread to end (`pthread_join`, a wait on a condition
    /// the thread signals), itself or through a callee.
    public let joins: [Bool]

    /// Marks the functions that call a join, then their callers (each function once: linear in
    /// the call graph).
    public init(_ program: Program) {
        var joins = Array(repeating: false, count: program.functions.count)
        var work: [Int] = []
        for (fi, fn) in program.functions.enumerated() {
            if fn.calls.contains(where: { Self.isJoin($0) }) {
                joins[fi] = true
                work.append(fi)
            }
        }
        while let g = work.popLast() {
            for (caller, _) in program.callers[g] where !joins[caller] {
                joins[caller] = true
                work.append(caller)
            }
        }
        self.joins = joins
    }

    static func isJoin(_ call: CallFact) -> Bool {
        guard let name = call.callee, let api = CAPI.lookup(name) else { return false }
        return api.effects.contains(.joinsThread)
    }

    /// Whether function `f` waits for a thread to end before `pos` (a call that joins, directly or
    /// through a callee, earlier in the source: on any path, so a join on one branch counts).
    public func joinsBefore(_ pos: Pos, in f: Int, _ program: Program) -> Bool {
        guard joins[f] else { return false }
        for (c, call) in program.functions[f].calls.enumerated() where call.pos < pos {
            if Self.isJoin(call) || program.callTargets[f][c].contains(where: { joins[$0] }) { return true }
        }
        return false
    }

    /// Whether a trace (from an entry point down to an event) passes a join before the event: in
    /// some function of the trace, a join precedes the call the trace continues through.
    public func joinsBefore(_ chain: Chain, _ program: Program) -> Bool {
        chain.contains { joinsBefore($0.pos, in: $0.function, program) }
    }
}

extension Program {
    /// The start routine of the thread started by the call at `step` (a `pthread_create`,
    /// `PyThread_start_new_thread`, … of the C-API table), when it is a function of the project.
    public func startedThread(at step: Step) -> Int? {
        let fn = functions[step.function]
        for call in fn.calls where call.pos == step.pos {
            guard let name = call.callee, let api = CAPI.lookup(name), api.effects.contains(.startsThread),
                  let a = api.argument, a < call.args.count else { continue }
            switch call.args[a].stripped {
            case .path(let p), .addressOf(let p):
                return p.fields.isEmpty ? resolveFunction(p.name, from: fn.file) : nil
            default:
                return nil
            }
        }
        return nil
    }
}
