import IFTCPU
import IFTCore
import XCTest

/// Bad calls of the forward-pass ops throw an `IFTError` naming the op and what was expected, on
/// both CPU backends (the messages come from `OpChecks`, shared with Vulkan).
final class ForwardMalformedCallTests: XCTestCase {
    func testI32IsNotAFloatType() throws {
        XCTAssertEqual(DType.i32.blockSize, 1)
        XCTAssertEqual(DType.i32.blockBytes, 4)
        XCTAssertFalse(DType.i32.isQuantized)
        XCTAssertFalse(DType.i32.isFloat)
        for be in try cpuBackends() {
            let ids = try be.tensor(ints: [1, -2, 3], shape: [3])
            XCTAssertEqual(try be.ints(ids), [1, -2, 3])
            XCTAssertEqual(ids.byteCount, 12)
            assertThrowsIFT(["cast converts between f32, f16 and bf16", "i32 -> f32"]) {
                try be.cast(ids, into: try be.makeTensor(shape: [3], dtype: .f32))
            }
            assertThrowsIFT(["dequantize takes a quantized tensor, got i32"]) {
                try be.dequantize(ids, into: try be.makeTensor(shape: [3], dtype: .f32))
            }
            assertThrowsIFT(["add a must be f32, got i32"]) { try be.binary(.add, ids, ids, into: ids) }
            assertThrowsIFT(["floats(_:) must be f32, got i32"]) { _ = try be.floats(ids) }
        }
    }

    func testEmbeddingErrors() throws {
        for be in try cpuBackends() {
            let table = try be.makeTensor(shape: [4, 3], dtype: .f32)
            let ids = try be.tensor(ints: [0, 1], shape: [2])
            let out = try be.makeTensor(shape: [2, 3], dtype: .f32)
            assertThrowsIFT(["embedding ids must be i32, got f32"]) { try be.embedding(table, ids: out, into: out) }
            assertThrowsIFT(["embedding output must be f32, got f16"]) {
                try be.embedding(table, ids: ids, into: try be.makeTensor(shape: [2, 3], dtype: .f16))
            }
            assertThrowsIFT(["embedding table must be", "got i32"]) { try be.embedding(ids, ids: ids, into: out) }
            assertThrowsIFT(["embedding: table must be [vocab, dim]", "[12]"]) {
                try be.embedding(try be.makeTensor(shape: [12], dtype: .f32), ids: ids, into: out)
            }
            assertThrowsIFT(["embedding: output must hold 2 ids x 3 = 6 values, has 4"]) {
                try be.embedding(table, ids: ids, into: try be.makeTensor(shape: [4], dtype: .f32))
            }
        }
    }

    func testRMSNormErrors() throws {
        for be in try cpuBackends() {
            let x = try be.makeTensor(shape: [2, 4], dtype: .f32)
            let w = try be.makeTensor(shape: [4], dtype: .f32)
            assertThrowsIFT(["rmsNorm: weight ([3]) must have as many elements as the input's last dimension"]) {
                try be.rmsNorm(x, weight: try be.makeTensor(shape: [3], dtype: .f32), eps: 1e-5, into: x)
            }
            assertThrowsIFT(["rmsNorm: output has 4 elements, input 8"]) { try be.rmsNorm(x, weight: w, eps: 1e-5, into: w) }
            assertThrowsIFT(["rmsNorm: eps must be finite and non-negative"]) { try be.rmsNorm(x, weight: w, eps: -1, into: x) }
            assertThrowsIFT(["rmsNorm weight must be f32, got bf16"]) {
                try be.rmsNorm(x, weight: try be.makeTensor(shape: [4], dtype: .bf16), eps: 0, into: x)
            }
        }
    }

    func testRopeErrors() throws {
        for be in try cpuBackends() {
            let x = try be.makeTensor(shape: [3, 2, 8], dtype: .f32)
            let pos = try be.tensor(ints: [0, 1, 2], shape: [3])
            let table = try be.tensor(RopeTable.make(theta: 10000, headDim: 8, maxPositions: 3), shape: [3, 8])
            let d = RopeDescriptor(heads: 2, headDim: 8, tokens: 3)
            assertThrowsIFT(["rope: headDim must be even and positive, got 7"]) {
                try be.rope(x, positions: pos, table: table, RopeDescriptor(heads: 2, headDim: 7, tokens: 3), into: x)
            }
            assertThrowsIFT(["rope: positions has 2 elements, expected one per token (3)"]) {
                try be.rope(x, positions: try be.tensor(ints: [0, 1], shape: [2]), table: table, d, into: x)
            }
            assertThrowsIFT(["rope: table must be [maxPositions, headDim = 8]", "[6, 4]"]) {
                try be.rope(x, positions: pos, table: try be.makeTensor(shape: [6, 4], dtype: .f32), d, into: x)
            }
            assertThrowsIFT(["rope: rowStride 10 is smaller than heads x headDim = 16"]) {
                try be.rope(x, positions: pos, table: table, RopeDescriptor(heads: 2, headDim: 8, tokens: 3, rowStride: 10), into: x)
            }
            assertThrowsIFT(["rope:", "need 49 elements; input has 48"]) {
                try be.rope(x, positions: pos, table: table, RopeDescriptor(heads: 2, headDim: 8, tokens: 3, offset: 1), into: x)
            }
            assertThrowsIFT(["rope positions must be i32, got f32"]) { try be.rope(x, positions: x, table: table, d, into: x) }
            // A position past the table: named with its token; nothing is written.
            let before = try be.floats(x)
            assertThrowsIFT(["rope: position 3 of token 2 is outside the table's 0..<3 rows"]) {
                try be.rope(x, positions: try be.tensor(ints: [0, 1, 3], shape: [3]), table: table, d, into: x)
            }
            assertThrowsIFT(["rope: position -1 of token 0"]) {
                try be.rope(x, positions: try be.tensor(ints: [-1, 1, 2], shape: [3]), table: table, d, into: x)
            }
            XCTAssertEqual(try be.floats(x), before)
        }
    }

