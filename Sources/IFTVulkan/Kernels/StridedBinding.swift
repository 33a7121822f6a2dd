import IFTCore

/// Binding helpers for ops that address strided ranges of f32/i32 tensors: a binding must start
/// at an offset aligned to `minStorageBufferOffsetAlignment` and span at most
/// `maxStorageBufferRange` bytes (lavapipe: 128 MiB), so a range is bound from the aligned element
/// at or before its first element, and the shader gets the residual element offset in its push
/// constants (as `matmul` does).
extension VulkanBackend {
    /// Binding-offset alignment in 4-byte elements.
    var elementAlignment: Int { max(4, info.minStorageBufferOffsetAlignment) / 4 }

    /// Binds elements `first..<end` of a tensor with 4-byte elements from the aligned element at or
    /// before `first`; returns the binding and `first`'s index within it. An empty range binds the
    /// tensor's first word (the shader reads nothing from it).
    func elementBinding(_ t: Tensor, first: Int, end: Int, _ what: String) throws -> (BufferBinding, UInt32) {
        guard end > first else { return (try binding(t, byteOffset: 0, byteCount: 4), 0) }
        let start = first / elementAlignment * elementAlignment
        let bytes = (end - start) * 4
        guard bytes <= maxBindingBytes else {
            throw IFTError.outOfDeviceMemory(
                "\(what): a range of \(bytes) bytes exceeds the device's maxStorageBufferRange (\(maxBindingBytes)); split the call")
        }
        return (try binding(t, byteOffset: start * 4, byteCount: bytes), UInt32(first - start))
    }

    /// How many rows (row `r` covers elements `r * rowStride ..< r * rowStride + width` past any
    /// start) fit in one binding together with the worst-case alignment residual.
    func rowsPerBinding(rowStride: Int, width: Int, _ what: String) throws -> Int {
        let capacity = maxBindingBytes / 4 - (elementAlignment - 1)
        guard width <= capacity else {
            throw IFTError.outOfDeviceMemory(
                "\(what): a row of \(width * 4) bytes exceeds the device's maxStorageBufferRange (\(maxBindingBytes))")
        }
        return rowStride == 0 ? Int.max : (capacity - width) / rowStride + 1
    }
}

/// A push-constant word from a non-negative count, stride or offset (values past `UInt32.max` only
/// occur for strides the dispatch never uses, and are clamped).
func pushWord(_ x: Int) -> UInt32 { UInt32(clamping: x) }
