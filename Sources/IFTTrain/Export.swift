import IFTCore
import IFTModel

/// Turning a trained model back into something to run or ship: merged inference weights, and the
/// LoRA adapter in PEFT's format.
extension TrainableLlama {
    /// Weights for `LlamaModel` with every adapter merged (`W + scale · B · A`, in f32) and full
    /// fine-tuned weights as they are. Frozen weights are shared, not copied.
    public func mergedWeights() throws -> LlamaWeights {
        let b = backend
        var out: [LlamaLayerWeights] = []
        for layer in layers {
            var merged: [Projection: Tensor] = [:]
            for (p, w) in layer.weights {
                guard let adapter = layer.adapters[p], let lora else { merged[p] = w; continue }
                let f = try b.makeTensor(shape: w.shape, dtype: .f32)
                if w.dtype == .f32 {
                    try b.copy(w, into: f, CopyDescriptor(rows: 1, cols: w.count))
                } else if w.dtype.isQuantized {
                    try b.dequantize(w, into: f)
                } else {
                    try b.cast(w, into: f)
                }
                // W += scale · B[out, r] · A[r, in]
                try b.matmul(
                    adapter.b.value, adapter.a.value, f,
                    MatmulDescriptor(m: w.shape[0], n: w.shape[1], k: lora.rank, alpha: lora.scale, beta: 1))
                merged[p] = f
            }
            out.append(
                LlamaLayerWeights(
                    attentionNorm: layer.attentionNorm, query: merged[.q]!, key: merged[.k]!, value: merged[.v]!,
                    output: merged[.o]!, feedForwardNorm: layer.feedForwardNorm, gate: merged[.gate]!, up: merged[.up]!,
                    down: merged[.down]!, queryBias: layer.biases[.q], keyBias: layer.biases[.k], valueBias: layer.biases[.v],
                    outputBias: layer.biases[.o], queryNorm: layer.queryNorm, keyNorm: layer.keyNorm))
        }
        // An untied model keeps its separate head; a tied one reads the (possibly trained) embedding.
        return LlamaWeights(tokenEmbedding: embedding, layers: out, outputNorm: outputNorm, output: hasSeparateHead ? head : nil)
    }

    /// An inference model with the adapters merged.
    public func inferenceModel(maxPositions: Int? = nil) throws -> LlamaModel {
        try LlamaModel(config: config, weights: try mergedWeights(), backend: backend, maxPositions: maxPositions ?? self.maxPositions)
    }

    /// Writes the adapter as PEFT does (`adapter_model.safetensors` with
    /// `base_model.model.` names and `adapter_config.json`) into `directory`, atomically per file.
    /// `baseModel` is recorded as `base_model_name_or_path`; `ift_gpu.json` beside them records the
    /// prompt style the adapter was trained with (and the mode), which PEFT's files have no place for.
    public func exportPEFTAdapter(to directory: String, baseModel: String, promptStyle: String? = nil) throws {
        guard let lora else { throw IFTError.invalidArgument("export: full fine-tuning has no LoRA adapter to export") }
        var w = SafetensorsWriter()
        w.metadata = [("format", "pt")]
        for p in parameters where p.name.contains(".lora_") {
            try w.addTensor(name: "base_model.model." + p.name, shape: p.value.shape, floats: try backend.floats(p.value))
        }
        var c = JSONObject()
        c["peft_type"] = .string("LORA")
        c["task_type"] = .string("CAUSAL_LM")
        c["base_model_name_or_path"] = .string(baseModel)
        c["r"] = .int(lora.rank)
        c["lora_alpha"] = .double(Double(lora.alpha))
        c["lora_dropout"] = .double(Double(lora.dropout))
        c["use_rslora"] = .bool(lora.rsLoRA)
        c["target_modules"] = .array(lora.targets.map { .string($0.rawValue) })
        c["bias"] = .string("none")
        c["fan_in_fan_out"] = .bool(false)
        c["inference_mode"] = .bool(true)
        var text = ""
        JSONValue.object(c).write(to: &text)
        try FileSystem.makeDirectories(directory)
        try AtomicFileWriter.write(to: directory + "/adapter_model.safetensors") { try $0.write(w.serialized()) }
        try AtomicFileWriter.write(to: directory + "/adapter_config.json") { try $0.write(Array((text + "\n").utf8)) }
        var info = JSONObject()
        info["base_model"] = .string(baseModel)
        info["mode"] = .string(mode.rawValue)
        info["prompt_style"] = promptStyle.map { .string($0) } ?? .null
        var infoText = ""
        JSONValue.object(info).write(to: &infoText)
        try AtomicFileWriter.write(to: directory + "/ift_gpu.json") { try $0.write(Array((infoText + "\n").utf8)) }
    }
}
