import IFTCore
import IFTCPU

/// Writing a whole model (a merged fine-tune or a full one) for other runtimes: a llama.cpp GGUF
/// here, a Hugging Face directory in `ModelExport+HF.swift`.
public enum ModelExport {
    /// GGML types a merged GGUF can be written in.
    public static let ggufTypes: [GGMLType] = [.f32, .f16, .bf16, .q8_0, .q4_0, .q4_1, .q4_k]

    /// llama.cpp's `general.file_type` (LlamaFileType) for a GGUF whose weights are mostly `type`.
    static func fileType(_ type: GGMLType) -> UInt32 {
        switch type {
        case .f32: return 0
        case .f16: return 1
        case .q4_0: return 2
        case .q4_1: return 3
        case .q8_0: return 7
        case .q4_k: return 15  // MOSTLY_Q4_K_M
        case .bf16: return 32
        case .q6_k: return 18
        }
    }

    /// The type a tensor is stored in: norms stay F32; with a 4-bit type the token embedding and the
    /// LM head are Q8_0 (as llama.cpp gives them more bits; the reference SmolLM2 Q4_1 file does the
    /// same); a 4-bit type whose block does not divide the row length falls back to Q4_1 (Q4_K's
    /// 256 does not divide SmolLM2's 576), then Q8_0, then F32.
    static func storageType(_ type: GGMLType, shape: [Int], isEmbeddingOrHead: Bool) -> GGMLType {
        guard shape.count == 2, let row = shape.last else { return .f32 }
        var t = type
        if isEmbeddingOrHead && [.q4_0, .q4_1, .q4_k].contains(type) { t = .q8_0 }
        for candidate in [t, .q4_1, .q8_0, .f32] where row % candidate.blockSize == 0 {
            if candidate == t || t.isQuantized { return candidate }
        }
        return .f32
    }

    /// A summary of what a GGUF export wrote (and lost).
    public struct GGUFSummary {
        public var tensorTypes: [String: Int] = [:]
        /// Relative RMS error `|W - deq(q(W))| / |W|` of every re-quantized weight: mean and max.
        public var requantizedTensors = 0
        public var meanRelativeError = 0.0
        public var maxRelativeError = 0.0
        public var maxErrorTensor = ""
        /// Set when 4-bit base weights were quantized again (to a 4-bit type): the warning to print.
        public var warning: String?
    }

