import CBLAS
import IFTCore

extension CPUBackend {
    /// Rows of x up to which `matmulQuantized` runs threaded dot products (each weight row
    /// dequantized once into a per-chunk scratch row); above it, bands of weight rows are dequantized
    /// into a scratch matrix and multiplied with `cblas_sgemm`.
    static let quantizedDotRows = 16

    /// `y = alpha * x · dequant(w)ᵀ + beta * y` without dequantizing the whole weight: the
    /// dequantized values are bit-identical to `dequantize`'s, only the summation order differs
    /// from `cpu-ref`.
    public func matmulQuantized(_ x: Tensor, _ w: Tensor, _ y: Tensor, _ d: MatmulDescriptor) throws {
        try OpChecks.backend([x, w, y], name)
        try OpChecks.matmulQuantized(x, w, y, d)
        guard d.m > 0, d.n > 0 else { return }
        let px = UnsafePointer(try HostTensors.floatPointer(x, name)) + d.offsetA
        let py = try HostTensors.floatPointer(y, name) + d.offsetC
        let pw = UnsafeRawPointer(try HostTensors.storage(w, name).data)
        let dtype = w.dtype
        let (m, n, k) = (d.m, d.n, d.k)
        let bs = dtype.blockSize, bb = dtype.blockBytes
        let blocksPerRow = k / bs, rowBytes = blocksPerRow * bb
        let (alpha, beta, lda, ldc) = (d.alpha, d.beta, d.lda, d.ldc)

        if m <= Self.quantizedDotRows || k == 0 {
            Parallel.forChunks(n, grain: max(1, 8192 / max(1, k * m))) { r in
                let row = UnsafeMutablePointer<Float>.allocate(capacity: max(1, k))
                defer { row.deallocate() }
                for j in r {
                    let src = pw + j * rowBytes
                    for b in 0..<blocksPerRow { Reference.dequantizeBlock(dtype, src + b * bb, into: row + b * bs) }
                    for i in 0..<m {
                        let acc = Self.dot(px + i * lda, UnsafePointer(row), k)
                        let yi = py + i * ldc + j
                        yi.pointee = beta == 0 ? alpha * acc : alpha * acc + beta * yi.pointee
                    }
                }
            }
            return
        }
        let limit = Int(Int32.max)
        guard m <= limit, n <= limit, k <= limit, lda <= limit, ldc <= limit else {
            throw IFTError.invalidArgument("matmulQuantized: m=\(m) n=\(n) k=\(k) exceed OpenBLAS's 32-bit integer interface")
        }
        // Bands of about 4 MiB of dequantized weights.
        let band = max(1, min(n, (1 << 20) / k))
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: band * k)
        defer { scratch.deallocate() }
        var j0 = 0
        while j0 < n {
            let rows = min(band, n - j0)
            let blocks = rows * blocksPerRow
            let src = pw + j0 * rowBytes
            Parallel.forChunks(blocks, grain: max(1, Self.elementwiseGrain / 4 / bs)) { r in
                for b in r { Reference.dequantizeBlock(dtype, src + b * bb, into: scratch + b * bs) }
            }
            ift_sgemm(0, 1, Int32(m), Int32(rows), Int32(k), alpha,
                px, Int32(lda), scratch, Int32(k), beta, py + j0, Int32(ldc))
            j0 += rows
        }
    }
}
