import Foundation
import IFTCore
import XCTest

@testable import IFTModel

final class SafetensorsTests: XCTestCase {
    /// Fixtures/hf-fixture.safetensors was written by Hugging Face's reference `safetensors`
    /// package (`python3 Tools/make-safetensors-fixture.py write`, safetensors.numpy.save_file).
    func testReadsReferenceFixture() throws {
        let path = TestSupport.fixture("hf-fixture.safetensors")
        let s = try SafetensorsFile(path: path)
        XCTAssertEqual(s.metadata, ["format": "pt", "note": "written by safetensors.numpy"])
        XCTAssertEqual(s.tensors.map(\.name), ["layers.0.w", "model.embed_tokens.weight", "scalar", "model.norm.weight"])
        XCTAssertEqual(try s.floats("model.embed_tokens.weight", expectedShape: [3, 4]), (0..<12).map { Float($0) / 8 - 0.5 })
        XCTAssertEqual(try s.tensorInfo("model.norm.weight").dtype, .f16)
        XCTAssertEqual(try s.floats("model.norm.weight"), [1, 0.5, -2, 65504])
        XCTAssertEqual(try s.tensorInfo("scalar").shape, [])
        XCTAssertEqual(try s.floats("scalar"), [3.5])
        XCTAssertEqual(try s.floats("layers.0.w", expectedShape: [2, 3, 4]), (0..<24).map(Float.init))
        XCTAssertEqual(try s.tensorBytes("model.norm.weight").count, 8)
        assertFileError(try s.floats("layers.0.w", expectedShape: [2, 12]), path: path, location: ["tensor layers.0.w"], contains: ["[2, 12]", "[2, 3, 4]"])
        assertFileError(try s.tensorInfo("nope"), path: path, location: ["tensor nope"], contains: ["no tensor"])
    }

    static func writerRecipe() throws -> SafetensorsWriter {
        var w = SafetensorsWriter()
        w.metadata = [("creator", "ift-gpu"), ("ü", "✓")]
        let base = (0..<24).map { Float($0) * 0.375 - 3 }
        // Inserted smallest-element-first: the writer must still lay out F32 data first.
        try w.addTensor(name: "b.f16", shape: [2, 3, 4], floats: base, as: .f16)
        try w.addTensor(name: "c.bf16", shape: [2, 3, 4], floats: base, as: .bf16)
        try w.addTensor(name: "a.f32", shape: [2, 3, 4], floats: base)
        try w.addTensor(name: "d.empty", shape: [0, 3], floats: [])
        return w
    }

    /// Fixtures/ift-writer.safetensors was written by OUR writer from `writerRecipe()`
    /// (IFT_REGENERATE_FIXTURES=1 rewrites it) and validated with the reference package:
    /// `python3 Tools/make-safetensors-fixture.py check`. This keeps the writer byte-identical.
    func testWriterMatchesCommittedFixture() throws {
        let path = TestSupport.fixture("ift-writer.safetensors")
        let w = try Self.writerRecipe()
        if ProcessInfo.processInfo.environment["IFT_REGENERATE_FIXTURES"] == "1" { try w.write(to: path) }
        XCTAssertEqual(try TestSupport.readBytes(path), w.serialized())
    }