    /// Writes `weights` (on `backend`, any stored dtypes) as a llama.cpp GGUF of `type` under the
    /// family's architecture (`llama` for Llama and Mistral, `qwen2`, `qwen3`, `phi3`: Q/K rows permuted
    /// for the first, biases and Q/K norms as `blk.N.attn_q.bias`, `blk.N.attn_q_norm.weight`, Phi-3's
    /// fused `attn_qkv` / `ffn_up`, RoPE scaling as `rope.scaling.*` keys, `rope_freqs.weight` or
    /// Phi-3's `rope_factors_long/short.weight`), with the
    /// tokenizer, chat template (from `source`) and training prompt style in its metadata,
    /// atomically. A weight already stored in `type` is copied as it is; others are converted
    /// from f32.
    @discardableResult
    public static func writeGGUF(
        weights: LlamaWeights, config c: LlamaConfig, source: ModelFiles, backend: any Backend, type: GGMLType,
        promptStyle: String?, name: String?, to path: String
    ) throws -> GGUFSummary {
        guard ggufTypes.contains(type) else {
            throw IFTError.invalidArgument("a merged GGUF is written as \(ggufTypes.map(\.name).joined(separator: ", ")), not \(type)")
        }
        try checkTokenizerConvertible(source, to: "gguf")
        let tensors = try weights.exportTensors(config: c, backend: backend)
        let arch = c.family.ggufArchitecture
        let (ropeMetadata, ropeFactors) = try ggufRopeScaling(c, prefix: arch + ".")
        var w = try GGUFWriter()
        let p = arch + "."
        try w.add("general.architecture", .string(arch))
        try w.add("general.type", .string("model"))
        try w.add("general.name", .string(name ?? "ift-gpu export"))
        try w.add(p + "block_count", .uint32(UInt32(c.layerCount)))
        try w.add(p + "context_length", .uint32(UInt32(c.maxPositions)))
        try w.add(p + "embedding_length", .uint32(UInt32(c.hiddenSize)))
        try w.add(p + "feed_forward_length", .uint32(UInt32(c.intermediateSize)))
        try w.add(p + "attention.head_count", .uint32(UInt32(c.headCount)))
        try w.add(p + "attention.head_count_kv", .uint32(UInt32(c.kvHeadCount)))
        try w.add(p + "rope.freq_base", .float32(Float(c.ropeTheta)))
        try w.add(p + "attention.layer_norm_rms_epsilon", .float32(Float(c.rmsNormEps)))
        try w.add(p + "vocab_size", .uint32(UInt32(c.vocabSize)))
        try w.add(p + "rope.dimension_count", .uint32(UInt32(c.headDim)))
        if c.headDim * c.headCount != c.hiddenSize {
            try w.add(p + "attention.key_length", .uint32(UInt32(c.headDim)))
            try w.add(p + "attention.value_length", .uint32(UInt32(c.headDim)))
        }
        for (k, v) in ropeMetadata { try w.add(k, v) }
        if let window = c.slidingWindow {
            try w.add(p + "attention.sliding_window", .uint32(UInt32(window)))
        } else if c.family == .phi3 {
            try w.add(p + "attention.sliding_window", .uint32(0))  // llama.cpp's phi3: 0 for none
        }
        try w.add("general.file_type", .uint32(fileType(type)))
        if type.isQuantized { try w.add("general.quantization_version", .uint32(2)) }
        for (k, v) in try tokenizerMetadata(source) { try w.add(k, v) }
        if let promptStyle { try w.add(LoRAAdapterWeights.ggufPromptStyleKey, .string(promptStyle)) }

        var summary = GGUFSummary()
        var errorSum = 0.0
        let fourBit: Set<GGMLType> = [.q4_0, .q4_1, .q4_k]
        var requantizedFourBit = false
        func add(_ name: String, _ t: Tensor, heads: Int? = nil, embeddingOrHead: Bool = false) throws {
            let target = storageType(type, shape: t.shape, isEmbeddingOrHead: embeddingOrHead)
            summary.tensorTypes[target.name, default: 0] += 1
            if let stored = GGMLType(t.dtype), stored == target {
                var bytes = try backend.bytes(t)
                if let heads { bytes = try permuteRowBytes(bytes, rows: t.shape[0], heads: heads) }
                try w.addTensor(name: name, shape: t.shape, type: target, bytes: bytes)
                return
            }
            var values = try backend.floats(try LlamaModel.asFloat(t, backend))
            if let heads {
                values = try QKPermutation.permuteForGGUF(
                    weights: values, rows: t.shape[0], cols: t.shape.count > 1 ? t.shape[1] : 1, heads: heads)
            }
            try w.addTensor(name: name, shape: t.shape, floats: values, as: target)
            if target.isQuantized, let data = w.tensors.last?.data {
                let back = try data.withUnsafeBytes { try GGMLDequantize.floats($0, type: target, count: values.count) }
                var num = 0.0, den = 0.0
                for i in values.indices {
                    let d = Double(values[i] - back[i])
                    num += d * d
                    den += Double(values[i]) * Double(values[i])
                }
                let rel = den > 0 ? (num / den).squareRoot() : 0
                summary.requantizedTensors += 1
                errorSum += rel
                if rel > summary.maxRelativeError { (summary.maxRelativeError, summary.maxErrorTensor) = (rel, name) }
                if fourBit.contains(target), let sourceType = try? source.gguf?.tensorInfo(name).type, fourBit.contains(sourceType) {
                    requantizedFourBit = true
                }
            }
        }
        // llama.cpp's converter writes rope_freqs first; norms, biases and these factors are F32.
        if let ropeFactors { try w.addTensor(name: "rope_freqs.weight", shape: [ropeFactors.count], floats: ropeFactors, as: .f32) }
        for (name, f) in ggufLongRopeTensors(c) { try w.addTensor(name: name, shape: [f.count], floats: f, as: .f32) }
        for t in tensors { try add(t.gguf, t.tensor, heads: t.permutedHeads, embeddingOrHead: t.embeddingOrHead) }
        if summary.requantizedTensors > 0 { summary.meanRelativeError = errorSum / Double(summary.requantizedTensors) }
        if requantizedFourBit {
            summary.warning =
                "re-quantizing a 4-bit base to \(type.name) rounds its weights a second time: relative RMS error of the "
                + "re-quantized weights \(ProgressBar.fixed(summary.meanRelativeError, 4)) mean, "
                + "\(ProgressBar.fixed(summary.maxRelativeError, 4)) max (\(summary.maxErrorTensor)); "
                + "export f32, f16 or q8_0 to keep the merged weights closer"
        }
        try w.write(to: path)
        return summary
    }

