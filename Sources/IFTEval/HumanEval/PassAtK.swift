import IFTCore

/// The unbiased pass@k estimator of the Codex paper (Chen et al. 2021, "Evaluating Large Language
/// Models Trained on Code", figure 3): with `n` samples of which `c` pass, the chance that at least
/// one of `k` samples drawn without replacement passes, `1 - C(n-c, k) / C(n, k)`.
public enum PassAtK {
    /// pass@k for one problem. Computed as `1 - prod_{i=n-c+1}^{n} (1 - k/i)`, a product of factors
    /// in (0, 1] that neither overflows (C(200, 100) is about 9e58) nor cancels catastrophically.
    /// Needs `0 <= c <= n` and `1 <= k <= n`.
    public static func estimate(samples n: Int, correct c: Int, k: Int) throws -> Double {
        guard n >= 1, c >= 0, c <= n else {
            throw IFTError.invalidArgument("pass@k needs 0 <= correct <= samples and samples >= 1, got samples \(n), correct \(c)")
        }
        guard k >= 1, k <= n else {
            throw IFTError.invalidArgument("pass@\(k) needs 1 <= k <= samples (\(n))")
        }
        if n - c < k { return 1 }  // every draw of k holds a correct sample
        var allWrong = 1.0
        for i in (n - c + 1)..<(n + 1) {
            allWrong *= 1 - Double(k) / Double(i)
        }
        return 1 - allWrong
    }

    /// The mean of pass@k over problems, each given as (samples, correct).
    public static func mean(_ counts: [(samples: Int, correct: Int)], k: Int) throws -> Double {
        guard !counts.isEmpty else { throw IFTError.invalidArgument("pass@\(k) of no problems") }
        var sum = 0.0
        for (n, c) in counts { sum += try estimate(samples: n, correct: c, k: k) }
        return sum / Double(counts.count)
    }
}
