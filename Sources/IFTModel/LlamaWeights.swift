import IFTCPU
import IFTCore

/// One transformer block's weights on a backend, in their stored format (quantized blocks stay
/// quantized; kernels dequantize them).
public struct LlamaLayerWeights {
    public var attentionNorm: Tensor
    public var query: Tensor, key: Tensor, value: Tensor, output: Tensor
    public var feedForwardNorm: Tensor
    public var gate: Tensor, up: Tensor, down: Tensor
    /// Projection biases `[out]` (f32) where the family has them (Qwen2: Q/K/V; `attention_bias`:
    /// Q/K/V/O); nil otherwise.
    public var queryBias: Tensor?, keyBias: Tensor?, valueBias: Tensor?, outputBias: Tensor?
    /// Qwen3's per-head RMSNorm weights `[headDim]` of queries and keys (before RoPE); nil otherwise.
    public var queryNorm: Tensor?, keyNorm: Tensor?

    public init(
        attentionNorm: Tensor, query: Tensor, key: Tensor, value: Tensor, output: Tensor, feedForwardNorm: Tensor, gate: Tensor,
        up: Tensor, down: Tensor, queryBias: Tensor? = nil, keyBias: Tensor? = nil, valueBias: Tensor? = nil,
        outputBias: Tensor? = nil, queryNorm: Tensor? = nil, keyNorm: Tensor? = nil
    ) {
        self.queryBias = queryBias
        self.keyBias = keyBias
        self.valueBias = valueBias
        self.outputBias = outputBias
        self.queryNorm = queryNorm
        self.keyNorm = keyNorm
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
    /// kernels handle are uploaded as stored; others (Q6_K) are dequantized to f32 first. For the
    /// llama architecture, query and key rows (weights and biases) are un-permuted from llama.cpp's
    /// interleaved order to the Hugging Face rotate-half order the engine uses (see
    /// `QKPermutation`); llama.cpp does not permute Qwen2/Qwen3/Phi-3. Phi-3's fused `attn_qkv` and
    /// `ffn_up` (gate and up rows) are read as their parts' rows. A tensor the config does not
    /// account for is an error naming it. With `projections: .fourBit` (QLoRA) the projection
    /// weights are quantized to NF4 while they stream in (see `ProjectionFormat`). Each tensor's
    /// pages of the mapped file are released once it is uploaded.
    public static func load(
        _ gguf: GGUFFile, config c: LlamaConfig, on backend: any Backend, projections: ProjectionFormat = .stored
    ) throws -> LlamaWeights {
        func tensor(_ names: Names, _ shape: [Int], permuteHeads: Int? = nil) throws -> Tensor {
            let name = names.gguf
            let info = try gguf.tensorInfo(name, expectedShape: names.storedShape(shape))
            let bytes = names.slice(try gguf.tensorBytes(name))
            defer { try? gguf.releasePages(ofTensor: name) }
            if names.projection != nil, projections == .fourBit, !fourBitTypes.contains(info.type.dtype ?? .f32) {
                let rows = shape[0], cols = shape[1]
                let nf4 = try nf4Bytes(bytes, type: info.type, rows: rows, cols: cols, name: name) { r in
                    permuteHeads.map { QKPermutation.hfRow(forGGUFRow: r, rows: rows, heads: $0) } ?? r
                }
                return try backend.tensor(bytes: nf4, shape: shape, dtype: .nf4)
            }
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
            var values = names.slice(try gguf.floats(name, expectedShape: names.storedShape(shape)))
            if let heads = permuteHeads {
                values = try QKPermutation.unpermuteFromGGUF(
                    weights: values, rows: shape[0], cols: shape.count > 1 ? shape[1] : 1, heads: heads)
            }
            return try backend.tensor(values, shape: shape)
        }
        var used: Set<String> = ["rope_freqs.weight", "rope_factors_short.weight", "rope_factors_long.weight"]
        let weights = try assemble(c, hasLMHead: gguf.contains(tensor: "output.weight")) { name, shape, qkHeads in
            used.insert(name.gguf)
            return try tensor(name, shape, permuteHeads: c.family.ggufPermutesQK ? qkHeads : nil)
        }
        if let extra = gguf.tensors.map(\.name).first(where: { !used.contains($0) }) {
            throw IFTError.file(
                path: gguf.path, location: "tensor \(extra)",
                message: "not part of a \(c.family.rawValue) model as the metadata describes it (\(c.structureSummary))")
        }
        return weights
    }

    /// A weight's names in llama.cpp's GGUF convention and in Hugging Face's; for a part of a fused
    /// weight (Phi-3's Q of `qkv_proj`), the rows `rows.range` of the stored tensor of `rows.of` rows.
    public struct Names {
        public let gguf: String
        public let huggingFace: String
        public var rows: (range: Range<Int>, of: Int)?
        /// Which projection the weight is (fused parts included); nil for everything else.
        public let projection: Projection?

        public init(gguf: String, huggingFace: String, rows: (range: Range<Int>, of: Int)? = nil, projection: Projection? = nil) {
            self.gguf = gguf
            self.huggingFace = huggingFace
            self.rows = rows
            self.projection = projection
        }

        /// The stored tensor's shape for a loaded shape `shape` (all its rows for a part).
        public func storedShape(_ shape: [Int]) -> [Int] {
            guard let rows else { return shape }
            return [rows.of] + shape.dropFirst()
        }

        /// The part's bytes (or elements) of the stored tensor's: rows are contiguous in any dtype.
        public func slice<T>(_ all: [T]) -> [T] {
            guard let rows, rows.of > 0 else { return all }
            let per = all.count / rows.of
            return Array(all[rows.range.lowerBound * per..<rows.range.upperBound * per])
        }

        /// The part's bytes of the stored tensor's (no copy).
        public func slice(_ all: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
            guard let rows, rows.of > 0 else { return all }
            let per = all.count / rows.of
            return UnsafeRawBufferPointer(rebasing: all[rows.range.lowerBound * per..<rows.range.upperBound * per])
        }
    }

    /// Builds the weights of a model by asking `load` for each tensor by name and row-major shape
    /// (with the head count for the query and key projections, whose rows GGUF permutes).
    static func assemble(
        _ c: LlamaConfig, hasLMHead: Bool, _ load: (_ name: Names, _ shape: [Int], _ qkHeads: Int?) throws -> Tensor
    ) throws -> LlamaWeights {
        let d = c.hiddenSize, f = c.intermediateSize
        let qDim = c.headCount * c.headDim, kvDim = c.kvHeadCount * c.headDim
        func w(_ gguf: String, _ hf: String, _ shape: [Int], qk: Int? = nil, projection: Projection? = nil) throws -> Tensor {
            try load(Names(gguf: gguf, huggingFace: hf, projection: projection), shape, qk)
        }
        let fused = c.family.fusedProjections
        var layers: [LlamaLayerWeights] = []
        for i in 0..<c.layerCount {
            let g = "blk.\(i).", h = "model.layers.\(i)."
            func bias(_ gguf: String, _ hf: String, _ rows: Int, qk: Int? = nil) throws -> Tensor {
                try w(g + gguf + ".bias", h + "self_attn." + hf + ".bias", [rows], qk: qk)
            }
            /// A projection's weight: its own tensor, or its rows of the fused one holding it (Phi-3).
            func proj(_ p: Projection, qk: Int? = nil) throws -> Tensor {
                let shape = p.shape(in: c)
                guard let f = fused.first(where: { $0.parts.contains(p) }), let row = f.partRows(in: c).first(where: { $0.part == p })?.row else {
                    return try w(g + p.ggufName + ".weight", h + p.modulePath + ".weight", shape, qk: qk, projection: p)
                }
                let names = Names(
                    gguf: g + f.ggufName + ".weight", huggingFace: h + f.modulePath + ".weight",
                    rows: (row..<(row + shape[0]), f.shape(in: c)[0]), projection: p)
                return try load(names, shape, qk)
            }
            var layer = (
                LlamaLayerWeights(
                    attentionNorm: try w(g + "attn_norm.weight", h + "input_layernorm.weight", [d]),
                    query: try proj(.q, qk: c.headCount),
                    key: try proj(.k, qk: c.kvHeadCount),
                    value: try proj(.v),
                    output: try proj(.o),
                    feedForwardNorm: try w(g + "ffn_norm.weight", h + "post_attention_layernorm.weight", [d]),
                    gate: try proj(.gate),
                    up: try proj(.up),
                    down: try proj(.down)))
            if c.qkvBias {
                layer.queryBias = try bias("attn_q", "q_proj", qDim, qk: c.headCount)
                layer.keyBias = try bias("attn_k", "k_proj", kvDim, qk: c.kvHeadCount)
                layer.valueBias = try bias("attn_v", "v_proj", kvDim)
            }
            if c.outputBias { layer.outputBias = try bias("attn_output", "o_proj", d) }
            if c.qkNorm {
                // One [headDim] weight shared by all heads (llama.cpp does not permute Qwen3's rows).
                layer.queryNorm = try w(g + "attn_q_norm.weight", h + "self_attn.q_norm.weight", [c.headDim])
                layer.keyNorm = try w(g + "attn_k_norm.weight", h + "self_attn.k_norm.weight", [c.headDim])
            }
            layers.append(layer)
        }
        return LlamaWeights(
            tokenEmbedding: try w("token_embd.weight", "model.embed_tokens.weight", [c.vocabSize, d]),
            layers: layers,
            outputNorm: try w("output_norm.weight", "model.norm.weight", [d]),
            output: hasLMHead ? try w("output.weight", "lm_head.weight", [c.vocabSize, d]) : nil)
    }
}
