#if canImport(Glibc)
import Glibc
#endif
import IFTCore

/// Split-K for the tiled matmul on GPUs: a product with few output tiles and a long K (LoRA's and
/// full fine-tuning's weight gradients, e.g. dA = dXAᵀ · X with m = rank, k = tokens) would keep a
/// handful of workgroups busy on a GPU with a hundred-odd multiprocessors. Instead, K is cut into
/// `parts` ranges, each range's product goes to a dense partial matrix (one batched dispatch of
/// `matmul.comp`, alpha applied, beta 0), and `Shaders/matmul_splitk_reduce.comp` sums the partials
/// in order into C (plus beta * C). Deterministic; the summation order differs from cpu-ref's only
/// as a sum of K-range sums. `IFT_MATMUL_SPLITK=0` turns it off (measurements).
extension VulkanBackend {
    /// How many K ranges `d` is cut into (1: no split). Only single products on the tiled kernel;
    /// splits when the output has fewer than 64 tiles and K is at least 1024, into ranges of at least
    /// 256 and at most 32 of them, aiming at about 128 workgroups.
    func splitKParts(_ d: MatmulDescriptor, _ tiles: MatmulTiles) -> Int {
        if let env = getenv("IFT_MATMUL_SPLITK"), String(cString: env) == "0" { return 1 }
        guard d.batch == 1, d.k >= 1024 else { return 1 }
        let outputTiles = ((d.m + tiles.bm - 1) / tiles.bm) * ((d.n + tiles.bn - 1) / tiles.bn)
        guard outputTiles < 64 else { return 1 }
        let parts = min(32, d.k / 256, max(2, 128 / outputTiles))
        guard parts >= 2, parts * d.m * d.n * 4 <= maxBindingBytes else { return 1 }
        return parts
    }

    /// `d` (batch 1) as `parts` K-range products into a partial buffer, then their in-order sum into C.
    func dispatchSplitK(
        _ tiles: MatmulTiles, _ a: Tensor, _ b: Tensor, _ c: Tensor, _ d: MatmulDescriptor, parts: Int,
        tiled: (MatmulDescriptor, Tensor) throws -> Void
    ) throws {
        // Ranges of kc (a multiple of the tile depth); the last one takes the remainder.
        var kc = (d.k + parts - 1) / parts
        kc = (kc + tiles.bk - 1) / tiles.bk * tiles.bk
        let full = d.k / kc, rest = d.k - full * kc
        let count = full + (rest > 0 ? 1 : 0)
        let partial = try makeTensor(shape: [count, d.m, d.n], dtype: .f32)
        // A's K axis: rows when transposed (A stored k x m), columns otherwise; B's: columns when
        // transposed (B stored n x k), rows otherwise.
        let stepA = d.transposeA ? kc * d.lda : kc
        let stepB = d.transposeB ? kc : kc * d.ldb
        var p = d
        p.k = kc
        p.batch = full
        p.strideA = stepA
        p.strideB = stepB
        p.ldc = d.n
        p.strideC = d.m * d.n
        p.offsetC = 0
        p.beta = 0
        if full > 0 { try tiled(p, partial) }
        if rest > 0 {
            var r = p
            r.batch = 1
            r.k = rest
            r.offsetA = d.offsetA + full * stepA
            r.offsetB = d.offsetB + full * stepB
            r.offsetC = full * d.m * d.n
            try tiled(r, partial)
        }
        let pipeline = try device.pipelines.pipeline(
            "matmul_splitk_reduce", bindings: 2, constants: [UInt32(Self.elementwiseWorkgroup)])
        let pc = try binding(partial)
        let align = max(max(4, info.minStorageBufferOffsetAlignment) / 4, 1)
        let start = d.offsetC / align * align
        let bc = try binding(c, byteOffset: start * 4, byteCount: (d.extentC - start) * 4)
        let push: [UInt32] = [UInt32(d.m), UInt32(d.n), UInt32(count), UInt32(d.ldc), UInt32(d.offsetC - start), d.beta.word]
        try recorder.dispatch(
            pipeline, bindings: [pc, bc], writes: [1], push: push, groups: (gridGroups(d.m * d.n, Self.elementwiseWorkgroup), 1, 1))
    }
}
