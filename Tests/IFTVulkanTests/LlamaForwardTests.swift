import Foundation
import IFTCPU
import IFTCore
import IFTModel
import XCTest

/// The Llama forward pass on every backend: a tiny random model (written with our GGUF writer) on
/// cpu-ref, cpu and vulkan, and the real SmolLM2-135M-Instruct against reference logits from
/// Hugging Face transformers (Tools/make-llama-fixture.py).
final class LlamaForwardTests: VulkanTestCase {
    /// A tiny Llama with mixed tensor types (f32, f16, q8_0, q4_0, q4_1), GQA 4:2.
    static func tinyModel(seed: UInt64 = 1) throws -> GGUFFile {
        let vocab = 96, d = 64, f = 96, layers = 2, heads = 4, kvHeads = 2, headDim = 16
        var w = try GGUFWriter()
        try w.add("general.architecture", .string("llama"))
        try w.add("llama.vocab_size", .uint32(UInt32(vocab)))
        try w.add("llama.embedding_length", .uint32(UInt32(d)))
        try w.add("llama.feed_forward_length", .uint32(UInt32(f)))
        try w.add("llama.block_count", .uint32(UInt32(layers)))
        try w.add("llama.attention.head_count", .uint32(UInt32(heads)))
        try w.add("llama.attention.head_count_kv", .uint32(UInt32(kvHeads)))
        try w.add("llama.context_length", .uint32(64))
        try w.add("llama.rope.freq_base", .float32(10000))
        try w.add("llama.attention.layer_norm_rms_epsilon", .float32(1e-5))
        var g = SeededGenerator(seed: seed)
        func add(_ name: String, _ shape: [Int], _ type: GGMLType, scale: Float = 0.2) throws {
            let n = shape.reduce(1, *)
            let values = name.hasSuffix("norm.weight") ? (0..<n).map { _ in 1 + g.uniform(-0.1, 0.1) } : g.uniformArray(n, -scale, scale)
            try w.addTensor(name: name, shape: shape, floats: values, as: type)
        }
        try add("token_embd.weight", [vocab, d], .q8_0, scale: 1)
        for i in 0..<layers {
            let p = "blk.\(i)."
            try add(p + "attn_norm.weight", [d], .f32)
            try add(p + "attn_q.weight", [heads * headDim, d], .q4_0)
            try add(p + "attn_k.weight", [kvHeads * headDim, d], .q4_1)
            try add(p + "attn_v.weight", [kvHeads * headDim, d], .f16)
            try add(p + "attn_output.weight", [d, heads * headDim], .q8_0)
            try add(p + "ffn_norm.weight", [d], .f32)
            try add(p + "ffn_gate.weight", [f, d], .q4_1)
            try add(p + "ffn_up.weight", [f, d], .f32)
            try add(p + "ffn_down.weight", [d, f], .q8_0)
        }
        try add("output_norm.weight", [d], .f32)
        return try GGUFFile(file: MappedFile(bytes: w.serialized(), name: "tiny-llama.gguf"))
    }

    func logits(_ gguf: GGUFFile, _ backend: any Backend, _ tokens: [Int32], chunks: [Int]) throws -> [Float] {
        let model = try LlamaModel(gguf: gguf, backend: backend)
        let cache = try model.makeCache()
        var out: [Float] = []
        var start = 0
        for n in chunks {
            let l = try model.forward(Array(tokens[start..<(start + n)]), cache: cache)
            out += try backend.floats(l)
            start += n
        }
        return out
    }

    func testTinyModelAgreesAcrossBackendsAndWithTheKVCache() throws {
        let gguf = try Self.tinyModel()
        var g = SeededGenerator(seed: 5)
        let tokens = (0..<23).map { _ in Int32(g.next() % 96) }
        let whole = try logits(gguf, ref, tokens, chunks: [23])
        XCTAssertTrue(whole.allSatisfy(\.isFinite))
        // Prefill then token-by-token decoding through the KV cache gives the same logits.
        let pieces = try logits(gguf, ref, tokens, chunks: [10, 1, 1, 5, 6])
        XCTAssertLessThanOrEqual(nmse(pieces, whole), 1e-10)
        for backend in [try CPUBackend() as any Backend, vk as any Backend] {
            let x = try logits(gguf, backend, tokens, chunks: [10, 1, 1, 5, 6])
            XCTAssertLessThanOrEqual(nmse(x, whole), 1e-9, backend.name)
        }
    }

    /// Packing: examples packed into one row (positions restarting at 0, one segment id each) give
    /// each example the logits it gets alone, on cpu-ref and vulkan (and so the same per-token loss).
    func testPackedExamplesGetTheirOwnLogits() throws {
        let gguf = try Self.tinyModel(seed: 3)
        var g = SeededGenerator(seed: 8)
        let examples = [7, 5, 9].map { n in (0..<n).map { _ in Int32(g.next() % 96) } }
        let packed = examples.flatMap { $0 }
        let positions = examples.flatMap { e in (0..<e.count).map { Int32($0) } }
        let segments = examples.enumerated().flatMap { i, e in [Int32](repeating: Int32(i), count: e.count) }
        for backend in [ref as any Backend, vk as any Backend] {
            let model = try LlamaModel(gguf: gguf, backend: backend)
            let all = try backend.floats(
                try model.forward(packed, cache: try model.makeCache(), positions: positions, segments: segments))
            let vocab = 96
            var row = 0
            var maxAbs: Float = 0
            for e in examples {
                let alone = try backend.floats(try model.forward(e, cache: try model.makeCache()))
                for i in 0..<(e.count * vocab) { maxAbs = max(maxAbs, abs(alone[i] - all[row * vocab + i])) }
                row += e.count
            }
            XCTAssertLessThanOrEqual(maxAbs, 1e-5, "\(backend.name): packed vs alone")
            // Without segments the later examples would see the earlier ones: the check is not vacuous.
            let leaky = try backend.floats(try model.forward(packed, cache: try model.makeCache(), positions: positions))
            XCTAssertGreaterThan(zip(leaky, all).map { abs($0 - $1) }.max() ?? 0, 1e-3)
        }
    }

