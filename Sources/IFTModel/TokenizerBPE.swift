#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The merges of a BPE vocabulary as an open-addressing hash table from a pair of token ids to
/// (rank, merged token id). Rank is the merge's position in the merge list: lower merges first.
struct BPEMergeTable: Sendable {
    private var keys: [UInt64]
    private var values: [UInt64]
    private let mask: Int
    private(set) var count = 0
    private static let empty = UInt64.max

    init(capacity: Int) {
        var size = 16
        while size < capacity * 2 { size <<= 1 }
        keys = [UInt64](repeating: Self.empty, count: size)
        values = [UInt64](repeating: 0, count: size)
        mask = size - 1
    }

    @inline(__always)
    private static func key(_ a: Int32, _ b: Int32) -> UInt64 { UInt64(UInt32(bitPattern: a)) << 32 | UInt64(UInt32(bitPattern: b)) }

    @inline(__always)
    private func slot(_ k: UInt64) -> Int { Int(truncatingIfNeeded: (k &* 0x9E37_79B9_7F4A_7C15) >> 32) & mask }

    /// Adds a merge unless the pair already has one (the earlier, lower rank wins).
    mutating func insert(_ a: Int32, _ b: Int32, rank: Int32, result: Int32) {
        let k = Self.key(a, b)
        var s = slot(k)
        while keys[s] != Self.empty {
            if keys[s] == k { return }
            s = (s + 1) & mask
        }
        keys[s] = k
        values[s] = UInt64(UInt32(bitPattern: rank)) << 32 | UInt64(UInt32(bitPattern: result))
        count += 1
    }

    /// (rank, result) of the merge of a and b, packed as rank << 32 | result; nil if none.
    @inline(__always)
    func lookup(_ a: Int32, _ b: Int32) -> UInt64? {
        let k = Self.key(a, b)
        var s = slot(k)
        while true {
            let ks = keys[s]
            if ks == k { return values[s] }
            if ks == Self.empty { return nil }
            s = (s + 1) & mask
        }
    }
}

extension BPEMergeTable {
    /// Applies the merges to `symbols` until none applies: always the lowest-ranked pair,
    /// the leftmost of equal ones (as Hugging Face tokenizers and llama.cpp do).
    func merge(_ symbols: inout [Int32]) {
        if symbols.count < 2 { return }
        if symbols.count <= 64 {
            mergeSmall(&symbols)
        } else {
            mergeLarge(&symbols)
        }
    }

    /// Quadratic but allocation-light: for ordinary words of a few bytes.
    private func mergeSmall(_ syms: inout [Int32]) {
        let none = UInt64.max
        var pairs = [UInt64](repeating: none, count: syms.count - 1)
        for j in 0..<pairs.count { pairs[j] = lookup(syms[j], syms[j + 1]) ?? none }
        while true {
            var best = none
            var at = -1
            for j in 0..<pairs.count where pairs[j] < best {
                best = pairs[j]
                at = j
            }
            if at < 0 { return }
            syms[at] = Int32(truncatingIfNeeded: best & 0xFFFF_FFFF)
            syms.remove(at: at + 1)
            pairs.remove(at: at)
            if at > 0 { pairs[at - 1] = lookup(syms[at - 1], syms[at]) ?? none }
            if at < pairs.count { pairs[at] = lookup(syms[at], syms[at + 1]) ?? none }
        }
    }

    /// A min-heap of candidate pairs over a linked list of symbols: for long words (runs of
    /// spaces, long unsplit scripts), O(n log n).
    private func mergeLarge(_ syms: inout [Int32]) {
        let n = syms.count
        var prev = [Int32](unsafeUninitializedCapacity: n) { b, c in
            for i in 0..<n { b[i] = Int32(i - 1) }
            c = n
        }
        var next = [Int32](unsafeUninitializedCapacity: n) { b, c in
            for i in 0..<n { b[i] = i + 1 < n ? Int32(i + 1) : -1 }
            c = n
        }
        var alive = [Bool](repeating: true, count: n)
        // Heap entries: rank << 32 | left index; the smallest is the next merge.
        var heap = MinHeap()
        heap.reserve(n)
        for i in 0..<(n - 1) {
            if let v = lookup(syms[i], syms[i + 1]) { heap.push(v & 0xFFFF_FFFF_0000_0000 | UInt64(i)) }
        }
        while let top = heap.pop() {
            let left = Int(top & 0xFFFF_FFFF)
            let rank = top >> 32
            guard alive[left] else { continue }
            let right = Int(next[left])
            guard right >= 0, let v = lookup(syms[left], syms[right]), v >> 32 == rank else { continue }
            syms[left] = Int32(truncatingIfNeeded: v & 0xFFFF_FFFF)
            alive[right] = false
            let after = next[right]
            next[left] = after
            if after >= 0 { prev[Int(after)] = Int32(left) }
            let before = prev[left]
            if before >= 0, let p = lookup(syms[Int(before)], syms[left]) {
                heap.push(p & 0xFFFF_FFFF_0000_0000 | UInt64(before))
            }
            if after >= 0, let p = lookup(syms[left], syms[Int(after)]) {
                heap.push(p & 0xFFFF_FFFF_0000_0000 | UInt64(left))
            }
        }
        var out: [Int32] = []
        var i = 0
        while i >= 0 && i < n {
            out.append(syms[i])
            i = Int(next[i])
        }
        syms = out
    }
}

