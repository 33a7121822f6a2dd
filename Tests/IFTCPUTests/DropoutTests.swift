import IFTCPU
import IFTCore
import IFTTestSupport
import XCTest

/// `dropout` on `cpu-ref` by hand (mask statistics, scaling, determinism, the backward property),
/// `cpu` bit-exact against `cpu-ref`, and malformed calls.
final class DropoutTests: XCTestCase {
    let ref = CPUReferenceBackend()

    func dropout(_ b: any Backend, _ x: [Float], p: Float, seed: UInt64) throws -> [Float] {
        let tx = try b.tensor(x, shape: [x.count])
        let out = try b.makeTensor(shape: [x.count], dtype: .f32)
        try b.dropout(tx, probability: p, seed: seed, into: out)
        return try b.floats(out)
    }

    /// Values that are never zero, so a zero output means "dropped".
    func nonzero(_ n: Int, seed: UInt64) -> [Float] {
        var g = SeededGenerator(seed: seed)
        return (0..<n).map { _ in (g.bool() ? 1 : -1) * g.uniform(0.25, 4) }
    }

    /// The formula of `Dropout`'s documentation, pinned (computed independently in Python).
    func testHashIsPinned() {
        XCTAssertEqual(Dropout.key(seed: 0), 0xae6f_80f1)
        XCTAssertEqual(Dropout.key(seed: 42), 0xb7d2_20dc)
        XCTAssertEqual(Dropout.key(seed: 0x1234_5678_9abc_def0), 0x1644_e98d)
        let k = Dropout.key(seed: 42)
        XCTAssertEqual(
            [0, 1, 2, 1000, 0xffff_ffff].map { Dropout.hash(key: k, index: $0) },
            [0xdc1f_5763, 0x6ef4_20fe, 0x887b_c363, 0x1b2c_6314, 0xf7a5_7bd6])
        // keep iff (h >> 8) * 2^-24 >= p: 0xdc1f57 / 2^24 = 0.8598...
        XCTAssertTrue(Dropout.keeps(seed: 42, index: 0, probability: 0.85))
        XCTAssertFalse(Dropout.keeps(seed: 42, index: 0, probability: 0.86))
        XCTAssertTrue(Dropout.keeps(seed: 42, index: 0, probability: Float(0xdc1f57) * 0x1p-24))
        XCTAssertFalse(Dropout.keeps(seed: 42, index: 0, probability: Float(0xdc1f58) * 0x1p-24))
        XCTAssertEqual(Dropout.scale(probability: 0), 1)
        XCTAssertEqual(Dropout.scale(probability: 0.5), 2)
        XCTAssertEqual(Dropout.scale(probability: 0.1), 1 / Float(0.9))
    }

    func testZeroProbabilityIsIdentity() throws {
        var g = SeededGenerator(seed: 1)
        let x = g.uniformArray(10_007, -5, 5) + [0, -0.0, .infinity, -.greatestFiniteMagnitude]
        for b in try cpuBackends() {
            assertBitEqual(try dropout(b, x, p: 0, seed: 99), x, "\(b.name) p=0")
        }
    }

    func testKeptFractionAndScaling() throws {
        let n = 100_000
        let x = nonzero(n, seed: 2)
        for p: Float in [0.1, 0.5, 0.9] {
            for seed: UInt64 in [0, 7, 0xdead_beef_0000_0001] {
                let y = try dropout(ref, x, p: p, seed: seed)
                let s = Dropout.scale(probability: p)
                var kept = 0
                for i in 0..<n {
                    let keep = Dropout.keeps(seed: seed, index: UInt32(i), probability: p)
                    if keep {
                        kept += 1
                        XCTAssertEqual(y[i].bitPattern, (x[i] * s).bitPattern, "p=\(p) seed=\(seed) element \(i) kept")
                    } else {
                        XCTAssertEqual(y[i].bitPattern, Float(0).bitPattern, "p=\(p) seed=\(seed) element \(i) dropped")
                    }
                    if (y[i] != 0) != keep { break }
                }
                let expected = Double(n) * Double(1 - p)
                let sigma = (Double(n) * Double(p) * Double(1 - p)).squareRoot()
                XCTAssertLessThan(abs(Double(kept) - expected), 5 * sigma, "p=\(p) seed=\(seed): kept \(kept) of \(n)")
            }
        }
    }

