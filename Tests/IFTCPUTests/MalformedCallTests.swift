import IFTCPU
import IFTCore
import XCTest

/// Bad calls throw an `IFTError` that names the problem, on both backends — never a crash.
final class MalformedCallTests: XCTestCase {
    func testMatmulShapeMismatch() throws {
        for be in try cpuBackends() {
            let a = try be.makeTensor(shape: [2, 3], dtype: .f32)
            let b = try be.makeTensor(shape: [3, 2], dtype: .f32)
            let c = try be.makeTensor(shape: [2, 2], dtype: .f32)
            assertThrowsIFT(["shape mismatch", "matmul A", "needs 9 elements", "A has 6"]) {
                try be.matmul(a, b, c, MatmulDescriptor(m: 3, n: 2, k: 3))
            }
            assertThrowsIFT(["matmul B", "needs 12 elements"]) {
                try be.matmul(a, b, c, MatmulDescriptor(m: 2, n: 4, k: 3))
            }
            var batched = MatmulDescriptor(m: 2, n: 2, k: 3, batch: 2)
            batched.strideA = 0
            batched.strideB = 0
            assertThrowsIFT(["matmul C", "needs 8 elements", "C has 4"]) { try be.matmul(a, b, c, batched) }
            var d = MatmulDescriptor(m: 2, n: 2, k: 3)
            d.lda = 2
            assertThrowsIFT(["leading dimensions too small", "lda=2"]) { try be.matmul(a, b, c, d) }
            assertThrowsIFT(["non-negative"]) { try be.matmul(a, b, c, MatmulDescriptor(m: -1, n: 2, k: 3)) }
        }
    }

    func testWrongDType() throws {
        for be in try cpuBackends() {
            let a16 = try be.makeTensor(shape: [2, 3], dtype: .f16)
            let b = try be.makeTensor(shape: [3, 2], dtype: .f32)
            let c = try be.makeTensor(shape: [2, 2], dtype: .f32)
            assertThrowsIFT(["dtype mismatch", "matmul A must be f32, got f16"]) {
                try be.matmul(a16, b, c, MatmulDescriptor(m: 2, n: 2, k: 3))
            }
            let x = try be.makeTensor(shape: [6], dtype: .f32)
            assertThrowsIFT(["add a must be f32, got f16"]) { try be.binary(.add, a16, x, into: x) }
            assertThrowsIFT(["scale out must be f32, got f16"]) { try be.scale(x, by: 2, into: a16) }
            assertThrowsIFT(["reduce input must be f32"]) { try be.reduceRows(.sum, a16, into: x) }
            assertThrowsIFT(["softmax output must be f32"]) { try be.softmaxRows(x, into: try be.makeTensor(shape: [6], dtype: .bf16)) }
            let q = try be.makeTensor(shape: [32], dtype: .q8_0)
            assertThrowsIFT(["cast converts between f32, f16 and bf16", "q8_0 -> f32"]) {
                try be.cast(q, into: try be.makeTensor(shape: [32], dtype: .f32))
            }
            assertThrowsIFT(["dequantize takes a quantized tensor, got f16"]) { try be.dequantize(a16, into: x) }
            assertThrowsIFT(["dequantize output must be f32, got f16"]) {
                try be.dequantize(q, into: try be.makeTensor(shape: [32], dtype: .f16))
            }
        }
    }

    func testWrongBackendTensor() throws {
        let ref = CPUReferenceBackend(), cpu = try! CPUBackend()
        let a = try ref.tensor([1, 2, 3, 4], shape: [2, 2])
        let b = try cpu.tensor([1, 2, 3, 4], shape: [2, 2])
        let c = try cpu.makeTensor(shape: [2, 2], dtype: .f32)
        assertThrowsIFT(["belongs to backend 'cpu-ref'", "passed to backend 'cpu'"]) {
            try cpu.matmul(a, b, c, MatmulDescriptor(m: 2, n: 2, k: 2))
        }
        assertThrowsIFT(["belongs to backend 'cpu'", "passed to backend 'cpu-ref'"]) {
            try ref.binary(.add, a, b, into: a)
        }
        assertThrowsIFT(["belongs to backend 'cpu-ref'"]) { _ = try cpu.floats(a) }
        assertThrowsIFT(["belongs to backend 'cpu'"]) { try ref.scale(b, by: 1, into: b) }
        assertThrowsIFT(["belongs to backend 'cpu-ref'"]) { try cpu.softmaxRows(a, into: c) }
        assertThrowsIFT(["belongs to backend 'cpu-ref'"]) { try cpu.reduceRows(.max, a, into: c) }
        assertThrowsIFT(["belongs to backend 'cpu'"]) { try ref.cast(b, into: a) }
        assertThrowsIFT(["belongs to backend 'cpu'"]) { try ref.dequantize(try cpu.makeTensor(shape: [32], dtype: .q4_0), into: a) }
        XCTAssertEqual(ref.name, "cpu-ref")
        XCTAssertEqual(cpu.name, "cpu")
    }

