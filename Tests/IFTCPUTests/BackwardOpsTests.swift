import Foundation
import IFTCPU
import IFTCore
import IFTTestSupport
import XCTest

/// Relative error `max|x - y| / max|y|` of a gradient `x` against a finite-difference estimate `y`.
func maxRelativeError(_ x: [Float], _ y: [Double]) -> Double {
    var num = 0.0, den = 0.0
    for i in 0..<min(x.count, y.count) {
        num = max(num, abs(Double(x[i]) - y[i]))
        den = max(den, abs(y[i]))
    }
    return x.count == y.count ? num / max(den, 1e-30) : .infinity
}

/// Central differences in Double of `f` at `x`, one coordinate at a time.
func finiteDifferences(_ x: [Double], h: Double = 1e-5, _ f: ([Double]) -> Double) -> [Double] {
    (0..<x.count).map { i in
        var p = x, m = x
        p[i] += h
        m[i] -= h
        return (f(p) - f(m)) / (2 * h)
    }
}

/// The loss and backward ops of `cpu-ref`: hand-checked values and finite-difference gradient
/// checks against the forward formulas (computed here in Double and checked against `cpu-ref`'s
/// forward ops).
final class BackwardOpsHandCheckedTests: XCTestCase {
    let ref = CPUReferenceBackend()

    func testCrossEntropyHandChecked() throws {
        for be in try cpuBackends() {
            // Row 0: [0, ln 3] -> softmax [1/4, 3/4]; row 1 ignored; row 2: target 1 of [2, 2].
            let l = try be.tensor([0, Float(log(3.0)), 5, 6, 2, 2], shape: [3, 2])
            let t = try be.tensor(ints: [0, -100, 1], shape: [3])
            let losses = try be.tensor([9, 9, 9], shape: [3])
            let d = try be.tensor([Float](repeating: 9, count: 6), shape: [3, 2])
            try be.crossEntropy(logits: l, targets: t, losses: losses, dlogits: d, scale: 0.5)
            let lv = try be.floats(losses), dv = try be.floats(d)
            XCTAssertEqual(lv[0], Float(log(4.0)), accuracy: 1e-6, be.name)
            XCTAssertEqual(lv[1], 0, be.name)
            XCTAssertEqual(lv[2], Float(log(2.0)), accuracy: 1e-6, be.name)
            for (a, b) in zip(dv, [-0.375, 0.375, 0, 0, 0.25, -0.25] as [Float]) { XCTAssertEqual(a, b, accuracy: 1e-6, be.name) }
            // Without dlogits, in place, and large logits (max subtraction keeps it finite).
            let big = try be.tensor([1000, 1000, -1000], shape: [1, 3])
            let one = try be.makeTensor(shape: [1], dtype: .f32)
            try be.crossEntropy(logits: big, targets: try be.tensor(ints: [2], shape: [1]), losses: one, dlogits: nil, scale: 1)
            XCTAssertEqual(try be.floats(one)[0], Float(log(2.0)) + 2000, accuracy: 1e-2, be.name)
            try be.crossEntropy(logits: big, targets: try be.tensor(ints: [0], shape: [1]), losses: one, dlogits: big, scale: 1)
            let g = try be.floats(big)
            XCTAssertEqual(g[0], -0.5, accuracy: 1e-6, be.name)
            XCTAssertEqual(g[1], 0.5, accuracy: 1e-6, be.name)
            XCTAssertEqual(g[2], 0, be.name)
        }
    }

    func testSwigluBackwardHandChecked() throws {
        for be in try cpuBackends() {
            // gate 0: s = 1/2, silu 0: dup = 0, dgate = dout * up / 2.
            let g = try be.tensor([0, 2], shape: [2]), u = try be.tensor([3, -1], shape: [2]), d = try be.tensor([2, 0.5], shape: [2])
            let dg = try be.makeTensor(shape: [2], dtype: .f32), du = try be.makeTensor(shape: [2], dtype: .f32)
            try be.swigluBackward(gate: g, up: u, dout: d, dgate: dg, dup: du)
            let s = 1 / (1 + exp(-2.0))
            XCTAssertEqual(try be.floats(du)[0], 0, be.name)
            XCTAssertEqual(try be.floats(du)[1], Float(0.5 * 2 * s), accuracy: 1e-6, be.name)
            XCTAssertEqual(try be.floats(dg)[0], 3, accuracy: 1e-6, be.name)
            XCTAssertEqual(try be.floats(dg)[1], Float(0.5 * -1 * s * (1 + 2 * (1 - s))), accuracy: 1e-6, be.name)
        }
    }

