import IFTCore

/// Train / validation / test splits.
public struct DatasetSplits<Element> {
    public var train: [Element]
    public var validation: [Element]
    public var test: [Element]

    /// ch. 7's split: `train = Int(trainFraction * n)`, `test = Int(testFraction * n)`, validation
    /// the rest, taken in that order (train, test, validation) from the items in file order, or
    /// after a Fisher-Yates shuffle seeded with `shuffleSeed` (`SeededGenerator`).
    public init(_ items: [Element], trainFraction: Double = 0.85, testFraction: Double = 0.10, shuffleSeed: UInt64? = nil) {
        precondition(trainFraction >= 0 && testFraction >= 0 && trainFraction + testFraction <= 1, "fractions must lie in [0, 1] and sum to at most 1")
        var items = items
        if let seed = shuffleSeed {
            var g = SeededGenerator(seed: seed)
            if items.count > 1 {
                for i in stride(from: items.count - 1, to: 0, by: -1) {
                    let j = Int(g.next() % UInt64(i + 1))
                    items.swapAt(i, j)
                }
            }
        }
        let n = items.count
        let nTrain = Int(trainFraction * Double(n))
        let nTest = min(Int(testFraction * Double(n)), n - nTrain)
        train = Array(items[0..<nTrain])
        test = Array(items[nTrain..<(nTrain + nTest)])
        validation = Array(items[(nTrain + nTest)...])
    }
}

extension DatasetSplits: Sendable where Element: Sendable {}
