import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `--color auto|always|never`.
public enum ColorChoice: String, Sendable, CaseIterable {
    case auto, always, never

    /// Whether to colour a report written to a terminal (`isTerminal`) under `environment`.
    ///
    /// `always` and `never` are final. Under `auto`, a non-empty `NO_COLOR` turns colour off and
    /// a non-empty `FORCE_COLOR` turns it on (`NO_COLOR` wins when both are set, as in CPython);
    /// otherwise colour only goes to a terminal.
    public func enabled(isTerminal: Bool, environment: [String: String]) -> Bool {
        switch self {
        case .always: return true
        case .never: return false
        case .auto:
            if let v = environment["NO_COLOR"], !v.isEmpty { return false }
            if let v = environment["FORCE_COLOR"], !v.isEmpty { return true }
            return isTerminal
        }
    }
}

public enum Terminal {
    /// Whether a descriptor is a terminal.
    public static func isTerminal(_ fd: Int32) -> Bool { isatty(fd) != 0 }
}

/// A one-line progress display on standard error, redrawn in place with `\r`: files parsed,
/// then projects analyzed. It stays silent for the first `delay` seconds (a quick run shows
/// nothing), redraws at most every `interval` seconds, and `finish` blanks the line so that
/// what follows starts on a clean one. Safe to call from the worker threads.
public final class Progress: @unchecked Sendable {
    private let enabled: Bool
    private let delay: Double
    private let interval: Double
    private let write: (String) -> Void
    private let lock = NSLock()
    private let start = DispatchTime.now().uptimeNanoseconds
    private var lastDraw: Double = -.infinity
    private var drawnWidth = 0
    private var label = ""
    private var noun = ("", "")
    private var done = 0
    private var total = 0

    /// `delay` 0 shows it from the start (`--progress`).
    public init(enabled: Bool, delay: Double = 0.5, interval: Double = 0.1,
                write: @escaping (String) -> Void = { Console.err($0) }) {
        self.enabled = enabled
        self.delay = delay
        self.interval = interval
        self.write = write
    }

    /// A progress that shows nothing.
    public static let off = Progress(enabled: false)

    private var now: Double { Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }

    /// Starts a phase (`parsing`, N files); its first state is drawn at once if anything shows.
    public func phase(_ label: String, total: Int, noun: String, plural: String) {
        guard enabled else { return }
        lock.lock()
        defer { lock.unlock() }
        self.label = label
        self.noun = (noun, plural)
        self.total = total
        done = 0
        draw(force: true)
    }

    /// One more unit of the current phase done.
    public func step() {
        guard enabled else { return }
        lock.lock()
        defer { lock.unlock() }
        done += 1
        draw(force: done == total)
    }

    /// Blanks the line if anything was drawn.
    public func finish() {
        guard enabled else { return }
        lock.lock()
        defer { lock.unlock() }
        if drawnWidth > 0 { write("\r" + String(repeating: " ", count: drawnWidth) + "\r") }
        drawnWidth = 0
    }

    private func draw(force: Bool) {
        let t = now
        guard t >= delay, force || t - lastDraw >= interval else { return }
        lastDraw = t
        let text = "freerace: \(label) \(done)/\(total) \(total == 1 ? noun.0 : noun.1)"
        let width = text.unicodeScalars.count
        write("\r" + text + String(repeating: " ", count: max(0, drawnWidth - width)))
        drawnWidth = max(drawnWidth, width)
    }
}
