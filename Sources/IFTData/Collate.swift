import IFTCore

/// One training batch, row-major `[batchSize, length]`.
///
/// `targets[b, t]` is the token that should follow `inputs[b, t]`, or `ignoreIndex` (-100) where
/// no loss is taken (padding, and prompt tokens when instructions are masked).
public struct Batch: Sendable, Equatable {
    public static let ignoreIndex: Int32 = -100

    public var batchSize: Int
    /// T: the number of positions per row.
    public var length: Int
    public var inputs: [Int32]
    public var targets: [Int32]
    /// Per row, the number of positions whose target is a token of the example (its true length
    /// minus one, capped at `length`); the positions after them are padding.
    public var lengths: [Int]
    /// With packing: each token's position within its example (restarting at 0), `[B, T]`.
    public var positions: [Int32]?
    /// With packing: each token's segment (example) id within its row, padding in a segment of
    /// its own, `[B, T]` (for block-diagonal causal attention).
    public var segments: [Int32]?

    public init(
        batchSize: Int, length: Int, inputs: [Int32], targets: [Int32], lengths: [Int], positions: [Int32]? = nil,
        segments: [Int32]? = nil
    ) {
        self.batchSize = batchSize
        self.length = length
        self.inputs = inputs
        self.targets = targets
        self.lengths = lengths
        self.positions = positions
        self.segments = segments
    }

    /// Row `b` of `inputs`.
    public func inputRow(_ b: Int) -> ArraySlice<Int32> { inputs[(b * length)..<((b + 1) * length)] }
    /// Row `b` of `targets`.
    public func targetRow(_ b: Int) -> ArraySlice<Int32> { targets[(b * length)..<((b + 1) * length)] }
    /// How many targets count in the loss.
    public var learnedTargetCount: Int { targets.reduce(0) { $0 + ($1 == Batch.ignoreIndex ? 0 : 1) } }
}

/// Options of the collate.
public struct CollateOptions: Sendable {
    /// Padding id (ch. 7 pads with the end-of-text id, 50256 for GPT-2).
    public var padID: Int32
    public var ignoreIndex: Int32
    /// Positions per row at most (ch. 7's `allowed_max_length`); longer examples are truncated.
    public var maxLength: Int?
    /// Prompt tokens' targets become `ignoreIndex`: the loss covers only responses (each with its
    /// end-of-text / turn-end token).
    public var maskInstructions: Bool

    public init(padID: Int32, ignoreIndex: Int32 = Batch.ignoreIndex, maxLength: Int? = nil, maskInstructions: Bool = false) {
        self.padID = padID
        self.ignoreIndex = ignoreIndex
        self.maxLength = maxLength
        self.maskInstructions = maskInstructions
    }
}

/// The collate of *Build a Large Language Model From Scratch*, ch. 7 (`custom_collate_fn`).
///
/// Each example already ends with its end-of-text token. Rows are right-padded with the pad id
/// to the longest example of the batch; inputs are tokens[:-1] and targets tokens[1:]. Every
/// padding target is `ignoreIndex` except the example's own end-of-text, which stays in the loss.
/// Padding is known from each example's true length, never by looking for the pad id, so a real
/// end-of-text token inside the text is an ordinary target. Rows are then cut to `maxLength`.
public enum Collate {
    public static func batch(_ examples: [TokenizedExample], options: CollateOptions) -> Batch {
        let longest = examples.map(\.count).max() ?? 1
        var t = max(longest - 1, 1)
        if let m = options.maxLength { t = max(min(t, m), 1) }
        let b = examples.count
        var inputs = [Int32](repeating: options.padID, count: b * t)
        var targets = [Int32](repeating: options.ignoreIndex, count: b * t)
        var lengths = [Int](repeating: 0, count: b)
        for (row, ex) in examples.enumerated() {
            let base = row * t
            let n = ex.count
            for j in 0..<min(n, t) { inputs[base + j] = ex.tokens[j] }
            let real = min(max(n - 1, 0), t)  // positions whose target is a real token
            for j in 0..<real where !options.maskInstructions || ex.isResponse[j + 1] {
                targets[base + j] = ex.tokens[j + 1]
            }
            lengths[row] = real
        }
        return Batch(batchSize: b, length: t, inputs: inputs, targets: targets, lengths: lengths)
    }

    /// Consecutive batches of `batchSize` examples (the last may be smaller unless `dropLast`).
    public static func batches(
        _ examples: [TokenizedExample], batchSize: Int, options: CollateOptions, dropLast: Bool = false
    ) -> [Batch] {
        precondition(batchSize > 0, "batchSize must be positive")
        var out: [Batch] = []
        var i = 0
        while i < examples.count {
            let end = min(i + batchSize, examples.count)
            if dropLast && end - i < batchSize { break }
            out.append(batch(Array(examples[i..<end]), options: options))
            i = end
        }
        return out
    }
}
