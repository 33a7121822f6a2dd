import IFTCPU
import IFTCore
import IFTData
@testable import IFTModel
@testable import IFTTrain
import XCTest

/// A tiny random Llama (GQA, tied embeddings) for gradient and trainer tests.
func tinyConfig(vocab: Int = 40, tied: Bool = true, hidden: Int = 16, ffn: Int = 24) -> LlamaConfig {
    LlamaConfig(
        vocabSize: vocab, hiddenSize: hidden, intermediateSize: ffn, layerCount: 2, headCount: 4, kvHeadCount: 2, headDim: hidden / 4,
        ropeTheta: 10_000, rmsNormEps: 1e-5, maxPositions: 32, tieWordEmbeddings: tied)
}

func tinyWeights(_ c: LlamaConfig, on backend: any Backend, seed: UInt64 = 1, std: Float = 0.3) throws -> LlamaWeights {
    var rng = SeededGenerator(seed: seed)
    return try LlamaWeights.assemble(c, hasLMHead: !c.tieWordEmbeddings) { name, shape, _ in
        let n = shape.reduce(1, *)
        let isNorm = shape.count == 1
        let values = (0..<n).map { _ in isNorm ? 1 + 0.2 * rng.normal() : std * rng.normal() }
        return try backend.tensor(values, shape: shape)
    }
}

/// A random batch with ragged rows (-100 after each row's length) and, optionally, packing.
func randomBatch(_ c: LlamaConfig, batch: Int, length: Int, seed: UInt64, packed: Bool = false) -> Batch {
    var rng = SeededGenerator(seed: seed)
    var inputs: [Int32] = [], targets: [Int32] = [], lengths: [Int] = []
    var positions: [Int32] = [], segments: [Int32] = []
    for b in 0..<batch {
        let len = max(2, length - (b * 3) % length)
        lengths.append(len)
        for t in 0..<length {
            inputs.append(t < len ? Int32(rng.next() % UInt64(c.vocabSize)) : 0)
            targets.append(t < len ? Int32(rng.next() % UInt64(c.vocabSize)) : Batch.ignoreIndex)
            let split = length / 2
            positions.append(Int32(packed && t >= split ? t - split : t))
            segments.append(Int32(packed && t >= split ? 1 : 0))
        }
    }
    return Batch(
        batchSize: batch, length: length, inputs: inputs, targets: targets, lengths: lengths,
        positions: packed ? positions : nil, segments: packed ? segments : nil)
}

func maxRelativeDifference(_ a: [Float], _ b: [Float]) -> Float {
    var num: Float = 0, den: Float = 0
    for (x, y) in zip(a, b) {
        num = max(num, abs(x - y))
        den = max(den, abs(y))
    }
    return a.count == b.count ? num / max(den, 1e-30) : .infinity
}

/// The three backends (vulkan only when a device exists; see IFTVulkanTests for its tests).
func cpuBackends() throws -> [any Backend] { [CPUReferenceBackend(), try CPUBackend()] }