    func testOtherShapeErrors() throws {
        for be in try cpuBackends() {
            let x = try be.makeTensor(shape: [2, 3], dtype: .f32)
            let y4 = try be.makeTensor(shape: [4], dtype: .f32)
            assertThrowsIFT(["add", "must have as many elements as a", "or divide them"]) { try be.binary(.add, x, y4, into: x) }
            assertThrowsIFT(["mul: out has 4 elements, a has 6"]) { try be.binary(.mul, x, x, into: y4) }
            assertThrowsIFT(["scale: out has 4 elements, a has 6"]) { try be.scale(x, by: 1, into: y4) }
            assertThrowsIFT(["reduceRows", "4 rows"]) { try be.reduceRows(.sum, x, into: y4) }
            assertThrowsIFT(["softmaxRows", "must be equal"]) { try be.softmaxRows(x, into: try be.makeTensor(shape: [3, 2], dtype: .f32)) }
            assertThrowsIFT(["cast: input has 6 elements, output 4"]) { try be.cast(x, into: try be.makeTensor(shape: [4], dtype: .f16)) }
            assertThrowsIFT(["dequantize: input has 32 values, output 4"]) {
                try be.dequantize(try be.makeTensor(shape: [32], dtype: .q4_1), into: y4)
            }
            assertThrowsIFT(["q4_k tensor needs its last dimension to be a multiple of 256", "[2, 100]"]) {
                _ = try be.makeTensor(shape: [2, 100], dtype: .q4_k)
            }
            assertThrowsIFT(["negative dimension"]) { _ = try be.makeTensor(shape: [2, -1], dtype: .f32) }
            assertThrowsIFT(["write", "needs exactly 24 bytes, got 8"]) {
                try [Float(1), 2].withUnsafeBytes { (raw: UnsafeRawBufferPointer) in try be.write(x, from: raw) }
            }
            assertThrowsIFT(["read", "has 24 bytes, destination has 4"]) {
                var buf = [UInt8](repeating: 0, count: 4)
                try buf.withUnsafeMutableBytes { try be.read(x, into: $0) }
            }
            assertThrowsIFT(["6 values do not fill shape [2, 2]"]) { _ = try be.tensor([1, 2, 3, 4, 5, 6], shape: [2, 2]) }
        }
    }

    func testReferenceFunctionsValidateBuffers() throws {
        assertThrowsIFT(["dequantize", "2 blocks = 68 bytes, got 34"]) {
            var out = [Float](repeating: 0, count: 64)
            let bytes = [UInt8](repeating: 0, count: 34)
            try bytes.withUnsafeBytes { raw in
                try out.withUnsafeMutableBufferPointer { try Reference.dequantize(.q8_0, bytes: raw, into: $0) }
            }
        }
        assertThrowsIFT(["not a whole number of q4_0 blocks"]) { _ = try Reference.dequantize(.q4_0, [UInt8](repeating: 0, count: 19)) }
        assertThrowsIFT(["dequantize takes a quantized dtype, got bf16"]) { _ = try Reference.dequantize(.bf16, [0, 0]) }
        assertThrowsIFT(["33 elements is not a whole number of q8_0 blocks"]) {
            _ = try Reference.quantize(.q8_0, [Float](repeating: 1, count: 33))
        }
        assertThrowsIFT(["quantize", "value 0 is inf"]) { _ = try Reference.quantize(.nf4, [.infinity] + [Float](repeating: 0, count: 63)) }
        assertThrowsIFT(["matmul A"]) {
            let a = [Float](repeating: 1, count: 3)
            var c = [Float](repeating: 0, count: 4)
            try a.withUnsafeBufferPointer { pa in
                try c.withUnsafeMutableBufferPointer { try Reference.matmul(a: pa, b: pa, c: $0, MatmulDescriptor(m: 2, n: 2, k: 2)) }
            }
        }
        assertThrowsIFT(["cast", "got 4 and 2"]) {
            let src = [UInt8](repeating: 0, count: 4)
            var dst = [UInt8](repeating: 0, count: 2)
            try src.withUnsafeBytes { s in try dst.withUnsafeMutableBytes { try Reference.cast(from: .f32, s, to: .f16, $0, count: 2) } }
        }
    }

    func testStorageIsAlignedZeroedAndRounded() throws {
        for be in try cpuBackends() {
            for (shape, dtype, bytes) in [([3], DType.f16, 6), ([1], .bf16, 2), ([64], .q8_0, 68), ([0], .f32, 0), ([256], .q4_k, 144)] {
                let t = try be.makeTensor(shape: shape, dtype: dtype)
                let s = try XCTUnwrap(t.storage as? CPUStorage)
                XCTAssertEqual(s.byteCount, bytes)
                XCTAssertEqual(s.allocatedByteCount % 4, 0)
                XCTAssertGreaterThanOrEqual(s.allocatedByteCount, bytes)
                XCTAssertEqual(Int(bitPattern: s.data) % 64, 0, "64-byte aligned")
                XCTAssertEqual(s.backendName, be.name)
                XCTAssertEqual(try be.bytes(t), [UInt8](repeating: 0, count: bytes), "zero-filled")
            }
            try be.synchronize()
        }
    }
}
