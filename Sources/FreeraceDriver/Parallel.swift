import Foundation
import FreeraceModel
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

private final class WorkQueue<T: Sendable>: Sendable {
    let next = Atomic<Int>(0)
    let results: Mutex<[T?]>
    init(count: Int) { results = Mutex(Array(repeating: nil, count: count)) }
}

private final class ThreadBody: @unchecked Sendable {
    let run: () -> Void
    init(_ run: @escaping () -> Void) { self.run = run }
}

/// Starts a POSIX thread with a large stack and a large guard region. The parser and the
/// summaries recurse on nested input; Swift emits no stack-clash probes, so a frame larger than
/// a small guard page could skip it and write into the heap. A 1 MiB guard turns any overflow
/// into a clean fault instead.
private func startThread(stackBytes: Int, _ body: @escaping () -> Void) -> pthread_t? {
    var attr = pthread_attr_t()
    pthread_attr_init(&attr)
    defer { pthread_attr_destroy(&attr) }
    pthread_attr_setstacksize(&attr, stackBytes)
    pthread_attr_setguardsize(&attr, 1 << 20)
    let box = Unmanaged.passRetained(ThreadBody(body)).toOpaque()
    var tid = pthread_t()
    let rc = pthread_create(&tid, &attr, { arg in
        let b = Unmanaged<ThreadBody>.fromOpaque(arg!).takeRetainedValue()
        b.run()
        return nil
    }, box)
    if rc != 0 {
        Unmanaged<ThreadBody>.fromOpaque(box).release()
        return nil
    }
    return tid
}

/// Runs `body` on one new thread with a large stack and a 1 MiB guard region, waits for it and
/// returns its result: deep recursion outside `parallelMap` (the tests' nesting cases). Runs it on
/// the calling thread if no thread can be started.
public func onLargeStack<T>(stackBytes: Int, _ body: @escaping () -> T) -> T {
    var result: T?
    if let t = startThread(stackBytes: stackBytes, { result = body() }) {
        pthread_join(t, nil)
    } else {
        result = body()
    }
    return result!
}

/// Values handed out once each, by index: a worker takes its input and the box forgets it, so
/// the input's memory goes as soon as the worker is done with it.
final class Handoff<T: Sendable>: Sendable {
    private let slots: Mutex<[T?]>
    init(_ values: [T]) { slots = Mutex(values.map { Optional($0) }) }
    func take(_ i: Int) -> T {
        slots.withLock { s in
            let v = s[i]!
            s[i] = nil
            return v
        }
    }
}

/// Runs `work` for each index on `jobs` threads with large stacks, returning results in index order.
public func parallelMap<T: Sendable>(count: Int, jobs: Int, _ work: @escaping @Sendable (Int) -> T) -> [T] {
    if count == 0 { return [] }
    let n = max(1, min(jobs, count))
    let q = WorkQueue<T>(count: count)
    let loop: @Sendable () -> Void = {
        while true {
            let i = q.next.wrappingAdd(1, ordering: .relaxed).oldValue
            if i >= count { break }
            let r = work(i)
            q.results.withLock { $0[i] = r }
        }
    }
    var threads: [pthread_t] = []
    for _ in 0..<n {
        if let t = startThread(stackBytes: 256 << 20, loop) { threads.append(t) }
    }
    if threads.isEmpty { loop() }  // could not start threads: do the work here
    for t in threads { pthread_join(t, nil) }
    return q.results.withLock { $0.map { $0! } }
}

/// The model's summaries computed on `parallelMap`'s threads.
public struct ThreadRunner: ParallelRunner {
    public let jobs: Int
    public init(jobs: Int) { self.jobs = jobs }
    public func map<T: Sendable>(count: Int, _ work: @escaping @Sendable (Int) -> T) -> [T] {
        parallelMap(count: count, jobs: jobs, work)
    }
}

public var defaultJobs: Int { ProcessInfo.processInfo.activeProcessorCount }
