import IFTCore

/// Runs each loss/backward op on random ragged shapes on `be` and on `ref` (`cpu-ref`) and returns the
/// worst NMSE of every output, by name. Shared shape choices: ignored rows in
/// cross-entropy, vocab sizes that are no multiple of any workgroup size, accumulated gradients.
public enum BackwardCases {
    public static func crossEntropy(_ be: any Backend, _ ref: any Backend, trials: Int, seed: UInt64, maxVocab: Int = 3000) throws -> [String: Double] {
        var g = SeededGenerator(seed: seed)
        var worst: [String: Double] = [:]
        for trial in 0..<trials {
            let rows = trial == 0 ? 1 : g.int(1...40)
            let vocab = [1, 2, 31, 257, 1000, maxVocab][trial % 6] + (trial % 6 == 0 ? 0 : g.int(0...13))
            let x = g.uniformArray(rows * vocab, -8, 8)
            let targets = (0..<rows).map { _ in g.int(0...4) == 0 ? OpChecks.ignoreIndex : Int32(g.int(0...(vocab - 1))) }
            let withGrad = trial % 5 != 4, inPlace = trial % 7 == 3
            let scale: Float = 1 / Float(g.int(1...50))
            var results: [([Float], [Float])] = []
            for b in [be, ref] {
                let lt = try b.tensor(x, shape: [rows, vocab]), losses = try b.tensor([Float](repeating: 7, count: rows), shape: [rows])
                let dl = withGrad ? (inPlace ? lt : try b.tensor([Float](repeating: 7, count: rows * vocab), shape: [rows, vocab])) : nil
                try b.crossEntropy(logits: lt, targets: try b.tensor(ints: targets, shape: [rows]), losses: losses, dlogits: dl, scale: scale)
                results.append((try b.floats(losses), try dl.map { try b.floats($0) } ?? []))
            }
            worst["losses", default: 0] = max(worst["losses", default: 0], nmse(results[0].0, results[1].0))
            worst["dlogits", default: 0] = max(worst["dlogits", default: 0], nmse(results[0].1, results[1].1))
        }
        return worst
    }

    public static func rmsNormBackward(_ be: any Backend, _ ref: any Backend, trials: Int, seed: UInt64) throws -> [String: Double] {
        var g = SeededGenerator(seed: seed)
        var worst: [String: Double] = [:]
        for trial in 0..<trials {
            let rows = trial == 0 ? 1 : g.int(1...70), dim = [1, 7, 33, 255, 576, 1001][trial % 6] + (trial % 6 == 0 ? 0 : g.int(0...5))
            let x = g.uniformArray(rows * dim, -3, 3), w = g.uniformArray(dim, 0.2, 2), dy = g.uniformArray(rows * dim)
            let dw0 = g.uniformArray(dim), withWeight = trial % 4 != 1
            var results: [([Float], [Float])] = []
            for b in [be, ref] {
                let dx = try b.makeTensor(shape: [rows, dim], dtype: .f32), dw = try b.tensor(dw0, shape: [dim])
                try b.rmsNormBackward(
                    x: try b.tensor(x, shape: [rows, dim]), weight: try b.tensor(w, shape: [dim]), dy: try b.tensor(dy, shape: [rows, dim]),
                    eps: 1e-5, dx: dx, dweight: withWeight ? dw : nil)
                results.append((try b.floats(dx), try b.floats(dw)))
            }
            worst["dx", default: 0] = max(worst["dx", default: 0], nmse(results[0].0, results[1].0))
            worst["dweight", default: 0] = max(worst["dweight", default: 0], nmse(results[0].1, results[1].1))
        }
        return worst
    }

    public static func swigluBackward(_ be: any Backend, _ ref: any Backend, trials: Int, seed: UInt64) throws -> [String: Double] {
        var g = SeededGenerator(seed: seed)
        var worst: [String: Double] = [:]
        for trial in 0..<trials {
            let n = trial == 0 ? 1 : g.int(1...(trial % 3 == 0 ? 300_000 : 5000))
            let gate = g.uniformArray(n, -10, 10), up = g.uniformArray(n, -3, 3), dout = g.uniformArray(n)
            let inPlace = trial % 4 == 2
            var results: [([Float], [Float])] = []
            for b in [be, ref] {
                let tg = try b.tensor(gate, shape: [n]), tu = try b.tensor(up, shape: [n]), td = try b.tensor(dout, shape: [n])
                let dg = inPlace ? tg : try b.makeTensor(shape: [n], dtype: .f32), du = inPlace ? tu : try b.makeTensor(shape: [n], dtype: .f32)
                try b.swigluBackward(gate: tg, up: tu, dout: td, dgate: dg, dup: du)
                results.append((try b.floats(dg), try b.floats(du)))
            }
            worst["dgate", default: 0] = max(worst["dgate", default: 0], nmse(results[0].0, results[1].0))
            worst["dup", default: 0] = max(worst["dup", default: 0], nmse(results[0].1, results[1].1))
        }
        return worst
    }

    /// Valid ids only (the backends differ on invalid ones by design).
    public static func embeddingBackward(_ be: any Backend, _ ref: any Backend, trials: Int, seed: UInt64) throws -> [String: Double] {
        var g = SeededGenerator(seed: seed)
        var worst: [String: Double] = [:]
        for trial in 0..<trials {
            let vocab = g.int(1...300), dim = trial == 0 ? 1 : g.int(1...600), n = g.int(1...200)
            let ids = (0..<n).map { _ in Int32(g.int(0...(min(vocab, 10 + trial) - 1))) }  // many repeats
            let dout = g.uniformArray(n * dim), t0 = g.uniformArray(vocab * dim)
            var results: [[Float]] = []
            for b in [be, ref] {
                let dt = try b.tensor(t0, shape: [vocab, dim])
                try b.embeddingBackward(ids: try b.tensor(ints: ids, shape: [n]), dout: try b.tensor(dout, shape: [n, dim]), dtable: dt)
                results.append(try b.floats(dt))
            }
            worst["dtable", default: 0] = max(worst["dtable", default: 0], nmse(results[0], results[1]))
        }
        return worst
    }
}