    func testSameSeedSameMaskDifferentSeedsDiffer() throws {
        let n = 50_000
        let x = nonzero(n, seed: 3)
        let p: Float = 0.5
        let a = try dropout(ref, x, p: p, seed: 1234)
        assertBitEqual(try dropout(ref, x, p: p, seed: 1234), a, "same seed")
        // Any other input gets the same mask under the same seed.
        let other = nonzero(n, seed: 4)
        let b = try dropout(ref, other, p: p, seed: 1234)
        for i in 0..<n where (a[i] == 0) != (b[i] == 0) {
            XCTFail("the mask depends on the data at element \(i)")
            break
        }
        // Seeds that differ in the low word, the high word, or one bit each give a different mask,
        // differing at about 2p(1-p) = half of the elements.
        for seed2: UInt64 in [1235, 1234 | 1 << 32, 1234 ^ 1 << 63, 0] {
            let c = try dropout(ref, x, p: p, seed: seed2)
            let differ = (0..<n).filter { (a[$0] == 0) != (c[$0] == 0) }.count
            XCTAssertGreaterThan(differ, n * 2 / 5, "seed \(seed2) vs 1234")
            XCTAssertLessThan(differ, n * 3 / 5, "seed \(seed2) vs 1234")
        }
    }

    /// The backward is the same op with the same seed: applied to its own output, each kept element
    /// is `(x * s) * s` and the same elements are zero.
    func testTwiceWithSameSeedIsMaskTimesScaleSquared() throws {
        let n = 30_001
        let x = nonzero(n, seed: 5)
        for b in try cpuBackends() {
            for p: Float in [0.1, 0.3] {
                let s = Dropout.scale(probability: p)
                let tx = try b.tensor(x, shape: [n])
                let y = try b.makeTensor(shape: [n], dtype: .f32)
                try b.dropout(tx, probability: p, seed: 77, into: y)
                try b.dropout(y, probability: p, seed: 77, into: y)  // in place
                let z = try b.floats(y)
                let expected = (0..<n).map { i in
                    Dropout.keeps(seed: 77, index: UInt32(i), probability: p) ? (x[i] * s) * s : 0
                }
                assertBitEqual(z, expected, "\(b.name) p=\(p) twice")
            }
        }
    }

    /// `cpu` (threaded) matches `cpu-ref` bit for bit, in place or not, on ragged sizes.
    func testCPUBitExactAgainstReference() throws {
        let cpu = try CPUBackend()
        var g = SeededGenerator(seed: 6)
        let sizes = [1, 2, 63, 64, 65, 1000, 65_537, 300_001] + (0..<6).map { _ in g.int(1...200_000) }
        for (t, n) in sizes.enumerated() {
            let x = g.uniformArray(n, -3, 3)
            let p: Float = [0, 0.05, 0.1, 0.5, 0.999][t % 5]
            let seed = g.next()
            let want = try dropout(ref, x, p: p, seed: seed)
            assertBitEqual(try dropout(cpu, x, p: p, seed: seed), want, "cpu n=\(n) p=\(p)")
            let tx = try cpu.tensor(x, shape: [n])
            try cpu.dropout(tx, probability: p, seed: seed, into: tx)
            assertBitEqual(try cpu.floats(tx), want, "cpu in place n=\(n) p=\(p)")
        }
        // Empty tensors are fine.
        for b in try cpuBackends() {
            let e = try b.makeTensor(shape: [0], dtype: .f32)
            try b.dropout(e, probability: 0.5, seed: 1, into: e)
        }
    }

    func testMalformedCallsThrow() throws {
        for b in try cpuBackends() {
            let x = try b.tensor([1, 2, 3, 4], shape: [4])
            let out = try b.makeTensor(shape: [4], dtype: .f32)
            for p: Float in [-0.1, 1, 1.5, .nan, .infinity, -.infinity] {
                assertThrowsIFT(["dropout probability must be in [0, 1)"]) {
                    try b.dropout(x, probability: p, seed: 0, into: out)
                }
            }
            assertThrowsIFT(["dropout", "out has 3 elements, x has 4"]) {
                try b.dropout(x, probability: 0.1, seed: 0, into: try b.makeTensor(shape: [3], dtype: .f32))
            }
            assertThrowsIFT(["dropout out must be f32"]) {
                try b.dropout(x, probability: 0.1, seed: 0, into: try b.makeTensor(shape: [4], dtype: .f16))
            }
            assertThrowsIFT(["dropout x must be f32"]) {
                try b.dropout(try b.makeTensor(shape: [4], dtype: .bf16), probability: 0.1, seed: 0, into: out)
            }
            let other: any Backend = b is CPUBackend ? CPUReferenceBackend() : try CPUBackend()
            let foreign = try other.makeTensor(shape: [4], dtype: .f32)
            XCTAssertThrowsError(try b.dropout(foreign, probability: 0.1, seed: 0, into: out))
        }
    }
}
