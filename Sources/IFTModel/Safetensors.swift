import IFTCore

/// One tensor of a safetensors file.
public struct SafetensorsTensorInfo: Sendable, Equatable, CustomStringConvertible {
    public let name: String
    /// F32, F16 or BF16.
    public let dtype: DType
    /// Row-major shape, as in the file.
    public let shape: [Int]
    /// `data_offsets` as stored: relative to the start of the data section.
    public let dataOffsets: Range<Int>
    /// Offset of the data from the start of the file.
    public let fileOffset: Int

    public var byteCount: Int { dataOffsets.count }
    public var elementCount: Int { shape.reduce(1, *) }
    public var description: String { "\(name): \(Safetensors.name(of: dtype)) \(shape)" }
}

/// Names and limits of the safetensors format: an 8-byte little-endian header length N, N bytes
/// of UTF-8 JSON (`{"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, ...,
/// "__metadata__": {"k": "v"}}`), then the data section that the offsets point into.
public enum Safetensors {
    /// The largest header accepted (the reference implementation's limit).
    public static let maxHeaderBytes = 100_000_000

    public static func name(of dtype: DType) -> String {
        switch dtype {
        case .f32: return "F32"
        case .f16: return "F16"
        case .bf16: return "BF16"
        default: return dtype.rawValue.uppercased()
        }
    }

    static func dtype(named name: String) -> DType? {
        switch name {
        case "F32": return .f32
        case "F16": return .f16
        case "BF16": return .bf16
        default: return nil
        }
    }
}

/// A safetensors file, memory-mapped. The header is validated up front: its length against the
/// file size, its JSON, each tensor's dtype, shape and `data_offsets` (in range, consistent with
/// the shape and dtype, not overlapping another tensor). Errors are `IFTError.file(path:,
/// location: "offset N" or "tensor NAME", ...)`.
public final class SafetensorsFile: @unchecked Sendable {
    public let file: MappedFile
    public var path: String { file.path }
    /// The `__metadata__` string map (empty when absent).
    public let metadata: [String: String]
    /// Tensors in header order.
    public let tensors: [SafetensorsTensorInfo]
    /// Start of the data section (8 + header length).
    public let dataOffset: Int
    private let tensorIndex: [String: Int]

    public convenience init(path: String) throws {
        try self.init(file: MappedFile(path: path))
    }

