import IFTCore
import IFTEval

/// Near-duplicate detection by MinHash over word n-grams with LSH banding: each text's shingles
/// (n-grams of rouge-score's tokens: lowercase letters and digits) are hashed under `permutations`
/// seeded hash functions; the minimum per function is the signature, whose share of equal slots
/// estimates the Jaccard similarity of two shingle sets. Signatures are split into bands; texts
/// sharing a band are candidates, and a candidate whose estimated Jaccard reaches `threshold` is a
/// near duplicate. With 8 bands of 8 rows the candidate curve rises around 0.77.
public struct MinHashIndex: Sendable {
    public let shingle: Int
    public let permutations: Int
    public let bands: Int
    public let threshold: Double
    private var signatures: [[UInt64]] = []
    private var buckets: [[UInt64: [Int]]]

    public init(shingle: Int = 3, permutations: Int = 64, bands: Int = 8, threshold: Double = 0.8) {
        self.shingle = max(1, shingle)
        self.permutations = max(1, permutations)
        self.bands = max(1, min(bands, permutations))
        self.threshold = threshold
        buckets = Array(repeating: [:], count: self.bands)
    }

    public var count: Int { signatures.count }

    /// The signature of `text`; texts shorter than one shingle hash their whole token list.
    public func signature(_ text: String) -> [UInt64] {
        let tokens = ReferenceMetrics.rougeTokens(text)
        var hashes: [UInt64] = []
        if tokens.count <= shingle {
            hashes.append(Self.fnv(tokens.joined(separator: " ")))
        } else {
            for i in 0...(tokens.count - shingle) { hashes.append(Self.fnv(tokens[i..<(i + shingle)].joined(separator: " "))) }
        }
        return (0..<permutations).map { p in
            let seed = Self.mix(UInt64(p) &* 0x9E37_79B9_7F4A_7C15 &+ 0x1234_5678)
            var best = UInt64.max
            for h in hashes { best = min(best, Self.mix(h ^ seed)) }
            return best
        }
    }

    /// The share of equal slots: the estimated Jaccard similarity.
    public static func similarity(_ a: [UInt64], _ b: [UInt64]) -> Double {
        guard !a.isEmpty, a.count == b.count else { return 0 }
        return Double(zip(a, b).filter { $0 == $1 }.count) / Double(a.count)
    }

    /// The first indexed text whose estimated Jaccard with `text` reaches the threshold, with it.
    public func nearest(_ text: String) -> (index: Int, similarity: Double)? { nearest(signature: signature(text)) }

    public func nearest(signature s: [UInt64]) -> (index: Int, similarity: Double)? {
        var seen = Set<Int>()
        var best: (index: Int, similarity: Double)?
        for (b, key) in bandKeys(s).enumerated() {
            for i in buckets[b][key] ?? [] where seen.insert(i).inserted {
                let j = Self.similarity(s, signatures[i])
                if j >= threshold, j > (best?.similarity ?? -1) { best = (i, j) }
            }
        }
        return best
    }

    /// Adds a text; its index is the previous `count`.
    public mutating func add(_ text: String) { add(signature: signature(text)) }

    public mutating func add(signature s: [UInt64]) {
        let i = signatures.count
        signatures.append(s)
        for (b, key) in bandKeys(s).enumerated() { buckets[b][key, default: []].append(i) }
    }

    func bandKeys(_ s: [UInt64]) -> [UInt64] {
        let rows = permutations / bands
        return (0..<bands).map { b in
            var h: UInt64 = 0xCBF2_9CE4_8422_2325 &+ UInt64(b)
            for v in s[(b * rows)..<min(s.count, (b + 1) * rows)] { h = Self.mix(h ^ v) }
            return h
        }
    }

    /// FNV-1a over the UTF-8 bytes.
    static func fnv(_ s: String) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for b in s.utf8 {
            h ^= UInt64(b)
            h = h &* 0x0000_0100_0000_01B3
        }
        return h
    }

    /// SplitMix64's finalizer: a bijective 64-bit mix.
    static func mix(_ x: UInt64) -> UInt64 {
        var z = x &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
