import IFTCore

/// The CPU reference implementation of every op as pure functions over host buffers: plain,
/// readable loops with fp32 accumulation, the numerical truth the other backends are checked
/// against. `CPUReferenceBackend` calls these on tensors; other code (GGUF loading, tests) may
/// call them directly without a backend.
///
/// Each op family lives in a file named like its shader in `Shaders/` (`Matmul.swift` ↔
/// `matmul.comp`, `Dequantize.swift` ↔ `dequant_*.comp`, ...). Every function checks its buffer
/// sizes and throws `IFTError` rather than trapping.
public enum Reference {}

extension Reference {
    /// Little-endian u16 at `offset` (any alignment).
    @inline(__always)
    static func u16(_ p: UnsafeRawPointer, _ offset: Int) -> UInt16 {
        UInt16(p.load(fromByteOffset: offset, as: UInt8.self))
            | UInt16(p.load(fromByteOffset: offset + 1, as: UInt8.self)) << 8
    }

    /// Little-endian u32 at `offset` (any alignment).
    @inline(__always)
    static func u32(_ p: UnsafeRawPointer, _ offset: Int) -> UInt32 {
        UInt32(u16(p, offset)) | UInt32(u16(p, offset + 2)) << 16
    }

    @inline(__always)
    static func storeU16(_ p: UnsafeMutableRawPointer, _ offset: Int, _ v: UInt16) {
        p.storeBytes(of: UInt8(truncatingIfNeeded: v), toByteOffset: offset, as: UInt8.self)
        p.storeBytes(of: UInt8(truncatingIfNeeded: v >> 8), toByteOffset: offset + 1, as: UInt8.self)
    }

    @inline(__always)
    static func storeU32(_ p: UnsafeMutableRawPointer, _ offset: Int, _ v: UInt32) {
        storeU16(p, offset, UInt16(truncatingIfNeeded: v))
        storeU16(p, offset + 2, UInt16(truncatingIfNeeded: v >> 16))
    }
}
