import IFTCore

/// Host side of `Shaders/cast.comp` and `Shaders/dequant_*.comp` (CPU references:
/// `Sources/IFTCPU/Reference/Cast.swift`, `Dequantize.swift`).
extension VulkanBackend {
    static let convertWorkgroup = 256

    private static func floatCode(_ t: DType) -> UInt32 {
        switch t {
        case .f16: return 1
        case .bf16: return 2
        default: return 0
        }
    }

    public func cast(_ a: Tensor, into out: Tensor) throws {
        try OpChecks.backend([a, out], name)
        try OpChecks.cast(a, out)
        let n = a.count
        guard n > 0 else { return }
        let wg = Self.convertWorkgroup
        let pipeline = try device.pipelines.pipeline(
            "cast", bindings: 2, constants: [UInt32(wg), Self.floatCode(a.dtype), Self.floatCode(out.dtype)])
        // Chunks of a multiple of 128 elements keep both bindings 256-byte aligned.
        let widest = max(a.dtype.blockBytes, out.dtype.blockBytes)
        let chunk = max(128, maxBindingBytes / widest / 128 * 128)
        var start = 0
        while start < n {
            let len = min(chunk, n - start)
            try recorder.dispatch(
                pipeline,
                bindings: [
                    try binding(a, byteOffset: start * a.dtype.blockBytes, byteCount: len * a.dtype.blockBytes),
                    try binding(out, byteOffset: start * out.dtype.blockBytes, byteCount: len * out.dtype.blockBytes),
                ], writes: [1], push: [UInt32(len)], groups: (gridGroups((len + 1) / 2, wg), 1, 1))
            start += len
        }
    }

    public func dequantize(_ q: Tensor, into out: Tensor) throws {
        try OpChecks.backend([q, out], name)
        try OpChecks.dequantize(q, out)
        let blocks = q.count / q.dtype.blockSize
        guard blocks > 0 else { return }
        let wg = Self.convertWorkgroup
        let pipeline = try device.pipelines.pipeline("dequant_\(q.dtype.rawValue)", bindings: 2, constants: [UInt32(wg)])
        let bs = q.dtype.blockSize
        // Chunks of a multiple of 256 blocks keep both bindings 256-byte aligned.
        let perBlock = max(q.dtype.blockBytes, bs * 4)
        let chunk = max(256, maxBindingBytes / perBlock / 256 * 256)
        var start = 0
        while start < blocks {
            let len = min(chunk, blocks - start)
            try recorder.dispatch(
                pipeline,
                bindings: [
                    try binding(q, byteOffset: start * q.dtype.blockBytes, byteCount: len * q.dtype.blockBytes),
                    try binding(out, byteOffset: start * bs * 4, byteCount: len * bs * 4),
                ], writes: [1], push: [UInt32(len)], groups: (gridGroups(len * bs, wg), 1, 1))
            start += len
        }
    }
}
