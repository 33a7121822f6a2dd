/// The counter-based mask of `Backend.dropout`: whether element `index` of a tensor is kept is a
/// pure function of `(seed, index, probability)`, computed with 32-bit integer operations only so
/// that `Shaders/dropout.comp` reproduces it bit for bit. No state, no random-number stream: the
/// forward and the backward (same seed) see the same mask, on every backend, in any order.
///
/// The exact definition, with `lowbias32` Chris Wellons' 32-bit integer hash
/// (`x ^= x >> 16; x *= 0x7feb352d; x ^= x >> 15; x *= 0x846ca68b; x ^= x >> 16`, wrapping):
///
///     lo  = UInt32(seed & 0xffff_ffff), hi = UInt32(seed >> 32)
///     key = lowbias32(lo ^ lowbias32(hi ^ 0x9e37_79b9))            // Dropout.key(seed:)
///     h   = lowbias32(lowbias32(index ^ key) &+ key)
///     u   = h >> 8                                                 // 24 uniform bits
///     keep(index) = Float(u) * 0x1p-24 >= probability
///
/// `Float(u) * 2^-24` is exact (u < 2^24), so the comparison is exact on every backend; an element
/// is kept with probability `1 - probability` rounded up to a multiple of 2^-24. A kept element is
/// multiplied by `Dropout.scale(probability)` (`1 / (1 - probability)` rounded once to f32).
public enum Dropout {
    /// Chris Wellons' `lowbias32` integer hash (wrapping 32-bit arithmetic).
    @inline(__always)
    public static func lowbias32(_ x: UInt32) -> UInt32 {
        var x = x
        x ^= x >> 16
        x = x &* 0x7feb_352d
        x ^= x >> 15
        x = x &* 0x846c_a68b
        x ^= x >> 16
        return x
    }

    /// The 32-bit key of a 64-bit seed: `lowbias32(lo ^ lowbias32(hi ^ 0x9e3779b9))`. The shader
    /// receives it as a push constant.
    @inline(__always)
    public static func key(seed: UInt64) -> UInt32 {
        let lo = UInt32(truncatingIfNeeded: seed), hi = UInt32(truncatingIfNeeded: seed >> 32)
        return lowbias32(lo ^ lowbias32(hi ^ 0x9e37_79b9))
    }

    /// The hash of element `index` under `key`: `lowbias32(lowbias32(index ^ key) &+ key)`.
    @inline(__always)
    public static func hash(key: UInt32, index: UInt32) -> UInt32 {
        lowbias32(lowbias32(index ^ key) &+ key)
    }

    /// Whether a hash keeps its element: `Float(h >> 8) * 2^-24 >= probability`.
    @inline(__always)
    public static func keeps(hash h: UInt32, probability: Float) -> Bool {
        Float(h >> 8) * 0x1p-24 >= probability
    }

    /// Whether `dropout` keeps element `index` (see the type's documentation for the formula).
    @inline(__always)
    public static func keeps(seed: UInt64, index: UInt32, probability: Float) -> Bool {
        keeps(hash: hash(key: key(seed: seed), index: index), probability: probability)
    }

    /// The factor applied to kept elements: `1 / (1 - probability)`, computed in f32 (one rounding
    /// for `1 - probability`, one for the division). 1 for probability 0.
    @inline(__always)
    public static func scale(probability: Float) -> Float {
        1 / (1 - probability)
    }

    /// Largest element count `dropout` takes: indices are 32-bit.
    public static let maxCount = 1 << 32
}
