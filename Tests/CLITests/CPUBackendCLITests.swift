import Foundation
import XCTest

/// `ift-gpu devices` reports the cpu backend's CPU, BLAS kernel and threads; a generic kernel asked
/// for by the environment is not run on a CPU with AVX2/AVX-512; a missing BLAS is a clear error.
extension CLITests {
    /// The CPU's flags as Linux lists them.
    var cpuFlags: Set<Substring> {
        guard let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
            let line = info.split(separator: "\n").first(where: { $0.hasPrefix("flags") })
        else { return [] }
        return Set(line.split(separator: " "))
    }

    func kernelLine(_ stdout: String) -> String {
        stdout.split(separator: "\n").first { $0.contains("BLAS kernel:") }.map(String.init) ?? ""
    }

    func testDevicesReplacesAGenericKernelFromTheEnvironment() throws {
        let r = try run(["devices"], env: ["OPENBLAS_CORETYPE": "Prescott", "IFT_BLAS_CORETYPE": ""])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("cpu backend"), r.stdout)
        XCTAssertTrue(r.stdout.contains("CPU:"), r.stdout)
        XCTAssertTrue(r.stdout.contains("threads:"), r.stdout)
        let line = kernelLine(r.stdout)
        XCTAssertFalse(line.isEmpty, r.stdout)
        if cpuFlags.contains("avx512f") && cpuFlags.contains("avx512bw") {
            XCTAssertTrue(line.contains("SkylakeX (AVX-512)"), line)
        } else if cpuFlags.contains("avx2") {
            XCTAssertTrue(line.contains("(AVX2)"), line)
        }
        if cpuFlags.contains("avx2") {
            XCTAssertFalse(line.hasPrefix("      BLAS kernel:     Prescott"), line)
            XCTAssertTrue(line.contains("OPENBLAS_CORETYPE=Prescott in the environment"), line)
            XCTAssertFalse(line.contains("WARNING"), line)
        }
    }

    func testAForcedGenericKernelIsReportedWithAWarning() throws {
        try XCTSkipUnless(cpuFlags.contains("avx2"), "needs a CPU with AVX2 for the warning")
        let r = try run(["devices"], env: ["IFT_BLAS_CORETYPE": "Prescott"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let line = kernelLine(r.stdout)
        XCTAssertTrue(line.contains("Prescott (SSE); forced by IFT_BLAS_CORETYPE"), line)
        XCTAssertTrue(line.contains("WARNING: weaker than this CPU's"), line)
    }

    func testCPUThreadsOption() throws {
        let r = try run(["devices"], env: ["IFT_THREADS": "1"])
        XCTAssertTrue(r.stdout.contains("threads:         1 (BLAS 1,"), r.stdout)
        let bad = try run(["bench", "train", "--backend", "cpu", "--threads", "0", "--layers", "1"])
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.stderr.contains("--threads must be at least 1"), bad.stderr)
    }

    func testMissingBLASIsAClearError() throws {
        let r = try run(
            ["bench", "train", "--backend", "cpu", "--layers", "1", "--batch", "1", "--seq", "8", "--steps", "1"],
            env: ["IFT_BLAS_LIBRARY": "/nonexistent/libopenblas.so.0"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("BLAS unavailable: IFT_BLAS_LIBRARY=/nonexistent/libopenblas.so.0 could not be opened"), r.stderr)
        XCTAssertTrue(r.stderr.contains("/nonexistent/libopenblas.so.0"), r.stderr)
        XCTAssertFalse(r.stderr.contains("Fatal error"), r.stderr)
    }
}
