/// SHA-1 (FIPS 180-4), for one thing only: git's blob ids, which the Hugging Face Hub gives for
/// its small (non-LFS) files, so that `config.json` and the tokenizer are checked like the weights.
typealias SHA1Stream = DigestStream<SHA1Blocks>

/// SHA-1's state and block function.
struct SHA1Blocks: BlockFunction {
    private(set) var h: [UInt32] = [0x6745_2301, 0xefcd_ab89, 0x98ba_dcfe, 0x1032_5476, 0xc3d2_e1f0]

    mutating func compress(_ chunk: UnsafeRawBufferPointer) {
        @inline(__always) func rotl(_ x: UInt32, _ n: UInt32) -> UInt32 { (x << n) | (x >> (32 - n)) }
        var (a, b, c, d, e) = (h[0], h[1], h[2], h[3], h[4])
        withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 80) { w in
            for t in 0..<16 { w[t] = UInt32(bigEndian: chunk.loadUnaligned(fromByteOffset: 4 * t, as: UInt32.self)) }
            for t in 16..<80 { w[t] = rotl(w[t - 3] ^ w[t - 8] ^ w[t - 14] ^ w[t - 16], 1) }
            for t in 0..<80 {
                let f: UInt32, k: UInt32
                switch t {
                case 0..<20: (f, k) = ((b & c) | (~b & d), 0x5a82_7999)
                case 20..<40: (f, k) = (b ^ c ^ d, 0x6ed9_eba1)
                case 40..<60: (f, k) = ((b & c) | (b & d) | (c & d), 0x8f1b_bcdc)
                default: (f, k) = (b ^ c ^ d, 0xca62_c1d6)
                }
                let temp = rotl(a, 5) &+ f &+ e &+ k &+ w[t]
                (e, d, c, b, a) = (d, c, rotl(b, 30), a, temp)
            }
        }
        h[0] &+= a; h[1] &+= b; h[2] &+= c; h[3] &+= d; h[4] &+= e
    }
}

/// Git's id of a blob: SHA-1 of "blob <size>\0" and the contents, fed piece by piece.
struct GitBlobHasher {
    private var sha1 = SHA1Stream()

    init(size: Int) { sha1.update(Array("blob \(size)\0".utf8)) }

    mutating func update(_ bytes: UnsafeRawBufferPointer) { sha1.update(bytes) }

    func finalize() -> String { sha1.finalize() }
}
