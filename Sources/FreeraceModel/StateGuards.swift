import FreeraceSyntax

/// State guards: an object's flag that one side tests and leaves on, and that the other side
/// raises around what it does (`self._running = 1; with nogil: run(self.loop); self._running = 0`
/// against `close()`, which raises when `self._running == 1` before it frees the loop). The
/// flag keeps the two phases apart as a lock would: the test and the store each run holding the
/// GIL, so the side that tests either sees the flag raised and leaves, or ran its test before the
/// other side raised it.
extension Program {
    /// A flag an object's field holds, as a guard on a chain's way tests it.
    public struct StateGuard: Sendable, Hashable {
        public var flag: Origin
        public var guardFact: ExitGuard
        public var function: Int
    }

    /// The exit guards a chain passes on its way to its event: in each function of the chain, the
    /// early exits on a field of an object of type `owner` that come before the chain's step there.
    public func stateGuards(on chain: Chain, owner: String) -> [StateGuard] {
        var out: [StateGuard] = []
        for step in chain {
            let fn = functions[step.function]
            for g in fn.exitGuards where g.pos < step.pos {
                guard let o = fieldOrigin(g.place), case .field(let t, _) = o, t == owner else { continue }
                out.append(StateGuard(flag: o, guardFact: g, function: step.function))
            }
        }
        return out
    }

    /// Whether a chain raises the flag of `guardFact` before its event: some function of the chain
    /// stores a value the guard leaves on into the flag, with the GIL held, and its last store to
    /// the flag before the chain's step there is that one (a `finally` that lowers it runs after).
    public func raises(_ g: StateGuard, on chain: Chain) -> Bool {
        for step in chain {
            let fn = functions[step.function]
            var last: (value: String?, detached: Bool)?
            for op in fn.ops {
                guard case .assign(let t, let v, let pos, let regions) = op, pos < step.pos, !t.fields.isEmpty,
                      t.fields.last == g.guardFact.place.fields.last, fieldOrigin(t) == g.flag else { continue }
                let detached = regions.contains { $0 < fn.regions.count && fn.regions[$0].kind == .gilReleased }
                last = (Self.constantText(v), detached)
            }
            if let l = last, !l.detached, let value = l.value, g.guardFact.leaves(on: value) { return true }
        }
        return false
    }

    /// Whether a state guard keeps a free and a use apart: the freeing chain leaves on a flag of
    /// the freed object's type that the using chain raises before it uses the memory.
    public func stateGuardSeparates(free: Chain, use: Chain, owner: String) -> Bool {
        let guards = stateGuards(on: free, owner: owner)
        guard !guards.isEmpty else { return false }
        return guards.contains { raises($0, on: use) }
    }

    /// The text of a constant stored into a flag: a literal, NULL, or a named constant (an
    /// enumerator or macro, `STATE_CLOSED`).
    static func constantText(_ v: Value) -> String? {
        switch v.stripped {
        case .literal(let s): return s
        case .null: return "NULL"
        case .path(let p) where p.root == .global && p.fields.isEmpty: return p.name
        default: return nil
        }
    }
}
