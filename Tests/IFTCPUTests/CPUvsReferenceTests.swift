import IFTCPU
import IFTCore
import IFTTestSupport
import XCTest

/// The `cpu` backend against `cpu-ref` on random shapes (odd sizes, transposes, strides,
/// broadcasts), including sizes large enough to take the multithreaded paths: nmse <= 1e-7 for
/// fp32 math, bit-exact for cast and dequantize.
final class CPUvsReferenceTests: XCTestCase {
    let ref = CPUReferenceBackend()
    let cpu = try! CPUBackend()
    let tolerance = 1e-7

    /// Runs `op` on both backends with the same f32 inputs and returns (cpu, ref) outputs.
    func both(
        _ inputs: [[Float]], outCount: Int, outInit: [Float]? = nil,
        _ op: (any Backend, [Tensor], Tensor) throws -> Void
    ) throws -> (cpu: [Float], ref: [Float]) {
        var results = [[Float]]()
        for be in [cpu, ref] as [any Backend] {
            let ts = try inputs.map { try be.tensor($0, shape: [$0.count]) }
            let out = try be.tensor(outInit ?? [Float](repeating: 0, count: outCount), shape: [outCount])
            try op(be, ts, out)
            results.append(try be.floats(out))
        }
        return (results[0], results[1])
    }

    func testMatmulRandomShapes() throws {
        var rng = SeededGenerator(seed: 1)
        for trial in 0..<28 {
            let m = rng.int(1...130), n = rng.int(1...130)
            let k = trial == 5 ? 0 : rng.int(1...130)
            let batch = trial % 3 == 0 ? rng.int(2...3) : 1
            var d = MatmulDescriptor(
                m: m, n: n, k: k, batch: batch, transposeA: trial % 2 == 1, transposeB: (trial / 2) % 2 == 1,
                alpha: [1, 0.5, -2][trial % 3], beta: [0, 1, 0.25, 0][trial % 4])
            d.lda += rng.int(0...3)
            d.ldb += rng.int(0...3)
            d.ldc += rng.int(0...3)
            d.offsetA = rng.int(0...5)
            d.offsetB = rng.int(0...5)
            d.offsetC = rng.int(0...5)
            let rowsA = d.storedA.rows, rowsB = d.storedB.rows
            d.strideA = rowsA * d.lda + rng.int(0...2)
            d.strideB = trial % 6 == 0 ? 0 : rowsB * d.ldb + rng.int(0...2)  // 0: B broadcast over the batch
            d.strideC = m * d.ldc + rng.int(0...2)
            let a = rng.uniformArray(max(1, d.extentA)), b = rng.uniformArray(max(1, d.extentB))
            let c0 = rng.uniformArray(max(1, d.extentC))
            let (x, y) = try both([a, b], outCount: c0.count, outInit: c0) { be, t, out in
                try be.matmul(t[0], t[1], out, d)
            }
            let e = nmse(x, y)
            XCTAssertLessThanOrEqual(e, tolerance, "trial \(trial): \(d) nmse \(e)")
        }
    }

    /// A matmul big enough for OpenBLAS to use its own threads.
    func testMatmulLarge() throws {
        var rng = SeededGenerator(seed: 2)
        let d = MatmulDescriptor(m: 150, n: 170, k: 190, transposeB: true)
        let (x, y) = try both([rng.uniformArray(d.extentA), rng.uniformArray(d.extentB)], outCount: d.extentC) { be, t, out in
            try be.matmul(t[0], t[1], out, d)
        }
        XCTAssertLessThanOrEqual(nmse(x, y), tolerance)
    }

    func testBinaryAndScaleRandomShapes() throws {
        var rng = SeededGenerator(seed: 3)
        for trial in 0..<24 {
            // The last trials exceed the parallel threshold (2 * 65536 elements).
            let rows = trial >= 21 ? rng.int(300...400) : rng.int(1...40)
            let cols = trial >= 21 ? rng.int(500...700) : rng.int(1...130)
            let a = rng.uniformArray(rows * cols, -4, 4)
            let bCount = [rows * cols, cols, 1, rows % 2 == 0 ? 2 * cols : cols][trial % 4]
            let b = rng.uniformArray(bCount, -4, 4)
            for op in BinaryOp.allCases {
                let (x, y) = try both([a, b], outCount: a.count) { be, t, out in try be.binary(op, t[0], t[1], into: out) }
                XCTAssertLessThanOrEqual(nmse(x, y), tolerance, "\(op) \(rows)x\(cols) b=\(bCount)")
                assertBitEqual(x, y, "\(op) \(rows)x\(cols) b=\(bCount)")  // one rounding each: exact
            }
            let s = rng.uniform(-3, 3)
            let (x, y) = try both([a], outCount: a.count) { be, t, out in try be.scale(t[0], by: s, into: out) }
            XCTAssertLessThanOrEqual(nmse(x, y), tolerance)
            assertBitEqual(x, y, "scale \(rows)x\(cols)")
        }
    }

