import IFTCore

#if canImport(Glibc)
import Glibc
#endif

/// The two matmul shaders. Both compute every layout, batch, offset, alpha and beta; they differ in
/// how they reuse data.
public enum MatmulKernel: String, Sendable, CaseIterable {
    /// `Shaders/matmul.comp`: workgroup tiles staged in shared memory between barriers. For GPUs.
    case tiled
    /// `Shaders/matmul_direct.comp`: register tiles read straight from global memory (vec4 where
    /// aligned), no shared memory and no barriers. For CPU implementations of Vulkan (lavapipe),
    /// where shared memory is ordinary memory, barriers are coroutine switches and the caches do the
    /// reuse: there it is about 10x faster than `tiled`.
    case direct
}

/// Host side of `Shaders/matmul.comp` and `Shaders/matmul_direct.comp` (CPU reference:
/// `Sources/IFTCPU/Reference/Matmul.swift`).
extension VulkanBackend {
    /// Tile configuration passed as specialization constants: workgroup size and the BM x BN output
    /// tile of a workgroup with BK-deep shared-memory slabs.
    struct MatmulTiles {
        var workgroup = 256
        var bm = 64
        var bn = 64
        var bk = 16
        var tm = 4
        var tn = 4

        var constants: [UInt32] { [bm, bn, bk, tm, tn].map { UInt32($0) } }
    }

    var matmulTiles: MatmulTiles {
        if let env = getenv("IFT_MATMUL_TILES") {
            let v = String(cString: env).split(separator: ",").compactMap { Int($0) }
            if v.count == 5 {
                return MatmulTiles(workgroup: (v[0] / v[3]) * (v[1] / v[4]), bm: v[0], bn: v[1], bk: v[2], tm: v[3], tn: v[4])
            }
        }
        return MatmulTiles()
    }

    /// Register tiling of `matmul_direct`: each invocation computes a TM x TN block of C; a workgroup
    /// is WX invocations across n by WY down m.
    struct MatmulDirectTiles: Equatable {
        var tm = 16
        var tn = 16
        var wx = 8
        var wy = 8

        var workgroup: Int { wx * wy }
        var rows: Int { tm * wy }  // rows of C per workgroup
        var cols: Int { tn * wx }  // columns of C per workgroup
    }

    /// The direct kernel's tiles for an m x n x k product. Outputs of at least 128 x 128 (with k >= 32)
    /// get 16 x 16 per invocation and 8 x 8 invocations, 128 x 128 of C per workgroup: the fastest on
    /// lavapipe (about 25% over 8 x 8), but such a pipeline takes about 4 s to compile (once: Mesa
    /// caches it on disk). Other products of at least 2M multiply-adds get 8 x 8 per invocation
    /// (0.5 s to compile), smaller ones 4 x 4 (0.2 s; they run in about a millisecond anyway); a
    /// dimension of C of at most 4 gets 4. Fewer invocations go along a short dimension of C
    /// (decode-time matmuls with a few rows), so that little work goes to clamped rows and columns.
    /// Sizes are powers of two to keep the number of distinct pipelines small.
    /// `IFT_MATMUL_DIRECT_TILES=TM,TN,WX,WY` overrides (experiments).
    func matmulDirectTiles(m: Int, n: Int, k: Int) throws -> MatmulDirectTiles {
        if let env = getenv("IFT_MATMUL_DIRECT_TILES") {
            let s = String(cString: env)
            let v = s.split(separator: ",").compactMap { Int($0) }
            guard v.count == 4, v[0] > 0, v[0] % 4 == 0, v[1] > 0, v[1] % 4 == 0, v[2] > 0, v[3] > 0,
                v[2] * v[3] <= info.maxWorkgroupInvocations
            else {
                throw IFTError.invalidArgument(
                    "IFT_MATMUL_DIRECT_TILES='\(s)': want TM,TN,WX,WY with TM and TN multiples of 4 and WX*WY <= \(info.maxWorkgroupInvocations)")
            }
            return MatmulDirectTiles(tm: v[0], tn: v[1], wx: v[2], wy: v[3])
        }
        if m >= 128, n >= 128, k >= 32 { return MatmulDirectTiles() }
        func powerOfTwo(atLeast x: Int) -> Int {
            var p = 1
            while p < x { p *= 2 }
            return p
        }
        let tile = m * n * k >= 1 << 21 ? 8 : 4
        let tm = m <= 4 ? 4 : tile, tn = n <= 4 ? 4 : tile
        let wx = min(8, powerOfTwo(atLeast: (n + tn - 1) / tn))
        let wy = min(64 / wx, powerOfTwo(atLeast: (m + tm - 1) / tm))
        return MatmulDirectTiles(tm: tm, tn: tn, wx: wx, wy: wy)
    }

