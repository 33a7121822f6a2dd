import IFTCore

/// One tensor of a GGUF file.
public struct GGUFTensorInfo: Sendable, Equatable, CustomStringConvertible {
    public let name: String
    /// Row-major shape: the REVERSE of GGUF's `ne` (ggml's `ne[0]` is the fastest-varying
    /// dimension, the columns, and is the last entry here). A 2-D weight with `ne = [cols, rows]`
    /// has `shape == [rows, cols]`.
    public let shape: [Int]
    public let type: GGMLType
    /// Offset of the data from the start of the data section, as stored in the file.
    public let offset: Int
    /// Offset of the data from the start of the file.
    public let fileOffset: Int
    /// Size of the data in bytes.
    public let byteCount: Int

    /// GGUF's dimension order (`ne[0]` first, fastest-varying).
    public var ne: [Int] { shape.reversed() }
    public var elementCount: Int { shape.reduce(1, *) }

    public var description: String { "\(name): \(type) \(shape)" }
}

/// A GGUF file (versions 2 and 3, little-endian), memory-mapped: the header, metadata and tensor
/// infos are parsed up front (every count and length checked against the file size before
/// anything is allocated); tensor data is read in place.
///
/// Malformed files throw `IFTError.file(path:, location:, message:)` whose location is
/// `offset N` (the byte where parsing failed) or `tensor NAME`.
public final class GGUFFile: @unchecked Sendable {
    /// "GGUF" read as a little-endian UInt32.
    public static let magic: UInt32 = 0x4655_4747
    public static let defaultAlignment = 32
    /// Deepest nesting of arrays accepted in metadata (real files use 1).
    static let maxArrayDepth = 8
    static let maxDims = 4

    public let file: MappedFile
    public var path: String { file.path }
    public let version: UInt32
    /// `general.alignment` or 32.
    public let alignment: Int
    public let metadata: GGUFMetadata
    /// Tensor infos in file order.
    public let tensors: [GGUFTensorInfo]
    /// Start of the data section in the file.
    public let dataOffset: Int
    private let tensorIndex: [String: Int]

    public convenience init(path: String) throws {
        try self.init(file: MappedFile(path: path))
    }

