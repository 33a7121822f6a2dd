import IFTCore
import IFTModel

/// Everything that turns a dataset file into batches.
public struct DataOptions: Sendable {
    public var load: LoadOptions
    public var style: PromptStyle
    /// Positions per row at most (ch. 7 uses 1024); longer examples are truncated.
    public var maxLength: Int?
    public var maskInstructions: Bool
    /// Best-fit-decreasing packing (needs `maxLength`).
    public var packing: Bool
    public var trainFraction: Double
    public var testFraction: Double
    /// Shuffle the examples (seeded) before splitting; nil keeps file order (ch. 7).
    public var splitSeed: UInt64?
    /// Padding id; nil pads with the end-of-text id (ch. 7).
    public var padID: Int32?
    /// End-of-text id; nil takes the tokenizer's `<|endoftext|>`, else its EOS.
    public var endOfTextID: Int32?
    public var addBOS: Bool

    public init(
        load: LoadOptions = LoadOptions(), style: PromptStyle = .alpaca, maxLength: Int? = nil,
        maskInstructions: Bool = false, packing: Bool = false, trainFraction: Double = 0.85,
        testFraction: Double = 0.10, splitSeed: UInt64? = nil, padID: Int32? = nil, endOfTextID: Int32? = nil,
        addBOS: Bool = false
    ) {
        self.load = load
        self.style = style
        self.maxLength = maxLength
        self.maskInstructions = maskInstructions
        self.packing = packing
        self.trainFraction = trainFraction
        self.testFraction = testFraction
        self.splitSeed = splitSeed
        self.padID = padID
        self.endOfTextID = endOfTextID
        self.addBOS = addBOS
    }
}

/// A dataset loaded, split and tokenized, ready to batch.
public struct PreparedData: Sendable {
    public var dataset: Dataset
    public var splits: DatasetSplits<Example>
    public var train: [TokenizedExample]
    public var validation: [TokenizedExample]
    public var test: [TokenizedExample]
    public var collate: CollateOptions
    public var packing: Bool

    /// Loads `path`, splits the examples (ch. 7 fractions by default) and tokenizes each split.
    public static func prepare(path: String, tokenizer: Tokenizer, options: DataOptions) throws -> PreparedData {
        try prepare(Dataset.load(path, options: options.load), tokenizer: tokenizer, options: options)
    }

    public static func prepare(_ dataset: Dataset, tokenizer: Tokenizer, options: DataOptions) throws -> PreparedData {
        if options.packing && options.maxLength == nil {
            throw IFTError.invalidArgument("packing needs a maximum length")
        }
        if let m = options.maxLength, m < 1 { throw IFTError.invalidArgument("the maximum length must be positive, got \(m)") }
        let et = try ExampleTokenizer(
            tokenizer: tokenizer, style: options.style, endOfTextID: options.endOfTextID, addBOS: options.addBOS)
        let splits = DatasetSplits(
            dataset.examples, trainFraction: options.trainFraction, testFraction: options.testFraction,
            shuffleSeed: options.splitSeed)
        let collate = CollateOptions(
            padID: options.padID ?? et.endOfTextID, maxLength: options.maxLength, maskInstructions: options.maskInstructions)
        return PreparedData(
            dataset: dataset, splits: splits, train: try et.tokenize(splits.train),
            validation: try et.tokenize(splits.validation), test: try et.tokenize(splits.test), collate: collate,
            packing: options.packing)
    }

    /// Batches of `examples` (one of the splits): in order, or shuffled with `shuffleSeed` (e.g.
    /// the seed plus the epoch, as ch. 7's training loader shuffles every epoch). With packing,
    /// `batchSize` counts packed rows.
    public func batches(
        _ examples: [TokenizedExample], batchSize: Int, shuffleSeed: UInt64? = nil, dropLast: Bool = false
    ) -> [Batch] {
        var examples = examples
        if let seed = shuffleSeed { examples = DatasetSplits(examples, trainFraction: 1, testFraction: 0, shuffleSeed: seed).train }
        if packing {
            var out = Packing.batches(examples, batchSize: batchSize, options: collate)
            if dropLast, let last = out.last, last.batchSize < batchSize { out.removeLast() }
            return out
        }
        return Collate.batches(examples, batchSize: batchSize, options: collate, dropLast: dropLast)
    }

    /// Padding with and without packing for the training split.
    public func paddingReport(batchSize: Int) -> Packing.Report {
        let longest = train.map(\.count).max() ?? 1
        return Packing.report(train, batchSize: batchSize, maxLength: collate.maxLength ?? max(longest - 1, 1))
    }
}