    /// Q/K rows from the engine's rotate-half order to llama.cpp's, on raw rows of any type.
    static func permuteRowBytes(_ bytes: [UInt8], rows: Int, heads: Int) throws -> [UInt8] {
        guard rows > 0, bytes.count % rows == 0, rows % heads == 0, (rows / heads) % 2 == 0 else {
            throw IFTError.shapeMismatch("Q/K permutation: \(bytes.count) bytes do not split into \(rows) rows of \(heads) heads")
        }
        let rowBytes = bytes.count / rows
        var out = [UInt8](repeating: 0, count: bytes.count)
        for g in 0..<rows {
            let h = QKPermutation.hfRow(forGGUFRow: g, rows: rows, heads: heads)
            out[(g * rowBytes)..<((g + 1) * rowBytes)] = bytes[(h * rowBytes)..<((h + 1) * rowBytes)]
        }
        return out
    }

    /// The `tokenizer.*` metadata of `source`: copied from a GGUF, or built from a Hugging Face
    /// directory's tokenizer (its merges read from `tokenizer.json`).
    static func tokenizerMetadata(_ source: ModelFiles) throws -> [(String, GGUFValue)] {
        if let g = source.gguf {
            return g.metadata.entries.filter { $0.key.hasPrefix("tokenizer.") }.map { ($0.key, $0.value) }
        }
        let t = source.tokenizer
        guard let pre = PreTokenizer.llamaCppNames.sorted(by: { $0.key < $1.key }).first(where: { $0.value.stages == t.preTokenizer.stages })?.key
        else {
            throw IFTError.file(
                path: source.path, location: "tokenizer.json pre_tokenizer",
                message: "no llama.cpp pre-tokenizer name for \(t.preTokenizer.name); cannot describe it in GGUF")
        }
        let path = source.path + "/tokenizer.json"
        let merges = try HFTokenizerFile.merges(of: try JSONValue.parse(contentsOf: path), path: path)
        var out: [(String, GGUFValue)] = [
            ("tokenizer.ggml.model", .string("gpt2")), ("tokenizer.ggml.pre", .string(pre)),
            ("tokenizer.ggml.tokens", .strings(t.tokens)),
            ("tokenizer.ggml.token_type", .int32s(t.tokenTypes.map { Int32($0.rawValue) })),
            ("tokenizer.ggml.merges", .strings(merges.map { $0.0 + " " + $0.1 })),
        ]
        for (key, id) in [("bos", t.bosID), ("eos", t.eosID), ("unknown", t.unknownID), ("padding", t.padID)] {
            if let id { out.append(("tokenizer.ggml.\(key)_token_id", .uint32(UInt32(id)))) }
        }
        out.append(("tokenizer.ggml.add_bos_token", .bool(t.addsBOS)))
        out.append(("tokenizer.ggml.add_eos_token", .bool(t.addsEOS)))
        if let template = t.chatTemplate { out.append(("tokenizer.chat_template", .string(template))) }
        return out
    }
}
