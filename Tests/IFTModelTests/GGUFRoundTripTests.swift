import Foundation
import IFTCore
import IFTCPU
import XCTest

@testable import IFTModel

/// GGUF writer -> reader round trips, and the committed writer fixture.
final class GGUFRoundTripTests: XCTestCase {
    /// Every metadata type, including empty and nested arrays.
    static let allValues: [(String, GGUFValue)] = [
        ("general.architecture", .string("llama")),
        ("u8", .uint8(255)), ("i8", .int8(-128)), ("u16", .uint16(65535)), ("i16", .int16(-32768)),
        ("u32", .uint32(.max)), ("i32", .int32(.min)), ("u64", .uint64(.max)), ("i64", .int64(.min)),
        ("f32", .float32(-2.5)), ("f64", .float64(1e-300)), ("b0", .bool(false)), ("b1", .bool(true)),
        ("s", .string("Grüße ✓")), ("s.empty", .string("")),
        ("a.u8", .array(.uint8, [.uint8(1), .uint8(2)])), ("a.i8", .array(.int8, [.int8(-1)])),
        ("a.u16", .array(.uint16, [.uint16(7)])), ("a.i16", .array(.int16, [.int16(-7)])),
        ("a.u32", .uint32s([1, 2, 3])), ("a.i32", .int32s([-1, 0, 1])),
        ("a.u64", .array(.uint64, [.uint64(.max)])), ("a.i64", .int64s([.min, .max])),
        ("a.f32", .float32s([0.25, -8])), ("a.f64", .array(.float64, [.float64(3.25)])),
        ("a.bool", .array(.bool, [.bool(true), .bool(false)])), ("a.str", .strings(["a", "", "ü"])),
        ("a.empty", .array(.int32, [])),
        ("a.nested", .array(.array, [.strings(["x"]), .strings(["y", "z"]), .array(.string, [])])),
    ]

    func testEveryMetadataTypeRoundTrips() throws {
        for alignment in [32, 1, 64] {
            var w = try GGUFWriter(alignment: alignment)
            for (k, v) in Self.allValues { try w.add(k, v) }
            let g = try GGUFFile(file: MappedFile(bytes: w.serialized(), name: "mem"))
            let extra = alignment == 32 ? 0 : 1
            XCTAssertEqual(g.metadata.count, Self.allValues.count + extra)
            for (i, (k, v)) in Self.allValues.enumerated() {
                XCTAssertEqual(g.metadata.entries[i].key, k)
                XCTAssertEqual(g.metadata[k], v, k)
            }
            XCTAssertEqual(g.alignment, alignment)
            XCTAssertEqual(try g.metadata.ints("a.i64"), [Int.min, Int.max])
            XCTAssertEqual(try g.metadata.strings("a.str"), ["a", "", "ü"])
            XCTAssertEqual(try g.metadata.ints("a.empty"), [])
        }
    }

    func testEveryTensorTypeRoundTrips() throws {
        let dir = try TestSupport.tempDir(self)
        var rng = SeededGenerator(seed: 7)
        var w = try GGUFWriter()
        var expect: [String: ([Int], GGMLType, [UInt8])] = [:]
        for type in GGMLType.allCases {
            let shape = [3, type.blockSize == 1 ? 5 : type.blockSize * 2]
            let bytes = Self.randomBlocks(type, count: shape[0] * shape[1], &rng)
            try w.addTensor(name: "t.\(type.name)", shape: shape, type: type, bytes: bytes)
            expect["t.\(type.name)"] = (shape, type, bytes)
        }
        let values = (0..<24).map { Float($0) * 0.375 - 3 }
        for t in [GGMLType.f32, .f16, .bf16] {
            try w.addTensor(name: "floats.\(t.name)", shape: [2, 3, 4], floats: values, as: t)
        }
        try w.addTensor(name: "scalar", shape: [], floats: [42])
        try w.addTensor(name: "empty", shape: [0, 4], floats: [])
        let path = dir + "/rt.gguf"
        try w.write(to: path)
        XCTAssertEqual(try TestSupport.readBytes(path), w.serialized())
        let g = try GGUFFile(path: path)
        for (name, (shape, type, bytes)) in expect {
            let info = try g.tensorInfo(name)
            XCTAssertEqual(info.shape, shape, name)
            XCTAssertEqual(info.type, type, name)
            XCTAssertEqual(info.fileOffset % 32, 0, name)
            XCTAssertEqual(Array(try g.tensorBytes(name)), bytes, name)
            XCTAssertEqual(try g.floats(name).count, shape.reduce(1, *), name)
        }
        XCTAssertEqual(try g.floats("floats.F32", expectedShape: [2, 3, 4]), values)
        XCTAssertEqual(try g.floats("floats.F16"), values)  // all exactly representable in f16
        assertClose(try g.floats("floats.BF16"), values, tol: 0.02)
        XCTAssertEqual(try g.floats("scalar"), [42])
        XCTAssertEqual(try g.tensorInfo("scalar").shape, [])
        XCTAssertEqual(try g.floats("empty"), [])
    }