    func testRoundTrip() throws {
        let dir = try TestSupport.tempDir(self)
        let path = dir + "/m.safetensors"
        let w = try Self.writerRecipe()
        try w.write(to: path)
        let s = try SafetensorsFile(path: path)
        XCTAssertEqual(s.dataOffset % 8, 0)
        XCTAssertEqual(s.metadata, ["creator": "ift-gpu", "ü": "✓"])
        XCTAssertEqual(s.tensors.map(\.name), ["b.f16", "c.bf16", "a.f32", "d.empty"])
        let base = (0..<24).map { Float($0) * 0.375 - 3 }
        XCTAssertEqual(try s.floats("a.f32"), base)
        XCTAssertEqual(try s.floats("b.f16"), base)
        assertClose(try s.floats("c.bf16"), base, tol: 0.02)
        XCTAssertEqual(try s.tensorInfo("a.f32").dataOffsets, 0..<96)
        XCTAssertEqual(try s.floats("d.empty"), [])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), ["m.safetensors"])
    }

    func testWriterRejectsBadInput() throws {
        var w = SafetensorsWriter()
        XCTAssertThrowsError(try w.addTensor(name: "x", shape: [2], floats: [1]))
        XCTAssertThrowsError(try w.addTensor(name: "x", shape: [32], floats: [Float](repeating: 0, count: 32), as: .q8_0))
        XCTAssertThrowsError(try w.addTensor(name: "__metadata__", shape: [1], floats: [1]))
        XCTAssertThrowsError(try w.addTensor(name: "x", shape: [2], dtype: .f16, bytes: [0, 0, 0]))
        try w.addTensor(name: "x", shape: [1], floats: [1])
        XCTAssertThrowsError(try w.addTensor(name: "x", shape: [1], floats: [1]))
    }

    /// A file with header `json` and `dataBytes` bytes of data.
    func file(_ json: String, dataBytes: Int = 16) -> [UInt8] {
        var b: [UInt8] = []
        GGUFWriter.append(UInt64(json.utf8.count), to: &b)
        b += Array(json.utf8)
        b += [UInt8](repeating: 0, count: dataBytes)
        return b
    }

    func parse(_ bytes: [UInt8]) throws -> SafetensorsFile {
        try SafetensorsFile(file: MappedFile(bytes: bytes, name: "bad.safetensors"))
    }

    func testCorruptHeaders() throws {
        let p = "bad.safetensors"
        let t = #"{"t":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]}}"#
        XCTAssertEqual(try parse(file(t)).tensors.count, 1)
        assertFileError(try parse([1, 2, 3]), path: p, location: ["offset 0"], contains: ["truncated"])
        var huge = file(t)
        huge[6] = 1  // header length 2^48 + ...
        assertFileError(try parse(huge), path: p, location: ["offset 0"], contains: ["past the end"])
        assertFileError(try parse(file("[1]")), path: p, location: ["offset 8"], contains: ["does not start with '{'"])
        assertFileError(try parse(file(#"{"t": {"dtype": "F32",, }}"#)), path: p, location: ["offset 30 (JSON line 1, column 23)"], contains: ["expected a string key"])
        assertFileError(try parse(file(#"{"t": {"dtype": "F32"}"#)), path: p, location: ["JSON line 1"], contains: ["end of input"])
        assertFileError(try parse(file(#"{"t":{"dtype":"I64","shape":[2],"data_offsets":[0,16]}}"#)), path: p, location: ["tensor t"], contains: ["I64", "not supported"])
        assertFileError(try parse(file(#"{"t":{"dtype":"F32","shape":[2,-2],"data_offsets":[0,16]}}"#)), path: p, location: ["tensor t"], contains: ["non-negative"])
        assertFileError(try parse(file(#"{"t":{"dtype":"F32","shape":[2,2],"data_offsets":[0,17]}}"#)), path: p, location: ["tensor t"], contains: ["past the end"])
        assertFileError(try parse(file(#"{"t":{"dtype":"F32","shape":[2,2],"data_offsets":[8,0]}}"#)), path: p, location: ["tensor t"], contains: ["ordered"])
        assertFileError(try parse(file(#"{"t":{"dtype":"F32","shape":[2,3],"data_offsets":[0,16]}}"#)), path: p, location: ["tensor t"], contains: ["needs 24 bytes", "span 16"])
        assertFileError(try parse(file(#"{"t":{"dtype":"F16","shape":[2,2],"data_offsets":[0,16]}}"#)), path: p, location: ["tensor t"], contains: ["needs 8 bytes"])
        assertFileError(try parse(file(#"{"t":{"dtype":"F32","shape":[2],"data_offsets":[0]}}"#)), path: p, location: ["tensor t"], contains: ["two integers"])
        assertFileError(try parse(file(#"{"t":{"shape":[2],"data_offsets":[0,8]}}"#)), path: p, location: ["tensor t"], contains: ["dtype"])
        assertFileError(try parse(file(#"{"t":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,8]}}"#)), path: p, location: ["tensor t"], contains: ["too many"])
        assertFileError(try parse(file(#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#)), path: p, location: ["tensor b"], contains: ["overlap tensor 'a'"])
        assertFileError(try parse(file(#"{"__metadata__":{"k":1}}"#)), path: p, location: ["__metadata__"], contains: ["'k'", "string"])
        assertFileError(try parse(file(#"{"t":5}"#)), path: p, location: ["tensor t"], contains: ["expected an object"])
        assertFileError(try parse(file(#"{"t":{},"t":{}}"#)), path: p, location: ["offset 16"], contains: ["duplicate key"])
    }

    func testEveryTruncationAndByteFlipIsHandled() throws {
        let good = try TestSupport.readBytes(TestSupport.fixture("hf-fixture.safetensors"))
        for n in 0..<good.count {
            assertFileError(try parse(Array(good[0..<n])), path: "bad.safetensors")
        }
        var rng = SeededGenerator(seed: 5)
        let headerEnd = try parse(good).dataOffset
        for i in 0..<headerEnd {
            var b = good
            b[i] ^= UInt8(truncatingIfNeeded: rng.next() | 1)
            do {
                let s = try parse(b)
                for t in s.tensors { _ = try s.floats(t.name) }
            } catch let e as IFTError {
                guard case .file(let path, _, _) = e else { return XCTFail("\(e)") }
                XCTAssertEqual(path, "bad.safetensors")
            }
        }
    }
}
