import CBLAS

/// Levels of x86 vector instructions that decide which GEMM kernels a CPU can run, weakest first.
public enum SIMDTier: Int, Comparable, Sendable, CustomStringConvertible {
    /// SSE only: the generic kernels (OpenBLAS's Prescott, Core2, Nehalem, ...), 3-6x slower.
    case generic
    /// AVX without AVX2/FMA (Sandy Bridge, Bulldozer).
    case avx
    /// AVX2 with FMA (Haswell, Zen 1-3).
    case avx2
    /// AVX-512 F/BW/DQ/VL/CD (Skylake-X and later Xeons, Zen 4/5).
    case avx512

    public static func < (a: SIMDTier, b: SIMDTier) -> Bool { a.rawValue < b.rawValue }

    public var description: String {
        switch self {
        case .generic: return "SSE"
        case .avx: return "AVX"
        case .avx2: return "AVX2"
        case .avx512: return "AVX-512"
        }
    }
}

/// What this CPU can run, read with cpuid (instruction sets count only where the OS saves their
/// registers, as xgetbv says).
public struct CPUFeatures: Sendable, Equatable {
    public var vendor = ""
    public var brand = ""
    public var family = 0
    public var model = 0
    public var avx = false
    public var fma = false
    public var avx2 = false
    /// AVX-512 F, BW, DQ, VL and CD together (what AVX-512 GEMM kernels use).
    public var avx512 = false
    public var avx512BF16 = false
    public var avx512FP16 = false
    public var amx = false

    public init() {}

    /// This machine's CPU.
    public static let current: CPUFeatures = {
        var info = ift_cpu_info()
        ift_cpu_read(&info)
        var f = CPUFeatures()
        f.vendor = withUnsafeBytes(of: info.vendor) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        f.brand = withUnsafeBytes(of: info.brand) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        f.family = Int(info.family)
        f.model = Int(info.model)
        f.avx = info.avx != 0
        f.fma = info.fma != 0
        f.avx2 = info.avx2 != 0
        f.avx512 = info.avx512f != 0 && info.avx512bw != 0 && info.avx512dq != 0 && info.avx512vl != 0
            && info.avx512cd != 0
        f.avx512BF16 = info.avx512bf16 != 0
        f.avx512FP16 = info.avx512fp16 != 0
        f.amx = info.amx_tile != 0 && info.amx_bf16 != 0
        return f
    }()

    /// The strongest vector tier the CPU (and OS) supports.
    public var tier: SIMDTier {
        if avx512 { return .avx512 }
        if avx2 && fma { return .avx2 }
        if avx { return .avx }
        return .generic
    }

    /// "AMD EPYC 9R45 (AuthenticAMD family 26 model 2): AVX-512, AVX512-BF16".
    public var summary: String {
        var extras: [String] = []
        if avx512BF16 { extras.append("AVX512-BF16") }
        if avx512FP16 { extras.append("AVX512-FP16") }
        if amx { extras.append("AMX") }
        let name = brand.isEmpty ? "unknown CPU" : brand
        let id = vendor.isEmpty ? "" : " (\(vendor) family \(family) model \(model))"
        return "\(name)\(id): " + ([tier.description] + extras).joined(separator: ", ")
    }
}

/// Threads of the cpu backend: its own parallel loops and the BLAS together use at most `count`
/// cores, so the two pools never oversubscribe the machine.
public enum CPUThreads {
    /// Cores this process may run on (its CPU affinity mask), at least 1.
    public static let available: Int = Int(ift_cpu_available())

    nonisolated(unsafe) private static var chosen: Int?

    /// The thread count in force: set by `set(_:)` (`--threads`), else `IFT_THREADS`, else the
    /// available cores.
    public static var count: Int {
        if let chosen { return chosen }
        if let s = getenv("IFT_THREADS").map({ String(cString: $0) }), let n = Int(s), n > 0 { return n }
        return available
    }

    /// Sets the thread count for this process (and for the BLAS, if it is loaded already).
    /// Call before the work starts; it is not synchronized with running loops.
    public static func set(_ n: Int) throws {
        guard n > 0 else { throw IFTError.invalidArgument("--threads must be at least 1 (got \(n))") }
        chosen = n
        _ = ift_blas_set_threads(Int32(n))  // -1 (nothing to do) before the BLAS loads
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import IFTCore