    func testRMSNormBackwardHandChecked() throws {
        for be in try cpuBackends() {
            // x = [1, 1] (rstd = 1 with eps 0), w = [2, 3], dy = [1, 0]: g = [2, 0], mean(g * xh) = 1,
            // dx = [2 - 1, 0 - 1]; dweight += dy * xh = [1, 0].
            let x = try be.tensor([1, 1], shape: [1, 2]), w = try be.tensor([2, 3], shape: [2]), dy = try be.tensor([1, 0], shape: [1, 2])
            let dx = try be.makeTensor(shape: [1, 2], dtype: .f32), dw = try be.tensor([10, 20], shape: [2])
            try be.rmsNormBackward(x: x, weight: w, dy: dy, eps: 0, dx: dx, dweight: dw)
            XCTAssertEqual(try be.floats(dx), [1, -1], be.name)
            XCTAssertEqual(try be.floats(dw), [11, 20], be.name)
        }
    }

    func testEmbeddingBackwardHandChecked() throws {
        for be in try cpuBackends() {
            let dt = try be.tensor([1, 1, 1, 1, 1, 1], shape: [3, 2])
            let dout = try be.tensor([1, 2, 3, 4, 5, 6, 7, 8], shape: [4, 2])
            try be.embeddingBackward(ids: try be.tensor(ints: [2, 0, 2, 2], shape: [4]), dout: dout, dtable: dt)
            XCTAssertEqual(try be.floats(dt), [4, 5, 1, 1, 14, 17] as [Float], be.name)
        }
    }

    func testMalformedBackwardCallsAreRejected() throws {
        for be in try cpuBackends() {
            let l = try be.makeTensor(shape: [2, 3], dtype: .f32), losses = try be.makeTensor(shape: [2], dtype: .f32)
            assertThrowsIFT(["target 3 of row 1", "-100"]) {
                try be.crossEntropy(logits: l, targets: try be.tensor(ints: [0, 3], shape: [2]), losses: losses, dlogits: nil, scale: 1)
            }
            assertThrowsIFT(["crossEntropy", "targets"]) {
                try be.crossEntropy(logits: l, targets: try be.tensor(ints: [0], shape: [1]), losses: losses, dlogits: nil, scale: 1)
            }
            assertThrowsIFT(["crossEntropy targets must be i32"]) {
                try be.crossEntropy(logits: l, targets: losses, losses: losses, dlogits: nil, scale: 1)
            }
            assertThrowsIFT(["dlogits has 3 elements"]) {
                try be.crossEntropy(
                    logits: l, targets: try be.tensor(ints: [0, 1], shape: [2]), losses: losses,
                    dlogits: try be.makeTensor(shape: [3], dtype: .f32), scale: 1)
            }
            let x = try be.makeTensor(shape: [2, 3], dtype: .f32), w = try be.makeTensor(shape: [3], dtype: .f32)
            assertThrowsIFT(["rmsNormBackward: dweight has 2 elements"]) {
                try be.rmsNormBackward(x: x, weight: w, dy: l, eps: 1e-5, dx: try be.makeTensor(shape: [2, 3], dtype: .f32), dweight: losses)
            }
            assertThrowsIFT(["dx must not be x"]) { try be.rmsNormBackward(x: x, weight: w, dy: l, eps: 1e-5, dx: x, dweight: nil) }
            assertThrowsIFT(["swigluBackward: dup has 2 elements"]) {
                try be.swigluBackward(gate: x, up: l, dout: l, dgate: try be.makeTensor(shape: [6], dtype: .f32), dup: losses)
            }
            assertThrowsIFT(["embeddingBackward: dout must hold 2 ids x 3"]) {
                try be.embeddingBackward(ids: try be.tensor(ints: [0, 1], shape: [2]), dout: losses, dtable: x)
            }
            assertThrowsIFT(["id 7 at position 1"]) {
                try be.embeddingBackward(ids: try be.tensor(ints: [0, 7], shape: [2]), dout: l, dtable: x)
            }
        }
    }