    /// Quantized tensors written from f32 (via IFTCPU's reference quantizers) read back as the
    /// dequantization of exactly those blocks.
    func testQuantizedFromFloats() throws {
        var rng = SeededGenerator(seed: 8)
        let x = rng.uniformArray(2 * 256)
        var w = try GGUFWriter()
        let types: [GGMLType] = [.q8_0, .q4_0, .q4_1, .q4_k]
        for t in types { try w.addTensor(name: t.name, shape: [2, 256], floats: x, as: t) }
        XCTAssertThrowsError(try w.addTensor(name: "q6", shape: [2, 256], floats: x, as: .q6_k))
        let g = try GGUFFile(file: MappedFile(bytes: w.serialized(), name: "q.gguf"))
        for t in types {
            let info = try g.tensorInfo(t.name, expectedShape: [2, 256])
            XCTAssertEqual(info.type, t)
            let blocks = try Reference.quantize(t.dtype!, x)
            XCTAssertEqual(Array(try g.tensorBytes(t.name)), blocks)
            XCTAssertEqual(try g.floats(t.name), try Reference.dequantize(t.dtype!, blocks), t.name)
            assertClose(try g.floats(t.name), x, tol: t == .q8_0 ? 0.01 : 0.15)
        }
    }

    func testWriterRejectsBadInput() throws {
        var w = try GGUFWriter()
        try w.add("k", .uint8(1))
        XCTAssertThrowsError(try w.add("k", .uint8(2)))
        XCTAssertThrowsError(try w.add("mixed", .array(.int32, [.int32(1), .uint8(2)])))
        XCTAssertThrowsError(try w.add("general.alignment", .uint32(64)))
        XCTAssertThrowsError(try GGUFWriter(alignment: 48))
        XCTAssertThrowsError(try w.addTensor(name: "q", shape: [2, 16], type: .q8_0, bytes: [UInt8](repeating: 0, count: 34)))
        XCTAssertThrowsError(try w.addTensor(name: "q", shape: [32], type: .q8_0, bytes: [UInt8](repeating: 0, count: 33)))
        XCTAssertThrowsError(try w.addTensor(name: "f", shape: [2], floats: [1, 2], as: .q8_0))
        XCTAssertThrowsError(try w.addTensor(name: "f", shape: [1, 1, 1, 1, 1], floats: [1]))
        try w.addTensor(name: "f", shape: [2], floats: [1, 2])
        XCTAssertThrowsError(try w.addTensor(name: "f", shape: [2], floats: [1, 2]))
    }

    func testAtomicWriteReplacesAndLeavesNoTempFiles() throws {
        let dir = try TestSupport.tempDir(self)
        let path = dir + "/m.gguf"
        try TestSupport.writeBytes([1, 2, 3], to: path)
        var w = try GGUFWriter()
        try w.add("x", .string("y"))
        try w.write(to: path)
        XCTAssertEqual(try GGUFFile(path: path).metadata["x"], .string("y"))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), ["m.gguf"])
        // A directory that does not exist: a file error naming the path, nothing left behind.
        assertFileError(try w.write(to: dir + "/no/such/dir/m.gguf"), path: dir + "/no/such/dir/m.gguf", location: ["create"])
    }

    /// Random quantized blocks whose f16 scale fields are small finite numbers (random bits there
    /// could be NaN or infinity).
    static func randomBlocks(_ type: GGMLType, count: Int, _ rng: inout SeededGenerator) -> [UInt8] {
        var bytes = (0..<(count / type.blockSize * type.blockBytes)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        let scaleFields: [Int]
        switch type {
        case .f32, .f16, .bf16:
            // Random finite floats instead of random bits.
            bytes = []
            for _ in 0..<count {
                let x = rng.uniform(-4, 4)
                switch type {
                case .f32: GGUFWriter.append(x.bitPattern, to: &bytes)
                case .f16: GGUFWriter.append(HalfFloat.floatToF16(x), to: &bytes)
                default: GGUFWriter.append(HalfFloat.floatToBF16(x), to: &bytes)
                }
            }
            return bytes
        case .q8_0, .q4_0: scaleFields = [0]
        case .q4_1, .q4_k: scaleFields = [0, 2]
        case .q6_k: scaleFields = [208]
        }
        for b in 0..<(count / type.blockSize) {
            for f in scaleFields {
                let h = HalfFloat.floatToF16(rng.uniform(0.001, 0.05))
                bytes[b * type.blockBytes + f] = UInt8(h & 0xFF)
                bytes[b * type.blockBytes + f + 1] = UInt8(h >> 8)
            }
        }
        return bytes
    }
}

