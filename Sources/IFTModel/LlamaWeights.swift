import IFTCPU
import IFTCore

/// One transformer block's weights on a backend, in their stored format (quantized blocks stay
/// quantized; kernels dequantize them).
public struct LlamaLayerWeights {
    public var attentionNorm: Tensor
    public var query: Tensor, key: Tensor, value: Tensor, output: Tensor
    public var feedForwardNorm: Tensor
    public var gate: Tensor, up: Tensor, down: Tensor
}

/// All weights of a Llama-family model on one backend.
public struct LlamaWeights {
    public var tokenEmbedding: Tensor
    public var layers: [LlamaLayerWeights]
    public var outputNorm: Tensor
    /// The LM head; nil when tied to the token embedding.
    public var output: Tensor?

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
        let d = c.hiddenSize, f = c.intermediateSize
        let qDim = c.headCount * c.headDim, kvDim = c.kvHeadCount * c.headDim
        var layers: [LlamaLayerWeights] = []
        for i in 0..<c.layerCount {
            let p = "blk.\(i)."
            layers.append(
                LlamaLayerWeights(
                    attentionNorm: try tensor(p + "attn_norm.weight", [d]),
                    query: try tensor(p + "attn_q.weight", [qDim, d], permuteHeads: c.headCount),
                    key: try tensor(p + "attn_k.weight", [kvDim, d], permuteHeads: c.kvHeadCount),
                    value: try tensor(p + "attn_v.weight", [kvDim, d]),
                    output: try tensor(p + "attn_output.weight", [d, qDim]),
                    feedForwardNorm: try tensor(p + "ffn_norm.weight", [d]),
                    gate: try tensor(p + "ffn_gate.weight", [f, d]),
                    up: try tensor(p + "ffn_up.weight", [f, d]),
                    down: try tensor(p + "ffn_down.weight", [d, f])))
        }
        return LlamaWeights(
            tokenEmbedding: try tensor("token_embd.weight", [c.vocabSize, d]),
            layers: layers,
            outputNorm: try tensor("output_norm.weight", [d]),
            output: gguf.contains(tensor: "output.weight") ? try tensor("output.weight", [c.vocabSize, d]) : nil)
    }
}
