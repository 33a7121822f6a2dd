import IFTCore

/// Host side of `Shaders/matmul.comp` (CPU reference: `Sources/IFTCPU/Reference/Matmul.swift`).
extension VulkanBackend {
    /// Tile configuration passed as specialization constants: workgroup size and the BM x BN output
    /// tile of a workgroup with BK-deep shared-memory slabs.
    struct MatmulTiles {
        var workgroup = 256
        var bm = 64
        var bn = 64
        var bk = 16
    }

    var matmulTiles: MatmulTiles { MatmulTiles() }

    public func matmul(_ a: Tensor, _ b: Tensor, _ c: Tensor, _ d: MatmulDescriptor) throws {
        try OpChecks.backend([a, b, c], name)
        try OpChecks.matmul(a, b, c, d)
        guard d.m > 0, d.n > 0, d.batch > 0 else { return }
        let tiles = matmulTiles
        let pipeline = try device.pipelines.pipeline(
            "matmul", bindings: 3,
            constants: [
                UInt32(tiles.workgroup), d.transposeA ? 1 : 0, d.transposeB ? 1 : 0, UInt32(tiles.bm),
                UInt32(tiles.bn), UInt32(tiles.bk),
            ])
        let maxElems = maxBindingBytes / 4
        if d.extentA <= maxElems, d.extentB <= maxElems, d.extentC <= maxElems {
            try dispatchMatmul(pipeline, tiles, a, b, c, d)
            return
        }
        // A tensor is larger than one binding may be (lavapipe: 128 MiB): run each batch entry and
        // row band of C on its own, binding only the ranges it touches.
        let rowBytes = max(d.ldc, d.transposeA ? 1 : d.lda) * 4
        let rowsPerChunk = max(1, (maxBindingBytes - 4096) / rowBytes)
        for batch in 0..<d.batch {
            var m0 = 0
            while m0 < d.m {
                let mc = min(rowsPerChunk, d.m - m0)
                var sub = d
                sub.batch = 1
                sub.m = mc
                sub.offsetA = d.offsetA + batch * d.strideA + (d.transposeA ? m0 : m0 * d.lda)
                sub.offsetB = d.offsetB + batch * d.strideB
                sub.offsetC = d.offsetC + batch * d.strideC + m0 * d.ldc
                try dispatchMatmul(pipeline, tiles, a, b, c, sub)
                m0 += mc
            }
        }
    }

    /// One dispatch, binding each operand from (an aligned point at or before) its first element.
    private func dispatchMatmul(
        _ pipeline: Pipeline, _ tiles: MatmulTiles, _ a: Tensor, _ b: Tensor, _ c: Tensor, _ d: MatmulDescriptor
    ) throws {
        let align = max(4, info.minStorageBufferOffsetAlignment) / 4  // in elements
        func bind(_ t: Tensor, offset: Int, extent: Int) throws -> (BufferBinding, Int) {
            let start = offset / align * align
            return (try binding(t, byteOffset: start * 4, byteCount: (extent - start) * 4), offset - start)
        }
        let (ba, oa) = try bind(a, offset: d.offsetA, extent: d.extentA)
        let (bb, ob) = try bind(b, offset: d.offsetB, extent: d.extentB)
        let (bc, oc) = try bind(c, offset: d.offsetC, extent: d.extentC)
        let push: [UInt32] = [
            UInt32(d.m), UInt32(d.n), UInt32(d.k), UInt32(d.lda), UInt32(d.ldb), UInt32(d.ldc),
            UInt32(d.strideA), UInt32(d.strideB), UInt32(d.strideC), UInt32(oa), UInt32(ob), UInt32(oc),
            d.alpha.word, d.beta.word,
        ]
        let groups = ((d.n + tiles.bn - 1) / tiles.bn, (d.m + tiles.bm - 1) / tiles.bm, d.batch)
        try recorder.dispatch(pipeline, bindings: [ba, bb, bc], writes: [2], push: push, groups: groups)
    }
}
