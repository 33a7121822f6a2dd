import IFTCore

/// Several examples packed into rows of `maxLength` positions, with positions restarting at 0 for
/// each example and a segment id per token (for block-diagonal causal attention).
public enum Packing {
    /// The positions an example takes in a row: its true length minus one (inputs tokens[:-1],
    /// targets tokens[1:] within the example), at most `maxLength` (longer examples are truncated).
    public static func slots(_ example: TokenizedExample, maxLength: Int) -> Int {
        min(max(example.count - 1, 0), maxLength)
    }

    /// Best-fit decreasing: items from longest to shortest (ties in input order), each into the
    /// open row with the least room that still fits it, else a new row. Returns, per row, the
    /// indices of its items in placement order. Items of size 0 are left out; sizes above
    /// `capacity` must be clipped first.
    public static func bestFitDecreasing(sizes: [Int], capacity: Int) -> [[Int]] {
        precondition(capacity > 0, "capacity must be positive")
        let order = sizes.indices.filter { sizes[$0] > 0 }.sorted { sizes[$0] != sizes[$1] ? sizes[$0] > sizes[$1] : $0 < $1 }
        var rows: [[Int]] = []
        var free: [Int] = []
        for i in order {
            let s = sizes[i]
            precondition(s <= capacity, "item \(i) of size \(s) exceeds the capacity \(capacity)")
            var best = -1
            for r in free.indices where free[r] >= s && (best < 0 || free[r] < free[best]) {
                best = r
                if free[r] == s { break }
            }
            if best < 0 {
                rows.append([i])
                free.append(capacity - s)
            } else {
                rows[best].append(i)
                free[best] -= s
            }
        }
        return rows
    }

    /// Rows of example indices for `examples` packed into rows of `maxLength` positions.
    public static func pack(_ examples: [TokenizedExample], maxLength: Int) -> [[Int]] {
        bestFitDecreasing(sizes: examples.map { slots($0, maxLength: maxLength) }, capacity: maxLength)
    }

    /// One batch of packed rows, each padded to the batch's fullest row (at most `maxLength`,
    /// from `options.maxLength`, which packing requires). Targets never cross examples: each
    /// example contributes tokens[:-1] as inputs and tokens[1:] as targets; padding targets are
    /// `ignoreIndex`, and padding has its own segment id (the row's example count) and positions
    /// counting from 0.
    public static func batch(_ examples: [TokenizedExample], rows: [[Int]], options: CollateOptions) -> Batch {
        guard let maxLength = options.maxLength else { preconditionFailure("packing needs options.maxLength") }
        let used = rows.map { $0.reduce(0) { $0 + slots(examples[$1], maxLength: maxLength) } }
        let t = max(used.max() ?? 1, 1)
        let b = rows.count
        var inputs = [Int32](repeating: options.padID, count: b * t)
        var targets = [Int32](repeating: options.ignoreIndex, count: b * t)
        var positions = [Int32](repeating: 0, count: b * t)
        var segments = [Int32](repeating: 0, count: b * t)
        for (r, members) in rows.enumerated() {
            var at = r * t
            for (k, i) in members.enumerated() {
                let ex = examples[i]
                for j in 0..<slots(ex, maxLength: maxLength) {
                    inputs[at] = ex.tokens[j]
                    if !options.maskInstructions || ex.isResponse[j + 1] { targets[at] = ex.tokens[j + 1] }
                    positions[at] = Int32(j)
                    segments[at] = Int32(k)
                    at += 1
                }
            }
            var p: Int32 = 0
            while at < (r + 1) * t {
                positions[at] = p
                segments[at] = Int32(members.count)
                p += 1
                at += 1
            }
        }
        return Batch(
            batchSize: b, length: t, inputs: inputs, targets: targets, lengths: used, positions: positions,
            segments: segments)
    }

    /// Packs all examples and groups the rows into batches of `batchSize` rows.
    public static func batches(_ examples: [TokenizedExample], batchSize: Int, options: CollateOptions) -> [Batch] {
        precondition(batchSize > 0, "batchSize must be positive")
        guard let maxLength = options.maxLength else { preconditionFailure("packing needs options.maxLength") }
        let rows = pack(examples, maxLength: maxLength)
        return stride(from: 0, to: rows.count, by: batchSize).map {
            batch(examples, rows: Array(rows[$0..<min($0 + batchSize, rows.count)]), options: options)
        }
    }

    /// How much of a padded batch is padding, with and without packing.
    public struct Report: Sendable, Equatable {
        /// Positions holding example tokens (the same either way).
        public var tokens: Int
        public var unpackedRows: Int
        public var packedRows: Int
        /// Padding / all positions, with the ch. 7 collate (batches of `batchSize` examples in order,
        /// each padded to its longest example, cut to `maxLength`).
        public var unpackedPaddingFraction: Double
        /// Padding / all positions, with packed rows in batches of `batchSize` rows.
        public var packedPaddingFraction: Double
    }

    public static func report(_ examples: [TokenizedExample], batchSize: Int, maxLength: Int) -> Report {
        let sizes = examples.map { slots($0, maxLength: maxLength) }
        let tokens = sizes.reduce(0, +)
        func padded(_ rowSizes: [Int]) -> Int {
            stride(from: 0, to: rowSizes.count, by: batchSize).reduce(0) { acc, start in
                let chunk = rowSizes[start..<min(start + batchSize, rowSizes.count)]
                return acc + chunk.count * max(chunk.max() ?? 0, 1)
            }
        }
        let rows = bestFitDecreasing(sizes: sizes, capacity: maxLength)
        let rowSizes = rows.map { $0.reduce(0) { $0 + sizes[$1] } }
        let unpackedTotal = padded(sizes), packedTotal = padded(rowSizes)
        return Report(
            tokens: tokens, unpackedRows: examples.count, packedRows: rows.count,
            unpackedPaddingFraction: unpackedTotal == 0 ? 0 : Double(unpackedTotal - tokens) / Double(unpackedTotal),
            packedPaddingFraction: packedTotal == 0 ? 0 : Double(packedTotal - tokens) / Double(packedTotal))
    }
}