    // MARK: Finite differences (Double forward formulas, checked against cpu-ref's forward)

    func testCrossEntropyGradientMatchesFiniteDifferences() throws {
        var g = SeededGenerator(seed: 101)
        for trial in 0..<4 {
            let rows = 1 + trial, vocab = 3 + 4 * trial
            let x = g.uniformArray(rows * vocab, -3, 3)
            let targets = (0..<rows).map { r in r == 1 ? OpChecks.ignoreIndex : Int32(g.int(0...(vocab - 1))) }
            let scale: Float = 1 / Float(max(1, targets.filter { $0 != OpChecks.ignoreIndex }.count))
            func loss(_ xs: [Double]) -> [Double] {
                (0..<rows).map { r in
                    guard targets[r] != OpChecks.ignoreIndex else { return 0 }
                    let row = xs[(r * vocab)..<((r + 1) * vocab)]
                    let m = row.max()!
                    return log(row.reduce(0) { $0 + exp($1 - m) }) + m - row[r * vocab + Int(targets[r])]
                }
            }
            let lt = try ref.tensor(x, shape: [rows, vocab]), losses = try ref.makeTensor(shape: [rows], dtype: .f32)
            let dl = try ref.makeTensor(shape: [rows, vocab], dtype: .f32)
            try ref.crossEntropy(logits: lt, targets: try ref.tensor(ints: targets, shape: [rows]), losses: losses, dlogits: dl, scale: scale)
            let expectLoss = loss(x.map(Double.init))
            XCTAssertLessThan(maxRelativeError(try ref.floats(losses), expectLoss), 1e-5, "losses, trial \(trial)")
            let fd = finiteDifferences(x.map(Double.init)) { Double(scale) * loss($0).reduce(0, +) }
            XCTAssertLessThan(maxRelativeError(try ref.floats(dl), fd), 1e-4, "dlogits, trial \(trial)")
        }
    }

    func testRMSNormBackwardMatchesFiniteDifferences() throws {
        var g = SeededGenerator(seed: 102)
        for trial in 0..<4 {
            let rows = 1 + trial, dim = [3, 8, 13, 5][trial]
            let eps: Float = 1e-5
            let x = g.uniformArray(rows * dim, -2, 2), w = g.uniformArray(dim, 0.5, 1.5), dy = g.uniformArray(rows * dim)
            func forward(_ xs: [Double], _ ws: [Double]) -> [Double] {
                var out = [Double](repeating: 0, count: xs.count)
                for r in 0..<rows {
                    var ss = 0.0
                    for j in 0..<dim { ss += xs[r * dim + j] * xs[r * dim + j] }
                    let rstd = 1 / (ss / Double(dim) + Double(eps)).squareRoot()
                    for j in 0..<dim { out[r * dim + j] = ws[j] * (xs[r * dim + j] * rstd) }
                }
                return out
            }
            func objective(_ out: [Double]) -> Double { zip(out, dy).reduce(0) { $0 + $1.0 * Double($1.1) } }
            let xd = x.map(Double.init), wd = w.map(Double.init)
            // The Double forward is cpu-ref's forward.
            let tx = try ref.tensor(x, shape: [rows, dim]), tw = try ref.tensor(w, shape: [dim])
            let out = try ref.makeTensor(shape: [rows, dim], dtype: .f32)
            try ref.rmsNorm(tx, weight: tw, eps: eps, into: out)
            XCTAssertLessThan(nmse(try ref.floats(out), forward(xd, wd).map(Float.init)), 1e-12)
            let dx = try ref.makeTensor(shape: [rows, dim], dtype: .f32)
            let dw0 = g.uniformArray(dim)
            let dw = try ref.tensor(dw0, shape: [dim])
            try ref.rmsNormBackward(x: tx, weight: tw, dy: try ref.tensor(dy, shape: [rows, dim]), eps: eps, dx: dx, dweight: dw)
            let fdx = finiteDifferences(xd) { objective(forward($0, wd)) }
            let fdw = finiteDifferences(wd) { objective(forward(xd, $0)) }
            XCTAssertLessThan(maxRelativeError(try ref.floats(dx), fdx), 1e-4, "dx, trial \(trial)")
            let added = zip(try ref.floats(dw), dw0).map { $0 - $1 }
            XCTAssertLessThan(maxRelativeError(added, fdw), 1e-4, "dweight (accumulated), trial \(trial)")
        }
    }

