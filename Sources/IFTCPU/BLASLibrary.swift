#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CBLAS
import IFTCore

/// OpenBLAS's kernel names (`OPENBLAS_CORETYPE`, `openblas_get_corename`) by the vector tier their
/// GEMM kernels need.
public enum OpenBLASCore {
    static let byTier: [(SIMDTier, [String])] = [
        (.avx512, ["skylakex", "cooperlake", "sapphirerapids"]),
        (.avx2, ["haswell", "zen", "excavator"]),
        (.avx, ["sandybridge", "bulldozer", "piledriver", "steamroller"]),
    ]

    /// The tier a kernel name needs; every other name (Prescott, Core2, Nehalem, Barcelona, Atom,
    /// ...) is one of the generic SSE kernels.
    public static func tier(of name: String) -> SIMDTier {
        let n = name.lowercased()
        return byTier.first { $0.1.contains(n) }?.0 ?? .generic
    }

    /// The kernel to run on a CPU with `features`, or nil where only the generic ones fit.
    public static func best(for features: CPUFeatures) -> String? {
        switch features.tier {
        case .avx512: return "SkylakeX"
        case .avx2: return features.vendor == "AuthenticAMD" ? "Zen" : "Haswell"
        case .avx: return "Sandybridge"
        case .generic: return nil
        }
    }
}

/// How the BLAS kernel is chosen before the library loads: `IFT_BLAS_CORETYPE` forces one;
/// otherwise an `OPENBLAS_CORETYPE` already in the environment stays when its kernels are as
/// strong as the CPU allows, and is replaced by the best kernel for the CPU when it is weaker
/// (or unset, since OpenBLAS's own detection falls back to generic kernels on CPUs it does not
/// know).
public struct BLASKernelChoice: Sendable, Equatable {
    /// The value to put in `OPENBLAS_CORETYPE` before loading, or nil to leave it as it is.
    public var coreType: String?
    /// Why, in a few words (shown by `ift-gpu devices`).
    public var reason: String

    public static func decide(features: CPUFeatures, environment: [String: String]) -> BLASKernelChoice {
        if let forced = environment["IFT_BLAS_CORETYPE"], !forced.isEmpty {
            return BLASKernelChoice(coreType: forced, reason: "forced by IFT_BLAS_CORETYPE")
        }
        let set = environment["OPENBLAS_CORETYPE"].flatMap { $0.isEmpty ? nil : $0 }
        guard let best = OpenBLASCore.best(for: features) else {
            return BLASKernelChoice(coreType: nil, reason: "the CPU has no AVX: generic kernels are its best")
        }
        if let set {
            if OpenBLASCore.tier(of: set) >= features.tier {
                return BLASKernelChoice(coreType: nil, reason: "OPENBLAS_CORETYPE=\(set) from the environment")
            }
            return BLASKernelChoice(
                coreType: best,
                reason: "OPENBLAS_CORETYPE=\(set) in the environment needs only \(OpenBLASCore.tier(of: set)); "
                    + "this CPU has \(features.tier), so \(best) is used (IFT_BLAS_CORETYPE=\(set) forces it)")
        }
        return BLASKernelChoice(coreType: best, reason: "chosen for this CPU's \(features.tier)")
    }
}

/// The CPU backend's BLAS: OpenBLAS (or the library `IFT_BLAS_LIBRARY` names), opened with
/// dlopen once per process after its kernel and thread count are chosen, so a BLAS that does not
/// know the CPU never silently runs its generic kernels.
public final class BLASLibrary: @unchecked Sendable {
    /// The file that was opened.
    public let path: String
    /// OpenBLAS's kernel name, or nil for a BLAS that does not say.
    public let kernel: String?
    /// OpenBLAS's build string ("OpenBLAS 0.3.21 DYNAMIC_ARCH ..."), or nil.
    public let config: String?
    public let features: CPUFeatures
    public let choice: BLASKernelChoice

    /// True when the loaded kernels are weaker than the CPU allows (only when forced).
    public var isGenericKernel: Bool {
        guard let kernel else { return false }
        return OpenBLASCore.tier(of: kernel) < features.tier
    }

    /// The library's thread count (-1 when it has no such call).
    public var threads: Int { Int(ift_blas_threads()) }