    /// Forces one matmul kernel on this backend (tests run every case on both); nil (the default)
    /// leaves the choice to `IFT_MATMUL_KERNEL` and then to the device (see `matmulKernel`).
    public var matmulKernelOverride: MatmulKernel? {
        get { MatmulKernelOverrides.shared.get(self) }
        set { MatmulKernelOverrides.shared.set(self, newValue) }
    }

    /// The kernel `matmul` runs: `matmulKernelOverride`, else `IFT_MATMUL_KERNEL` (`tiled` or
    /// `direct`), else by device type: `direct` on a CPU implementation of Vulkan (lavapipe,
    /// SwiftShader), whose "shared memory" is ordinary memory and whose barriers suspend and resume
    /// every SIMD slice of a workgroup, `tiled` on every GPU.
    public var matmulKernel: MatmulKernel {
        get throws {
            if let k = matmulKernelOverride { return k }
            if let env = getenv("IFT_MATMUL_KERNEL"), env.pointee != 0 {
                let s = String(cString: env)
                guard let k = MatmulKernel(rawValue: s) else {
                    throw IFTError.invalidArgument(
                        "IFT_MATMUL_KERNEL='\(s)': want one of \(MatmulKernel.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                return k
            }
            return info.type == "CPU" ? .direct : .tiled
        }
    }

    public func matmul(_ a: Tensor, _ b: Tensor, _ c: Tensor, _ d: MatmulDescriptor) throws {
        try OpChecks.backend([a, b, c], name)
        try OpChecks.matmul(a, b, c, d)
        guard d.m > 0, d.n > 0, d.batch > 0 else { return }
        let kernel = try matmulKernel
        let tiles = matmulTiles
        func dispatch(_ d: MatmulDescriptor) throws {
            switch kernel {
            case .tiled:
                let parts = splitKParts(d, tiles)
                if parts > 1 {
                    try dispatchSplitK(tiles, a, b, c, d, parts: parts) { try dispatchTiled(tiles, a, b, $1, $0) }
                } else {
                    try dispatchTiled(tiles, a, b, c, d)
                }
            case .direct: try dispatchDirect(a, b, c, d)
            }
        }
        let maxElems = maxBindingBytes / 4
        if d.extentA <= maxElems, d.extentB <= maxElems, d.extentC <= maxElems {
            try dispatch(d)
            return
        }
        // A tensor is larger than one binding may be (lavapipe: 128 MiB): run each batch entry and
        // row band of C on its own, binding only the ranges it touches. Bands are whole workgroup
        // tiles where possible, else a multiple of 4 rows (which keeps the direct kernel's vec4
        // reads of a K x M A aligned; each band re-checks its alignment).
        let rowBytes = max(d.ldc, d.transposeA ? 1 : d.lda) * 4
        var rowsPerChunk = max(1, (maxBindingBytes - 4096) / rowBytes)
        let unit = kernel == .tiled ? tiles.bm : MatmulDirectTiles().rows
        if rowsPerChunk >= unit {
            rowsPerChunk = rowsPerChunk / unit * unit
        } else if rowsPerChunk >= 4 {
            rowsPerChunk = rowsPerChunk / 4 * 4
        }
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
                try dispatch(sub)
                m0 += mc
            }
        }
    }

    /// Binds `extent - start` elements of `t` from an aligned point at or before element `offset`
    /// (a multiple of `elements` as well as of the device's offset alignment) and returns the binding
    /// with `offset`'s position inside it.
    private func matmulBinding(_ t: Tensor, offset: Int, extent: Int, multipleOf elements: Int = 1) throws -> (BufferBinding, Int) {
        let align = max(max(4, info.minStorageBufferOffsetAlignment) / 4, elements)  // powers of two
        let start = offset / align * align
        return (try binding(t, byteOffset: start * 4, byteCount: (extent - start) * 4), offset - start)
    }

    private func matmulPush(_ d: MatmulDescriptor, _ oa: Int, _ ob: Int, _ oc: Int) -> [UInt32] {
        [
            UInt32(d.m), UInt32(d.n), UInt32(d.k), UInt32(d.lda), UInt32(d.ldb), UInt32(d.ldc),
            UInt32(d.strideA), UInt32(d.strideB), UInt32(d.strideC), UInt32(oa), UInt32(ob), UInt32(oc),
            d.alpha.word, d.beta.word,
        ]
    }

