import IFTCore

extension CPUBackend {
    /// Same conversions as `Reference.cast` (bit for bit), with a dense loop per dtype pair.
    public func cast(_ a: Tensor, into out: Tensor) throws {
        try OpChecks.backend([a, out], name)
        try OpChecks.cast(a, out)
        let src = try HostTensors.storage(a, name).data
        let dst = try HostTensors.storage(out, name).data
        let n = a.count
        guard n > 0 else { return }
        if a.dtype == out.dtype {
            if src != dst { dst.copyMemory(from: src, byteCount: a.byteCount) }
            return
        }
        let from = a.dtype, to = out.dtype
        Parallel.forChunks(n, grain: Self.elementwiseGrain) { r in
            switch (from, to) {
            case (.f32, .f16), (.f32, .bf16):
                let x = src.bindMemory(to: Float.self, capacity: n)
                let y = dst.bindMemory(to: UInt16.self, capacity: n)
                if to == .f16 {
                    for i in r { y[i] = HalfFloat.floatToF16(x[i]) }
                } else {
                    for i in r { y[i] = HalfFloat.floatToBF16(x[i]) }
                }
            case (.f16, .f32), (.bf16, .f32):
                let x = src.bindMemory(to: UInt16.self, capacity: n)
                let y = dst.bindMemory(to: Float.self, capacity: n)
                if from == .f16 {
                    for i in r { y[i] = HalfFloat.f16ToFloat(x[i]) }
                } else {
                    for i in r { y[i] = HalfFloat.bf16ToFloat(x[i]) }
                }
            case (.f16, .bf16):
                let x = src.bindMemory(to: UInt16.self, capacity: n)
                let y = dst.bindMemory(to: UInt16.self, capacity: n)
                for i in r { y[i] = HalfFloat.floatToBF16(HalfFloat.f16ToFloat(x[i])) }
            case (.bf16, .f16):
                let x = src.bindMemory(to: UInt16.self, capacity: n)
                let y = dst.bindMemory(to: UInt16.self, capacity: n)
                for i in r { y[i] = HalfFloat.floatToF16(HalfFloat.bf16ToFloat(x[i])) }
            default:
                // Unreachable after OpChecks.cast; the reference loop covers any other pair.
                for i in r { Reference.storeFloat(to, dst, i, Reference.loadFloat(from, src, i)) }
            }
        }
    }

    /// `Reference`'s per-block dequantizers, run over chunks of blocks in parallel (bit-identical
    /// to `cpu-ref`).
    public func dequantize(_ q: Tensor, into out: Tensor) throws {
        try OpChecks.backend([q, out], name)
        try OpChecks.dequantize(q, out)
        let src = UnsafeRawPointer(try HostTensors.storage(q, name).data)
        let dst = try HostTensors.floatPointer(out, name)
        let dtype = q.dtype
        let bs = dtype.blockSize, bb = dtype.blockBytes
        let blocks = q.count / bs
        Parallel.forChunks(blocks, grain: max(1, Self.elementwiseGrain / 4 / bs)) { r in
            switch dtype {
            case .q8_0: for i in r { Reference.dequantizeQ8_0(src + i * bb, into: dst + i * bs) }
            case .q4_0: for i in r { Reference.dequantizeQ4_0(src + i * bb, into: dst + i * bs) }
            case .q4_1: for i in r { Reference.dequantizeQ4_1(src + i * bb, into: dst + i * bs) }
            case .q4_k: for i in r { Reference.dequantizeQ4_K(src + i * bb, into: dst + i * bs) }
            case .nf4: for i in r { Reference.dequantizeNF4(src + i * bb, into: dst + i * bs) }
            case .f32, .f16, .bf16, .i32: break
            }
        }
    }
}
