import IFTCore
import XCTest

@testable import IFTModel

final class LlamaConfigTests: XCTestCase {
    /// The fields of HuggingFaceTB/SmolLM2-135M-Instruct's config.json (abridged).
    static let smolLM2 = #"""
    {
      "architectures": ["LlamaForCausalLM"], "attention_bias": false, "bos_token_id": 1,
      "eos_token_id": 2, "hidden_act": "silu", "hidden_size": 576, "initializer_range": 0.041666666666666664,
      "intermediate_size": 1536, "max_position_embeddings": 8192, "model_type": "llama",
      "num_attention_heads": 9, "num_hidden_layers": 30, "num_key_value_heads": 3,
      "pretraining_tp": 1, "rms_norm_eps": 1e-05, "rope_scaling": null, "rope_theta": 100000,
      "tie_word_embeddings": true, "torch_dtype": "bfloat16", "use_cache": true, "vocab_size": 49152
    }
    """#

    /// A Llama 3.1-style config: eos list, llama3 rope scaling, explicit head_dim.
    static let llama31 = #"""
    {"model_type": "llama", "vocab_size": 128256, "hidden_size": 4096, "intermediate_size": 14336,
     "num_hidden_layers": 32, "num_attention_heads": 32, "num_key_value_heads": 8, "head_dim": 128,
     "rope_theta": 500000.0, "rms_norm_eps": 1e-05, "max_position_embeddings": 131072,
     "bos_token_id": 128000, "eos_token_id": [128001, 128008, 128009],
     "rope_scaling": {"factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                      "original_max_position_embeddings": 8192, "rope_type": "llama3"}}
    """#

    func testSmolLM2ConfigJSON() throws {
        let c = try LlamaConfig(huggingFace: JSONValue.parse(Self.smolLM2), path: "config.json")
        XCTAssertEqual(c, LlamaConfig(
            vocabSize: 49152, hiddenSize: 576, intermediateSize: 1536, layerCount: 30, headCount: 9,
            kvHeadCount: 3, headDim: 64, ropeTheta: 100_000, rmsNormEps: 1e-5, maxPositions: 8192,
            tieWordEmbeddings: true, bosTokenID: 1, eosTokenIDs: [2]))
    }

    func testLlama31ConfigJSON() throws {
        let dir = try TestSupport.tempDir(self)
        try TestSupport.writeBytes(Array(Self.llama31.utf8), to: dir + "/config.json")
        let c = try LlamaConfig(configJSONPath: dir + "/config.json")
        XCTAssertEqual(c.eosTokenIDs, [128001, 128008, 128009])
        XCTAssertEqual(c.kvHeadCount, 8)
        XCTAssertEqual(c.headDim, 128)
        XCTAssertFalse(c.tieWordEmbeddings)
        XCTAssertEqual(c.ropeScaling?.type, "llama3")
        XCTAssertEqual(c.ropeScaling?.factor, 8)
        XCTAssertEqual(c.ropeScaling?.parameters["original_max_position_embeddings"], 8192)
    }

    func testDefaultsAndErrors() throws {
        let minimal = #"{"vocab_size": 10, "hidden_size": 8, "intermediate_size": 16, "num_hidden_layers": 1, "num_attention_heads": 2}"#
        let c = try LlamaConfig(huggingFace: JSONValue.parse(minimal), path: "c.json")
        XCTAssertEqual(c.kvHeadCount, 2)
        XCTAssertEqual(c.headDim, 4)
        XCTAssertEqual(c.ropeTheta, 10000)
        XCTAssertEqual(c.rmsNormEps, 1e-6)
        XCTAssertEqual(c.maxPositions, 2048)
        XCTAssertNil(c.bosTokenID)

        func bad(_ json: String, _ loc: String, _ msg: String, line: UInt = #line) throws {
            assertFileError(try LlamaConfig(huggingFace: JSONValue.parse(json), path: "c.json"), path: "c.json",
                            location: [loc], contains: [msg], line: line)
        }
        try bad(#"{"vocab_size": 10}"#, "key hidden_size", "missing")
        try bad(minimal.replacingOccurrences(of: "\"hidden_size\": 8", with: "\"hidden_size\": \"8\""), "key hidden_size", "expected an integer")
        try bad(minimal.replacingOccurrences(of: "}", with: #", "num_key_value_heads": 3}"#), "config", "not a multiple")
        try bad(minimal.replacingOccurrences(of: "}", with: #", "model_type": "gpt2"}"#), "key model_type", "gpt2")
        try bad(minimal.replacingOccurrences(of: "}", with: #", "eos_token_id": "x"}"#), "key eos_token_id", "array of integers")
        try bad(minimal.replacingOccurrences(of: "}", with: #", "eos_token_id": 99}"#), "config", "outside the vocabulary")
        try bad(minimal.replacingOccurrences(of: "}", with: #", "tie_word_embeddings": 1}"#), "key tie_word_embeddings", "bool")
        try bad("[1]", "line 1", "must be an object")
    }

    /// The GGUF side, on a file our writer builds the way llama.cpp's converter names things.
    func testFromGGUFMetadata() throws {
        var w = try GGUFWriter()
        try w.add("general.architecture", .string("llama"))
        try w.add("llama.context_length", .uint32(8192))
        try w.add("llama.embedding_length", .uint32(576))
        try w.add("llama.block_count", .uint32(30))
        try w.add("llama.feed_forward_length", .uint32(1536))
        try w.add("llama.attention.head_count", .uint32(9))
        try w.add("llama.attention.head_count_kv", .uint32(3))
        try w.add("llama.rope.freq_base", .float32(100_000))
        try w.add("llama.attention.layer_norm_rms_epsilon", .float32(1e-5))
        try w.add("tokenizer.ggml.tokens", .strings((0..<49152).map { "t\($0)" }))
        try w.add("tokenizer.ggml.bos_token_id", .uint32(1))
        try w.add("tokenizer.ggml.eos_token_id", .uint32(2))
        try w.addTensor(name: "output.weight", shape: [1, 32], floats: [Float](repeating: 0, count: 32))
        let g = try GGUFFile(file: MappedFile(bytes: w.serialized(), name: "m.gguf"))
        let c = try LlamaConfig(gguf: g)
        XCTAssertEqual(c.vocabSize, 49152)  // from the token list
        XCTAssertEqual(c.headDim, 64)
        XCTAssertEqual(c.kvHeadCount, 3)
        XCTAssertEqual(c.ropeTheta, 100_000)
        XCTAssertEqual(c.rmsNormEps, 1e-5, accuracy: 1e-11)
        XCTAssertFalse(c.tieWordEmbeddings)
        XCTAssertEqual(c.eosTokenIDs, [2])

        var w2 = try GGUFWriter()
        try w2.add("general.architecture", .string("gpt2"))
        assertFileError(try LlamaConfig(gguf: GGUFFile(file: MappedFile(bytes: w2.serialized(), name: "g.gguf"))),
                        path: "g.gguf", location: ["metadata key general.architecture"], contains: ["gpt2"])
        var w3 = try GGUFWriter()
        try w3.add("llama.embedding_length", .string("576"))
        assertFileError(try LlamaConfig(gguf: GGUFFile(file: MappedFile(bytes: w3.serialized(), name: "g.gguf"))),
                        path: "g.gguf", location: ["metadata key"], contains: [])
    }
}
