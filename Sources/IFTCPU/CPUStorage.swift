import IFTCore

/// Host memory behind a tensor of the `cpu-ref` or `cpu` backend: a 64-byte-aligned, zero-filled
/// allocation whose size is `byteCount` rounded up to a multiple of 4 (so f16/bf16 and quantized
/// tensors can be read as whole 32-bit words), freed when the storage is released.
public final class CPUStorage: TensorStorage {
    public let backendName: String
    /// Bytes the tensor uses (the allocation may be up to 3 bytes larger).
    public let byteCount: Int
    /// Bytes allocated: `byteCount` rounded up to a multiple of 4 (at least 4).
    public let allocatedByteCount: Int
    /// Start of the allocation (64-byte aligned).
    public let data: UnsafeMutableRawPointer

    public static let alignment = 64

    public init(byteCount: Int, backendName: String) {
        precondition(byteCount >= 0, "CPUStorage: negative byte count")
        self.backendName = backendName
        self.byteCount = byteCount
        self.allocatedByteCount = max(4, (byteCount + 3) / 4 * 4)
        self.data = UnsafeMutableRawPointer.allocate(byteCount: allocatedByteCount, alignment: Self.alignment)
        data.initializeMemory(as: UInt8.self, repeating: 0, count: allocatedByteCount)
    }

    deinit {
        data.deallocate()
    }

    /// The tensor's bytes.
    public var bytes: UnsafeMutableRawBufferPointer {
        UnsafeMutableRawBufferPointer(start: data, count: byteCount)
    }

    /// The memory as `count` Floats (binds the memory to Float).
    public func floats(count: Int) -> UnsafeMutableBufferPointer<Float> {
        UnsafeMutableBufferPointer(start: data.bindMemory(to: Float.self, capacity: count), count: count)
    }
}

/// The tensor bookkeeping shared by both CPU backends: allocation, copies in and out, and typed
/// access to a checked tensor's memory.
enum HostTensors {
    static func make(shape: [Int], dtype: DType, backend: String) throws -> Tensor {
        try validateShape(shape, dtype)
        var count = 1
        for d in shape {
            let (p, overflow) = count.multipliedReportingOverflow(by: d)
            guard !overflow else { throw IFTError.invalidArgument("shape \(shape) has too many elements") }
            count = p
        }
        let bytes = try dtype.byteCount(elements: count)
        return Tensor(shape: shape, dtype: dtype, storage: CPUStorage(byteCount: bytes, backendName: backend))
    }

    /// The storage of a tensor that belongs to `backend`.
    static func storage(_ t: Tensor, _ backend: String) throws -> CPUStorage {
        try OpChecks.backend([t], backend)
        guard let s = t.storage as? CPUStorage else {
            throw IFTError.wrongBackend(expected: backend, got: "\(t.backendName) (storage \(type(of: t.storage)))")
        }
        return s
    }

    static func write(_ t: Tensor, from bytes: UnsafeRawBufferPointer, backend: String) throws {
        let s = try storage(t, backend)
        guard bytes.count == t.byteCount else {
            throw IFTError.shapeMismatch("write: \(t) needs exactly \(t.byteCount) bytes, got \(bytes.count)")
        }
        if let src = bytes.baseAddress, bytes.count > 0 {
            s.data.copyMemory(from: src, byteCount: bytes.count)
        }
    }

    static func read(_ t: Tensor, into bytes: UnsafeMutableRawBufferPointer, backend: String) throws {
        let s = try storage(t, backend)
        guard bytes.count == t.byteCount else {
            throw IFTError.shapeMismatch("read: \(t) has \(t.byteCount) bytes, destination has \(bytes.count)")
        }
        if let dst = bytes.baseAddress, bytes.count > 0 {
            dst.copyMemory(from: s.data, byteCount: bytes.count)
        }
    }

    /// An f32 tensor's elements (the caller has checked the dtype).
    static func floats(_ t: Tensor, _ backend: String) throws -> UnsafeMutableBufferPointer<Float> {
        try storage(t, backend).floats(count: t.count)
    }

    /// An i32 tensor's elements (the caller has checked the dtype).
    static func ints(_ t: Tensor, _ backend: String) throws -> UnsafeMutableBufferPointer<Int32> {
        let s = try storage(t, backend)
        return UnsafeMutableBufferPointer(start: s.data.bindMemory(to: Int32.self, capacity: t.count), count: t.count)
    }

    /// The first element of an f32 tensor (never nil, even for an empty tensor).
    static func floatPointer(_ t: Tensor, _ backend: String) throws -> UnsafeMutablePointer<Float> {
        let s = try storage(t, backend)
        return s.data.bindMemory(to: Float.self, capacity: s.allocatedByteCount / 4)
    }

    /// A tensor's bytes, read-only.
    static func bytes(_ t: Tensor, _ backend: String) throws -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(try storage(t, backend).bytes)
    }

    /// A tensor's bytes, writable.
    static func mutableBytes(_ t: Tensor, _ backend: String) throws -> UnsafeMutableRawBufferPointer {
        try storage(t, backend).bytes
    }
}
