import Foundation
import FreeraceModel
import FreeraceSyntax

public enum Severity: String, Sendable, Codable, Comparable {
    case error, warning, note
    private var rank: Int {
        switch self {
        case .error: 0
        case .warning: 1
        case .note: 2
        }
    }
    public static func < (a: Severity, b: Severity) -> Bool { a.rank < b.rank }
}

/// One step of a finding's explanation, anchored in the code and labelled by thread.
public struct Note: Sendable, Codable, Hashable {
    public var location: Location
    public var message: String
    /// `A` or `B` for the two parties of a race; nil for context notes.
    public var thread: String?

    public init(location: Location, message: String, thread: String? = nil) {
        self.location = location
        self.message = message
        self.thread = thread
    }
}

/// The shape of the stress test that can confirm a finding: which calls race with which.
/// Shared by the rules (which choose it) and `freerace repro` (which writes the script).
public enum ReproScenario: String, Sendable, Codable, Hashable, CaseIterable {
    /// Threads mutate an object (resize, clear) while others read it through methods or iterators.
    case objectMutateVsRead = "object-mutate-vs-read"
    /// Threads toggle an executable trampoline on and off while others run code through it.
    case trampolineToggle = "trampoline-toggle"
    /// A thread samples other threads' frames while they call and return.
    case frameSampler = "frame-sampler"
    /// Threads mutate a shared container while others hold references borrowed from it.
    case containerMutateVsBorrow = "container-mutate-vs-borrow"
    /// Threads resize or free an object's buffer while another uses it with the GIL released.
    case gilReleasedBuffer = "gil-released-buffer"
    /// Threads race through a lazily initialized static.
    case lazyStaticInit = "lazy-static-init"
    /// Threads free or replace global memory while others read it.
    case globalFreeVsRead = "global-free-vs-read"
}

/// What `freerace repro` needs to build a stress test for a finding.
public struct ReproHint: Sendable, Codable, Hashable {
    /// Python module that holds the code (import name), when known.
    public var module: String?
    /// Python type whose instances are shared (`MultiDict`).
    public var typeName: String?
    /// Methods or slots that free/mutate (thread B) and that read (thread A), as Python spellings.
    public var mutators: [String]
    public var readers: [String]
    public var scenario: ReproScenario

    public init(module: String?, typeName: String?, mutators: [String], readers: [String], scenario: ReproScenario) {
        self.module = module
        self.typeName = typeName
        self.mutators = mutators
        self.readers = readers
        self.scenario = scenario
    }
}

/// A problem found by a rule.
public struct Finding: Sendable, Codable, Hashable {
    public var id: String
    public var code: String
    public var name: String
    public var severity: Severity
    public var message: String
    public var function: String
    public var location: Location
    public var notes: [Note]
    public var why: String
    public var help: String
    /// The rule's stable identity of the root cause (no line numbers), used for ids and baselines.
    public var key: String
    public var repro: ReproHint?
    /// Result of `freerace repro --run`, when one was recorded.
    public var reproOutcome: String?
    /// What that run printed when the race reproduced (faulthandler's traceback of a crash).
    public var reproTraceback: String?

    public init(code: String, name: String, severity: Severity = .warning, message: String, function: String,
                location: Location, notes: [Note], why: String, help: String, key: String, repro: ReproHint? = nil) {
        self.code = code
        self.name = name
        self.severity = severity
        self.message = message
        self.function = function
        self.location = location
        self.notes = notes
        self.why = why
        self.help = help
        self.key = key
        self.repro = repro
        self.id = Finding.makeID(code: code, path: location.path, key: key)
    }

    /// Stable across runs and unrelated edits: code, file and the rule's key — never line numbers.
    /// The file is named relative to its project root (the driver knows the roots and calls
    /// `assignID`), so the id does not depend on the directory freerace was run from or on how
    /// the path was spelled. Until then the id hashes the path as given.
    public static func makeID(code: String, path: String, key: String) -> String {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for b in "\(code)|\(path)|\(key)".utf8 { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01B3 }
        return "\(code)-" + String(h, radix: 16).leftPadded(16)
    }

    /// Sets the id from the finding's file named relative to its project root.
    public mutating func assignID(projectRelativePath: String) {
        id = Finding.makeID(code: code, path: projectRelativePath, key: key)
    }
}

extension String {
    func leftPadded(_ n: Int) -> String { count >= n ? self : String(repeating: "0", count: n - count) + self }
}
