import IFTCore
import IFTCPU

/// Builds a GGUF v3 file: metadata in insertion order, tensors in insertion order, each tensor's
/// data aligned to `alignment` (written as `general.alignment` when it is not the default 32).
/// `write(to:)` is atomic (temporary file + rename).
///
/// Shapes are row-major, as everywhere in the engine: `shape.last` is the row length, which the
/// file stores as `ne[0]`.
public struct GGUFWriter {
    public let alignment: Int
    public private(set) var metadata: [(key: String, value: GGUFValue)] = []
    public private(set) var tensors: [(name: String, shape: [Int], type: GGMLType, data: [UInt8])] = []

    public init(alignment: Int = GGUFFile.defaultAlignment) throws {
        guard alignment > 0, alignment & (alignment - 1) == 0 else {
            throw IFTError.invalidArgument("GGUF alignment must be a power of two, got \(alignment)")
        }
        self.alignment = alignment
    }

    /// Adds a metadata entry (a key may appear once). Array elements must all have the array's
    /// element type; an array's elements may themselves be arrays.
    public mutating func add(_ key: String, _ value: GGUFValue) throws {
        guard !metadata.contains(where: { $0.key == key }) else {
            throw IFTError.invalidArgument("GGUF metadata key '\(key)' added twice")
        }
        try Self.check(value, key: key)
        if key == "general.alignment" {
            guard value.intValue == alignment else {
                throw IFTError.invalidArgument("general.alignment = \(value) disagrees with the writer's alignment \(alignment)")
            }
        }
        metadata.append((key, value))
    }

    private static func check(_ v: GGUFValue, key: String) throws {
        guard case .array(let t, let values) = v else { return }
        for e in values {
            guard e.type == t else {
                throw IFTError.invalidArgument("GGUF array '\(key)' of \(t.name) holds a \(e.typeName) element")
            }
            try check(e, key: key)
        }
    }

    /// Adds a tensor from its raw bytes in `type`'s layout.
    public mutating func addTensor(name: String, shape: [Int], type: GGMLType, bytes: [UInt8]) throws {
        guard !tensors.contains(where: { $0.name == name }) else {
            throw IFTError.invalidArgument("GGUF tensor '\(name)' added twice")
        }
        guard shape.count <= GGUFFile.maxDims, shape.allSatisfy({ $0 >= 0 }) else {
            throw IFTError.shapeMismatch("GGUF tensor '\(name)': shape \(shape) needs at most \(GGUFFile.maxDims) non-negative dimensions")
        }
        guard shape.isEmpty || shape.last! % type.blockSize == 0 else {
            throw IFTError.shapeMismatch("GGUF tensor '\(name)': last dimension of \(shape) is not a multiple of the \(type) block size \(type.blockSize)")
        }
        let count = shape.reduce(1, *)
        guard let need = type.byteCount(elements: count), need == bytes.count else {
            throw IFTError.shapeMismatch("GGUF tensor '\(name)': \(type) \(shape) needs \(type.byteCount(elements: count) ?? -1) bytes, got \(bytes.count)")
        }
        tensors.append((name, shape, type, bytes))
    }

