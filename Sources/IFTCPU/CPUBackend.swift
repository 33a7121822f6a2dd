#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CBLAS
import IFTCore

/// The `cpu` backend: the fast CPU fallback. Matmul runs OpenBLAS's `cblas_sgemm` (`BLASLibrary`; one call per
/// batch entry); the elementwise, reduction, softmax, cast and dequantize ops are tight loops over
/// host memory, split across cores with `DispatchQueue.concurrentPerform` when the work is large
/// enough. Results match `cpu-ref` to fp32 rounding (summation order differs); cast and
/// dequantize match it bit for bit. Ops run synchronously; `synchronize()` does nothing.
public final class CPUBackend: Backend {
    public static let backendName = "cpu"
    public var name: String { Self.backendName }

    /// Elements per parallel chunk for memory-bound elementwise loops.
    static let elementwiseGrain = 1 << 16

    /// The BLAS this backend's matmuls run on (loaded once per process).
    public let blas: BLASLibrary

    /// Loads the BLAS (OpenBLAS, with the kernels this CPU supports) on first use; throws
    /// `IFTError.blasUnavailable` with what to install when it cannot be loaded.
    public init() throws {
        blas = try BLASLibrary.shared()
    }

    public func makeTensor(shape: [Int], dtype: DType) throws -> Tensor {
        try HostTensors.make(shape: shape, dtype: dtype, backend: name)
    }

    public func write(_ tensor: Tensor, from bytes: UnsafeRawBufferPointer) throws {
        try HostTensors.write(tensor, from: bytes, backend: name)
    }

    public func read(_ tensor: Tensor, into bytes: UnsafeMutableRawBufferPointer) throws {
        try HostTensors.read(tensor, into: bytes, backend: name)
    }

    public func synchronize() throws {}

    // MARK: matmul

    /// One `cblas_sgemm` per batch entry (row-major, transposes, leading dimensions, alpha and beta
    /// passed through). With `beta == 0` sgemm does not read C. `k == 0` is handled here
    /// (`C = beta * C`, or 0 when `beta == 0`) since BLAS rejects a zero leading dimension.
    public func matmul(_ a: Tensor, _ b: Tensor, _ c: Tensor, _ d: MatmulDescriptor) throws {
        try OpChecks.backend([a, b, c], name)
        try OpChecks.matmul(a, b, c, d)
        guard d.m > 0, d.n > 0, d.batch > 0 else { return }
        let limit = Int(Int32.max)
        guard d.m <= limit, d.n <= limit, d.k <= limit, d.lda <= limit, d.ldb <= limit, d.ldc <= limit else {
            throw IFTError.invalidArgument(
                "matmul: m=\(d.m) n=\(d.n) k=\(d.k) lda=\(d.lda) ldb=\(d.ldb) ldc=\(d.ldc) exceed OpenBLAS's 32-bit integer interface")
        }
        let pa = try HostTensors.floatPointer(a, name)
        let pb = try HostTensors.floatPointer(b, name)
        let pc = try HostTensors.floatPointer(c, name)
        if d.k == 0 {
            for batch in 0..<d.batch {
                let base = pc + d.offsetC + batch * d.strideC
                for i in 0..<d.m {
                    for j in 0..<d.n {
                        base[i * d.ldc + j] = d.beta == 0 ? 0 : d.beta * base[i * d.ldc + j]
                    }
                }
            }
            return
        }
        let transA: Int32 = d.transposeA ? 1 : 0
        let transB: Int32 = d.transposeB ? 1 : 0
        for batch in 0..<d.batch {
            ift_sgemm(transA, transB,
                Int32(d.m), Int32(d.n), Int32(d.k),
                d.alpha,
                pa + d.offsetA + batch * d.strideA, Int32(d.lda),
                pb + d.offsetB + batch * d.strideB, Int32(d.ldb),
                d.beta,
                pc + d.offsetC + batch * d.strideC, Int32(d.ldc))
        }
    }

    // MARK: elementwise

