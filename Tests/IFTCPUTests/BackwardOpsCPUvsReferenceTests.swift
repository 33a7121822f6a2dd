import IFTCPU
import IFTCore
import IFTTestSupport
import XCTest

/// `cpu` against `cpu-ref` for the loss and backward ops.
final class BackwardOpsCPUvsReferenceTests: XCTestCase {
    let cpu = try! CPUBackend(), ref = CPUReferenceBackend()

    func check(_ worst: [String: Double], _ op: String) {
        XCTAssertFalse(worst.isEmpty)
        for (k, v) in worst.sorted(by: { $0.key < $1.key }) {
            print("\(op) cpu vs cpu-ref: worst NMSE \(k) = \(v)")
            XCTAssertLessThanOrEqual(v, 1e-7, "\(op) \(k)")
        }
    }

    func testCrossEntropyCPUMatchesReference() throws { check(try BackwardCases.crossEntropy(cpu, ref, trials: 24, seed: 201), "crossEntropy") }
    func testRMSNormBackwardCPUMatchesReference() throws { check(try BackwardCases.rmsNormBackward(cpu, ref, trials: 24, seed: 202), "rmsNormBackward") }
    func testSwigluBackwardCPUMatchesReference() throws { check(try BackwardCases.swigluBackward(cpu, ref, trials: 24, seed: 203), "swigluBackward") }
    func testEmbeddingBackwardCPUMatchesReference() throws {
        let worst = try BackwardCases.embeddingBackward(cpu, ref, trials: 24, seed: 204)
        check(worst, "embeddingBackward")
        XCTAssertEqual(worst["dtable"], 0, "the cpu backend keeps cpu-ref's order of additions")
    }
}