    /// SmolLM2-135M-Instruct: cpu-ref against transformers' fp32 logits; cpu and vulkan against cpu-ref.
    func testSmolLM2MatchesTransformers() throws {
        let path = try ModelFixture.smolLM2Path()
        let fixtureDir = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("IFTModelTests/Fixtures")
        let meta = try JSONSerialization.jsonObject(with: Data(contentsOf: fixtureDir.appendingPathComponent("smollm2-logits.json"))) as! [String: Any]
        let blob = try Data(contentsOf: fixtureDir.appendingPathComponent("smollm2-logits.f32"))
        let reference: [Float] = blob.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        let vocab = meta["vocab"] as! Int
        let columns = meta["columns"] as! [Int]
        let prompts = meta["prompts"] as! [[String: Any]]
        let gguf = try GGUFFile(path: path)
        let tokenizer = try Tokenizer(gguf: gguf)
        let models = try [ref as any Backend, try CPUBackend(), vk as any Backend].map { try LlamaModel(gguf: gguf, backend: $0, maxPositions: 64) }
        var offset = 0
        var worst: [String: Float] = [:]
        for p in prompts {
            let ids = (p["ids"] as! [Int]).map { Int32($0) }
            XCTAssertEqual(tokenizer.encode(p["text"] as! String, parseSpecial: true), ids, "tokenizer disagrees on \(p["text"]!)")
            let t = ids.count
            let lastRow = Array(reference[offset..<(offset + vocab)])
            let sampled = Array(reference[(offset + vocab)..<(offset + vocab + t * columns.count)])
            offset += vocab + t * columns.count
            var results: [[Float]] = []
            for model in models {
                let all = try model.backend.floats(try model.forward(ids, cache: try model.makeCache()))
                results.append(all)
            }
            let mine = results[0]
            // Last position: every logit. Other positions: the sampled columns.
            var maxAbs: Float = 0
            for v in 0..<vocab { maxAbs = max(maxAbs, abs(mine[(t - 1) * vocab + v] - lastRow[v])) }
            for row in 0..<t {
                for (j, col) in columns.enumerated() {
                    maxAbs = max(maxAbs, abs(mine[row * vocab + col] - sampled[row * columns.count + j]))
                }
            }
            worst["cpu-ref vs transformers", default: 0] = max(worst["cpu-ref vs transformers", default: 0], maxAbs)
            XCTAssertLessThanOrEqual(maxAbs, 1e-3, "cpu-ref vs transformers on \(p["text"]!)")
            let argmax = p["argmax"] as! [Int]
            for row in 0..<t {
                let slice = mine[(row * vocab)..<((row + 1) * vocab)]
                XCTAssertEqual(slice.indices.max { slice[$0] < slice[$1] }.map { $0 - row * vocab }, argmax[row])
            }
            for (name, other) in zip(["cpu", "vulkan"], results.dropFirst()) {
                var m: Float = 0
                for i in mine.indices { m = max(m, abs(mine[i] - other[i])) }
                worst["\(name) vs cpu-ref", default: 0] = max(worst["\(name) vs cpu-ref", default: 0], m)
                XCTAssertLessThanOrEqual(m, 1e-3, "\(name) vs cpu-ref on \(p["text"]!)")
            }
        }
        print("SmolLM2 logits, max abs difference: \(worst)")
    }
}

/// Where the real model is: IFT_SMOLLM2_GGUF, else .build/models (Tools/test.sh pulls it there).
/// Missing: a failure under IFT_REQUIRE_MODEL=1 (CI), else a skip that says how to get it.
enum ModelFixture {
    struct Missing: Error {}

    static func smolLM2Path(file: StaticString = #filePath, line: UInt = #line) throws -> String {
        let env = ProcessInfo.processInfo.environment
        let repo = URL(fileURLWithPath: "\(file)").deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let candidates: [String?] = [env["IFT_SMOLLM2_GGUF"], repo.appendingPathComponent(".build/models/SmolLM2-135M-Instruct.Q4_1.gguf").path]
        if let p = candidates.compactMap({ $0 }).first(where: { FileManager.default.fileExists(atPath: $0) }) { return p }
        if env["IFT_REQUIRE_MODEL"] == "1" {
            XCTFail("IFT_REQUIRE_MODEL=1 but SmolLM2-135M-Instruct is missing: run `IFT_HOME=.build ift-gpu model pull smollm2-135m-instruct`", file: file, line: line)
            throw Missing()
        }
        throw XCTSkip("SmolLM2-135M-Instruct not found; Tools/test.sh downloads it (or set IFT_SMOLLM2_GGUF)")
    }
}
