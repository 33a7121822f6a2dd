import XCTest

@testable import IFTCPU

/// The cpu backend's BLAS kernel choice (`BLASKernelChoice`): a generic kernel is never run on a
/// CPU that has AVX2 or AVX-512, whether OpenBLAS would fall back to one by itself or the
/// environment asks for one; and the library loaded in this process runs kernels that match this CPU.
final class BLASLibraryTests: XCTestCase {
    func cpu(_ tier: SIMDTier, vendor: String = "GenuineIntel") -> CPUFeatures {
        var f = CPUFeatures()
        f.vendor = vendor
        f.avx = tier >= .avx
        f.avx2 = tier >= .avx2
        f.fma = tier >= .avx2
        f.avx512 = tier >= .avx512
        return f
    }

    func testKernelNamesByTier() {
        XCTAssertEqual(OpenBLASCore.tier(of: "Prescott"), .generic)
        XCTAssertEqual(OpenBLASCore.tier(of: "Nehalem"), .generic)
        XCTAssertEqual(OpenBLASCore.tier(of: "Sandybridge"), .avx)
        XCTAssertEqual(OpenBLASCore.tier(of: "HASWELL"), .avx2)
        XCTAssertEqual(OpenBLASCore.tier(of: "zen"), .avx2)
        XCTAssertEqual(OpenBLASCore.tier(of: "SkylakeX"), .avx512)
        XCTAssertEqual(OpenBLASCore.tier(of: "Cooperlake"), .avx512)
        XCTAssertEqual(OpenBLASCore.tier(of: "SapphireRapids"), .avx512)
    }

    /// The case of the report: an AVX-512 Xeon where OPENBLAS_CORETYPE=Prescott (or OpenBLAS's own
    /// detection) would run the generic kernels.
    func testGenericKernelIsReplacedOnAVX512AndAVX2CPUs() {
        for (tier, best) in [(SIMDTier.avx512, "SkylakeX"), (.avx2, "Haswell")] {
            let c = BLASKernelChoice.decide(features: cpu(tier), environment: ["OPENBLAS_CORETYPE": "Prescott"])
            XCTAssertEqual(c.coreType, best, "\(tier)")
            XCTAssertTrue(c.reason.contains("OPENBLAS_CORETYPE=Prescott"), c.reason)
            XCTAssertTrue(c.reason.contains("IFT_BLAS_CORETYPE"), c.reason)
        }
        // Weaker than the CPU but not generic: replaced as well.
        let c = BLASKernelChoice.decide(features: cpu(.avx512), environment: ["OPENBLAS_CORETYPE": "Haswell"])
        XCTAssertEqual(c.coreType, "SkylakeX")
    }

    func testUnsetCoreTypeGetsTheBestKernelForTheCPU() {
        XCTAssertEqual(BLASKernelChoice.decide(features: cpu(.avx512), environment: [:]).coreType, "SkylakeX")
        XCTAssertEqual(BLASKernelChoice.decide(features: cpu(.avx2), environment: [:]).coreType, "Haswell")
        XCTAssertEqual(BLASKernelChoice.decide(features: cpu(.avx2, vendor: "AuthenticAMD"), environment: [:]).coreType, "Zen")
        XCTAssertEqual(BLASKernelChoice.decide(features: cpu(.avx), environment: [:]).coreType, "Sandybridge")
        // Nothing better than generic exists: OpenBLAS is left to choose.
        XCTAssertNil(BLASKernelChoice.decide(features: cpu(.generic), environment: [:]).coreType)
        XCTAssertNil(BLASKernelChoice.decide(features: cpu(.generic), environment: ["OPENBLAS_CORETYPE": "Core2"]).coreType)
    }

    func testAStrongEnoughEnvironmentChoiceIsKept() {
        let kept = BLASKernelChoice.decide(features: cpu(.avx512), environment: ["OPENBLAS_CORETYPE": "Cooperlake"])
        XCTAssertNil(kept.coreType)
        XCTAssertTrue(kept.reason.contains("from the environment"), kept.reason)
        XCTAssertNil(BLASKernelChoice.decide(features: cpu(.avx2), environment: ["OPENBLAS_CORETYPE": "Zen"]).coreType)
    }

