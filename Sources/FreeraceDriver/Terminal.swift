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