/// Fixtures/ift-writer.gguf was written by OUR writer from `recipe()` (run the tests with
/// IFT_REGENERATE_FIXTURES=1 to rewrite it) and checked with gguf-py's GGUFReader:
/// `python3 Tools/make-gguf-fixture.py check Tests/IFTModelTests/Fixtures/ift-writer.gguf`.
/// This test keeps the writer byte-for-byte identical to that checked file.
final class GGUFWriterFixtureTests: XCTestCase {
    static func recipe() throws -> GGUFWriter {
        var w = try GGUFWriter(alignment: 64)
        try w.add("general.architecture", .string("llama"))
        try w.add("w.uint8", .uint8(255))
        try w.add("w.int8", .int8(-128))
        try w.add("w.uint16", .uint16(65535))
        try w.add("w.int16", .int16(-32768))
        try w.add("w.uint32", .uint32(.max))
        try w.add("w.int32", .int32(.min))
        try w.add("w.uint64", .uint64(.max))
        try w.add("w.int64", .int64(.min))
        try w.add("w.bool", .bool(false))
        try w.add("w.string", .string("Grüße ✓"))
        try w.add("w.float32", .float32(-2.5))
        try w.add("w.float64", .float64(1e-300))
        try w.add("w.strings", .strings(["a", "", "ü"]))
        try w.add("w.int64s", .int64s([-1, 0, 1 << 62]))
        try w.add("w.float32s", .float32s([0.25, -8]))
        try w.add("w.empty", .array(.int32, []))
        try w.add("w.nested", .array(.array, [.strings(["x"]), .strings(["y", "z"])]))
        let base = (0..<128).map { Float($0) / 16 - 4 }
        for t in [GGMLType.f32, .f16, .bf16] {
            try w.addTensor(name: "w.\(t.name.lowercased())", shape: [2, 64], floats: base, as: t)
        }
        var rng = SeededGenerator(seed: 2024)
        for t in [GGMLType.q8_0, .q4_0, .q4_1, .q4_k, .q6_k] {
            let shape = t.blockSize == 256 ? [1, 256] : [2, 64]
            let bytes = GGUFRoundTripTests.randomBlocks(t, count: shape[0] * shape[1], &rng)
            try w.addTensor(name: "w.\(t.name.lowercased())", shape: shape, type: t, bytes: bytes)
            // Our dequantization, which the Python check compares with gguf-py's.
            let ours = try bytes.withUnsafeBytes { try GGMLDequantize.floats($0, type: t, count: shape[0] * shape[1]) }
            try w.addTensor(name: "w.\(t.name.lowercased()).expected", shape: shape, floats: ours)
        }
        try w.addTensor(name: "w.3d", shape: [2, 3, 4], floats: (0..<24).map(Float.init))
        return w
    }

    func testWriterMatchesCommittedFixture() throws {
        let path = TestSupport.fixture("ift-writer.gguf")
        let bytes = try Self.recipe().serialized()
        if ProcessInfo.processInfo.environment["IFT_REGENERATE_FIXTURES"] == "1" {
            try Self.recipe().write(to: path)
        }
        XCTAssertEqual(try TestSupport.readBytes(path), bytes, "our writer's output changed; regenerate and re-check with gguf-py")
        let g = try GGUFFile(path: path)
        XCTAssertEqual(g.alignment, 64)
        XCTAssertEqual(g.metadata["general.alignment"], .uint32(64))
        XCTAssertEqual(try g.metadata.strings("w.strings"), ["a", "", "ü"])
        XCTAssertEqual(try g.floats("w.3d", expectedShape: [2, 3, 4]), (0..<24).map(Float.init))
    }
}