    public init(file: MappedFile) throws {
        self.file = file
        var c = ByteCursor(file)
        let magic = try c.read(UInt32.self, "magic")
        guard magic == Self.magic else {
            throw c.error("bad magic \(Self.hex(magic)): not a GGUF file (expected the bytes \"GGUF\")", at: 0)
        }
        let version = try c.read(UInt32.self, "version")
        guard version == 2 || version == 3 else {
            let note: String
            if version == 1 {
                note = " (GGUF v1 is obsolete: re-convert the model with a current llama.cpp)"
            } else if version.byteSwapped == 2 || version.byteSwapped == 3 {
                note = " (this is a big-endian GGUF file; only little-endian files are supported)"
            } else {
                note = ""
            }
            throw c.error("unsupported GGUF version \(version)\(note); versions 2 and 3 are supported", at: 4)
        }
        self.version = version
        // A tensor info takes at least 8 (name length) + 4 (n_dims) + 4 (type) + 8 (offset) bytes;
        // a metadata entry at least 8 (key length) + 4 (type) + 1 (value).
        let tensorCount = try c.readCount("tensor count", minBytesEach: 24)
        let kvCount = try c.readCount("metadata count", minBytesEach: 13)

        var entries: [(key: String, value: GGUFValue)] = []
        var seenKeys = Set<String>()
        entries.reserveCapacity(kvCount)
        for _ in 0..<kvCount {
            let keyOffset = c.offset
            let key = try Self.readString(&c, "metadata key")
            let typeOffset = c.offset
            let rawType = try c.read(UInt32.self, "type of metadata value '\(key)'")
            guard let type = GGUFValueType(rawValue: rawType) else {
                throw c.error("metadata key '\(key)' has unknown value type \(rawType)", at: typeOffset)
            }
            let value = try Self.readValue(&c, type, key: key, depth: 0)
            guard seenKeys.insert(key).inserted else {
                throw c.error("duplicate metadata key '\(key)'", at: keyOffset)
            }
            entries.append((key, value))
        }
        let metadata = try GGUFMetadata(path: file.path, entries: entries)
        self.metadata = metadata

        var alignment = Self.defaultAlignment
        if let a = metadata["general.alignment"] {
            guard let v = a.intValue, v > 0, v & (v - 1) == 0, v <= 1 << 20 else {
                throw IFTError.file(
                    path: file.path, location: "metadata key general.alignment",
                    message: "alignment must be a power of two (at most 2^20), got \(a.typeName) \(a)")
            }
            alignment = v
        }
        self.alignment = alignment

        struct RawInfo { var name: String, ne: [Int], type: GGMLType, offset: Int, at: Int }
        var raw: [RawInfo] = []
        raw.reserveCapacity(tensorCount)
        for i in 0..<tensorCount {
            let at = c.offset
            let name = try Self.readString(&c, "name of tensor \(i)")
            let dimsAt = c.offset
            let nDims = try c.read(UInt32.self, "dimension count of tensor '\(name)'")
            guard nDims <= Self.maxDims else {
                throw c.error("tensor '\(name)' has \(nDims) dimensions; at most \(Self.maxDims) are allowed", at: dimsAt)
            }
            var ne: [Int] = []
            for d in 0..<Int(nDims) {
                let neAt = c.offset
                let n = try c.read(UInt64.self, "dimension \(d) of tensor '\(name)'")
                guard n <= UInt64(Int32.max) * 16 else {
                    throw c.error("tensor '\(name)' has absurd dimension ne[\(d)] = \(n)", at: neAt)
                }
                ne.append(Int(n))
            }
            let typeAt = c.offset
            let typeID = try c.read(UInt32.self, "type of tensor '\(name)'")
            guard let type = GGMLType(rawValue: typeID) else {
                throw c.error(
                    "tensor '\(name)' has type \(GGMLType.ggmlName(typeID)) (\(typeID)), which is not supported (supported: \(GGMLType.allCases.map(\.name).joined(separator: ", ")))",
                    at: typeAt)
            }
            let offAt = c.offset
            let off = try c.read(UInt64.self, "data offset of tensor '\(name)'")
            guard off <= UInt64(Int.max / 2) else {
                throw c.error("tensor '\(name)' has absurd data offset \(off)", at: offAt)
            }
            raw.append(RawInfo(name: name, ne: ne, type: type, offset: Int(off), at: at))
        }

        let infoEnd = c.offset
        dataOffset = (infoEnd + alignment - 1) / alignment * alignment
        let dataSize = file.count - dataOffset  // may be negative when there is no data at all

        var infos: [GGUFTensorInfo] = []
        var index: [String: Int] = [:]
        infos.reserveCapacity(raw.count)
        for r in raw {
            func fail(_ m: String) -> IFTError {
                IFTError.file(path: file.path, location: "tensor \(r.name)", message: m)
            }
            guard index[r.name] == nil else { throw fail("duplicate tensor name (tensor info at offset \(r.at))") }
            var count = 1
            for n in r.ne {
                let (p, o) = count.multipliedReportingOverflow(by: n)
                guard !o, p <= Int(Int32.max) * 64 else { throw fail("absurd element count for ne \(r.ne)") }
                count = p
            }
            guard r.ne.isEmpty || r.ne[0] % r.type.blockSize == 0 else {
                throw fail("ne[0] = \(r.ne[0]) (the row length) is not a multiple of the \(r.type) block size \(r.type.blockSize)")
            }
            guard let bytes = r.type.byteCount(elements: count) else {
                throw fail("\(count) elements is not a whole number of \(r.type) blocks")
            }
            guard r.offset % alignment == 0 else {
                throw fail("data offset \(r.offset) is not a multiple of the alignment \(alignment)")
            }
            guard bytes == 0 || (r.offset <= dataSize && bytes <= dataSize - r.offset) else {
                throw fail(
                    "data [\(r.offset), \(r.offset + bytes)) of the data section (file bytes [\(dataOffset + r.offset), \(dataOffset + r.offset + bytes))) runs past the end of the file (\(file.count) bytes): truncated file?")
            }
            index[r.name] = infos.count
            infos.append(GGUFTensorInfo(
                name: r.name, shape: r.ne.reversed(), type: r.type, offset: r.offset,
                fileOffset: dataOffset + r.offset, byteCount: bytes))
        }
        // Tensors may come in any order in the data section but must not overlap.
        let sorted = infos.filter { $0.byteCount > 0 }.sorted { $0.offset < $1.offset }
        for (a, b) in zip(sorted, sorted.dropFirst()) where a.offset + a.byteCount > b.offset {
            throw IFTError.file(
                path: file.path, location: "tensor \(b.name)",
                message: "data [\(b.offset), \(b.offset + b.byteCount)) overlaps tensor '\(a.name)' at [\(a.offset), \(a.offset + a.byteCount))")
        }
        tensors = infos
        tensorIndex = index
    }

