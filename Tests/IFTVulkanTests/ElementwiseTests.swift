import IFTCPU
import IFTCore
import XCTest

/// `Shaders/binary.comp`, `scale.comp`, `reduce_rows.comp`, `softmax_rows.comp` against `cpu-ref`.
final class ElementwiseTests: VulkanTestCase {
    /// 20+ ragged (rows, cols) shapes, not multiples of any workgroup size.
    func shapes(_ seed: UInt64) -> [(Int, Int)] {
        var g = SeededGenerator(seed: seed)
        var s: [(Int, Int)] = [(1, 1), (1, 257), (3, 1000), (513, 3)]
        for _ in 0..<20 { s.append((1 + Int(g.next() % 90), 1 + Int(g.next() % 700))) }
        return s
    }

    func run(_ values: [[Float]], shapes: [[Int]], outShape: [Int], _ op: (any Backend, [Tensor], Tensor) throws -> Void) throws
        -> ([Float], [Float])
    {
        var out: [[Float]] = []
        for backend in [vk as any Backend, ref] {
            let ins = try zip(values, shapes).map { try backend.tensor($0, shape: $1) }
            let o = try backend.makeTensor(shape: outShape, dtype: .f32)
            try op(backend, ins, o)
            out.append(try backend.floats(o))
        }
        return (out[0], out[1])
    }

    func testBinarySameShapeAndRowBroadcast() throws {
        var g = SeededGenerator(seed: 1)
        for (i, (r, c)) in shapes(11).enumerated() {
            for op in BinaryOp.allCases {
                let a = g.uniformArray(r * c)
                let broadcast = i % 2 == 1
                let b = g.uniformArray(broadcast ? c : r * c)
                let (x, y) = try run([a, b], shapes: [[r, c], broadcast ? [c] : [r, c]], outShape: [r, c]) {
                    try $0.binary(op, $1[0], $1[1], into: $2)
                }
                XCTAssertLessThanOrEqual(nmse(x, y), 1e-7, "\(op) \(r)x\(c) broadcast=\(broadcast)")
            }
        }
    }

    func testScale() throws {
        var g = SeededGenerator(seed: 2)
        for (r, c) in shapes(12) {
            let s = g.uniform(-3, 3)
            let (x, y) = try run([g.uniformArray(r * c)], shapes: [[r, c]], outShape: [r, c]) {
                try $0.scale($1[0], by: s, into: $2)
            }
            XCTAssertLessThanOrEqual(nmse(x, y), 1e-7, "scale \(r)x\(c)")
        }
    }

    func testReduceRows() throws {
        var g = SeededGenerator(seed: 3)
        for (r, c) in shapes(13) {
            for op in ReduceOp.allCases {
                let (x, y) = try run([g.uniformArray(r * c, -5, 5)], shapes: [[r, c]], outShape: [r]) {
                    try $0.reduceRows(op, $1[0], into: $2)
                }
                XCTAssertLessThanOrEqual(nmse(x, y), 1e-7, "\(op) \(r)x\(c)")
                if op == .max { XCTAssertNil(firstBitMismatch(x, y), "max must be exact") }
            }
        }
    }

    func testSoftmaxRows() throws {
        var g = SeededGenerator(seed: 4)
        for (r, c) in shapes(14) {
            let (x, y) = try run([g.uniformArray(r * c, -30, 30)], shapes: [[r, c]], outShape: [r, c]) {
                try $0.softmaxRows($1[0], into: $2)
            }
            XCTAssertLessThanOrEqual(nmse(x, y), 1e-7, "softmax \(r)x\(c)")
        }
        // Large logits stay finite (the row max is subtracted first).
        let big = try vk.tensor([1000, 1001, 999, -1000], shape: [1, 4])
        let out = try vk.makeTensor(shape: [1, 4], dtype: .f32)
        try vk.softmaxRows(big, into: out)
        let p = try vk.floats(out)
        XCTAssertTrue(p.allSatisfy(\.isFinite))
        XCTAssertEqual(p.reduce(0, +), 1, accuracy: 1e-6)
    }

    /// Tensors larger than lavapipe's 128 MiB binding limit are processed in chunks.
    func testBinaryLargerThanOneBinding() throws {
        let n = (vk.device.info.maxStorageBufferRange / 4 / 1000 + 1) * 1000
        guard n <= 100_000_000 else { throw XCTSkip("binding limit too large to exceed cheaply") }
        var g = SeededGenerator(seed: 5)
        let a = g.uniformArray(n)
        let b = g.uniformArray(1000)
        let (x, y) = try run([a, b], shapes: [[n], [1000]], outShape: [n]) { try $0.binary(.add, $1[0], $1[1], into: $2) }
        XCTAssertNil(firstBitMismatch(x, y))
    }

    func testMismatchedShapesAreClearErrors() throws {
        let a = try vk.makeTensor(shape: [4, 6], dtype: .f32)
        let b = try vk.makeTensor(shape: [5], dtype: .f32)
        XCTAssertThrowsError(try vk.binary(.add, a, b, into: a)) { XCTAssertTrue("\($0)".contains("broadcast"), "\($0)") }
        let out = try vk.makeTensor(shape: [5], dtype: .f32)
        XCTAssertThrowsError(try vk.reduceRows(.sum, a, into: out)) { XCTAssertTrue("\($0)".contains("rows"), "\($0)") }
    }
}
