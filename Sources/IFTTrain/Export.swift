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
                let f = try LlamaModel.floatCopy(w, b)
                // W += scale · B[out, r] · A[r, in]
                try b.matmul(
                    adapter.b.value, adapter.a.value, f,
                    MatmulDescriptor(m: w.shape[0], n: w.shape[1], k: lora.rank, alpha: lora.scale, beta: 1))
                merged[p] = f
            }
            // Fused projections (Phi-3) go back to the parts LlamaLayerWeights holds.
            for f in config.family.fusedProjections {
                guard let w = merged[f] else { continue }
                let parts = try LlamaModel.splittingRows(w, f.parts.map { $0.shape(in: config)[0] }, b)
                for (p, t) in zip(f.parts, parts) { merged[p] = t }
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

    /// The trained adapters as data (PEFT's orientation), for writing or attaching elsewhere.
    public func loraAdapterWeights(baseModel: String? = nil, promptStyle: String? = nil) throws -> LoRAAdapterWeights {
        guard let lora else { throw IFTError.invalidArgument("export: full fine-tuning has no LoRA adapter to export") }
        var out: [[Projection: LoRAAdapterWeights.Pair]] = []
        for layer in layers {
            var pairs: [Projection: LoRAAdapterWeights.Pair] = [:]
            for (p, adapter) in layer.adapters {
                pairs[p] = LoRAAdapterWeights.Pair(a: try backend.floats(adapter.a.value), b: try backend.floats(adapter.b.value))
            }
            out.append(pairs)
        }
        return LoRAAdapterWeights(
            rank: lora.rank, alpha: lora.alpha, rsLoRA: lora.rsLoRA, targets: lora.targets, layers: out, source: "trained adapter",
            baseModel: baseModel, promptStyle: promptStyle)
    }

    /// Sets the adapters' A and B to `adapter`'s (to continue training it). Its rank, factor and
    /// targets must be this model's; projections it does not hold keep their fresh initialization.
    public func loadAdapter(_ adapter: LoRAAdapterWeights) throws {
        guard let lora else { throw IFTError.invalidArgument("full fine-tuning has no LoRA adapters to load \(adapter.source) into") }
        try adapter.validate(against: config)
        guard adapter.rank == lora.rank, adapter.scale == lora.scale, Set(try config.family.loraTargets(adapter.targets)) == Set(lora.targets) else {
            throw IFTError.file(
                path: adapter.source, location: "adapter",
                message: "rank \(adapter.rank), factor \(adapter.scale), targets \(adapter.targets.map(\.rawValue)) differ from the model's "
                    + "rank \(lora.rank), factor \(lora.scale), targets \(lora.targets.map(\.rawValue))")
        }
        for (i, pairs) in adapter.layers.enumerated() {
            for (p, pair) in pairs {
                guard let a = layers[i].adapters[p] else { continue }
                try pair.a.withUnsafeBytes { try backend.write(a.a.value, from: $0) }
                try pair.b.withUnsafeBytes { try backend.write(a.b.value, from: $0) }
            }
        }
    }

    /// Writes the adapter as PEFT does (`adapter_model.safetensors` with
    /// `base_model.model.` names and `adapter_config.json`) into `directory`, atomically per file.
    /// `baseModel` is recorded as `base_model_name_or_path`; `ift_gpu.json` beside them records the
    /// prompt style the adapter was trained with (and the mode), which PEFT's files have no place for.
    public func exportPEFTAdapter(to directory: String, baseModel: String, promptStyle: String? = nil) throws {
        guard let lora else { throw IFTError.invalidArgument("export: full fine-tuning has no LoRA adapter to export") }
        try loraAdapterWeights(baseModel: baseModel, promptStyle: promptStyle)
            .writePEFT(to: directory, mode: mode.rawValue, dropout: lora.dropout)
    }
}
