import IFTCore
import XCTest

@testable import IFTModel

/// Truncated and corrupt GGUF files must throw `IFTError.file` naming the file and an offset
/// (or tensor) — never crash, never allocate for counts the file cannot hold.
final class GGUFCorruptionTests: XCTestCase {
    /// A minimal file built by our writer, with a known layout:
    ///   0 magic, 4 version, 8 tensor count, 16 kv count,
    ///   24 key length, 32 "a", 33 value type, 37 string length, 45 "xyz",
    ///   48 name length, 56 "t", 57 n_dims, 61 ne[0], 69 type, 73 offset, 81 padding,
    ///   96 data (2 x f32), 104 padding to 128.
    static func minimal() throws -> [UInt8] {
        var w = try GGUFWriter()
        try w.add("a", .string("xyz"))
        try w.addTensor(name: "t", shape: [2], floats: [1, 2])
        let b = w.serialized()
        precondition(b.count == 128)
        return b
    }

    func parse(_ bytes: [UInt8], _ name: String = "bad.gguf") throws -> GGUFFile {
        try GGUFFile(file: MappedFile(bytes: bytes, name: name))
    }

    static func patch<T: FixedWidthInteger>(_ b: [UInt8], at offset: Int, _ v: T) -> [UInt8] {
        var b = b
        withUnsafeBytes(of: v.littleEndian) { for (i, x) in $0.enumerated() { b[offset + i] = x } }
        return b
    }

    func testMinimalParses() throws {
        let g = try parse(Self.minimal())
        XCTAssertEqual(g.dataOffset, 96)
        XCTAssertEqual(try g.floats("t"), [1, 2])
    }

    func testEveryTruncationThrows() throws {
        for fixture in [try Self.minimal(), try TestSupport.readBytes(TestSupport.fixture("gguf-py-fixture.gguf"))] {
            // Cutting only the padding after the last tensor's data leaves a complete file.
            let g = try parse(fixture)
            let end = g.tensors.map { $0.fileOffset + $0.byteCount }.max()!
            for n in 0..<fixture.count {
                if n < end {
                    assertFileError(try parse(Array(fixture[0..<n]), "cut\(n).gguf"), path: "cut\(n).gguf")
                } else {
                    XCTAssertEqual(try parse(Array(fixture[0..<n])).tensors, g.tensors)
                }
            }
        }
    }

    func testEmptyAndTruncatedFilesOnDisk() throws {
        let dir = try TestSupport.tempDir(self)
        let empty = dir + "/empty.gguf"
        try TestSupport.writeBytes([], to: empty)
        assertFileError(try GGUFFile(path: empty), path: empty, location: ["offset 0"], contains: ["truncated", "magic"])
        let cut = dir + "/cut.gguf"
        try TestSupport.writeBytes(Array(try Self.minimal()[0..<100]), to: cut)
        assertFileError(try GGUFFile(path: cut), path: cut, location: ["tensor t"], contains: ["past the end"])
        assertFileError(try GGUFFile(path: dir + "/missing.gguf"), path: dir + "/missing.gguf", location: ["open"], contains: ["No such file"])
        assertFileError(try GGUFFile(path: dir), path: dir, location: ["open"])
    }

    /// Flipping any header byte either still parses or throws IFTError.file: never a crash.
    func testByteFlipsNeverCrash() throws {
        let fixture = try TestSupport.readBytes(TestSupport.fixture("gguf-py-fixture.gguf"))
        let dataOffset = try parse(fixture).dataOffset
        var rng = SeededGenerator(seed: 99)
        var thrown = 0
        for i in 0..<dataOffset {
            for flip: UInt8 in [0xFF, 0x80, UInt8(truncatingIfNeeded: rng.next() | 1)] {
                var b = fixture
                b[i] ^= flip
                do {
                    let g = try parse(b, "flip.gguf")
                    for t in g.tensors { _ = try g.floats(t.name) }
                } catch let e as IFTError {
                    guard case .file(let p, let loc, _) = e else { return XCTFail("\(e)") }
                    XCTAssertEqual(p, "flip.gguf")
                    XCTAssertTrue(loc.contains("offset") || loc.contains("tensor") || loc.contains("metadata key"), "\(e)")
                    thrown += 1
                }
            }
        }
        XCTAssertGreaterThan(thrown, dataOffset)
    }

