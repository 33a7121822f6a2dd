import IFTCore
import IFTModel

/// Where the families differ from Llama's block in training (see `ModelFamily`): projection biases
/// (Qwen2; frozen under LoRA/QLoRA as PEFT's `bias="none"`, trained in full fine-tuning, gradients
/// in `Linear.swift`) and Qwen3's per-head Q/K RMSNorm before RoPE, whose forward and backward are
/// the ordinary `rmsNorm` / `rmsNormBackward` on a `[tokens * heads, headDim]` view.
extension TrainableLlama {
    /// Takes the biases and Q/K norm weights of `lw` into `layer`; in full fine-tuning they become
    /// parameters (`model.layers.N.self_attn.q_proj.bias`, `...q_norm.weight`; no weight decay).
    static func addFamilyParts(
        _ lw: LlamaLayerWeights, to layer: inout Layer, prefix: String, mode: TrainingMode, params: inout [Parameter],
        backend b: any Backend
    ) throws {
        let biases: [(Projection, Tensor?)] = [(.q, lw.queryBias), (.k, lw.keyBias), (.v, lw.valueBias), (.o, lw.outputBias)]
        for case let (p, bias?) in biases {
            let f = try LlamaModel.asFloat(bias, b)
            layer.biases[p] = f
            if mode == .full {
                let param = try Parameter(name: prefix + p.modulePath + ".bias", value: f, decays: false, backend: b)
                layer.biasParameters[p] = param
                params.append(param)
            }
        }
        if let w = lw.queryNorm {
            let f = try LlamaModel.asFloat(w, b)
            layer.queryNorm = f
            if mode == .full {
                layer.queryNormParameter = try Parameter(name: prefix + "self_attn.q_norm.weight", value: f, decays: false, backend: b)
                params.append(layer.queryNormParameter!)
            }
        }
        if let w = lw.keyNorm {
            let f = try LlamaModel.asFloat(w, b)
            layer.keyNorm = f
            if mode == .full {
                layer.keyNormParameter = try Parameter(name: prefix + "self_attn.k_norm.weight", value: f, decays: false, backend: b)
                params.append(layer.keyNormParameter!)
            }
        }
    }

    /// `[tokens * heads, headDim]` view of `t` from element 0.
    private func heads(_ t: Tensor, _ count: Int, _ tokens: Int) -> Tensor {
        view(t, [tokens * count, config.headDim])
    }

    /// Where the Q and K projections of layer `l` write: `q`/`k` themselves, or (Q/K norms) the
    /// pre-norm copies kept for the backward.
    func headNormInputs(layer l: Int, q: Tensor, k: Tensor, tokens n: Int) -> (Tensor, Tensor) {
        guard let a = activations, !a.qRaw.isEmpty else { return (q, k) }
        let c = config
        return (view(a.qRaw[l], [n, c.headCount * c.headDim]), view(a.kRaw[l], [n, c.kvHeadCount * c.headDim]))
    }

    /// Qwen3: `q = rmsNorm(qRaw) * q_norm` per head (and k likewise); nothing for other families.
    func headNormForward(layer l: Int, q: Tensor, k: Tensor, tokens n: Int) throws {
        guard let a = activations, !a.qRaw.isEmpty, let qw = layers[l].queryNorm, let kw = layers[l].keyNorm else { return }
        let c = config, eps = Float(c.rmsNormEps)
        try backend.rmsNorm(heads(a.qRaw[l], c.headCount, n), weight: qw, eps: eps, into: heads(q, c.headCount, n))
        try backend.rmsNorm(heads(a.kRaw[l], c.kvHeadCount, n), weight: kw, eps: eps, into: heads(k, c.kvHeadCount, n))
    }

    /// The gradients of the Q and K projections' outputs from those of the normalized `dq`, `dk`
    /// (both before RoPE): through the per-head RMSNorm for Qwen3 (accumulating the norm weights'
    /// gradients in full fine-tuning), else `dq` and `dk` themselves.
    func headNormBackward(layer l: Int, dq: Tensor, dk: Tensor, tokens n: Int) throws -> (Tensor, Tensor) {
        guard let a = activations, !a.qRaw.isEmpty, let qw = layers[l].queryNorm, let kw = layers[l].keyNorm else { return (dq, dk) }
        let c = config, eps = Float(c.rmsNormEps)
        try backend.rmsNormBackward(
            x: heads(a.qRaw[l], c.headCount, n), weight: qw, dy: heads(dq, c.headCount, n), eps: eps,
            dx: heads(a.dqRaw, c.headCount, n), dweight: layers[l].queryNormParameter?.grad)
        try backend.rmsNormBackward(
            x: heads(a.kRaw[l], c.kvHeadCount, n), weight: kw, dy: heads(dk, c.kvHeadCount, n), eps: eps,
            dx: heads(a.dkRaw, c.kvHeadCount, n), dweight: layers[l].keyNormParameter?.grad)
        return (view(a.dqRaw, [n, c.headCount * c.headDim]), view(a.dkRaw, [n, c.kvHeadCount * c.headDim]))
    }
}
