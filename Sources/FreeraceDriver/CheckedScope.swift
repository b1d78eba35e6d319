import FreeraceRules
import FreeraceSyntax

/// Which findings a check reports, and where, when files were named with their project as
/// context (`SourceSet.addProjectContext`).
///
/// A race has two parties, often in two files: `check a.c` reports a finding when its location or
/// a step of either thread (a note labelled `thread A` or `thread B`) is in a checked file. When
/// only a party is, the finding is shown at that party's first step in a checked file, so that an
/// editor or pre-commit points at the file it asked about; a note then names the location where a
/// check of the whole project reports it (where a suppression comment goes). The id does not
/// change, so baselines and suppressions treat it as the same finding: `check a.c` reports
/// exactly the findings of `check .` that involve `a.c`.
public struct CheckedScope: Sendable {
    /// Files read only as context, as spelled in the `SourceSet`.
    public var context: Set<String>

    public init(context: Set<String>) { self.context = context }

    public func isChecked(_ path: String) -> Bool { !context.contains(path) }

    /// The finding's location or a step of one of its two threads is in a checked file.
    public func involves(_ f: Finding) -> Bool {
        isChecked(f.location.path) || f.notes.contains { $0.thread != nil && isChecked($0.location.path) }
    }

    /// The finding as it is shown for the checked files (see the type's documentation).
    public func relocated(_ f: Finding) -> Finding {
        guard !isChecked(f.location.path),
              let party = f.notes.first(where: { $0.thread != nil && isChecked($0.location.path) }) else { return f }
        var g = f
        g.location = party.location
        g.notes.append(Note(location: f.location,
                            message: "the finding's location in its project (a check of the whole project reports it there; a suppression comment goes there)"))
        return g
    }
}
