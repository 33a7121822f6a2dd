import IFTCore

/// The value types of GGUF metadata, with their on-disk ids.
public enum GGUFValueType: UInt32, Sendable, CaseIterable, CustomStringConvertible {
    case uint8 = 0, int8 = 1, uint16 = 2, int16 = 3, uint32 = 4, int32 = 5, float32 = 6
    case bool = 7, string = 8, array = 9, uint64 = 10, int64 = 11, float64 = 12

    /// Encoded size of one value, or nil for strings and arrays (variable).
    var fixedSize: Int? {
        switch self {
        case .uint8, .int8, .bool: return 1
        case .uint16, .int16: return 2
        case .uint32, .int32, .float32: return 4
        case .uint64, .int64, .float64: return 8
        case .string, .array: return nil
        }
    }

    /// The fewest bytes one value can take (an empty string: its 8-byte length; an empty array:
    /// 4-byte element type and 8-byte count).
    var minSize: Int {
        switch self {
        case .string: return 8
        case .array: return 12
        default: return fixedSize!
        }
    }

    public var description: String { name }
}

extension GGUFValueType {
    public var name: String {
        switch self {
        case .uint8: return "uint8"
        case .int8: return "int8"
        case .uint16: return "uint16"
        case .int16: return "int16"
        case .uint32: return "uint32"
        case .int32: return "int32"
        case .float32: return "float32"
        case .bool: return "bool"
        case .string: return "string"
        case .array: return "array"
        case .uint64: return "uint64"
        case .int64: return "int64"
        case .float64: return "float64"
        }
    }
}

/// One GGUF metadata value. Arrays carry their element type (so that an empty array still has
/// one) and may nest.
public indirect enum GGUFValue: Equatable, Sendable, CustomStringConvertible {
    case uint8(UInt8), int8(Int8), uint16(UInt16), int16(Int16), uint32(UInt32), int32(Int32)
    case uint64(UInt64), int64(Int64), float32(Float), float64(Double), bool(Bool), string(String)
    /// Every element must have type `elementType` (checked when writing).
    case array(GGUFValueType, [GGUFValue])

    public var type: GGUFValueType {
        switch self {
        case .uint8: return .uint8
        case .int8: return .int8
        case .uint16: return .uint16
        case .int16: return .int16
        case .uint32: return .uint32
        case .int32: return .int32
        case .uint64: return .uint64
        case .int64: return .int64
        case .float32: return .float32
        case .float64: return .float64
        case .bool: return .bool
        case .string: return .string
        case .array: return .array
        }
    }

    /// The type as a human-readable string, e.g. `array[string]`.
    public var typeName: String {
        if case .array(let t, let values) = self {
            if t == .array, let first = values.first { return "array[\(first.typeName)]" }
            return "array[\(t.name)]"
        }
        return type.name
    }

    /// The value of any integer type, or nil (also nil for a uint64 above `Int.max`).
    public var intValue: Int? {
        switch self {
        case .uint8(let v): return Int(v)
        case .int8(let v): return Int(v)
        case .uint16(let v): return Int(v)
        case .int16(let v): return Int(v)
        case .uint32(let v): return Int(v)
        case .int32(let v): return Int(v)
        case .uint64(let v): return Int(exactly: v)
        case .int64(let v): return Int(v)
        default: return nil
        }
    }

    /// The value of a float type, or of an integer type converted; nil otherwise.
    public var doubleValue: Double? {
        switch self {
        case .float32(let v): return Double(v)
        case .float64(let v): return v
        default: return intValue.map(Double.init)
        }
    }

    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    public var boolValue: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }

    public var arrayValue: [GGUFValue]? {
        if case .array(_, let v) = self { return v }
        return nil
    }

    // Conveniences for building arrays.
    public static func strings(_ v: [String]) -> GGUFValue { .array(.string, v.map { .string($0) }) }
    public static func int32s(_ v: [Int32]) -> GGUFValue { .array(.int32, v.map { .int32($0) }) }
    public static func uint32s(_ v: [UInt32]) -> GGUFValue { .array(.uint32, v.map { .uint32($0) }) }
    public static func int64s(_ v: [Int64]) -> GGUFValue { .array(.int64, v.map { .int64($0) }) }
    public static func float32s(_ v: [Float]) -> GGUFValue { .array(.float32, v.map { .float32($0) }) }

    public var description: String {
        switch self {
        case .uint8(let v): return "\(v)"
        case .int8(let v): return "\(v)"
        case .uint16(let v): return "\(v)"
        case .int16(let v): return "\(v)"
        case .uint32(let v): return "\(v)"
        case .int32(let v): return "\(v)"
        case .uint64(let v): return "\(v)"
        case .int64(let v): return "\(v)"
        case .float32(let v): return "\(v)"
        case .float64(let v): return "\(v)"
        case .bool(let v): return "\(v)"
        case .string(let s): return "\"\(s)\""
        case .array(let t, let values):
            let shown = values.prefix(8).map(\.description).joined(separator: ", ")
            let more = values.count > 8 ? ", ... (\(values.count) \(t.name)s)" : ""
            return "[\(shown)\(more)]"
        }
    }
}