    public init(file: MappedFile) throws {
        self.file = file
        var c = ByteCursor(file)
        let n = try c.read(UInt64.self, "header length")
        guard n <= UInt64(c.remaining) else {
            throw c.error("header length \(n) runs past the end of the file (\(file.count) bytes): truncated or not a safetensors file", at: 0)
        }
        guard n <= UInt64(Safetensors.maxHeaderBytes) else {
            throw c.error("header length \(n) exceeds the limit of \(Safetensors.maxHeaderBytes) bytes", at: 0)
        }
        let headerBytes = file.slice(8..<(8 + Int(n)))
        guard headerBytes.first == UInt8(ascii: "{") else {
            throw c.error("header does not start with '{': not a safetensors file", at: 8)
        }
        let header = try JSONValue.parse(headerBytes, path: file.path, fileOffset: 8)
        dataOffset = 8 + Int(n)
        let dataSize = file.count - dataOffset
        guard let obj = header.objectValue else {
            throw c.error("header is \(header.typeName), expected an object", at: 8)
        }

        var metadata: [String: String] = [:]
        var infos: [SafetensorsTensorInfo] = []
        var index: [String: Int] = [:]
        for (name, entry) in obj.members {
            func fail(_ m: String) -> IFTError { IFTError.file(path: file.path, location: "tensor \(name)", message: m) }
            if name == "__metadata__" {
                guard let m = entry.objectValue else {
                    throw IFTError.file(path: file.path, location: "header __metadata__", message: "expected an object of strings, found \(entry.typeName)")
                }
                for (k, v) in m.members {
                    guard let s = v.stringValue else {
                        throw IFTError.file(path: file.path, location: "header __metadata__", message: "value of '\(k)' is \(v.typeName), expected a string")
                    }
                    metadata[k] = s
                }
                continue
            }
            guard let e = entry.objectValue else { throw fail("header entry is \(entry.typeName), expected an object") }
            guard let dtName = e["dtype"]?.stringValue else { throw fail("missing or non-string \"dtype\"") }
            guard let dtype = Safetensors.dtype(named: dtName) else {
                throw fail("dtype \(dtName) is not supported (supported: F32, F16, BF16)")
            }
            guard let shapeValues = e["shape"]?.arrayValue else { throw fail("missing or non-array \"shape\"") }
            var shape: [Int] = []
            var count = 1
            for d in shapeValues {
                guard let v = d.intValue, v >= 0 else { throw fail("shape \(e["shape"]!) holds \(d), not a non-negative integer") }
                let (p, o) = count.multipliedReportingOverflow(by: v)
                guard !o else { throw fail("shape \(e["shape"]!) has too many elements") }
                count = p
                shape.append(v)
            }
            guard let offs = e["data_offsets"]?.arrayValue, offs.count == 2,
                  let begin = offs[0].intValue, let end = offs[1].intValue
            else { throw fail("\"data_offsets\" must be an array of two integers, found \(e["data_offsets"]?.description ?? "nothing")") }
            guard begin >= 0, begin <= end else { throw fail("data_offsets [\(begin), \(end)] are not an ordered, non-negative pair") }
            guard end <= dataSize else {
                throw fail("data_offsets [\(begin), \(end)] run past the end of the data section (\(dataSize) bytes; file is \(file.count) bytes): truncated file?")
            }
            let (need, o) = count.multipliedReportingOverflow(by: dtype.blockBytes)
            guard !o, need == end - begin else {
                throw fail("\(dtName) \(shape) needs \(o ? "too many" : String(need)) bytes but data_offsets [\(begin), \(end)] span \(end - begin)")
            }
            index[name] = infos.count
            infos.append(SafetensorsTensorInfo(
                name: name, dtype: dtype, shape: shape, dataOffsets: begin..<end, fileOffset: dataOffset + begin))
        }
        let sorted = infos.filter { $0.byteCount > 0 }.sorted { $0.dataOffsets.lowerBound < $1.dataOffsets.lowerBound }
        for (a, b) in zip(sorted, sorted.dropFirst()) where a.dataOffsets.upperBound > b.dataOffsets.lowerBound {
            throw IFTError.file(
                path: file.path, location: "tensor \(b.name)",
                message: "data_offsets [\(b.dataOffsets.lowerBound), \(b.dataOffsets.upperBound)] overlap tensor '\(a.name)' at [\(a.dataOffsets.lowerBound), \(a.dataOffsets.upperBound)]")
        }
        self.metadata = metadata
        self.tensors = infos
        self.tensorIndex = index
    }

    public func contains(tensor name: String) -> Bool { tensorIndex[name] != nil }

    public func tensorInfo(_ name: String) throws -> SafetensorsTensorInfo {
        guard let i = tensorIndex[name] else {
            throw IFTError.file(path: path, location: "tensor \(name)", message: "no tensor named '\(name)' in this file (\(tensors.count) tensors)")
        }
        return tensors[i]
    }

    /// The tensor's info, after checking that its shape is `expectedShape`.
    public func tensorInfo(_ name: String, expectedShape: [Int]) throws -> SafetensorsTensorInfo {
        let info = try tensorInfo(name)
        guard info.shape == expectedShape else {
            throw IFTError.file(path: path, location: "tensor \(name)", message: "expected shape \(expectedShape), the file has \(info.shape)")
        }
        return info
    }

    /// The tensor's raw little-endian bytes, in place in the mapping (no copy; not necessarily
    /// aligned to the element size). Valid while this object lives.
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

    /// The tensor's values converted to f32.
    public func floats(_ name: String) throws -> [Float] {
        let info = try tensorInfo(name)
        return try GGMLDequantize.floats(try tensorBytes(name), type: GGMLType(info.dtype)!, count: info.elementCount)
    }

    /// The tensor's values as f32, after checking that its shape is `expectedShape`.
    public func floats(_ name: String, expectedShape: [Int]) throws -> [Float] {
        _ = try tensorInfo(name, expectedShape: expectedShape)
        return try floats(name)
    }
}

