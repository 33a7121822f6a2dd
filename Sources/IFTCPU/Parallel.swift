#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Dispatch

/// Splits loops over disjoint index ranges across cores with `DispatchQueue.concurrentPerform`,
/// only when there is enough work for the threads to pay off.
enum Parallel {
    /// Threads to use: `CPUThreads.count` (`--threads`, `IFT_THREADS`, else the available cores).
    static var cores: Int { CPUThreads.count }

    /// Calls `body` on disjoint ranges that together cover `0..<count`: on the calling thread when
    /// `count < 2 * grain` (or there is one core), otherwise concurrently in up to `4 * cores`
    /// chunks of at least `grain` indices. `body` must only write what its range owns.
    static func forChunks(_ count: Int, grain: Int, _ body: (Range<Int>) -> Void) {
        let grain = max(1, grain)
        let chunks = min(cores * 4, count / grain)
        if chunks < 2 || cores == 1 {
            if count > 0 { body(0..<count) }
            return
        }
        let per = (count + chunks - 1) / chunks
        DispatchQueue.concurrentPerform(iterations: chunks) { c in
            let lo = c * per
            let hi = min(count, lo + per)
            if lo < hi { body(lo..<hi) }
        }
    }
}
