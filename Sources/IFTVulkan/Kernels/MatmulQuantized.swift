import IFTCore

/// Host side of `Shaders/matmul_q.comp` (CPU reference: `Sources/IFTCPU/Reference/MatmulQuantized.swift`).
extension VulkanBackend {
    static let matmulQuantizedWorkgroup = 64
    /// Above this many rows of x, `matmulQuantized` dequantizes the weight into a temporary and
    /// runs `matmul` (when the weight fits one binding); up to it, `matmul_q` reads the blocks.
    static let matmulQuantizedMaxRows = 16

    private static func quantCode(_ t: DType) -> UInt32? {
        switch t {
        case .q8_0: return 0
        case .q4_0: return 1
        case .q4_1: return 2
        case .q4_k: return 3
        case .nf4: return 4
        default: return nil
        }
    }

    /// Rows of x per invocation: the smallest power of two covering m, at most 8.
    static func matmulQuantizedRows(_ m: Int) -> Int {
        var t = 1
        while t < m, t < 8 { t *= 2 }
        return t
    }

    /// `y = alpha * x · dequant(w)ᵀ + beta * y`, reading w's blocks directly. Weights larger than one
    /// binding are split into bands of rows (columns of y), x and y into bands of rows.
    public func matmulQuantized(_ x: Tensor, _ w: Tensor, _ y: Tensor, _ d: MatmulDescriptor) throws {
        try OpChecks.backend([x, w, y], name)
        try OpChecks.matmulQuantized(x, w, y, d)
        guard d.m > 0, d.n > 0, let code = Self.quantCode(w.dtype) else { return }
        if d.m > Self.matmulQuantizedMaxRows, d.n * d.k * 4 <= maxBindingBytes {
            // Many rows of x (prefill): dequantizing once into a temporary f32 matrix and running the
            // register-tiled matmul reuses each weight across rows better than matmul_q (which
            // dequantizes every block once per TM rows). The temporary lives until the GPU is done.
            let wf = try makeTensor(shape: [d.n, d.k], dtype: .f32)
            try dequantize(w, into: wf)
            try matmul(x, wf, y, d)
            return
        }
        let rowBytes = d.k / w.dtype.blockSize * w.dtype.blockBytes
        let align = max(4, info.minStorageBufferOffsetAlignment)
        let maxBytes = maxBindingBytes - 2 * align
        guard rowBytes <= maxBytes, d.lda * 4 <= maxBytes / 2, d.ldc * 4 <= maxBytes / 2 else {
            throw IFTError.invalidArgument("matmulQuantized: a row of k = \(d.k) is larger than one Vulkan binding")
        }
        let rowsN = max(1, min(d.n, maxBytes / max(1, rowBytes), 65535 * Self.matmulQuantizedWorkgroup))
        let rowsM = max(1, min(d.m, maxBytes / 4 / max(d.lda, d.ldc) - 1, 65535))
        var n0 = 0
        while n0 < d.n {
            let nc = min(rowsN, d.n - n0)
            var m0 = 0
            while m0 < d.m {
                let mc = min(rowsM, d.m - m0)
                var sub = d
                sub.m = mc
                sub.n = nc
                sub.offsetA = d.offsetA + m0 * d.lda
                sub.offsetC = d.offsetC + m0 * d.ldc + n0
                try dispatchMatmulQuantized(x, w, y, sub, code: code, wByte: n0 * rowBytes, wBytes: nc * rowBytes)
                m0 += mc
            }
            n0 += nc
        }
    }

    private func dispatchMatmulQuantized(
        _ x: Tensor, _ w: Tensor, _ y: Tensor, _ d: MatmulDescriptor, code: UInt32, wByte: Int, wBytes: Int
    ) throws {
        let align = max(4, info.minStorageBufferOffsetAlignment)
        func floatBinding(_ t: Tensor, offset: Int, extent: Int) throws -> (BufferBinding, Int) {
            let a = max(16, align)  // a 16-byte boundary keeps matmul_q's vec4 reads of x aligned
            let start = offset * 4 / a * a / 4
            return (try binding(t, byteOffset: start * 4, byteCount: (extent - start) * 4), offset - start)
        }
        let (bx, ox) = try floatBinding(x, offset: d.offsetA, extent: d.extentA)
        let (by, oy) = try floatBinding(y, offset: d.offsetC, extent: d.extentC)
        let wStart = wByte / align * align
        let bw = try binding(w, byteOffset: wStart, byteCount: wByte + wBytes - wStart)
        let tm = Self.matmulQuantizedRows(d.m)
        let wg = Self.matmulQuantizedWorkgroup
        let vecX = w.dtype == .q4_1 && ox % 4 == 0 && d.lda % 4 == 0 && (wByte - wStart) % 4 == 0
        let pipeline = try device.pipelines.pipeline(
            "matmul_q", bindings: 3, constants: [UInt32(wg), code, UInt32(tm), vecX ? 1 : 0])
        let push: [UInt32] = [
            UInt32(d.m), UInt32(d.n), UInt32(d.k), UInt32(d.lda), UInt32(d.ldc), UInt32(ox), UInt32(oy),
            UInt32(wByte - wStart), d.alpha.word, d.beta.word,
        ]
        let groups = ((d.n + wg - 1) / wg, (d.m + tm - 1) / tm, 1)
        try recorder.dispatch(pipeline, bindings: [bx, bw, by], writes: [2], push: push, groups: groups)
    }
}