    func testReduceRowsRandomShapes() throws {
        var rng = SeededGenerator(seed: 4)
        for trial in 0..<24 {
            let rows = trial >= 21 ? rng.int(1500...2500) : rng.int(1...60)
            let cols = trial >= 21 ? rng.int(60...130) : rng.int(1...300)
            let a = rng.uniformArray(rows * cols, -2, 2)
            for op in ReduceOp.allCases {
                let (x, y) = try both([a], outCount: rows) { be, t, out in try be.reduceRows(op, t[0], into: out) }
                XCTAssertLessThanOrEqual(nmse(x, y), tolerance, "\(op) \(rows)x\(cols)")
                if op == .max { XCTAssertEqual(x, y, "max is exact") }
            }
        }
    }

    func testSoftmaxRandomShapes() throws {
        var rng = SeededGenerator(seed: 5)
        for trial in 0..<24 {
            let rows = trial >= 21 ? rng.int(1000...1500) : rng.int(1...60)
            let cols = trial >= 21 ? rng.int(100...200) : rng.int(1...300)
            let spread: Float = [1, 10, 50, 500][trial % 4]
            let a = rng.uniformArray(rows * cols, -spread, spread)
            var results = [[Float]]()
            for be in [cpu, ref] as [any Backend] {
                let t = try be.tensor(a, shape: [rows, cols])
                let out = try be.makeTensor(shape: [rows, cols], dtype: .f32)
                try be.softmaxRows(t, into: out)
                results.append(try be.floats(out))
            }
            XCTAssertLessThanOrEqual(nmse(results[0], results[1]), tolerance, "\(rows)x\(cols) spread \(spread)")
            XCTAssertFalse(results[0].contains { $0.isNaN }, "no NaN")
        }
    }

    func testCastRandomIsExact() throws {
        var rng = SeededGenerator(seed: 6)
        let types: [DType] = [.f32, .f16, .bf16]
        var trial = 0
        for from in types {
            for to in types {
                for _ in 0..<3 {
                    let n = trial % 9 == 8 ? 150_000 : rng.int(1...5000)
                    trial += 1
                    // Random bit patterns: every class (NaN, inf, subnormal, huge) shows up; for f32,
                    // mix in values in the f16 range so rounding (not only overflow) is exercised.
                    var bytes = rng.bytes(n * from.blockBytes)
                    if from == .f32 {
                        for i in stride(from: 0, to: n, by: 2) {
                            let v = rng.uniform(-70000, 70000) * (rng.bool() ? 1 : 1e-6)
                            withUnsafeBytes(of: v.bitPattern.littleEndian) { for j in 0..<4 { bytes[4 * i + j] = $0[j] } }
                        }
                    }
                    var outs = [[UInt8]]()
                    for be in [cpu, ref] as [any Backend] {
                        let t = try be.tensor(bytes: bytes, shape: [n], dtype: from)
                        let out = try be.makeTensor(shape: [n], dtype: to)
                        try be.cast(t, into: out)
                        outs.append(try be.bytes(out))
                    }
                    XCTAssertEqual(outs[0], outs[1], "\(from) -> \(to), \(n) elements")
                }
            }
        }
    }

    func testDequantizeRandomIsExact() throws {
        var rng = SeededGenerator(seed: 7)
        for dtype in [DType.q8_0, .q4_0, .q4_1, .q4_k, .nf4] {
            for trial in 0..<20 {
                // Random bytes: every scale bit pattern (inf/NaN included) and every level. The last
                // trial is large enough for the multithreaded path.
                let blocks = trial == 19 ? 300_000 / dtype.blockSize : rng.int(1...40)
                let bytes = rng.bytes(blocks * dtype.blockBytes)
                var outs = [[Float]]()
                for be in [cpu, ref] as [any Backend] {
                    let q = try be.tensor(bytes: bytes, shape: [blocks, dtype.blockSize], dtype: dtype)
                    let out = try be.makeTensor(shape: [blocks, dtype.blockSize], dtype: .f32)
                    try be.dequantize(q, into: out)
                    outs.append(try be.floats(out))
                }
                assertBitEqual(outs[0], outs[1], "\(dtype) \(blocks) blocks")
            }
        }
    }
}
