import IFTCore

extension Reference {
    /// 2-D strided copy (see `CopyDescriptor`): `dst[dstOffset + r * dstRowStride + c] =
    /// src[srcOffset + r * srcRowStride + c]`. The ranges must not overlap when `src` and `dst`
    /// are the same memory (the backends reject that).
    public static func copy(src: UnsafeBufferPointer<Float>, dst: UnsafeMutableBufferPointer<Float>, _ d: CopyDescriptor) throws {
        try d.validate(srcCount: src.count, dstCount: dst.count)
        for r in 0..<d.rows {
            let s = d.srcOffset + r * d.srcRowStride, o = d.dstOffset + r * d.dstRowStride
            for c in 0..<d.cols { dst[o + c] = src[s + c] }
        }
    }
}