    /// One dispatch of `matmul` (shared-memory tiles).
    private func dispatchTiled(_ tiles: MatmulTiles, _ a: Tensor, _ b: Tensor, _ c: Tensor, _ d: MatmulDescriptor) throws {
        let pipeline = try device.pipelines.pipeline(
            "matmul", bindings: 3,
            constants: [UInt32(tiles.workgroup), d.transposeA ? 1 : 0, d.transposeB ? 1 : 0] + tiles.constants)
        let (ba, oa) = try matmulBinding(a, offset: d.offsetA, extent: d.extentA)
        let (bb, ob) = try matmulBinding(b, offset: d.offsetB, extent: d.extentB)
        let (bc, oc) = try matmulBinding(c, offset: d.offsetC, extent: d.extentC)
        let groups = ((d.n + tiles.bn - 1) / tiles.bn, (d.m + tiles.bm - 1) / tiles.bm, d.batch)
        try recorder.dispatch(pipeline, bindings: [ba, bb, bc], writes: [2], push: matmulPush(d, oa, ob, oc), groups: groups)
    }

    /// One dispatch of `matmul_direct` (register tiles, no shared memory). A and B are bound from a
    /// 16-byte boundary and read as vec4 along their contiguous axis when every row they read starts
    /// on one (offset, leading dimension and batch stride multiples of 4) and, where that axis is m
    /// or n, no vec4 crosses the end of a row (M or N a multiple of 4).
    private func dispatchDirect(_ a: Tensor, _ b: Tensor, _ c: Tensor, _ d: MatmulDescriptor) throws {
        let t = try matmulDirectTiles(m: d.m, n: d.n, k: d.k)
        let (ba, oa) = try matmulBinding(a, offset: d.offsetA, extent: d.extentA, multipleOf: 4)
        let (bb, ob) = try matmulBinding(b, offset: d.offsetB, extent: d.extentB, multipleOf: 4)
        let (bc, oc) = try matmulBinding(c, offset: d.offsetC, extent: d.extentC)
        let vecA = oa % 4 == 0 && d.lda % 4 == 0 && (d.batch == 1 || d.strideA % 4 == 0) && (!d.transposeA || d.m % 4 == 0)
        let vecB = ob % 4 == 0 && d.ldb % 4 == 0 && (d.batch == 1 || d.strideB % 4 == 0) && (d.transposeB || d.n % 4 == 0)
        let constants: [UInt32] = [
            UInt32(t.workgroup), d.transposeA ? 1 : 0, d.transposeB ? 1 : 0, UInt32(t.tm), UInt32(t.tn), UInt32(t.wx),
            vecA ? 1 : 0, vecB ? 1 : 0,
        ]
        let pipeline = try device.pipelines.pipeline("matmul_direct", bindings: 3, constants: constants)
        let groups = ((d.n + t.cols - 1) / t.cols, (d.m + t.rows - 1) / t.rows, d.batch)
        try recorder.dispatch(pipeline, bindings: [ba, bb, bc], writes: [2], push: matmulPush(d, oa, ob, oc), groups: groups)
    }
}

/// `VulkanBackend.matmulKernelOverride`'s storage (the backend's stored properties are declared in
/// VulkanBackend.swift): one entry per backend, holding it weakly so a later backend at the same
/// address does not inherit it.
private final class MatmulKernelOverrides: @unchecked Sendable {
    static let shared = MatmulKernelOverrides()

    private struct Entry {
        weak var backend: VulkanBackend?
        var kernel: MatmulKernel
    }

    private var lock = pthread_mutex_t()
    private var entries: [ObjectIdentifier: Entry] = [:]

    private init() { pthread_mutex_init(&lock, nil) }

    func get(_ backend: VulkanBackend) -> MatmulKernel? {
        pthread_mutex_lock(&lock)
        defer { pthread_mutex_unlock(&lock) }
        guard let e = entries[ObjectIdentifier(backend)], e.backend === backend else { return nil }
        return e.kernel
    }

    func set(_ backend: VulkanBackend, _ kernel: MatmulKernel?) {
        pthread_mutex_lock(&lock)
        defer { pthread_mutex_unlock(&lock) }
        entries = entries.filter { $0.value.backend != nil }
        entries[ObjectIdentifier(backend)] = kernel.map { Entry(backend: backend, kernel: $0) }
    }
}
