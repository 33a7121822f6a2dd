import Foundation
import IFTCPU
import IFTCore
import IFTTestSupport
import XCTest

/// The optimizer ops (`adamw`, `sumOfSquares`): `cpu-ref` hand-checked, `cpu` against `cpu-ref`,
/// and malformed calls.
final class OptimizerAdamWSumOfSquaresTests: XCTestCase {
    let cpu = try! CPUBackend(), ref = CPUReferenceBackend()

    /// One step worked out by hand: p = 1, g = 2, lr 0.1, eps 0: m = 0.2, v = 0.004, mhat = 2,
    /// vhat = 4, so p = 1 * (1 - 0.1 * 0.5) - 0.1 * 2 / 2 = 0.85.
    func testAdamWOneStepByHand() throws {
        for be in try cpuBackends() {
            let p = try be.tensor([1], shape: [1]), m = try be.tensor([0], shape: [1]), v = try be.tensor([0], shape: [1])
            try be.adamw(
                params: p, grads: try be.tensor([4], shape: [1]), m: m, v: v,
                AdamWParameters(lr: 0.1, beta1: 0.9, beta2: 0.999, eps: 0, weightDecay: 0.5, step: 1, gradScale: 0.5))
            XCTAssertEqual(try be.floats(p)[0], 0.85, accuracy: 1e-6, be.name)
            XCTAssertEqual(try be.floats(m)[0], 0.2, accuracy: 1e-7, be.name)
            XCTAssertEqual(try be.floats(v)[0], 0.004, accuracy: 1e-7, be.name)  // (1 - 0.999) rounds to 0.00099999...f
        }
    }

    /// Three steps on a few values against the same formulas evaluated here in Double.
    func testAdamWThreeStepsMatchDouble() throws {
        let p0: [Double] = [0.5, -1.25, 2, 0, 3.5], grads: [[Double]] = [[0.1, -2, 0.5, 1e-3, 0], [0.3, -1, -0.5, 2e-3, 1], [-0.2, 0.5, 0.25, 0, -1]]
        let (lr, b1, b2, eps, wd, gs) = (0.05, 0.9, 0.99, 1e-6, 0.1, 0.5)
        var p = p0, m = [Double](repeating: 0, count: 5), v = m
        for step in 1...3 {
            for i in 0..<5 {
                let g = grads[step - 1][i] * gs
                m[i] = b1 * m[i] + (1 - b1) * g
                v[i] = b2 * v[i] + (1 - b2) * g * g
                p[i] *= 1 - lr * wd
                let mh = m[i] / (1 - pow(b1, Double(step))), vh = v[i] / (1 - pow(b2, Double(step)))
                p[i] -= lr * mh / (vh.squareRoot() + eps)
            }
        }
        for be in try cpuBackends() {
            let tp = try be.tensor(p0.map(Float.init), shape: [5])
            let tm = try be.makeTensor(shape: [5], dtype: .f32), tv = try be.makeTensor(shape: [5], dtype: .f32)
            for step in 1...3 {
                try be.adamw(
                    params: tp, grads: try be.tensor(grads[step - 1].map(Float.init), shape: [5]), m: tm, v: tv,
                    AdamWParameters(lr: Float(lr), beta1: Float(b1), beta2: Float(b2), eps: Float(eps), weightDecay: Float(wd), step: step, gradScale: Float(gs)))
            }
            let (gp, gm, gv) = (try be.floats(tp), try be.floats(tm), try be.floats(tv))
            for i in 0..<5 {
                XCTAssertEqual(Double(gp[i]), p[i], accuracy: 1e-5 * max(1, abs(p[i])), "\(be.name) p[\(i)]")
                XCTAssertEqual(Double(gm[i]), m[i], accuracy: 1e-6 * max(1e-3, abs(m[i])), "\(be.name) m[\(i)]")
                XCTAssertEqual(Double(gv[i]), v[i], accuracy: 1e-6 * max(1e-6, abs(v[i])), "\(be.name) v[\(i)]")
            }
        }
    }

