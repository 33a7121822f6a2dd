import IFTCPU
import IFTCore
import XCTest

@testable import IFTModel

/// `LlamaConfig.namedShapes` (the `bench train --shape` table) against the published
/// `config.json` of each model (`Fixtures/shapes`, see its README), and random 4-bit weights made
/// for a shape.
final class LlamaShapeTests: XCTestCase {
    func testNamedShapesMatchPublishedConfigs() throws {
        XCTAssertEqual(
            Set(LlamaConfig.namedShapes.map(\.name)), ["smollm2-135m", "llama-3.2-1b", "llama-3.1-8b", "qwen2.5-0.5b"])
        for (name, shape) in LlamaConfig.namedShapes {
            let published = try LlamaConfig(configJSONPath: TestSupport.fixture("shapes/\(name).json"))
            XCTAssertEqual(shape, published, name)
            XCTAssertEqual(try LlamaConfig.shape(named: name.uppercased()), shape)
        }
        // The numbers that set the memory of a QLoRA run, spelled out once more.
        let l8 = try LlamaConfig.shape(named: "llama-3.1-8b")
        XCTAssertEqual([l8.layerCount, l8.hiddenSize, l8.intermediateSize, l8.headCount, l8.kvHeadCount, l8.headDim, l8.vocabSize],
                       [32, 4096, 14336, 32, 8, 128, 128_256])
        XCTAssertFalse(l8.tieWordEmbeddings)
        let qwen = try LlamaConfig.shape(named: "qwen2.5-0.5b")
        XCTAssertTrue(qwen.qkvBias)
        XCTAssertNil(qwen.slidingWindow)
        XCTAssertThrowsError(try LlamaConfig.shape(named: "gpt-2")) { e in
            XCTAssertTrue("\(e)".contains("unknown model shape 'gpt-2'") && "\(e)".contains("qwen2.5-0.5b"), "\(e)")
        }
    }

    /// `.fourBit` random weights: NF4 projections made directly (deterministic for a seed, values
    /// of about the requested spread), bf16 embedding and head, f32 norms and biases.
    func testRandomFourBitWeights() throws {
        var c = try LlamaConfig.shape(named: "qwen2.5-0.5b")
        (c.vocabSize, c.hiddenSize, c.intermediateSize, c.layerCount, c.headCount, c.kvHeadCount, c.headDim) = (100, 128, 192, 2, 4, 2, 32)
        c.tieWordEmbeddings = false
        let be = CPUReferenceBackend()
        let a = try LlamaWeights.random(c, on: be, seed: 7, std: 0.05, projections: .fourBit)
        let b = try LlamaWeights.random(c, on: be, seed: 7, std: 0.05, projections: .fourBit)
        let other = try LlamaWeights.random(c, on: be, seed: 8, std: 0.05, projections: .fourBit)
        func bytes(_ t: Tensor) throws -> [UInt8] {
            var out = [UInt8](repeating: 0, count: t.byteCount)
            try out.withUnsafeMutableBytes { try be.read(t, into: $0) }
            return out
        }
        for (l, layer) in a.layers.enumerated() {
            for (x, y) in [(layer.query, b.layers[l].query), (layer.down, b.layers[l].down)] {
                XCTAssertEqual(x.dtype, .nf4)
                XCTAssertEqual(try bytes(x), try bytes(y))
            }
            XCTAssertNotEqual(try bytes(layer.gate), try bytes(other.layers[l].gate))
            XCTAssertEqual(layer.queryBias?.dtype, .f32)
            XCTAssertEqual(layer.attentionNorm.dtype, .f32)
        }
        XCTAssertEqual(a.tokenEmbedding.dtype, .bf16)
        XCTAssertEqual(a.output?.dtype, .bf16)
        let w = try Reference.dequantize(.nf4, try bytes(a.layers[0].up))
        let rms = (w.reduce(0) { $0 + Double($1 * $1) } / Double(w.count)).squareRoot()
        XCTAssertEqual(rms, 0.05, accuracy: 0.01)
        XCTAssertEqual(Double(w.map(abs).max()!), 0.1, accuracy: 1e-6, "each block's absmax is 2 x std")
    }
}