    /// Adds a tensor from f32 values, stored as `type`: F32, F16 or BF16 (round to nearest even),
    /// or Q8_0, Q4_0, Q4_1, Q4_K (quantized with IFTCPU's `Reference.quantize`, ggml's reference
    /// quantizers). Q6_K cannot be written from floats.
    public mutating func addTensor(name: String, shape: [Int], floats: [Float], as type: GGMLType = .f32) throws {
        guard shape.reduce(1, *) == floats.count else {
            throw IFTError.shapeMismatch("GGUF tensor '\(name)': \(floats.count) values do not fill shape \(shape)")
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(floats.count * type.blockBytes)
        switch type {
        case .f32: for x in floats { Self.append(x.bitPattern, to: &bytes) }
        case .f16: for x in floats { Self.append(HalfFloat.floatToF16(x), to: &bytes) }
        case .bf16: for x in floats { Self.append(HalfFloat.floatToBF16(x), to: &bytes) }
        case .q8_0, .q4_0, .q4_1, .q4_k:
            guard shape.isEmpty || shape.last! % type.blockSize == 0 else {
                throw IFTError.shapeMismatch("GGUF tensor '\(name)': last dimension of \(shape) is not a multiple of the \(type) block size \(type.blockSize)")
            }
            bytes = try Reference.quantize(type.dtype!, floats)
        case .q6_k:
            throw IFTError.dtypeMismatch("GGUF tensor '\(name)': cannot quantize to Q6_K (pass the blocks as bytes)")
        }
        try addTensor(name: name, shape: shape, type: type, bytes: bytes)
    }

    static func append<T: FixedWidthInteger>(_ v: T, to out: inout [UInt8]) {
        withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) }
    }

    static func appendString(_ s: String, to out: inout [UInt8]) {
        let u = Array(s.utf8)
        append(UInt64(u.count), to: &out)
        out.append(contentsOf: u)
    }

    static func appendValue(_ v: GGUFValue, to out: inout [UInt8]) {
        switch v {
        case .uint8(let x): append(x, to: &out)
        case .int8(let x): append(x, to: &out)
        case .uint16(let x): append(x, to: &out)
        case .int16(let x): append(x, to: &out)
        case .uint32(let x): append(x, to: &out)
        case .int32(let x): append(x, to: &out)
        case .uint64(let x): append(x, to: &out)
        case .int64(let x): append(x, to: &out)
        case .float32(let x): append(x.bitPattern, to: &out)
        case .float64(let x): append(x.bitPattern, to: &out)
        case .bool(let b): out.append(b ? 1 : 0)
        case .string(let s): appendString(s, to: &out)
        case .array(let t, let values):
            append(t.rawValue, to: &out)
            append(UInt64(values.count), to: &out)
            for e in values { appendValue(e, to: &out) }
        }
    }

    private func padded(_ n: Int) -> Int { (n + alignment - 1) / alignment * alignment }

    /// The header: magic, version, counts, metadata, tensor infos and the padding up to the
    /// data section.
    func header() -> [UInt8] {
        var out: [UInt8] = []
        Self.append(GGUFFile.magic, to: &out)
        Self.append(UInt32(3), to: &out)
        Self.append(UInt64(tensors.count), to: &out)
        var entries = metadata
        if alignment != GGUFFile.defaultAlignment && !entries.contains(where: { $0.key == "general.alignment" }) {
            entries.append(("general.alignment", .uint32(UInt32(alignment))))
        }
        Self.append(UInt64(entries.count), to: &out)
        for (k, v) in entries {
            Self.appendString(k, to: &out)
            Self.append(v.type.rawValue, to: &out)
            Self.appendValue(v, to: &out)
        }
        var offset = 0
        for t in tensors {
            Self.appendString(t.name, to: &out)
            Self.append(UInt32(t.shape.count), to: &out)
            for n in t.shape.reversed() { Self.append(UInt64(n), to: &out) }
            Self.append(t.type.rawValue, to: &out)
            Self.append(UInt64(offset), to: &out)
            offset = padded(offset + t.data.count)
        }
        out.append(contentsOf: [UInt8](repeating: 0, count: padded(out.count) - out.count))
        return out
    }

    /// The whole file in memory.
    public func serialized() -> [UInt8] {
        var out = header()
        for t in tensors {
            out.append(contentsOf: t.data)
            out.append(contentsOf: [UInt8](repeating: 0, count: padded(out.count) - out.count))
        }
        return out
    }

    /// Writes the file atomically.
    public func write(to path: String) throws {
        try AtomicFileWriter.write(to: path) { w in
            let h = header()
            try w.write(h)
            var written = h.count
            for t in tensors {
                try w.write(t.data)
                written += t.data.count
                let pad = padded(written) - written
                try w.writeZeros(pad)
                written += pad
            }
        }
    }
}
