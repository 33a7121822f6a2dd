import IFTCPU
import IFTCore
import IFTTestSupport
import IFTVulkan
import XCTest

/// `Shaders/adamw.comp` and `Shaders/sum_of_squares.comp` against `cpu-ref`.
final class OptimizerAdamWSumOfSquaresVulkanTests: VulkanTestCase {
    func testAdamWMatchesReference() throws {
        let worst = try OptimizerCases.adamw(vk, ref, trials: 24, seed: 421)
        XCTAssertEqual(worst.count, 3)
        for (k, v) in worst.sorted(by: { $0.key < $1.key }) {
            print("adamw vulkan vs cpu-ref: worst NMSE \(k) = \(v)")
            XCTAssertLessThanOrEqual(v, 1e-7, "adamw \(k)")
        }
    }

    func testSumOfSquaresMatchesReference() throws {
        let worst = try OptimizerCases.sumOfSquares(vk, ref, trials: 24, seed: 422)
        print("sumOfSquares vulkan vs cpu-ref: worst relative error \(worst)")
        XCTAssertLessThanOrEqual(worst, 1e-6)
    }

    func testSumOfSquaresKnownVectorAndEmpty() throws {
        let out = try vk.tensor([5], shape: [1])
        try vk.sumOfSquares(try vk.tensor([1, 2, 3, 4], shape: [4]), into: out, accumulate: true)
        XCTAssertEqual(try vk.floats(out), [35])
        try vk.sumOfSquares(try vk.tensor((1...100).map(Float.init), shape: [100]), into: out, accumulate: false)
        XCTAssertEqual(try vk.floats(out), [338_350])
        try vk.sumOfSquares(try vk.makeTensor(shape: [0], dtype: .f32), into: out, accumulate: true)
        XCTAssertEqual(try vk.floats(out), [338_350])
        try vk.sumOfSquares(try vk.makeTensor(shape: [0], dtype: .f32), into: out, accumulate: false)
        XCTAssertEqual(try vk.floats(out), [0])
    }

    func testAdamWMalformedCalls() throws {
        let a = try vk.makeTensor(shape: [4], dtype: .f32), b = try vk.makeTensor(shape: [3], dtype: .f32)
        XCTAssertThrowsError(try vk.adamw(params: a, grads: b, m: a, v: a, AdamWParameters(lr: 1, step: 1)))
        let c = try vk.makeTensor(shape: [4], dtype: .f32), d = try vk.makeTensor(shape: [4], dtype: .f32), e = try vk.makeTensor(shape: [4], dtype: .f32)
        XCTAssertThrowsError(try vk.adamw(params: a, grads: c, m: d, v: e, AdamWParameters(lr: 1, step: 0)))
    }
}
