import IFTCore

/// Host sides of `Shaders/adamw.comp` and `Shaders/sum_of_squares.comp` (CPU references:
/// `Sources/IFTCPU/Reference/AdamW.swift` and `SumOfSquares.swift`).
extension VulkanBackend {
    public func adamw(params: Tensor, grads: Tensor, m: Tensor, v: Tensor, _ h: AdamWParameters) throws {
        try OpChecks.backend([params, grads, m, v], name)
        try OpChecks.adamw(params, grads, m, v, h)
        try dispatchElementwise("adamw", [params, grads, m, v], writes: [0, 2, 3], push: h.constants.words.map(\.word))
    }

    /// Workgroups of the first (partial-sum) pass of `sumOfSquares`, and of the final pass's input.
    static let sumOfSquaresMaxGroups = 1024

    /// Two passes per binding-sized chunk: per-workgroup partial sums into a scratch tensor, then
    /// one workgroup adds them (in a fixed tree order) to `out`. Deterministic, no atomics.
    public func sumOfSquares(_ x: Tensor, into out: Tensor, accumulate: Bool) throws {
        try OpChecks.backend([x, out], name)
        try OpChecks.sumOfSquares(x, out)
        let n = x.count
        let wg = 256
        let partialPipeline = try device.pipelines.pipeline("sum_of_squares", bindings: 2, constants: [UInt32(wg), 0])
        let finalPipeline = try device.pipelines.pipeline("sum_of_squares", bindings: 2, constants: [UInt32(wg), 1])
        let outBinding = try binding(out)
        guard n > 0 else {
            if !accumulate {
                // Sum of nothing: the final pass over one zeroed partial writes 0.
                let zero = try makeTensor(shape: [1], dtype: .f32)
                try recorder.dispatch(finalPipeline, bindings: [try binding(zero), outBinding], writes: [1], push: [1, 0], groups: (1, 1, 1))
            }
            return
        }
        let chunk = max(64, maxBindingBytes / 4 / 64 * 64)
        var start = 0
        while start < n {
            let len = min(chunk, n - start)
            let groups = min(gridGroups(len, wg), Self.sumOfSquaresMaxGroups)
            let scratch = try makeTensor(shape: [groups], dtype: .f32)
            let scratchBinding = try binding(scratch)
            try recorder.dispatch(
                partialPipeline, bindings: [try binding(x, byteOffset: start * 4, byteCount: len * 4), scratchBinding], writes: [1],
                push: [UInt32(len), 0], groups: (groups, 1, 1))
            let acc: UInt32 = (accumulate || start > 0) ? 1 : 0
            try recorder.dispatch(
                finalPipeline, bindings: [scratchBinding, outBinding], writes: [1], push: [UInt32(groups), acc], groups: (1, 1, 1))
            start += len
        }
    }
}
