/// A synchronization that orders two accesses when both hold it. Typed, so a rule asks
/// `LockSet.orders(_:_:)` instead of comparing strings the model wrote.
public enum Lock: Hashable, Sendable, Comparable, Codable, CustomStringConvertible {
    /// `Py_BEGIN_CRITICAL_SECTION(op)` (and the `2`/mutex forms) on an object of this canonical
    /// type; nil when the type is unknown (`PyObject *`), which may be any object.
    case criticalSection(type: String?)
    /// A mutex (PyMutex, pthread, C++, Win32, PyThread lock) named by its place key
    /// (`state.lock`, `MyObject.mutex`).
    case mutex(place: String)
    /// Stop-the-world: no other thread runs Python code meanwhile.
    case stopTheWorld

    private var sortKey: (Int, String) {
        switch self {
        case .criticalSection(let t): (0, t ?? "")
        case .mutex(let p): (1, p)
        case .stopTheWorld: (2, "")
        }
    }

    public static func < (a: Lock, b: Lock) -> Bool { a.sortKey < b.sortKey }

    public var description: String {
        switch self {
        case .criticalSection(let t): "a critical section on " + (t.map { "`\($0)`" } ?? "an object")
        case .mutex(let p): "lock `\(p)`"
        case .stopTheWorld: "stop-the-world"
        }
    }

    /// Whether holding `self` on one side and `other` on the other excludes the two.
    public func excludes(_ other: Lock) -> Bool {
        switch (self, other) {
        case (.stopTheWorld, _), (_, .stopTheWorld): return true
        case (.criticalSection(let a), .criticalSection(let b)): return a == nil || b == nil || a == b
        case (.mutex(let a), .mutex(let b)): return a == b
        default: return false
        }
    }
}

/// The locks held at a point, sorted and without duplicates.
public struct LockSet: Hashable, Sendable, Codable, Sequence, CustomStringConvertible {
    public private(set) var locks: [Lock]

    public init(_ locks: some Sequence<Lock> = [Lock]()) {
        self.locks = Array(Set(locks)).sorted()
    }

    public static let none = LockSet()

    public var isEmpty: Bool { locks.isEmpty }
    public func contains(_ l: Lock) -> Bool { locks.contains(l) }
    public var holdsStopTheWorld: Bool { locks.contains(.stopTheWorld) }
    public func makeIterator() -> IndexingIterator<[Lock]> { locks.makeIterator() }

    public func union(_ other: LockSet) -> LockSet { LockSet(locks + other.locks) }

    /// The set without its critical sections (which a thread suspends when it detaches).
    public var withoutCriticalSections: LockSet {
        LockSet(locks.filter { if case .criticalSection = $0 { return false }; return true })
    }

    /// Whether an access holding `a` and one holding `b` cannot run at the same time.
    public static func orders(_ a: LockSet, _ b: LockSet) -> Bool {
        a.locks.contains { x in b.locks.contains { x.excludes($0) } }
            || a.holdsStopTheWorld || b.holdsStopTheWorld
    }

    /// "no critical section or lock held", "holding lock `state.lock`, stop-the-world".
    public var description: String {
        locks.isEmpty ? "no critical section or lock held" : "holding " + locks.map(\.description).joined(separator: ", ")
    }
}
