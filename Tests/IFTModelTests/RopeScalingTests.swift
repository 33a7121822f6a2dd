import IFTCore
import XCTest

@testable import IFTModel

/// RoPE scaling (`llama3`, `linear`, `yarn`) against transformers' own inverse frequencies and
/// attention factors (`Tests/IFTTrainTests/Fixtures/families/rope-parameters.json`, made by
/// `Tools/make-family-fixtures.py`), both `config.json` layouts, GGUF's `rope.scaling.*` keys, and
/// the keys that change the math but are not understood.
final class RopeScalingTests: XCTestCase {
    static let parameters = TestSupport.fixtures.deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("IFTTrainTests/Fixtures/families/rope-parameters.json").path

    func testInverseFrequenciesMatchTransformers() throws {
        let sets = try JSONValue.parse(contentsOf: Self.parameters).arrayValue ?? []
        XCTAssertGreaterThanOrEqual(sets.count, 7)
        for s in sets {
            let name = s["name"]?.stringValue ?? "?"
            guard case .object(var o)? = s["config"] else { return XCTFail("\(name): no config") }
            o["model_type"] = s["model_type"]
            let c = try LlamaConfig(huggingFace: .object(o), path: name)
            let (inv, factor) = RopeTable.inverseFrequencies(theta: c.ropeTheta, headDim: c.headDim, scaling: try c.ropeTableScaling())
            let expected = s["inv_freq"]?.arrayValue?.compactMap(\.doubleValue) ?? []
            XCTAssertEqual(inv.count, expected.count, name)
            // transformers computes in float32: agree to its rounding.
            let worst = zip(inv, expected).map { abs($0 - $1) / $1 }.max() ?? .infinity
            XCTAssertLessThan(worst, 2e-6, "\(name): inverse frequencies")
            XCTAssertEqual(factor, s["attention_factor"]?.doubleValue ?? .nan, accuracy: 1e-6, "\(name): attention factor")
        }
    }

    /// YaRN's attention factor scales cos and sin (and so the rope op's output) in the table.
    func testYarnTableCarriesTheAttentionFactor() throws {
        let t = RopeTable.make(theta: 10_000, headDim: 8, maxPositions: 3, scaling: .yarn(
            factor: 4, originalMaxPositions: 16, betaFast: 32, betaSlow: 1, attentionFactor: 1.5, truncate: true))
        XCTAssertEqual(t[0], 1.5)  // cos(0) * 1.5
        XCTAssertEqual(t[4], 0)  // sin(0)
    }

    static let llama = #"{"model_type": "llama", "vocab_size": 10, "hidden_size": 16, "intermediate_size": 32, "num_hidden_layers": 1, "num_attention_heads": 2, "max_position_embeddings": 64"#

    func config(_ extra: String) throws -> LlamaConfig {
        try LlamaConfig(huggingFace: JSONValue.parse(Self.llama + ", " + extra + "}"), path: "c.json")
    }

