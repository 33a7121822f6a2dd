import IFTCPU
import IFTCore
import IFTModel

/// A 2-layer random Llama (vocab 256 bytes, d 32, GQA 4/2) with a byte-level vocabulary (no
/// merges, no EOS), so that every request decodes exactly its token limit.
public enum TinyModel {
    /// The model as a GGUF in memory; `contextLength` is its `llama.context_length`.
    public static func gguf(contextLength: Int = 128) throws -> GGUFFile {
        let vocab = 256, d = 32, f = 64
        var w = try GGUFWriter()
        for (k, v) in [
            ("general.architecture", GGUFValue.string("llama")), ("llama.embedding_length", .uint32(UInt32(d))),
            ("llama.feed_forward_length", .uint32(UInt32(f))), ("llama.block_count", .uint32(2)),
            ("llama.attention.head_count", .uint32(4)), ("llama.attention.head_count_kv", .uint32(2)),
            ("llama.context_length", .uint32(UInt32(contextLength))), ("llama.rope.freq_base", .float32(10000)),
            ("llama.attention.layer_norm_rms_epsilon", .float32(1e-5)), ("tokenizer.ggml.model", .string("gpt2")),
            ("tokenizer.ggml.pre", .string("gpt2")),
            ("tokenizer.ggml.tokens", .strings((0..<256).map { ByteLevel.encode([UInt8($0)]) })),
            ("tokenizer.ggml.merges", .strings([])),
        ] {
            try w.add(k, v)
        }
        var g = SeededGenerator(seed: 9)
        func add(_ name: String, _ shape: [Int], norm: Bool = false) throws {
            let n = shape.reduce(1, *)
            try w.addTensor(name: name, shape: shape, floats: norm ? [Float](repeating: 1, count: n) : g.uniformArray(n, -0.5, 0.5), as: .f32)
        }
        try add("token_embd.weight", [vocab, d])
        for i in 0..<2 {
            let p = "blk.\(i)."
            try add(p + "attn_norm.weight", [d], norm: true)
            try add(p + "attn_q.weight", [d, d])
            try add(p + "attn_k.weight", [16, d])
            try add(p + "attn_v.weight", [16, d])
            try add(p + "attn_output.weight", [d, d])
            try add(p + "ffn_norm.weight", [d], norm: true)
            try add(p + "ffn_gate.weight", [f, d])
            try add(p + "ffn_up.weight", [f, d])
            try add(p + "ffn_down.weight", [d, f])
        }
        try add("output_norm.weight", [d], norm: true)
        return try GGUFFile(file: MappedFile(bytes: w.serialized(), name: "tiny.gguf"))
    }

    /// The model on `backend` and its tokenizer.
    public static func load(
        contextLength: Int = 128, backend: any Backend = CPUReferenceBackend()
    ) throws -> (model: LlamaModel, tokenizer: Tokenizer) {
        let file = try gguf(contextLength: contextLength)
        return (try LlamaModel(gguf: file, backend: backend), try Tokenizer(gguf: file))
    }

    /// A generator over the model on `backend` (context 128).
    public static func generator(backend: any Backend = CPUReferenceBackend()) throws -> Generator {
        let (model, tokenizer) = try load(backend: backend)
        return Generator(model: model, tokenizer: tokenizer)
    }
}
