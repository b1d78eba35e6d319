import Foundation
/// Every rule, in code order. Adding a rule is one line here.
public enum RuleRegistry {
    public static let all: [any Rule] = [
        ExecMemoryUnmappedWhileRunning(),
        SharedMemoryFreedWithoutSync(),
        ForeignFrameWalk(),
        ObjectBufferFreedDuringUnlockedRead(),
        BorrowedRefFromSharedContainer(),
        UnlockedStaticStateInGILFreeModule(),
        ObjectStateUsedWithoutGIL(),
    ]

    public static func rule(_ code: String) -> (any Rule)? {
        all.first { $0.code.caseInsensitiveCompare(code) == .orderedSame }
    }
}