    /// Loaded once per process (a `static let` initializes exactly once, thread-safely).
    private static let loaded: Result<BLASLibrary, IFTError> = Result { try load() }.mapError {
        $0 as? IFTError ?? .blasUnavailable("\($0)")
    }

    /// The process's BLAS, loaded on first use.
    public static func shared() throws -> BLASLibrary { try loaded.get() }

    static var candidates: [String] {
        if let forced = getenv("IFT_BLAS_LIBRARY").map({ String(cString: $0) }), !forced.isEmpty { return [forced] }
        #if os(macOS)
        return ["libopenblas.dylib", "/opt/homebrew/opt/openblas/lib/libopenblas.dylib",
                "/usr/local/opt/openblas/lib/libopenblas.dylib"]
        #else
        return ["libopenblas.so.0", "libopenblas.so"]
        #endif
    }

    private static func load() throws -> BLASLibrary {
        let features = CPUFeatures.current
        var environment: [String: String] = [:]
        for key in ["IFT_BLAS_CORETYPE", "OPENBLAS_CORETYPE"] {
            if let v = getenv(key) { environment[key] = String(cString: v) }
        }
        let choice = BLASKernelChoice.decide(features: features, environment: environment)
        if let core = choice.coreType { setenv("OPENBLAS_CORETYPE", core, 1) }
        // OpenBLAS's idle workers spin for 2^28 cycles (~0.1 s) after each call by default, while
        // the engine's own loops want those cores; 2^16 cycles keeps back-to-back GEMMs warm.
        setenv("OPENBLAS_THREAD_TIMEOUT", "16", 0)
        setenv("OPENBLAS_NUM_THREADS", String(CPUThreads.count), 1)
        let paths = candidates
        var error = [CChar](repeating: 0, count: 2048)
        let cPaths = paths.map { strdup($0) }
        defer { cPaths.forEach { free($0) } }
        let status = cPaths.map { UnsafePointer($0) }.withUnsafeBufferPointer {
            ift_blas_open($0.baseAddress, Int32($0.count), &error, error.count)
        }
        guard status == 0 else {
            let why = String(decoding: error.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            if let forced = getenv("IFT_BLAS_LIBRARY").map({ String(cString: $0) }), !forced.isEmpty {
                var reason = Substring(why)  // dlerror repeats the path: "PATH: PATH: cannot open ..."
                while reason.hasPrefix(forced + ": ") { reason = reason.dropFirst(forced.count + 2) }
                throw IFTError.blasUnavailable(
                    "IFT_BLAS_LIBRARY=\(forced) could not be opened as a CBLAS library (\(reason)); "
                        + "point it to one (e.g. libopenblas.so.0) or unset it, or use --backend cpu-ref")
            }
            throw IFTError.blasUnavailable(
                "the cpu backend needs OpenBLAS (Debian: apt-get install libopenblas0-pthread; or set "
                    + "IFT_BLAS_LIBRARY to a CBLAS library), or use --backend cpu-ref: \(why)")
        }
        _ = ift_blas_set_threads(Int32(CPUThreads.count))
        return BLASLibrary(
            path: ift_blas_path().map { String(cString: $0) } ?? paths[0],
            kernel: ift_blas_corename().map { String(cString: $0) },
            config: ift_blas_config().map { String(cString: $0) },
            features: features, choice: choice)
    }

    private init(path: String, kernel: String?, config: String?, features: CPUFeatures, choice: BLASKernelChoice) {
        self.path = path
        self.kernel = kernel
        self.config = config
        self.features = features
        self.choice = choice
    }

    /// Lines for `ift-gpu devices`.
    public var report: [String] {
        var lines = ["CPU:             \(features.summary)"]
        lines.append("BLAS:            \(config ?? path)")
        if let kernel {
            let tier = OpenBLASCore.tier(of: kernel)
            let warn = isGenericKernel ? "  WARNING: weaker than this CPU's \(features.tier), GEMMs run several times slower" : ""
            lines.append("BLAS kernel:     \(kernel) (\(tier)); \(choice.reason)\(warn)")
        }
        lines.append("threads:         \(CPUThreads.count) (BLAS \(threads), of \(CPUThreads.available) available cores; --threads or IFT_THREADS)")
        return lines
    }
}
