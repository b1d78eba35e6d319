import Foundation
import Synchronization

private final class WorkQueue<T: Sendable>: Sendable {
    let next = Atomic<Int>(0)
    let results: Mutex<[T?]>
    init(count: Int) { results = Mutex(Array(repeating: nil, count: count)) }
}

/// Runs `work` for each index on `jobs` threads with large stacks (deeply nested input recurses
/// further than the default secondary-thread stacks allow), returning results in index order.
public func parallelMap<T: Sendable>(count: Int, jobs: Int, _ work: @escaping @Sendable (Int) -> T) -> [T] {
    if count == 0 { return [] }
    let n = max(1, min(jobs, count))
    let q = WorkQueue<T>(count: count)
    let group = DispatchGroup()
    for _ in 0..<n {
        group.enter()
        let t = Thread {
            while true {
                let i = q.next.wrappingAdd(1, ordering: .relaxed).oldValue
                if i >= count { break }
                let r = work(i)
                q.results.withLock { $0[i] = r }
            }
            group.leave()
        }
        // Reserved, not committed: deep recursion must hit a guard page, never skip past it
        // into the heap (Swift emits no stack-clash probes).
        t.stackSize = 512 << 20
        t.start()
    }
    group.wait()
    return q.results.withLock { $0.map { $0! } }
}

public var defaultJobs: Int { ProcessInfo.processInfo.activeProcessorCount }