    func testSwigluBackwardMatchesFiniteDifferences() throws {
        var g = SeededGenerator(seed: 103)
        let n = 37
        let gate = g.uniformArray(n, -6, 6), up = g.uniformArray(n, -2, 2), dout = g.uniformArray(n)
        func objective(_ gs: [Double], _ us: [Double]) -> Double {
            (0..<n).reduce(0) { $0 + Double(dout[$1]) * (gs[$1] / (1 + exp(-gs[$1]))) * us[$1] }
        }
        let tg = try ref.tensor(gate, shape: [n]), tu = try ref.tensor(up, shape: [n])
        let out = try ref.makeTensor(shape: [n], dtype: .f32)
        try ref.swiglu(gate: tg, up: tu, into: out)
        let fwd = (0..<n).map { Float(Double(gate[$0]) / (1 + exp(-Double(gate[$0]))) * Double(up[$0])) }
        XCTAssertLessThan(nmse(try ref.floats(out), fwd), 1e-12)
        let dg = try ref.makeTensor(shape: [n], dtype: .f32), du = try ref.makeTensor(shape: [n], dtype: .f32)
        try ref.swigluBackward(gate: tg, up: tu, dout: try ref.tensor(dout, shape: [n]), dgate: dg, dup: du)
        let gd = gate.map(Double.init), ud = up.map(Double.init)
        XCTAssertLessThan(maxRelativeError(try ref.floats(dg), finiteDifferences(gd) { objective($0, ud) }), 1e-4)
        XCTAssertLessThan(maxRelativeError(try ref.floats(du), finiteDifferences(ud) { objective(gd, $0) }), 1e-4)
    }

    /// The forward here is `cpu-ref`'s own `embedding` (fp32), probed with central differences of 1e-3.
    func testEmbeddingBackwardMatchesFiniteDifferences() throws {
        var g = SeededGenerator(seed: 104)
        let vocab = 5, dim = 3, n = 7
        let table = g.uniformArray(vocab * dim), r = g.uniformArray(n * dim)
        let ids = (0..<n).map { _ in Int32(g.int(0...(vocab - 2))) }  // the last row is never used
        let tids = try ref.tensor(ints: ids, shape: [n])
        func objective(_ t: [Float]) throws -> Double {
            let out = try ref.makeTensor(shape: [n, dim], dtype: .f32)
            try ref.embedding(try ref.tensor(t, shape: [vocab, dim]), ids: tids, into: out)
            return zip(try ref.floats(out), r).reduce(0) { $0 + Double($1.0) * Double($1.1) }
        }
        var fd: [Double] = []
        for i in 0..<table.count {
            var p = table, m = table
            p[i] += 1e-3
            m[i] -= 1e-3
            fd.append((try objective(p) - objective(m)) / Double(p[i] - m[i]))
        }
        let dt = try ref.makeTensor(shape: [vocab, dim], dtype: .f32)
        try ref.embeddingBackward(ids: tids, dout: try ref.tensor(r, shape: [n, dim]), dtable: dt)
        XCTAssertLessThan(maxRelativeError(try ref.floats(dt), fd), 1e-3)
        XCTAssertEqual(Array(try ref.floats(dt)[((vocab - 1) * dim)...]), [0, 0, 0])
    }
}
