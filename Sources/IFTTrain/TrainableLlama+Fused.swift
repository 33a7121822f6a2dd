import IFTCore
import IFTModel

/// Fused projections in training (Phi-3's `qkv_proj` and `gate_up_proj`; any projection whose
/// output rows are named blocks, `Projection.parts`): the layer holds ONE weight `[sum of parts,
/// in]` — one parameter in full fine-tuning, one LoRA adapter (A `[r, in]`, B `[sum, r]`) as PEFT
/// puts on the fused module — and projects into the activations' fused scratch `[n, sum]`, whose
/// column blocks are then copied out to the parts' activations (q, k, v; gate, up). The backward
/// copies the parts' gradients into the fused scratch and runs one projection backward.
extension TrainableLlama {
    /// The projections a layer trains, by module: the family's (`ModelFamily.projections`), fused
    /// ones stacked from their parts in `lw`.
    static func trainedProjections(_ lw: LlamaLayerWeights, family: ModelFamily, backend b: any Backend) throws -> [Projection: Tensor] {
        var out: [Projection: Tensor] = [:]
        for p in family.projections {
            out[p] = p.isFused ? try LlamaModel.concatenatingRows(p.parts.map { lw[$0] }, b) : lw[p]
        }
        return out
    }

    /// The fused projection layer `l` holds for exactly `parts`, if any.
    private func fusedProjection(layer l: Int, _ parts: [Projection]) -> Projection? {
        layers[l].weights.keys.first { $0.isFused && $0.parts == parts }
    }

    /// The fused scratch viewed `[n, width]`, checked against the fused weight's rows.
    private func fusedScratch(_ f: Projection, layer l: Int, tokens n: Int, width: Int) throws -> Tensor {
        guard let acts = activations, let w = layers[l].weights[f], w.shape[0] == width else {
            throw IFTError.shapeMismatch("training step: \(f.rawValue) of layer \(l) does not hold \(width) output rows")
        }
        return view(acts.fused, [n, width])
    }

    /// `y_i = x · W_iᵀ (+ adapters)` for projections sharing the input `x` (`outputs`: each part
    /// with its `[n, width]` output; Q/K/V or gate/up): one projection each, or one fused projection
    /// whose column blocks are copied out to the outputs.
    func projectForward(_ x: Tensor, layer l: Int, _ outputs: [(Projection, Tensor)], tokens n: Int, seed: UInt64) throws {
        guard let f = fusedProjection(layer: l, outputs.map(\.0)) else {
            for (p, y) in outputs { try projectForward(x, layer: l, p, into: y, tokens: n, accumulate: false, seed: seed) }
            return
        }
        let width = outputs.reduce(0) { $0 + $1.1.shape[1] }
        let fused = try fusedScratch(f, layer: l, tokens: n, width: width)
        try projectForward(x, layer: l, f, into: fused, tokens: n, accumulate: false, seed: seed)
        var column = 0
        for (_, y) in outputs {
            let cols = y.shape[1]
            try backend.copy(fused, into: y, CopyDescriptor(rows: n, cols: cols, srcOffset: column, srcRowStride: width))
            column += cols
        }
    }

    /// Backward of the shared-input `projectForward` for the parts' output gradients `gradients`:
    /// accumulates the weight or adapter gradients and writes `dx` (unless nil).
    func projectBackward(
        _ x: Tensor, layer l: Int, _ gradients: [(Projection, Tensor)], inputGradient dx: Tensor?, tokens n: Int, seed: UInt64
    ) throws {
        guard let f = fusedProjection(layer: l, gradients.map(\.0)) else {
            for (i, (p, dy)) in gradients.enumerated() {
                try projectBackward(x, layer: l, p, dy: dy, inputGradient: dx, tokens: n, accumulateInput: i > 0, seed: seed)
            }
            return
        }
        let width = gradients.reduce(0) { $0 + $1.1.shape[1] }
        let fused = try fusedScratch(f, layer: l, tokens: n, width: width)
        var column = 0
        for (_, dy) in gradients {
            let cols = dy.shape[1]
            try backend.copy(dy, into: fused, CopyDescriptor(rows: n, cols: cols, dstOffset: column, dstRowStride: width))
            column += cols
        }
        try projectBackward(x, layer: l, f, dy: fused, inputGradient: dx, tokens: n, accumulateInput: false, seed: seed)
    }
}
