import IFTCPU
import IFTCore
@testable import IFTModel
@testable import IFTTrain
import XCTest

/// QLoRA from a file: the projections quantized to NF4 while they stream in from the mapped file
/// (`ProjectionFormat.fourBit`, what `TrainableLlama(files:mode: .qlora)` does) are the very bytes
/// that quantizing the loaded float weights gives, for every file type and both layouts (GGUF's
/// permuted Q/K rows included); Q4_0 blocks stay as stored.
final class StreamingQLoRATests: XCTestCase {
    func tempDir() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ift-stream-\(UUID().uuidString)").path
        try FileSystem.makeDirectories(dir)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: dir) }
        return dir
    }

    func bytes(_ t: Tensor, _ be: any Backend) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: t.byteCount)
        try out.withUnsafeMutableBytes { try be.read(t, into: $0) }
        return out
    }

    /// A family fixture's architecture widened to NF4's block of 64 (vocabulary and tokenizer kept).
    func widened(_ family: String) throws -> (ModelFiles, LlamaConfig) {
        let files = try FamilyFixture(family).files(gguf: false)
        var c = files.config
        (c.hiddenSize, c.intermediateSize, c.headCount, c.kvHeadCount, c.headDim) = (64, 128, 2, 1, 32)
        return (files, c)
    }

    func testStreamedNF4EqualsQuantizingTheLoadedWeights() throws {
        let dir = try tempDir()
        let be = CPUReferenceBackend()
        for family in ["llama3", "qwen2"] {
            let (source, c) = try widened(family)
            let weights = try tinyWeights(c, on: be, seed: 3)
            var paths: [(String, DType?)] = []
            for dtype in [DType.bf16, .f16, .f32] {
                let path = dir + "/\(family)-hf-\(dtype)"
                try ModelExport.writeHuggingFace(weights: weights, config: c, source: source, backend: be, dtype: dtype, promptStyle: nil, to: path)
                paths.append((path, nil))
            }
            for type in [GGMLType.f16, .bf16, .f32, .q8_0, .q4_0] {
                let path = dir + "/\(family)-\(type).gguf"
                try ModelExport.writeGGUF(
                    weights: weights, config: c, source: source, backend: be, type: type, promptStyle: nil, name: nil, to: path)
                paths.append((path, type == .q4_0 ? .q4_0 : nil))
            }
            for (path, kept) in paths {
                let files = try ModelFiles(path: path)
                let direct = try files.loadWeights(on: be, projections: .fourBit)
                XCTAssertEqual(direct.layers[1].down.dtype, kept ?? .nf4, path)
                XCTAssertEqual(direct.tokenEmbedding.dtype, try files.loadWeights(on: be).tokenEmbedding.dtype, "\(path): only projections change")
                let streamed = try TrainableLlama(files: files, backend: be, mode: .qlora, maxPositions: 16)
                let loaded = try TrainableLlama(
                    config: files.config, weights: try files.loadWeights(on: be), backend: be, mode: .qlora, maxPositions: 16)
                for (l, layer) in streamed.layers.enumerated() {
                    for p in Projection.split {
                        let (s, t) = (layer.weights[p]!, loaded.layers[l].weights[p]!)
                        XCTAssertEqual(s.dtype, kept ?? .nf4, "\(path) layer \(l) \(p)")
                        XCTAssertEqual(t.dtype, s.dtype, "\(path) layer \(l) \(p)")
                        XCTAssertEqual(try bytes(s, be), try bytes(t, be), "\(path) layer \(l) \(p)")
                    }
                }
                XCTAssertEqual(try be.floats(streamed.head), try be.floats(loaded.head), path)
                // The same model: the same first-step loss to the last bit.
                let batch = randomBatch(c, batch: 2, length: 8, seed: 5)
                let a = try streamed.step(batch, lossScale: 1, backward: false)
                let b = try loaded.step(batch, lossScale: 1, backward: false)
                XCTAssertEqual(a.lossSum, b.lossSum, path)
            }
        }
    }

    /// A projection whose rows are not whole NF4 blocks is refused by name while streaming.
    func testNarrowProjectionIsRefusedByName() throws {
        let files = try FamilyFixture("llama3").files(gguf: false)  // hidden size 16
        XCTAssertThrowsError(try TrainableLlama(files: files, backend: CPUReferenceBackend(), mode: .qlora, maxPositions: 8)) { e in
            XCTAssertTrue("\(e)".contains("model.layers.0.self_attn.q_proj.weight") && "\(e)".contains("multiple of 64"), "\(e)")
        }
    }
}