/// GGUF metadata: key/value pairs in file order, with typed accessors. Accessors throw
/// `IFTError.file(path:, location: "metadata key K", ...)` naming the key and the expected type
/// when the key is missing or holds another type; the `...IfPresent` variants return nil for a
/// missing key (but still throw for a wrong type).
public struct GGUFMetadata: Sendable, Equatable {
    /// The file the metadata came from (for error messages).
    public let path: String
    /// Keys and values in file order.
    public let entries: [(key: String, value: GGUFValue)]
    private let index: [String: Int]

    public init(path: String, entries: [(key: String, value: GGUFValue)]) throws {
        self.path = path
        self.entries = entries
        var index: [String: Int] = [:]
        for (i, e) in entries.enumerated() {
            guard index.updateValue(i, forKey: e.key) == nil else {
                throw IFTError.file(path: path, location: "metadata key \(e.key)", message: "duplicate metadata key")
            }
        }
        self.index = index
    }

    public static func == (a: GGUFMetadata, b: GGUFMetadata) -> Bool {
        a.entries.count == b.entries.count && zip(a.entries, b.entries).allSatisfy { $0.key == $1.key && $0.value == $1.value }
    }

    public var keys: [String] { entries.map(\.key) }
    public var count: Int { entries.count }
    public func contains(_ key: String) -> Bool { index[key] != nil }
    public subscript(_ key: String) -> GGUFValue? { index[key].map { entries[$0].value } }

    private func fail(_ key: String, _ message: String) -> IFTError {
        IFTError.file(path: path, location: "metadata key \(key)", message: message)
    }

    private func get<T>(_ key: String, _ expected: String, _ convert: (GGUFValue) -> T?) throws -> T? {
        guard let v = self[key] else { return nil }
        guard let r = convert(v) else {
            throw fail(key, "expected \(expected), found \(v.typeName) \(String(v.description.prefix(80)))")
        }
        return r
    }

    private func required<T>(_ key: String, _ expected: String, _ value: T?) throws -> T {
        guard let value else { throw fail(key, "missing (expected \(expected))") }
        return value
    }

    private func array<T>(_ key: String, _ expected: String, _ convert: @escaping (GGUFValue) -> T?) throws -> [T]? {
        try get(key, expected) { v -> [T]? in
            guard let values = v.arrayValue else { return nil }
            var out: [T] = []
            out.reserveCapacity(values.count)
            for x in values {
                guard let y = convert(x) else { return nil }
                out.append(y)
            }
            return out
        }
    }

    public func stringIfPresent(_ key: String) throws -> String? { try get(key, "a string") { $0.stringValue } }
    public func intIfPresent(_ key: String) throws -> Int? { try get(key, "an integer") { $0.intValue } }
    /// Any float or integer type, as Double.
    public func doubleIfPresent(_ key: String) throws -> Double? { try get(key, "a number") { $0.doubleValue } }
    public func floatIfPresent(_ key: String) throws -> Float? { try doubleIfPresent(key).map { Float($0) } }
    public func boolIfPresent(_ key: String) throws -> Bool? { try get(key, "a bool") { $0.boolValue } }
    public func stringsIfPresent(_ key: String) throws -> [String]? { try array(key, "an array of strings") { $0.stringValue } }
    public func intsIfPresent(_ key: String) throws -> [Int]? { try array(key, "an array of integers") { $0.intValue } }
    public func floatsIfPresent(_ key: String) throws -> [Float]? {
        try array(key, "an array of numbers") { $0.doubleValue.map { Float($0) } }
    }

    public func string(_ key: String) throws -> String { try required(key, "a string", stringIfPresent(key)) }
    /// Any integer type (uint8 ... int64) as Int.
    public func int(_ key: String) throws -> Int { try required(key, "an integer", intIfPresent(key)) }
    /// float32, float64, or any integer type.
    public func double(_ key: String) throws -> Double { try required(key, "a number", doubleIfPresent(key)) }
    /// float32, float64, or any integer type.
    public func float(_ key: String) throws -> Float { try required(key, "a number", floatIfPresent(key)) }
    public func bool(_ key: String) throws -> Bool { try required(key, "a bool", boolIfPresent(key)) }
    public func strings(_ key: String) throws -> [String] { try required(key, "an array of strings", stringsIfPresent(key)) }
    /// An array of any integer type.
    public func ints(_ key: String) throws -> [Int] { try required(key, "an array of integers", intsIfPresent(key)) }
    /// An array of float32, float64, or integers.
    public func floats(_ key: String) throws -> [Float] { try required(key, "an array of numbers", floatsIfPresent(key)) }
}
