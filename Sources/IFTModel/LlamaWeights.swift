import IFTCPU
import IFTCore

/// One transformer block's weights on a backend, in their stored format (quantized blocks stay
/// quantized; kernels dequantize them).
public struct LlamaLayerWeights {
    public var attentionNorm: Tensor
    public var query: Tensor, key: Tensor, value: Tensor, output: Tensor
    public var feedForwardNorm: Tensor
    public var gate: Tensor, up: Tensor, down: Tensor

    public init(
        attentionNorm: Tensor, query: Tensor, key: Tensor, value: Tensor, output: Tensor, feedForwardNorm: Tensor, gate: Tensor,
        up: Tensor, down: Tensor
    ) {
        self.attentionNorm = attentionNorm
        self.query = query
        self.key = key
        self.value = value
        self.output = output
        self.feedForwardNorm = feedForwardNorm
        self.gate = gate
        self.up = up
        self.down = down
    }
}

/// All weights of a Llama-family model on one backend.
public struct LlamaWeights {
    public var tokenEmbedding: Tensor
    public var layers: [LlamaLayerWeights]
    public var outputNorm: Tensor
    /// The LM head; nil when tied to the token embedding.
    public var output: Tensor?

    public init(tokenEmbedding: Tensor, layers: [LlamaLayerWeights], outputNorm: Tensor, output: Tensor?) {
        self.tokenEmbedding = tokenEmbedding
        self.layers = layers
        self.outputNorm = outputNorm
        self.output = output
    }

    /// Loads the weights of a GGUF file (llama.cpp names) onto `backend`. Tensors whose type the
    /// kernels handle are uploaded as stored; others (Q6_K) are dequantized to f32 first. Query and
    /// key rows are un-permuted from llama.cpp's interleaved order to the Hugging Face rotate-half
    /// order the engine uses (see `QKPermutation`).
    public static func load(_ gguf: GGUFFile, config c: LlamaConfig, on backend: any Backend) throws -> LlamaWeights {
        func tensor(_ name: String, _ shape: [Int], permuteHeads: Int? = nil) throws -> Tensor {
            let info = try gguf.tensorInfo(name, expectedShape: shape)
            let bytes = try gguf.tensorBytes(name)
            if let dtype = info.type.dtype, shape.last.map({ $0 % dtype.blockSize == 0 }) ?? true {
                let t = try backend.makeTensor(shape: shape, dtype: dtype)
                if let heads = permuteHeads {
                    let rowBytes = bytes.count / shape[0]
                    var permuted = [UInt8](repeating: 0, count: bytes.count)
                    for r in 0..<shape[0] {
                        let hf = QKPermutation.hfRow(forGGUFRow: r, rows: shape[0], heads: heads)
                        for i in 0..<rowBytes { permuted[hf * rowBytes + i] = bytes[r * rowBytes + i] }
                    }
                    try permuted.withUnsafeBytes { try backend.write(t, from: $0) }
                } else {
                    try backend.write(t, from: bytes)
                }
                return t
            }
            var values = try gguf.floats(name, expectedShape: shape)
            if let heads = permuteHeads {
                values = try QKPermutation.unpermuteFromGGUF(weights: values, rows: shape[0], cols: shape[1], heads: heads)
            }
            return try backend.tensor(values, shape: shape)
        }
        return try assemble(c, hasLMHead: gguf.contains(tensor: "output.weight")) { name, shape, qkHeads in
            try tensor(name.gguf, shape, permuteHeads: qkHeads)
        }
    }

    /// A weight's names in llama.cpp's GGUF convention and in Hugging Face's.
    public struct Names {
        public let gguf: String
        public let huggingFace: String
    }

    /// Builds the weights of a model by asking `load` for each tensor by name and row-major shape
    /// (with the head count for the query and key projections, whose rows GGUF permutes).
    static func assemble(
        _ c: LlamaConfig, hasLMHead: Bool, _ load: (_ name: Names, _ shape: [Int], _ qkHeads: Int?) throws -> Tensor
    ) throws -> LlamaWeights {
        let d = c.hiddenSize, f = c.intermediateSize
        let qDim = c.headCount * c.headDim, kvDim = c.kvHeadCount * c.headDim
        func w(_ gguf: String, _ hf: String, _ shape: [Int], qk: Int? = nil) throws -> Tensor {
            try load(Names(gguf: gguf, huggingFace: hf), shape, qk)
        }
        var layers: [LlamaLayerWeights] = []
        for i in 0..<c.layerCount {
            let g = "blk.\(i).", h = "model.layers.\(i)."
            layers.append(
                LlamaLayerWeights(
                    attentionNorm: try w(g + "attn_norm.weight", h + "input_layernorm.weight", [d]),
                    query: try w(g + "attn_q.weight", h + "self_attn.q_proj.weight", [qDim, d], qk: c.headCount),
                    key: try w(g + "attn_k.weight", h + "self_attn.k_proj.weight", [kvDim, d], qk: c.kvHeadCount),
                    value: try w(g + "attn_v.weight", h + "self_attn.v_proj.weight", [kvDim, d]),
                    output: try w(g + "attn_output.weight", h + "self_attn.o_proj.weight", [d, qDim]),
                    feedForwardNorm: try w(g + "ffn_norm.weight", h + "post_attention_layernorm.weight", [d]),
                    gate: try w(g + "ffn_gate.weight", h + "mlp.gate_proj.weight", [f, d]),
                    up: try w(g + "ffn_up.weight", h + "mlp.up_proj.weight", [f, d]),
                    down: try w(g + "ffn_down.weight", h + "mlp.down_proj.weight", [d, f])))
        }
        return LlamaWeights(
            tokenEmbedding: try w("token_embd.weight", "model.embed_tokens.weight", [c.vocabSize, d]),
            layers: layers,
            outputNorm: try w("output_norm.weight", "model.norm.weight", [d]),
            output: hasLMHead ? try w("output.weight", "lm_head.weight", [c.vocabSize, d]) : nil)
    }
}
