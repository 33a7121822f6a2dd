import Foundation
import IFTCPU
import IFTCore
import IFTModel
import XCTest

/// The same random Llama written as a Hugging Face directory (safetensors, rotate-half Q/K order)
/// and as GGUF (Q/K rows permuted the way llama.cpp's converter does) must give the same logits:
/// the end-to-end proof that both loaders and the Q/K permutation convention agree.
final class ModelFormatsTests: XCTestCase {
    let vocab = 256, d = 48, f = 80, layers = 2, heads = 6, kvHeads = 2, headDim = 8

    /// Random HF-order weights by HF name, with the matching GGUF name.
    func weights() -> [(hf: String, gguf: String, shape: [Int], values: [Float], qkHeads: Int?)] {
        var g = SeededGenerator(seed: 11)
        var out: [(String, String, [Int], [Float], Int?)] = []
        func add(_ hf: String, _ gguf: String, _ shape: [Int], norm: Bool = false, qk: Int? = nil) {
            let n = shape.reduce(1, *)
            out.append((hf, gguf, shape, norm ? (0..<n).map { _ in 1 + g.uniform(-0.2, 0.2) } : g.uniformArray(n, -0.3, 0.3), qk))
        }
        add("model.embed_tokens.weight", "token_embd.weight", [vocab, d])
        for i in 0..<layers {
            let h = "model.layers.\(i).", p = "blk.\(i)."
            add(h + "input_layernorm.weight", p + "attn_norm.weight", [d], norm: true)
            add(h + "self_attn.q_proj.weight", p + "attn_q.weight", [heads * headDim, d], qk: heads)
            add(h + "self_attn.k_proj.weight", p + "attn_k.weight", [kvHeads * headDim, d], qk: kvHeads)
            add(h + "self_attn.v_proj.weight", p + "attn_v.weight", [kvHeads * headDim, d])
            add(h + "self_attn.o_proj.weight", p + "attn_output.weight", [d, heads * headDim])
            add(h + "post_attention_layernorm.weight", p + "ffn_norm.weight", [d], norm: true)
            add(h + "mlp.gate_proj.weight", p + "ffn_gate.weight", [f, d])
            add(h + "mlp.up_proj.weight", p + "ffn_up.weight", [f, d])
            add(h + "mlp.down_proj.weight", p + "ffn_down.weight", [d, f])
        }
        add("model.norm.weight", "output_norm.weight", [d], norm: true)
        return out
    }

    func testSafetensorsDirectoryAndGGUFGiveTheSameLogits() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ift-formats-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let byteTokens = (0..<256).map { ByteLevel.encode([UInt8($0)]) }

        // Hugging Face directory.
        var st = SafetensorsWriter()
        var gw = try GGUFWriter()
        for w in weights() {
            try st.addTensor(name: w.hf, shape: w.shape, floats: w.values, as: .f32)
            var values = w.values
            if let h = w.qkHeads {
                values = try QKPermutation.permuteForGGUF(weights: values, rows: w.shape[0], cols: w.shape[1], heads: h)
            }
            try gw.addTensor(name: w.gguf, shape: w.shape, floats: values, as: .f32)
        }
        try st.write(to: dir.appendingPathComponent("model.safetensors").path)
        let config: [String: Any] = [
            "architectures": ["LlamaForCausalLM"], "model_type": "llama", "vocab_size": vocab, "hidden_size": d,
            "intermediate_size": f, "num_hidden_layers": layers, "num_attention_heads": heads,
            "num_key_value_heads": kvHeads, "rope_theta": 10000.0, "rms_norm_eps": 1e-5,
            "max_position_embeddings": 64, "tie_word_embeddings": true,
        ]
        try JSONSerialization.data(withJSONObject: config).write(to: dir.appendingPathComponent("config.json"))
        let tokenizer: [String: Any] = [
            "model": ["type": "BPE", "vocab": Dictionary(uniqueKeysWithValues: byteTokens.enumerated().map { ($1, $0) }), "merges": [String]()],
            "pre_tokenizer": ["type": "ByteLevel", "add_prefix_space": false, "use_regex": true],
            "added_tokens": [[String: Any]](),
        ]
        try JSONSerialization.data(withJSONObject: tokenizer).write(to: dir.appendingPathComponent("tokenizer.json"))

        // GGUF with llama.cpp's names, metadata and permuted Q/K rows.
        for (k, v) in [
            ("general.architecture", GGUFValue.string("llama")), ("llama.embedding_length", .uint32(UInt32(d))),
            ("llama.feed_forward_length", .uint32(UInt32(f))), ("llama.block_count", .uint32(UInt32(layers))),
            ("llama.attention.head_count", .uint32(UInt32(heads))), ("llama.attention.head_count_kv", .uint32(UInt32(kvHeads))),
            ("llama.context_length", .uint32(64)), ("llama.rope.freq_base", .float32(10000)),
            ("llama.attention.layer_norm_rms_epsilon", .float32(1e-5)), ("tokenizer.ggml.model", .string("gpt2")),
            ("tokenizer.ggml.pre", .string("gpt2")), ("tokenizer.ggml.tokens", .strings(byteTokens)),
            ("tokenizer.ggml.merges", .strings([])),
        ] {
            try gw.add(k, v)
        }
        let ggufPath = dir.appendingPathComponent("model.gguf").path
        try gw.write(to: ggufPath)

        let backend = CPUReferenceBackend()
        let text = "Hello, formats!"
        var results: [[Float]] = []
        for path in [dir.path, ggufPath] {
            let files = try ModelFiles(path: path)
            let ids = files.tokenizer.encode(text)
            XCTAssertEqual(ids.count, text.utf8.count)
            let model = try files.loadModel(on: backend)
            results.append(try backend.floats(try model.forward(ids, cache: try model.makeCache())))
        }
        var maxAbs: Float = 0
        for i in results[0].indices { maxAbs = max(maxAbs, abs(results[0][i] - results[1][i])) }
        XCTAssertLessThanOrEqual(maxAbs, 1e-5, "safetensors vs GGUF logits")

        // Without the un-permutation the GGUF model would differ: the check is not vacuous.
        var plain = try GGUFWriter()
        for (k, v) in try GGUFFile(path: ggufPath).metadata.entries { try plain.add(k, v) }
        for w in weights() { try plain.addTensor(name: w.gguf, shape: w.shape, floats: w.values, as: .f32) }
        let wrongPath = dir.appendingPathComponent("unpermuted.gguf").path
        try plain.write(to: wrongPath)
        let wrong = try ModelFiles(path: wrongPath).loadModel(on: backend)
        let wrongLogits = try backend.floats(try wrong.forward(ModelFiles(path: wrongPath).tokenizer.encode(text), cache: try wrong.makeCache()))
        var diff: Float = 0
        for i in wrongLogits.indices { diff = max(diff, abs(wrongLogits[i] - results[0][i])) }
        XCTAssertGreaterThan(diff, 1e-3)
    }

    func testMissingPiecesOfAHuggingFaceDirectoryAreClearErrors() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ift-formats-empty-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        XCTAssertThrowsError(try ModelFiles(path: dir.path)) { XCTAssertTrue("\($0)".contains("no *.safetensors"), "\($0)") }
        XCTAssertThrowsError(try ModelFiles(path: dir.path + "/nope.gguf")) { XCTAssertTrue("\($0)".contains("nope.gguf"), "\($0)") }
    }
}