    static func hex(_ v: UInt32) -> String {
        let s = String(v, radix: 16)
        return "0x" + String(repeating: "0", count: max(0, 8 - s.count)) + s
    }

    static func readString(_ c: inout ByteCursor, _ what: String) throws -> String {
        let n = try c.readCount("length of \(what)", minBytesEach: 1)
        return try c.readUTF8(count: n, what)
    }

    static func readValue(_ c: inout ByteCursor, _ type: GGUFValueType, key: String, depth: Int) throws -> GGUFValue {
        let what = "value of '\(key)'"
        switch type {
        case .uint8: return .uint8(try c.read(UInt8.self, what))
        case .int8: return .int8(try c.read(Int8.self, what))
        case .uint16: return .uint16(try c.read(UInt16.self, what))
        case .int16: return .int16(try c.read(Int16.self, what))
        case .uint32: return .uint32(try c.read(UInt32.self, what))
        case .int32: return .int32(try c.read(Int32.self, what))
        case .uint64: return .uint64(try c.read(UInt64.self, what))
        case .int64: return .int64(try c.read(Int64.self, what))
        case .float32: return .float32(try c.readFloat(what))
        case .float64: return .float64(try c.readDouble(what))
        case .bool:
            let at = c.offset
            let b = try c.read(UInt8.self, what)
            guard b <= 1 else { throw c.error("bool \(what) is \(b), not 0 or 1", at: at) }
            return .bool(b == 1)
        case .string: return .string(try readString(&c, what))
        case .array:
            let at = c.offset
            guard depth < maxArrayDepth else {
                throw c.error("arrays nested more than \(maxArrayDepth) deep in '\(key)'", at: at)
            }
            let rawType = try c.read(UInt32.self, "element type of array '\(key)'")
            guard let elem = GGUFValueType(rawValue: rawType) else {
                throw c.error("array '\(key)' has unknown element type \(rawType)", at: at)
            }
            let n = try c.readCount("element count of array '\(key)'", minBytesEach: elem.minSize)
            var values: [GGUFValue] = []
            values.reserveCapacity(n)
            for _ in 0..<n {
                values.append(try readValue(&c, elem, key: key, depth: depth + 1))
            }
            return .array(elem, values)
        }
    }

    // MARK: - Tensors

    public func contains(tensor name: String) -> Bool { tensorIndex[name] != nil }

    public func tensorInfo(_ name: String) throws -> GGUFTensorInfo {
        guard let i = tensorIndex[name] else {
            throw IFTError.file(path: path, location: "tensor \(name)", message: "no tensor named '\(name)' in this file (\(tensors.count) tensors)")
        }
        return tensors[i]
    }

    /// The tensor's info, after checking that its row-major shape is `expectedShape`.
    public func tensorInfo(_ name: String, expectedShape: [Int]) throws -> GGUFTensorInfo {
        let info = try tensorInfo(name)
        guard info.shape == expectedShape else {
            throw IFTError.file(
                path: path, location: "tensor \(name)",
                message: "expected shape \(expectedShape), the file has \(info.shape) (row-major; GGUF ne \(info.ne))")
        }
        return info
    }

    /// The tensor's raw bytes, in place in the mapping (no copy). Valid while this object lives.
    public func tensorBytes(_ name: String) throws -> UnsafeRawBufferPointer {
        let info = try tensorInfo(name)
        return file.slice(info.fileOffset..<(info.fileOffset + info.byteCount))
    }

    /// Drops the tensor's pages from the resident set once it has been copied out (see
    /// `MappedFile.releasePages`).
    public func releasePages(ofTensor name: String) throws {
        let info = try tensorInfo(name)
        file.releasePages(info.fileOffset..<(info.fileOffset + info.byteCount))
    }

    /// The tensor's values as f32, dequantized when it is quantized.
    public func floats(_ name: String) throws -> [Float] {
        let info = try tensorInfo(name)
        return try GGMLDequantize.floats(
            file.slice(info.fileOffset..<(info.fileOffset + info.byteCount)), type: info.type, count: info.elementCount)
    }

    /// The tensor's values as f32, after checking that its row-major shape is `expectedShape`.
    public func floats(_ name: String, expectedShape: [Int]) throws -> [Float] {
        _ = try tensorInfo(name, expectedShape: expectedShape)
        return try floats(name)
    }
}
