#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import IFTCore

extension Reference {
    /// Cross-entropy of each row of `logits` (`[rows, vocab]`) against `targets` (one per row),
    /// fp32 and max-subtracted: with `m = max(row)` and `s = sum(expf(row - m))` (in order),
    /// `losses[r] = logf(s) - (row[t] - m)`; with `dlogits`,
    /// `dlogits[r, j] = scale * (expf(row[j] - m) / s - (j == t ? 1 : 0))`. A row whose target is
    /// `OpChecks.ignoreIndex` (-100) gets loss 0 and zero gradients. Throws, before writing
    /// anything, for any other target outside `0..<vocab`. `dlogits` may be `logits` (in place).
    public static func crossEntropy(
        logits: UnsafeBufferPointer<Float>, vocab: Int, targets: UnsafeBufferPointer<Int32>, losses: UnsafeMutableBufferPointer<Float>,
        dlogits: UnsafeMutableBufferPointer<Float>?, scale: Float
    ) throws {
        guard vocab > 0, logits.count == targets.count * vocab, losses.count == targets.count,
            dlogits.map({ $0.count == logits.count }) ?? true
        else {
            throw IFTError.shapeMismatch(
                "crossEntropy: \(logits.count) logits, \(targets.count) targets, \(losses.count) losses and \(dlogits?.count ?? 0) dlogits do not fit rows of \(vocab)")
        }
        try checkCrossEntropyTargets(targets, vocab: vocab)
        for r in 0..<targets.count {
            let base = r * vocab, t = targets[r]
            if t == OpChecks.ignoreIndex {
                losses[r] = 0
                if let dlogits { for j in 0..<vocab { dlogits[base + j] = 0 } }
                continue
            }
            var m = -Float.infinity
            for j in 0..<vocab { m = max(m, logits[base + j]) }
            var s: Float = 0
            for j in 0..<vocab { s += expf(logits[base + j] - m) }
            losses[r] = logf(s) - (logits[base + Int(t)] - m)
            if let dlogits {
                for j in 0..<vocab {
                    let p = expf(logits[base + j] - m) / s
                    dlogits[base + j] = scale * (j == Int(t) ? p - 1 : p)
                }
            }
        }
    }

    /// Throws `OpChecks.crossEntropyTargetOutOfRange` for the first target that is neither in
    /// `0..<vocab` nor the ignore index.
    public static func checkCrossEntropyTargets(_ targets: UnsafeBufferPointer<Int32>, vocab: Int) throws {
        for (r, t) in targets.enumerated() where t != OpChecks.ignoreIndex && (t < 0 || Int(t) >= vocab) {
            throw OpChecks.crossEntropyTargetOutOfRange(row: r, target: t, vocab: vocab)
        }
    }
}