    func testSpecificCorruptions() throws {
        let m = try Self.minimal()
        let p = "bad.gguf"
        assertFileError(try parse(Self.patch(m, at: 0, UInt32(0x4C4C_4747))), path: p, location: ["offset 0"], contains: ["bad magic"])
        assertFileError(try parse(Self.patch(m, at: 4, UInt32(1))), path: p, location: ["offset 4"], contains: ["version 1", "obsolete"])
        assertFileError(try parse(Self.patch(m, at: 4, UInt32(4))), path: p, location: ["offset 4"], contains: ["version 4"])
        assertFileError(try parse(Self.patch(m, at: 4, UInt32(3).byteSwapped)), path: p, location: ["offset 4"], contains: ["big-endian"])
        // Absurd counts are refused before anything is allocated.
        assertFileError(try parse(Self.patch(m, at: 8, UInt64.max)), path: p, location: ["offset 8"], contains: ["tensor count", "impossible"])
        assertFileError(try parse(Self.patch(m, at: 16, UInt64(1) << 60)), path: p, location: ["offset 16"], contains: ["metadata count"])
        assertFileError(try parse(Self.patch(m, at: 24, UInt64.max)), path: p, location: ["offset 24"], contains: ["length of metadata key"])
        assertFileError(try parse(Self.patch(m, at: 37, UInt64(1000))), path: p, location: ["offset 37"], contains: ["length of value of 'a'"])
        assertFileError(try parse(Self.patch(m, at: 33, UInt32(13))), path: p, location: ["offset 33"], contains: ["unknown value type 13"])
        assertFileError(try parse(Self.patch(m, at: 48, UInt64(200))), path: p, location: ["offset 48"])
        assertFileError(try parse(Self.patch(m, at: 57, UInt32(5))), path: p, location: ["offset 57"], contains: ["5 dimensions", "at most 4"])
        assertFileError(try parse(Self.patch(m, at: 69, UInt32(13))), path: p, location: ["offset 69"], contains: ["Q5_K (13)", "not supported"])
        assertFileError(try parse(Self.patch(m, at: 69, UInt32(999))), path: p, location: ["offset 69"], contains: ["type 999"])
        assertFileError(try parse(Self.patch(m, at: 73, UInt64(4))), path: p, location: ["tensor t"], contains: ["not a multiple of the alignment 32"])
        assertFileError(try parse(Self.patch(m, at: 73, UInt64(32))), path: p, location: ["tensor t"], contains: ["past the end"])
        assertFileError(try parse(Self.patch(m, at: 73, UInt64.max)), path: p, location: ["offset 73"], contains: ["absurd data offset"])
        assertFileError(try parse(Self.patch(m, at: 61, UInt64.max)), path: p, location: ["offset 61"], contains: ["absurd dimension"])
        assertFileError(try parse(Self.patch(m, at: 61, UInt64(1) << 33)), path: p, location: ["tensor t"], contains: ["past the end"])
        // Q8_0 with a row length that is not a whole number of blocks.
        assertFileError(try parse(Self.patch(Self.patch(m, at: 69, UInt32(8)), at: 61, UInt64(2))), path: p, location: ["tensor t"], contains: ["block size 32"])
    }

    func testStructuralErrors() throws {
        let p = "bad.gguf"
        // Nested arrays deeper than the limit.
        var deep: GGUFValue = .array(.int32, [])
        for _ in 0..<9 { deep = .array(.array, [deep]) }
        var w = try GGUFWriter()
        try w.add("deep", deep)
        assertFileError(try parse(w.serialized()), path: p, location: ["offset"], contains: ["nested more than 8"])
        // A bool that is neither 0 nor 1.
        w = try GGUFWriter()
        try w.add("b", .bool(true))
        var b = w.serialized()
        b[24 + 8 + 1 + 4] = 2
        assertFileError(try parse(b), path: p, location: ["offset 37"], contains: ["not 0 or 1"])
        // Duplicate keys and tensor names (patched in: the writer refuses them).
        w = try GGUFWriter()
        try w.add("k1", .uint8(1))
        try w.add("k2", .uint8(2))
        try w.addTensor(name: "t1", shape: [8], floats: [Float](repeating: 1, count: 8))
        try w.addTensor(name: "t2", shape: [8], floats: [Float](repeating: 2, count: 8))
        let good = w.serialized()
        b = good
        b[24 + 15 + 8 + 1] = UInt8(ascii: "1")  // the second key, "k2" -> "k1"
        assertFileError(try parse(b), path: p, location: ["offset"], contains: ["duplicate metadata key 'k1'"])
        // Tensor infos start at 24 + 2 * (8 + 2 + 4 + 1) = 54; t1's info is 34 bytes; this is
        // the last character of t2's name.
        let t2Name = 54 + (8 + 2 + 4 + 8 + 4 + 8) + 8 + 1
        b = good
        b[t2Name] = UInt8(ascii: "1")
        assertFileError(try parse(b), path: p, location: ["tensor t1"], contains: ["duplicate tensor name"])
        // Overlapping tensors: t2's offset (32) -> 0.
        b = Self.patch(good, at: t2Name + 1 + 4 + 8 + 4, UInt64(0))
        assertFileError(try parse(b), path: p, location: ["tensor"], contains: ["overlaps"])
        // Alignment that is not a power of two.
        w = try GGUFWriter()
        try w.add("general.alignment", .uint32(32))
        b = Self.patch(w.serialized(), at: 24 + 8 + 17 + 4, UInt32(48))
        assertFileError(try parse(b), path: p, location: ["metadata key general.alignment"], contains: ["power of two"])
    }
}