    func testBothLayoutsReadTheSame() throws {
        let classic = try config(#""rope_theta": 500000, "rope_scaling": {"rope_type": "llama3", "factor": 32, "low_freq_factor": 1, "high_freq_factor": 4, "original_max_position_embeddings": 8}"#)
        let v5 = try config(#""rope_parameters": {"rope_type": "llama3", "rope_theta": 500000, "factor": 32, "low_freq_factor": 1, "high_freq_factor": 4, "original_max_position_embeddings": 8}"#)
        XCTAssertEqual(classic, v5)
        XCTAssertEqual(v5.ropeTheta, 500_000)
        XCTAssertEqual(v5.ropeScaling?.type, "llama3")
        // `type` (older configs) for `rope_type`; theta inside rope_parameters wins over the top level.
        let yarn1 = try config(#""rope_theta": 1000000, "rope_scaling": {"type": "yarn", "factor": 4, "original_max_position_embeddings": 16}"#)
        let yarn2 = try config(#""rope_theta": 5, "rope_parameters": {"rope_type": "yarn", "rope_theta": 1000000, "factor": 4, "original_max_position_embeddings": 16}"#)
        XCTAssertEqual(yarn1, yarn2)
        // Plain RoPE either way.
        let plain = try config(#""rope_parameters": {"rope_type": "default", "rope_theta": 100000}"#)
        XCTAssertNil(plain.ropeScaling)
        XCTAssertEqual(plain.ropeTheta, 100_000)
        // linear
        XCTAssertEqual(try config(#""rope_scaling": {"type": "linear", "factor": 2}"#).ropeTableScaling(), .linear(factor: 2))
    }

    func testUnsupportedRopeTypeNamesTheSupportedOnes() throws {
        for (extra, key) in [
            (#""rope_scaling": {"type": "dynamic", "factor": 2}"#, "key rope_scaling.rope_type"),
            (#""rope_parameters": {"rope_type": "proportional", "rope_theta": 10000}"#, "key rope_parameters.rope_type"),
        ] {
            assertFileError(try config(extra), path: "c.json", location: [key], contains: ["not supported", "default, linear, llama3, yarn"])
        }
    }

    func testKeysThatChangeTheMathAreNeverIgnored() throws {
        func bad(_ extra: String, _ key: String, line: UInt = #line) {
            assertFileError(try config(extra), path: "c.json", location: ["key " + key], contains: [], line: line)
        }
        bad(#""rope_scaling": {"rope_type": "llama3", "factor": 8, "low_freq_factor": 1, "high_freq_factor": 4, "mscale": 2}"#, "rope_scaling.mscale")
        bad(#""rope_parameters": {"rope_type": "linear", "rope_theta": 10000, "factor": 2, "beta_fast": 3}"#, "rope_parameters.beta_fast")
        bad(#""rope_parameters": {"rope_type": "linear", "rope_theta": 10000}"#, "rope_parameters")  // factor missing
        bad(#""rope_parameters": {"rope_type": "default", "partial_rotary_factor": 0.5}"#, "rope_parameters.partial_rotary_factor")
        bad(#""mlp_bias": true"#, "mlp_bias")
        bad(#""hidden_act": "gelu""#, "hidden_act")
        bad(#""attention_dropout": 0.1"#, "attention_dropout")
        bad(#""partial_rotary_factor": 0.5"#, "partial_rotary_factor")
        bad(#""quantization_config": {"quant_method": "gptq"}"#, "quantization_config")
        // Harmless keys pass.
        XCTAssertNoThrow(try config(#""pretraining_tp": 1, "transformers_version": "5.0", "hidden_act": "silu", "mlp_bias": false"#))
    }

    func testUnsupportedArchitectureNamesTheSupportedOnes() throws {
        let gemma = #"{"architectures": ["Gemma2ForCausalLM"], "vocab_size": 10, "hidden_size": 16, "intermediate_size": 32, "num_hidden_layers": 1, "num_attention_heads": 2}"#
        assertFileError(try LlamaConfig(huggingFace: JSONValue.parse(gemma), path: "c.json"), path: "c.json",
                        location: ["key architectures"], contains: ["Gemma2ForCausalLM", "Qwen2ForCausalLM", "MistralForCausalLM"])
        let phi = #"{"model_type": "phi", "vocab_size": 10, "hidden_size": 16, "intermediate_size": 32, "num_hidden_layers": 1, "num_attention_heads": 2}"#
        assertFileError(try LlamaConfig(huggingFace: JSONValue.parse(phi), path: "c.json"), path: "c.json",
                        location: ["key model_type"], contains: ["'phi'", "llama, mistral, qwen2, qwen3, phi3"])
        // Longrope without its factors names what is missing.
        assertFileError(try config(#""rope_parameters": {"rope_type": "longrope", "rope_theta": 10000}"#), path: "c.json",
                        location: ["key rope_parameters"], contains: ["short_factor", "long_factor"])
    }

    func testQwenAndMistralDefaults() throws {
        let base = #""vocab_size": 10, "hidden_size": 16, "intermediate_size": 32, "num_hidden_layers": 4, "num_attention_heads": 2"#
        let q3 = try LlamaConfig(huggingFace: JSONValue.parse("{\"model_type\": \"qwen3\", " + base + "}"), path: "c")
        XCTAssertEqual(q3.headDim, 128, "transformers' Qwen3Config default")
        let mistral = try LlamaConfig(huggingFace: JSONValue.parse("{\"model_type\": \"mistral\", " + base + "}"), path: "c")
        XCTAssertEqual(mistral.slidingWindow, 4096, "transformers' MistralConfig default")
        let q2 = try LlamaConfig(huggingFace: JSONValue.parse(
            "{\"model_type\": \"qwen2\", \"use_sliding_window\": true, \"sliding_window\": 8, \"max_window_layers\": 2, " + base + "}"), path: "c")
        XCTAssertEqual(q2.slidingWindow, 8, "layers 2 and 3 slide")
        XCTAssertThrowsError(try q2.checkContext(16))
        XCTAssertNoThrow(try q2.checkContext(8))
        let q2all = try LlamaConfig(huggingFace: JSONValue.parse(
            "{\"model_type\": \"qwen2\", \"use_sliding_window\": true, \"sliding_window\": 8, \"max_window_layers\": 4, " + base + "}"), path: "c")
        XCTAssertNil(q2all.slidingWindow, "no layer at or above max_window_layers")
    }

    // MARK: GGUF

    func gguf(_ extra: [(String, GGUFValue)], arch: String = "llama") throws -> LlamaConfig {
        var w = try GGUFWriter()
        try w.add("general.architecture", .string(arch))
        for (k, v) in [("context_length", GGUFValue.uint32(64)), ("embedding_length", .uint32(16)), ("block_count", .uint32(1)),
                       ("feed_forward_length", .uint32(32)), ("attention.head_count", .uint32(2)), ("vocab_size", .uint32(10))] {
            try w.add(arch + "." + k, v)
        }
        for (k, v) in extra { try w.add(k, v) }
        try w.addTensor(name: "output.weight", shape: [1, 32], floats: [Float](repeating: 0, count: 32))
        return try LlamaConfig(gguf: GGUFFile(file: MappedFile(bytes: w.serialized(), name: "m.gguf")))
    }

    func testGGUFRopeScalingKeys() throws {
        let yarn = try gguf([("qwen2.rope.scaling.type", .string("yarn")), ("qwen2.rope.scaling.factor", .float32(4)),
                             ("qwen2.rope.scaling.original_context_length", .uint32(16)), ("qwen2.rope.freq_base", .float32(1e6))], arch: "qwen2")
        let hf = try LlamaConfig(huggingFace: JSONValue.parse(#"{"model_type": "qwen2", "vocab_size": 10, "hidden_size": 16, "intermediate_size": 32, "num_hidden_layers": 1, "num_attention_heads": 2, "max_position_embeddings": 64, "rope_theta": 1000000, "rope_scaling": {"type": "yarn", "factor": 4, "original_max_position_embeddings": 16}}"#), path: "c")
        XCTAssertEqual(yarn.family, .qwen2)
        XCTAssertTrue(yarn.qkvBias)
        XCTAssertEqual(try yarn.ropeTable(positions: 64), try hf.ropeTable(positions: 64))
        let linear = try gguf([("llama.rope.scaling.type", .string("linear")), ("llama.rope.scaling.factor", .float32(2))])
        XCTAssertEqual(try linear.ropeTableScaling(), .linear(factor: 2))
        let old = try gguf([("llama.rope.scale_linear", .float32(2))])
        XCTAssertEqual(try old.ropeTableScaling(), .linear(factor: 2))
        assertFileError(try gguf([("llama.rope.scaling.type", .string("longrope"))]), path: "m.gguf",
                        location: ["metadata key llama.rope.scaling.type"], contains: ["longrope", "linear, yarn"])
        assertFileError(try gguf([("llama.rope.scaling.mystery", .float32(2))]), path: "m.gguf",
                        location: ["metadata key llama.rope.scaling.mystery"], contains: ["not understood"])
        assertFileError(try gguf([("llama.expert_count", .uint32(8))]), path: "m.gguf", location: ["metadata key llama.expert_count"])
        assertFileError(try gguf([], arch: "gemma2"), path: "m.gguf", location: ["general.architecture"], contains: ["gemma2", "llama, qwen2, qwen3"])
        XCTAssertEqual(try gguf([("llama.attention.sliding_window", .uint32(4096))]).slidingWindow, 4096)
    }
}
