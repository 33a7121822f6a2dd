import IFTCore

/// Random ragged cases of the optimizer ops on `be` against `cpu-ref`.
public enum OptimizerCases {
    /// Three AdamW steps (fresh random gradients each) on random ragged sizes; worst NMSE of p, m, v.
    public static func adamw(_ be: any Backend, _ ref: any Backend, trials: Int, seed: UInt64) throws -> [String: Double] {
        var g = SeededGenerator(seed: seed)
        var worst: [String: Double] = [:]
        for trial in 0..<trials {
            let n = trial == 0 ? 1 : Int.random(in: 1...(trial % 4 == 0 ? 300_000 : 5000), using: &g) | 1
            let p0 = g.uniformArray(n, -2, 2)
            let grads = (0..<3).map { _ in g.uniformArray(n, -3, 3) }
            let wd: Float = trial % 3 == 0 ? 0 : 0.1, scale: Float = trial % 5 == 1 ? 0.37 : 1
            var results: [[[Float]]] = []
            for b in [be, ref] {
                let p = try b.tensor(p0, shape: [n]), m = try b.makeTensor(shape: [n], dtype: .f32)
                let v = try b.makeTensor(shape: [n], dtype: .f32)
                for step in 1...3 {
                    let h = AdamWParameters(lr: 1e-2, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: wd, step: step, gradScale: scale)
                    try b.adamw(params: p, grads: try b.tensor(grads[step - 1], shape: [n]), m: m, v: v, h)
                }
                results.append([try b.floats(p), try b.floats(m), try b.floats(v)])
            }
            for (k, name) in ["p", "m", "v"].enumerated() {
                worst[name, default: 0] = max(worst[name, default: 0], nmse(results[0][k], results[1][k]))
            }
        }
        return worst
    }

    /// Sums of squares of random ragged sizes (some over 1M, some accumulated); worst relative error.
    public static func sumOfSquares(_ be: any Backend, _ ref: any Backend, trials: Int, seed: UInt64) throws -> Double {
        var g = SeededGenerator(seed: seed)
        var worst = 0.0
        for trial in 0..<trials {
            let n = trial == 0 ? 1 : Int.random(in: 1...(trial % 5 == 0 ? 2_500_000 : 70_000), using: &g) | 1
            let x = g.uniformArray(n, -3, 3), start: Float = trial % 2 == 0 ? 5.5 : -1
            var results: [Float] = []
            for b in [be, ref] {
                let out = try b.tensor([start], shape: [1])
                try b.sumOfSquares(try b.tensor(x, shape: [n]), into: out, accumulate: trial % 2 == 0)
                results.append(try b.floats(out)[0])
            }
            worst = max(worst, Double(abs(results[0] - results[1])) / Double(abs(results[1])))
        }
        return worst
    }
}