/// Builds a safetensors file. The header lists tensors in insertion order; the data section
/// holds them ordered by element size (largest first, then insertion order), contiguously, so
/// that every tensor starts at a multiple of its element size; the header is padded with spaces
/// to a multiple of 8 bytes. `write(to:)` is atomic (temporary file + rename).
public struct SafetensorsWriter {
    public var metadata: [(key: String, value: String)] = []
    public private(set) var tensors: [(name: String, shape: [Int], dtype: DType, data: [UInt8])] = []

    public init() {}

    /// Adds a tensor from raw little-endian bytes (F32, F16 or BF16).
    public mutating func addTensor(name: String, shape: [Int], dtype: DType, bytes: [UInt8]) throws {
        guard name != "__metadata__", !tensors.contains(where: { $0.name == name }) else {
            throw IFTError.invalidArgument("safetensors tensor name '\(name)' is reserved or already used")
        }
        guard Safetensors.dtype(named: Safetensors.name(of: dtype)) != nil else {
            throw IFTError.dtypeMismatch("safetensors tensor '\(name)': dtype \(dtype) is not supported (F32, F16, BF16)")
        }
        guard shape.allSatisfy({ $0 >= 0 }), shape.reduce(1, *) * dtype.blockBytes == bytes.count else {
            throw IFTError.shapeMismatch("safetensors tensor '\(name)': \(dtype) \(shape) does not match \(bytes.count) bytes")
        }
        tensors.append((name, shape, dtype, bytes))
    }

    /// Adds a tensor from f32 values, stored as `dtype` (round to nearest even).
    public mutating func addTensor(name: String, shape: [Int], floats: [Float], as dtype: DType = .f32) throws {
        guard shape.reduce(1, *) == floats.count else {
            throw IFTError.shapeMismatch("safetensors tensor '\(name)': \(floats.count) values do not fill shape \(shape)")
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(floats.count * dtype.blockBytes)
        switch dtype {
        case .f32: for x in floats { GGUFWriter.append(x.bitPattern, to: &bytes) }
        case .f16: for x in floats { GGUFWriter.append(HalfFloat.floatToF16(x), to: &bytes) }
        case .bf16: for x in floats { GGUFWriter.append(HalfFloat.floatToBF16(x), to: &bytes) }
        default: throw IFTError.dtypeMismatch("safetensors tensor '\(name)': dtype \(dtype) is not supported (F32, F16, BF16)")
        }
        try addTensor(name: name, shape: shape, dtype: dtype, bytes: bytes)
    }

    /// Indices of `tensors` in data-section order.
    private var dataOrder: [Int] {
        tensors.indices.sorted { (tensors[$0].dtype.blockBytes, $1) > (tensors[$1].dtype.blockBytes, $0) }
    }

    /// The 8-byte length followed by the padded JSON header.
    func header() -> [UInt8] {
        var offsets = [Range<Int>](repeating: 0..<0, count: tensors.count)
        var at = 0
        for i in dataOrder {
            offsets[i] = at..<(at + tensors[i].data.count)
            at += tensors[i].data.count
        }
        var obj = JSONObject()
        if !metadata.isEmpty {
            obj["__metadata__"] = .object(JSONObject(metadata.map { ($0.key, JSONValue.string($0.value)) }))
        }
        for (i, t) in tensors.enumerated() {
            obj[t.name] = .object(JSONObject([
                ("dtype", .string(Safetensors.name(of: t.dtype))),
                ("shape", .array(t.shape.map { .int($0) })),
                ("data_offsets", .array([.int(offsets[i].lowerBound), .int(offsets[i].upperBound)])),
            ]))
        }
        var json = Array(JSONValue.object(obj).description.utf8)
        json.append(contentsOf: [UInt8](repeating: 0x20, count: (8 - json.count % 8) % 8))
        var out: [UInt8] = []
        GGUFWriter.append(UInt64(json.count), to: &out)
        out.append(contentsOf: json)
        return out
    }

    /// The whole file in memory.
    public func serialized() -> [UInt8] {
        var out = header()
        for i in dataOrder { out.append(contentsOf: tensors[i].data) }
        return out
    }

    /// Writes the file atomically.
    public func write(to path: String) throws {
        try AtomicFileWriter.write(to: path) { w in
            try w.write(header())
            for i in dataOrder { try w.write(tensors[i].data) }
        }
    }
}