/// A binary min-heap of UInt64.
struct MinHeap {
    private var a: [UInt64] = []

    mutating func reserve(_ n: Int) { a.reserveCapacity(n) }

    mutating func push(_ v: UInt64) {
        a.append(v)
        var i = a.count - 1
        while i > 0 {
            let p = (i - 1) / 2
            if a[p] <= v { break }
            a[i] = a[p]
            i = p
        }
        a[i] = v
    }

    mutating func pop() -> UInt64? {
        guard let last = a.popLast() else { return nil }
        guard !a.isEmpty else { return last }
        let top = a[0]
        var i = 0
        let n = a.count
        while true {
            let l = 2 * i + 1
            if l >= n { break }
            var c = l
            if l + 1 < n && a[l + 1] < a[l] { c = l + 1 }
            if a[c] >= last { break }
            a[i] = a[c]
            i = c
        }
        a[i] = last
        return top
    }
}

/// A thread-safe cache of the BPE result of each word, keyed by its UTF-8 bytes: an
/// open-addressing table over two arenas (key bytes, token ids), so that a lookup allocates
/// nothing. Cleared when it holds `limit` words; words longer than `maxWordBytes` are not cached.
final class BPEWordCache: @unchecked Sendable {
    private struct Slot {
        var hash: UInt64 = 0  // 0: empty
        var keyStart: Int32 = 0
        var keyCount: Int32 = 0
        var valueStart: Int32 = 0
        var valueCount: Int32 = 0
    }

    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private var slots: [Slot]
    private var keys: [UInt8] = []
    private var values: [Int32] = []
    private let mask: Int
    private(set) var stored = 0
    let limit: Int
    let maxWordBytes = 128

    init(limit: Int = 1 << 16) {
        self.limit = limit
        var size = 16
        while size < limit * 2 { size <<= 1 }
        slots = [Slot](repeating: Slot(), count: size)
        mask = size - 1
        mutex = .allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    @inline(__always)
    private static func hash(_ w: UnsafeBufferPointer<UInt8>) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for b in w { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01B3 }
        h ^= h >> 29
        return h | 1
    }

    /// Appends the cached ids of `word` to `out`; false when the word is not cached.
    func get(_ word: UnsafeBufferPointer<UInt8>, into out: inout [Int32]) -> Bool {
        guard word.count <= maxWordBytes else { return false }
        let h = Self.hash(word)
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        var i = Int(truncatingIfNeeded: h) & mask
        while true {
            let s = slots[i]
            if s.hash == 0 { return false }
            if s.hash == h && Int(s.keyCount) == word.count {
                let k = Int(s.keyStart)
                var same = true
                for j in 0..<word.count where keys[k + j] != word[j] {
                    same = false
                    break
                }
                if same {
                    out += values[Int(s.valueStart)..<Int(s.valueStart + s.valueCount)]
                    return true
                }
            }
            i = (i + 1) & mask
        }
    }

    func put(_ word: UnsafeBufferPointer<UInt8>, _ ids: [Int32]) {
        guard word.count <= maxWordBytes else { return }
        let h = Self.hash(word)
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        if stored >= limit || values.count + ids.count >= Int(Int32.max) {
            for i in slots.indices { slots[i] = Slot() }
            keys.removeAll(keepingCapacity: true)
            values.removeAll(keepingCapacity: true)
            stored = 0
        }
        var i = Int(truncatingIfNeeded: h) & mask
        while slots[i].hash != 0 {
            if slots[i].hash == h && Int(slots[i].keyCount) == word.count
                && keys[Int(slots[i].keyStart)..<(Int(slots[i].keyStart) + word.count)].elementsEqual(word)
            {
                return  // another thread stored it meanwhile
            }
            i = (i + 1) & mask
        }
        slots[i] = Slot(
            hash: h, keyStart: Int32(keys.count), keyCount: Int32(word.count), valueStart: Int32(values.count),
            valueCount: Int32(ids.count))
        keys += word
        values += ids
        stored += 1
    }

    var count: Int {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return stored
    }
}