    /// 50 steps of AdamW on f(p) = sum((p - target)^2) (gradient 2 (p - target)) reach the target.
    func testAdamWConvergesOnQuadratic() throws {
        var g = SeededGenerator(seed: 411)
        let n = 37, target = g.uniformArray(n, -1, 1)
        for be in try cpuBackends() {
            let p = try be.makeTensor(shape: [n], dtype: .f32), m = try be.makeTensor(shape: [n], dtype: .f32)
            let v = try be.makeTensor(shape: [n], dtype: .f32)
            for step in 1...50 {
                let cur = try be.floats(p)
                let grad = (0..<n).map { 2 * (cur[$0] - target[$0]) }
                try be.adamw(params: p, grads: try be.tensor(grad, shape: [n]), m: m, v: v, AdamWParameters(lr: 0.1, weightDecay: 0, step: step))
            }
            let final = try be.floats(p)
            let err = (0..<n).map { abs(final[$0] - target[$0]) }.max()!
            XCTAssertLessThan(err, 0.1, be.name)
        }
    }

    func testSumOfSquaresKnownVector() throws {
        for be in try cpuBackends() {
            let out = try be.tensor([5], shape: [1])
            try be.sumOfSquares(try be.tensor([1, 2, 3, 4], shape: [4]), into: out, accumulate: false)
            XCTAssertEqual(try be.floats(out), [30], be.name)
            try be.sumOfSquares(try be.tensor([1, -2, 3, -4], shape: [2, 2]), into: out, accumulate: true)
            XCTAssertEqual(try be.floats(out), [60], be.name)
            try be.sumOfSquares(try be.tensor((1...100).map(Float.init), shape: [100]), into: out, accumulate: false)
            XCTAssertEqual(try be.floats(out), [338_350], be.name)
        }
    }

    func testAdamWCPUMatchesReference() throws {
        let worst = try OptimizerCases.adamw(cpu, ref, trials: 24, seed: 412)
        for (k, v) in worst.sorted(by: { $0.key < $1.key }) {
            print("adamw cpu vs cpu-ref: worst NMSE \(k) = \(v)")
            XCTAssertEqual(v, 0, "adamw \(k): the cpu backend runs cpu-ref's per-element code")
        }
    }

    func testSumOfSquaresCPUMatchesReference() throws {
        let worst = try OptimizerCases.sumOfSquares(cpu, ref, trials: 24, seed: 413)
        print("sumOfSquares cpu vs cpu-ref: worst relative error \(worst)")
        XCTAssertLessThanOrEqual(worst, 1e-6)
    }

    func testAdamWSumOfSquaresMalformedCalls() throws {
        for be in try cpuBackends() {
            let a = try be.makeTensor(shape: [4], dtype: .f32), b = try be.makeTensor(shape: [4], dtype: .f32)
            let c = try be.makeTensor(shape: [4], dtype: .f32), d = try be.makeTensor(shape: [4], dtype: .f32)
            let short = try be.makeTensor(shape: [3], dtype: .f32), half = try be.makeTensor(shape: [4], dtype: .f16)
            let h = AdamWParameters(lr: 1e-3, step: 1)
            assertThrowsIFT(["shape mismatch", "adamw: m has 3 elements, params 4"]) { try be.adamw(params: a, grads: b, m: short, v: d, h) }
            assertThrowsIFT(["dtype mismatch", "adamw grads must be f32, got f16"]) { try be.adamw(params: a, grads: half, m: c, v: d, h) }
            var h0 = h
            h0.step = 0
            assertThrowsIFT(["adamw: step must be >= 1", "got 0"]) { try be.adamw(params: a, grads: b, m: c, v: d, h0) }
            var hb = h
            hb.beta2 = 1
            assertThrowsIFT(["beta2 (1.0) must be in [0, 1)"]) { try be.adamw(params: a, grads: b, m: c, v: d, hb) }
            assertThrowsIFT(["four different tensors"]) { try be.adamw(params: a, grads: b, m: c, v: c, h) }
            assertThrowsIFT(["sumOfSquares: out must hold one element"]) { try be.sumOfSquares(a, into: b, accumulate: false) }
            let one = try be.makeTensor(shape: [1], dtype: .f32)
            assertThrowsIFT(["sumOfSquares input must be f32, got f16"]) { try be.sumOfSquares(half, into: one, accumulate: false) }
        }
    }
}
