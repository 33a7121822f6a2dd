#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import IFTCore

/// Maps indices to results on a few threads of its own, for work that mostly waits (on child
/// processes): plain pthreads rather than the Swift concurrency pool, which blocking calls would
/// starve.
enum WorkerThreads {
    /// `body(i)` for every `i` in `0..<count`, on up to `workers` threads; results in index order.
    /// Indices are handed out in order as threads become free. When any call throws, the indices
    /// not yet started are skipped and the error of the lowest failing index is rethrown.
    static func map<T>(_ count: Int, workers: Int, _ body: (Int) throws -> T) throws -> [T] {
        guard count > 0 else { return [] }
        let threads = max(1, min(workers, count))
        if threads == 1 { return try (0..<count).map(body) }
        return try withoutActuallyEscaping(body) { body in
            let job = Job<T>(count: count, body: body)
            var ids: [pthread_t] = []
            for _ in 0..<(threads - 1) {
                var id = pthread_t()
                let context = Unmanaged.passRetained(job as AnyJob).toOpaque()
                if pthread_create(&id, nil, { context in
                    guard let context else { return nil }
                    let job = Unmanaged<AnyJob>.fromOpaque(context).takeRetainedValue()
                    job.work()
                    return nil
                }, context) == 0 {
                    ids.append(id)
                } else {
                    Unmanaged<AnyJob>.fromOpaque(context).release()
                }
            }
            job.work()  // the calling thread works too
            for id in ids { pthread_join(id, nil) }
            return try job.results()
        }
    }

    private class AnyJob {
        func work() {}
    }

    private final class Job<T>: AnyJob {
        let count: Int
        let body: (Int) throws -> T
        let lock = Lock()
        var next = 0
        var failed = false
        var slots: [Result<T, Error>?]

        init(count: Int, body: @escaping (Int) throws -> T) {
            self.count = count
            self.body = body
            slots = Array(repeating: nil, count: count)
        }

        override func work() {
            while true {
                let i: Int? = lock.withLock {
                    guard next < count, !failed else { return nil }
                    next += 1
                    return next - 1
                }
                guard let i else { return }
                let r = Result { try body(i) }
                lock.withLock {
                    if case .failure = r { failed = true }
                    slots[i] = r
                }
            }
        }

        func results() throws -> [T] {
            var out: [T] = []
            out.reserveCapacity(count)
            for slot in slots {
                guard let slot else { break }
                out.append(try slot.get())
            }
            if out.count < count, let firstError = slots.lazy.compactMap({ $0 }).first(where: { if case .failure = $0 { true } else { false } }) {
                _ = try firstError.get()
            }
            precondition(out.count == count, "WorkerThreads: a slot was left unfilled")
            return out
        }
    }
}
