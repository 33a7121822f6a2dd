import IFTCore

extension LlamaWeights {
    /// Random weights for `config` on `backend` (benchmarks and tests): projections and embeddings
    /// normal with standard deviation `std`, norm weights 1. Deterministic for a seed.
    public static func random(_ config: LlamaConfig, on backend: any Backend, seed: UInt64 = 0, std: Float = 0.02) throws -> LlamaWeights {
        var rng = SeededGenerator(seed: seed)
        return try assemble(config, hasLMHead: !config.tieWordEmbeddings) { _, shape, _ in
            let n = shape.reduce(1, *)
            if shape.count == 1 { return try backend.tensor([Float](repeating: 1, count: n), shape: shape) }
            var values = [Float](repeating: 0, count: n)
            // Uniform with the same variance is much cheaper than Box-Muller for 100M+ values.
            let a = std * Float(3).squareRoot()
            for i in 0..<n { values[i] = rng.uniform(-a, a) }
            return try backend.tensor(values, shape: shape)
        }
    }
}
