import IFTCore

extension LlamaWeights {
    /// Random weights for `config` on `backend` (benchmarks and tests): projections and embeddings
    /// uniform with standard deviation `std`, norm weights 1. Deterministic for a seed.
    ///
    /// With `projections: .fourBit` (QLoRA on big shapes) no f32 projection weight is ever made:
    /// each projection is random NF4 blocks made directly (`randomNF4`, absmax 2 x `std`), and the
    /// embedding and LM head are bf16, as a bf16 checkpoint loaded for QLoRA gives them; biases and
    /// norms stay f32.
    public static func random(
        _ config: LlamaConfig, on backend: any Backend, seed: UInt64 = 0, std: Float = 0.02, projections: ProjectionFormat = .stored
    ) throws -> LlamaWeights {
        var rng = SeededGenerator(seed: seed)
        // Uniform with the same variance is much cheaper than Box-Muller for 100M+ values.
        let a = std * Float(3).squareRoot()
        return try assemble(config, hasLMHead: !config.tieWordEmbeddings) { name, shape, _ in
            let n = shape.reduce(1, *)
            if shape.count == 1 { return try backend.tensor([Float](repeating: 1, count: n), shape: shape) }
            guard projections == .fourBit else {
                var values = [Float](repeating: 0, count: n)
                for i in 0..<n { values[i] = rng.uniform(-a, a) }
                return try backend.tensor(values, shape: shape)
            }
            if name.projection != nil {
                let nf4 = try randomNF4(rows: shape[0], cols: shape[1], absmax: 2 * std, rng: &rng)
                return try backend.tensor(bytes: nf4, shape: shape, dtype: .nf4)
            }
            var bytes = [UInt8](repeating: 0, count: 2 * n)
            bytes.withUnsafeMutableBytes { out in
                for i in 0..<n { out.storeBytes(of: HalfFloat.floatToBF16(rng.uniform(-a, a)).littleEndian, toByteOffset: 2 * i, as: UInt16.self) }
            }
            return try backend.tensor(bytes: bytes, shape: shape, dtype: .bf16)
        }
    }
}