    public func binary(_ op: BinaryOp, _ a: Tensor, _ b: Tensor, into out: Tensor) throws {
        try OpChecks.backend([a, b, out], name)
        try OpChecks.binary(op, a, b, out)
        let pa = try HostTensors.floatPointer(a, name)
        let pb = try HostTensors.floatPointer(b, name)
        let po = try HostTensors.floatPointer(out, name)
        let n = a.count, nb = b.count
        guard n > 0 else { return }
        Parallel.forChunks(n, grain: Self.elementwiseGrain) { r in
            if nb == n {
                switch op {
                case .add: for i in r { po[i] = pa[i] + pb[i] }
                case .mul: for i in r { po[i] = pa[i] * pb[i] }
                }
                return
            }
            // Row broadcast: walk the range row piece by row piece so the inner loop is dense.
            var i = r.lowerBound
            while i < r.upperBound {
                let j0 = i % nb
                let len = min(nb - j0, r.upperBound - i)
                let x = pa + i, y = pb + j0, o = po + i
                switch op {
                case .add: for j in 0..<len { o[j] = x[j] + y[j] }
                case .mul: for j in 0..<len { o[j] = x[j] * y[j] }
                }
                i += len
            }
        }
    }

    public func scale(_ a: Tensor, by s: Float, into out: Tensor) throws {
        try OpChecks.backend([a, out], name)
        try OpChecks.scale(a, out)
        let pa = try HostTensors.floatPointer(a, name)
        let po = try HostTensors.floatPointer(out, name)
        Parallel.forChunks(a.count, grain: Self.elementwiseGrain) { r in
            let sv = SIMD8<Float>(repeating: s)
            var i = r.lowerBound
            while i + 8 <= r.upperBound {
                UnsafeMutableRawPointer(po + i).storeBytes(of: sv * UnsafeRawPointer(pa + i).loadUnaligned(as: SIMD8<Float>.self), as: SIMD8<Float>.self)
                i += 8
            }
            while i < r.upperBound {
                po[i] = s * pa[i]
                i += 1
            }
        }
    }

    // MARK: rows

    /// Rows per parallel chunk so that each chunk touches about `elementwiseGrain / 4` elements.
    static func rowGrain(cols: Int) -> Int { max(1, (elementwiseGrain / 4) / max(1, cols)) }

    /// Sums and maxima use 8 SIMD lanes (a different summation order from `cpu-ref`). With NaN in
    /// a row, `max` is unspecified.
    public func reduceRows(_ op: ReduceOp, _ a: Tensor, into out: Tensor) throws {
        try OpChecks.backend([a, out], name)
        let (rows, cols) = try OpChecks.reduceRows(a, out)
        let pa = try HostTensors.floatPointer(a, name)
        let po = try HostTensors.floatPointer(out, name)
        Parallel.forChunks(rows, grain: Self.rowGrain(cols: cols)) { r in
            for row in r {
                let x = UnsafePointer(pa + row * cols)
                po[row] = op == .sum ? Self.rowSum(x, cols) : Self.rowMax(x, cols)
            }
        }
    }

    @inline(__always)
    static func rowSum(_ x: UnsafePointer<Float>, _ n: Int) -> Float {
        var acc = SIMD8<Float>()
        var j = 0
        while j + 8 <= n {
            acc += UnsafeRawPointer(x + j).loadUnaligned(as: SIMD8<Float>.self)
            j += 8
        }
        var s = acc.sum()
        while j < n {
            s += x[j]
            j += 1
        }
        return s
    }

    @inline(__always)
    static func rowMax(_ x: UnsafePointer<Float>, _ n: Int) -> Float {
        var j = 0
        var m = x[0]
        if n >= 8 {
            var acc = UnsafeRawPointer(x).loadUnaligned(as: SIMD8<Float>.self)
            j = 8
            while j + 8 <= n {
                acc = pointwiseMax(acc, UnsafeRawPointer(x + j).loadUnaligned(as: SIMD8<Float>.self))
                j += 8
            }
            m = acc.max()
        }
        while j < n {
            if x[j] > m { m = x[j] }
            j += 1
        }
        return m
    }

    /// Per row: `m = max`, `e = expf(x - m)`, `out = e / sum(e)` (as `cpu-ref`, with a SIMD sum).
    public func softmaxRows(_ a: Tensor, into out: Tensor) throws {
        try OpChecks.backend([a, out], name)
        let (rows, cols) = try OpChecks.softmaxRows(a, out)
        let pa = try HostTensors.floatPointer(a, name)
        let po = try HostTensors.floatPointer(out, name)
        Parallel.forChunks(rows, grain: max(1, Self.rowGrain(cols: cols) / 4)) { r in
            for row in r {
                let x = pa + row * cols, o = po + row * cols
                let m = Self.rowMax(UnsafePointer(x), cols)
                for j in 0..<cols { o[j] = expf(x[j] - m) }
                let s = Self.rowSum(UnsafePointer(o), cols)
                for j in 0..<cols { o[j] = o[j] / s }
            }
        }
    }
}