    func testSwiGLUAndCopyErrors() throws {
        for be in try cpuBackends() {
            let a = try be.makeTensor(shape: [6], dtype: .f32), b = try be.makeTensor(shape: [5], dtype: .f32)
            assertThrowsIFT(["swiglu: gate (6 elements), up (5) and output (6) must have equal counts"]) {
                try be.swiglu(gate: a, up: b, into: a)
            }
            assertThrowsIFT(["swiglu up must be f32, got f16"]) {
                try be.swiglu(gate: a, up: try be.makeTensor(shape: [6], dtype: .f16), into: a)
            }
            assertThrowsIFT(["copy: 2 x 3 source rows need 7 elements, source has 6"]) {
                try be.copy(a, into: b, CopyDescriptor(rows: 2, cols: 3, srcOffset: 1))
            }
            assertThrowsIFT(["copy: 2 x 3 destination rows need 6 elements, destination has 5"]) {
                try be.copy(a, into: b, CopyDescriptor(rows: 2, cols: 3))
            }
            assertThrowsIFT(["copy: row strides (source 2, destination 3) must be >= cols (3)"]) {
                try be.copy(a, into: b, CopyDescriptor(rows: 1, cols: 3, srcRowStride: 2))
            }
            assertThrowsIFT(["copy: source and destination ranges overlap in the same tensor"]) {
                try be.copy(a, into: a, CopyDescriptor(rows: 1, cols: 3, srcOffset: 0, dstOffset: 2))
            }
            assertThrowsIFT(["copy destination must be f32, got i32"]) {
                try be.copy(a, into: try be.makeTensor(shape: [6], dtype: .i32), CopyDescriptor(rows: 1, cols: 3))
            }
        }
    }

    func testAttentionErrors() throws {
        for be in try cpuBackends() {
            let d = AttentionDescriptor(queryLength: 2, keyLength: 3, heads: 4, kvHeads: 2, headDim: 4)
            let q = try be.makeTensor(shape: [2, 16], dtype: .f32)
            let kv = try be.makeTensor(shape: [3, 8], dtype: .f32)
            let out = try be.makeTensor(shape: [2, 16], dtype: .f32)
            func call(_ d: AttentionDescriptor, q: Tensor, k: Tensor? = nil, out o: Tensor? = nil, lse: Tensor? = nil, seg: Tensor? = nil) throws {
                try be.attention(q: q, k: k ?? kv, v: kv, into: o ?? out, logSumExp: lse, segments: seg, d)
            }
            try call(d, q: q)  // well-formed
            assertThrowsIFT(["attention: heads (4), kvHeads (3)", "kvHeads dividing heads"]) {
                try call(AttentionDescriptor(queryLength: 2, keyLength: 3, heads: 4, kvHeads: 3, headDim: 4), q: q)
            }
            assertThrowsIFT(["attention k", "need 24 elements, k has 16"]) {
                try call(d, q: q, k: try be.makeTensor(shape: [2, 8], dtype: .f32))
            }
            var strided = d
            strided.qRowStride = 20
            assertThrowsIFT(["attention q", "need 36 elements, q has 32"]) { try call(strided, q: q) }
            strided = d
            strided.kvRowStride = 6
            assertThrowsIFT(["attention: row strides too small", "kvRowStride 6 needs >= kvHeads x headDim = 8"]) { try call(strided, q: q) }
            assertThrowsIFT(["attention: logSumExp must be [batch, heads, queryLength] = 8 elements, has 4"]) {
                try call(d, q: q, lse: try be.makeTensor(shape: [4], dtype: .f32))
            }
            assertThrowsIFT(["attention segments must be i32, got f32"]) { try call(d, q: q, seg: try be.makeTensor(shape: [3], dtype: .f32)) }
            assertThrowsIFT(["attention: segments must be [batch, keyLength] = 3 elements, has 2"]) {
                try call(d, q: q, seg: try be.tensor(ints: [0, 0], shape: [2]))
            }
            var early = d
            early.queryOffset = 2
            assertThrowsIFT(["with segments every query must be a key", "queryOffset 2 + queryLength 2", "keyLength 3"]) {
                try call(early, q: q, seg: try be.tensor(ints: [0, 0, 1], shape: [3]))
            }
            assertThrowsIFT(["attention: the output overlaps q (same tensor)"]) { try call(d, q: out, out: out) }
            var batched = d
            batched.batch = 2
            batched.outBatchStride = 16
            assertThrowsIFT(["attention: outBatchStride 16 makes batch entries overlap (each spans 32 elements)"]) { try call(batched, q: q) }
            var badScale = d
            badScale.scale = .nan
            assertThrowsIFT(["attention: scale must be finite"]) { try call(badScale, q: q) }
        }
    }
}
