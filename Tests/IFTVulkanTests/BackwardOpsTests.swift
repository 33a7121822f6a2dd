import IFTCPU
import IFTCore
import IFTTestSupport
import IFTVulkan
import XCTest

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

    func testCrossEntropyMatchesReference() throws { check(try BackwardCases.crossEntropy(vk, ref, trials: 24, seed: 301), "crossEntropy") }
    func testRMSNormBackwardMatchesReference() throws { check(try BackwardCases.rmsNormBackward(vk, ref, trials: 24, seed: 302), "rmsNormBackward") }
    func testSwigluBackwardMatchesReference() throws { check(try BackwardCases.swigluBackward(vk, ref, trials: 24, seed: 303), "swigluBackward") }
    func testEmbeddingBackwardMatchesReference() throws {
        let worst = try BackwardCases.embeddingBackward(vk, ref, trials: 24, seed: 304)
        check(worst, "embeddingBackward")
        XCTAssertEqual(worst["dtable"], 0, "one invocation per column adds the ids in cpu-ref's order")
    }

    /// A SmolLM2-sized vocabulary (49152) row, looped over by one workgroup.
    func testCrossEntropyFullVocabulary() throws {
        check(try BackwardCases.crossEntropy(vk, ref, trials: 6, seed: 305, maxVocab: 49152), "crossEntropy (vocab 49152)")
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
