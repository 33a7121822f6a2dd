import IFTCPU
import IFTCore
import IFTVulkan
import XCTest

extension SeededGenerator {
    fileprivate mutating func int(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &self) }
}

/// Runs each loss/backward op on random ragged shapes on `be` and on `cpu-ref` and returns the
/// worst NMSE of every output (`what` names it). Shared shape choices: ignored rows in
/// cross-entropy, vocab sizes that are no multiple of any workgroup size, accumulated gradients.
enum VulkanBackwardCases {
    static func crossEntropy(_ be: any Backend, _ ref: any Backend, trials: Int, seed: UInt64, maxVocab: Int = 3000) throws -> [String: Double] {
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

    static func rmsNormBackward(_ be: any Backend, _ ref: any Backend, trials: Int, seed: UInt64) throws -> [String: Double] {
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

    static func swigluBackward(_ be: any Backend, _ ref: any Backend, trials: Int, seed: UInt64) throws -> [String: Double] {
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
    static func embeddingBackward(_ be: any Backend, _ ref: any Backend, trials: Int, seed: UInt64) throws -> [String: Double] {
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

/// `Shaders/cross_entropy.comp`, `rms_norm_backward.comp` (+ `_weight`), `swiglu_backward.comp` and
/// `embedding_backward.comp` against `cpu-ref` on ragged shapes.
final class BackwardOpsTests: VulkanTestCase {
    func check(_ worst: [String: Double], _ op: String) {
        XCTAssertFalse(worst.isEmpty)
        for (k, v) in worst.sorted(by: { $0.key < $1.key }) {
            print("\(op) vulkan vs cpu-ref: worst NMSE \(k) = \(v)")
            XCTAssertLessThanOrEqual(v, 1e-7, "\(op) \(k)")
        }
    }

    func testCrossEntropyMatchesReference() throws { check(try VulkanBackwardCases.crossEntropy(vk, ref, trials: 24, seed: 301), "crossEntropy") }
    func testRMSNormBackwardMatchesReference() throws { check(try VulkanBackwardCases.rmsNormBackward(vk, ref, trials: 24, seed: 302), "rmsNormBackward") }
    func testSwigluBackwardMatchesReference() throws { check(try VulkanBackwardCases.swigluBackward(vk, ref, trials: 24, seed: 303), "swigluBackward") }
    func testEmbeddingBackwardMatchesReference() throws {
        let worst = try VulkanBackwardCases.embeddingBackward(vk, ref, trials: 24, seed: 304)
        check(worst, "embeddingBackward")
        XCTAssertEqual(worst["dtable"], 0, "one invocation per column adds the ids in cpu-ref's order")
    }

    /// A SmolLM2-sized vocabulary (49152) row, looped over by one workgroup.
    func testCrossEntropyFullVocabulary() throws {
        check(try VulkanBackwardCases.crossEntropy(vk, ref, trials: 6, seed: 305, maxVocab: 49152), "crossEntropy (vocab 49152)")
    }

    /// Vulkan cannot see the targets without a sync: an out-of-range target counts as ignored.
    func testCrossEntropyInvalidTargetsAreIgnored() throws {
        let l = try vk.tensor([1, 2, 3, 4, 5, 6], shape: [2, 3]), losses = try vk.tensor([9, 9], shape: [2])
        let d = try vk.tensor([Float](repeating: 9, count: 6), shape: [2, 3])
        try vk.crossEntropy(logits: l, targets: try vk.tensor(ints: [7, -3], shape: [2]), losses: losses, dlogits: d, scale: 1)
        XCTAssertEqual(try vk.floats(losses), [0, 0])
        XCTAssertEqual(try vk.floats(d), [0, 0, 0, 0, 0, 0])
    }

    /// A gradient table larger than one binding (lavapipe: 128 MiB) is updated in chunks of rows.
    func testEmbeddingBackwardTableLargerThanOneBinding() throws {
        let dim = 4096
        let vocab = vk.device.info.maxStorageBufferRange / (dim * 4) + 9
        let ids: [Int32] = [Int32(vocab - 1), 0, 5, Int32(vocab - 1), Int32(vocab / 2)]
        var g = SeededGenerator(seed: 306)
        let dout = g.uniformArray(ids.count * dim)
        let dt = try vk.makeTensor(shape: [vocab, dim], dtype: .f32)
        try vk.embeddingBackward(ids: try vk.tensor(ints: ids, shape: [ids.count]), dout: try vk.tensor(dout, shape: [ids.count, dim]), dtable: dt)
        var expected = [Float](repeating: 0, count: vocab * dim)
        for (i, id) in ids.enumerated() {
            for j in 0..<dim { expected[Int(id) * dim + j] += dout[i * dim + j] }
        }
        XCTAssertNil(firstBitMismatch(try vk.floats(dt), expected))
    }

    /// Vulkan skips ids outside the table (the CPU backends throw).
    func testEmbeddingBackwardSkipsInvalidIds() throws {
        let dt = try vk.tensor([1, 1, 1, 1], shape: [2, 2])
        try vk.embeddingBackward(ids: try vk.tensor(ints: [1, -1, 2], shape: [3]), dout: try vk.tensor([1, 2, 3, 4, 5, 6], shape: [3, 2]), dtable: dt)
        XCTAssertEqual(try vk.floats(dt), [1, 1, 2, 3])
    }
}