    func testIFTBLASCoreTypeForcesAKernel() {
        let c = BLASKernelChoice.decide(
            features: cpu(.avx512), environment: ["IFT_BLAS_CORETYPE": "Prescott", "OPENBLAS_CORETYPE": "SkylakeX"])
        XCTAssertEqual(c.coreType, "Prescott")
        XCTAssertEqual(c.reason, "forced by IFT_BLAS_CORETYPE")
    }

    /// The BLAS this test process loaded: its kernel needs exactly the CPU's vector tier (so on this
    /// machine, whatever OPENBLAS_CORETYPE the environment sets, no generic or weaker kernel runs),
    /// and its thread count is the backend's.
    func testTheLoadedBLASRunsKernelsForThisCPU() throws {
        let blas = try BLASLibrary.shared()
        let features = CPUFeatures.current
        print("BLAS: \(blas.report.joined(separator: " | "))")
        XCTAssertEqual(blas.threads, CPUThreads.count)
        XCTAssertGreaterThanOrEqual(CPUThreads.available, 1)
        guard getenv("IFT_BLAS_CORETYPE") == nil else { return }  // a forced kernel is the user's choice
        let kernel = try XCTUnwrap(blas.kernel, "OpenBLAS reports its kernel (openblas_get_corename)")
        #if arch(x86_64)
        XCTAssertNotEqual(features.vendor, "", "cpuid gives the vendor")
        #endif
        if features.tier > .generic {
            XCTAssertEqual(OpenBLASCore.tier(of: kernel), features.tier, "kernel \(kernel) on a \(features.tier) CPU")
        }
        XCTAssertFalse(blas.isGenericKernel)
    }

    /// sgemm through the loaded library against a plain triple loop (all four transpose pairs).
    func testSgemmThroughTheLoaderMatchesPlainLoops() throws {
        _ = try BLASLibrary.shared()
        let m = 37, n = 29, k = 53
        var g = SystemRandomNumberGenerator()
        let a = (0..<(m * k)).map { _ in Float.random(in: -1...1, using: &g) }
        let b = (0..<(k * n)).map { _ in Float.random(in: -1...1, using: &g) }
        for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
            // Store A as m x k (or k x m when transposed), B as k x n (or n x k).
            let sa = ta ? (0..<(k * m)).map { a[($0 % m) * k + $0 / m] } : a
            let sb = tb ? (0..<(n * k)).map { b[($0 % k) * n + $0 / k] } : b
            var c = [Float](repeating: 1, count: m * n)
            ift_sgemm_checked(ta, tb, m, n, k, sa, ta ? m : k, sb, tb ? k : n, &c)
            for i in 0..<m {
                for j in 0..<n {
                    var s: Float = 0
                    for p in 0..<k { s += a[i * k + p] * b[p * n + j] }
                    XCTAssertEqual(c[i * n + j], 0.5 * s + 2, accuracy: 1e-4, "ta \(ta) tb \(tb) at \(i),\(j)")
                }
            }
        }
    }

    private func ift_sgemm_checked(
        _ ta: Bool, _ tb: Bool, _ m: Int, _ n: Int, _ k: Int, _ a: [Float], _ lda: Int, _ b: [Float], _ ldb: Int,
        _ c: inout [Float]
    ) {
        // C = 0.5 * op(A) op(B) + 2 * C with C = 1.
        c.withUnsafeMutableBufferPointer { pc in
            ift_sgemm(
                ta ? 1 : 0, tb ? 1 : 0, Int32(m), Int32(n), Int32(k), 0.5, a, Int32(lda), b, Int32(ldb), 2,
                pc.baseAddress, Int32(n))
        }
    }
}

import CBLAS
#if canImport(Glibc)
import Glibc
#endif
