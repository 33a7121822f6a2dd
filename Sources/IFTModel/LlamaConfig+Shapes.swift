import IFTCore

extension LlamaConfig {
    /// Architectures of published models, by name, for random-weight benchmarks (`bench train
    /// --shape`). The numbers are those of each model's `config.json` on the Hugging Face Hub
    /// (`HuggingFaceTB/SmolLM2-135M`, `meta-llama/Llama-3.2-1B`, `meta-llama/Llama-3.1-8B`,
    /// `Qwen/Qwen2.5-0.5B`); `LlamaShapeTests` parses copies of those files and compares.
    public static let namedShapes: [(name: String, config: LlamaConfig)] = [
        (
            "smollm2-135m",
            LlamaConfig(
                vocabSize: 49152, hiddenSize: 576, intermediateSize: 1536, layerCount: 30, headCount: 9, kvHeadCount: 3, headDim: 64,
                ropeTheta: 100_000, rmsNormEps: 1e-5, maxPositions: 8192, tieWordEmbeddings: true, bosTokenID: 0, eosTokenIDs: [0])
        ),
        (
            "llama-3.2-1b",
            LlamaConfig(
                vocabSize: 128_256, hiddenSize: 2048, intermediateSize: 8192, layerCount: 16, headCount: 32, kvHeadCount: 8, headDim: 64,
                ropeTheta: 500_000, rmsNormEps: 1e-5, maxPositions: 131_072, tieWordEmbeddings: true, bosTokenID: 128_000,
                eosTokenIDs: [128_001], ropeScaling: llama3RopeScaling(factor: 32))
        ),
        (
            "llama-3.1-8b",
            LlamaConfig(
                vocabSize: 128_256, hiddenSize: 4096, intermediateSize: 14336, layerCount: 32, headCount: 32, kvHeadCount: 8, headDim: 128,
                ropeTheta: 500_000, rmsNormEps: 1e-5, maxPositions: 131_072, tieWordEmbeddings: false, bosTokenID: 128_000,
                eosTokenIDs: [128_001], ropeScaling: llama3RopeScaling(factor: 8))
        ),
        (
            "qwen2.5-0.5b",
            LlamaConfig(
                vocabSize: 151_936, hiddenSize: 896, intermediateSize: 4864, layerCount: 24, headCount: 14, kvHeadCount: 2, headDim: 64,
                ropeTheta: 1_000_000, rmsNormEps: 1e-6, maxPositions: 32768, tieWordEmbeddings: true, bosTokenID: 151_643,
                eosTokenIDs: [151_643], family: .qwen2, qkvBias: true)
        ),
    ]

    /// Llama 3.1/3.2's `rope_scaling` (`rope_type: llama3`, low/high frequency factors 1 and 4,
    /// original context 8192) with `factor`.
    static func llama3RopeScaling(factor: Double) -> RopeScaling {
        RopeScaling(
            type: "llama3", factor: factor,
            parameters: ["factor": factor, "low_freq_factor": 1, "high_freq_factor": 4, "original_max_position_embeddings": 8192])
    }

    /// The architecture named `name` in `namedShapes` (case-insensitive); the error lists the names.
    public static func shape(named name: String) throws -> LlamaConfig {
        guard let s = namedShapes.first(where: { $0.name == name.lowercased() }) else {
            throw IFTError.invalidArgument(
                "unknown model shape '\(name)'; choose one of \(namedShapes.map(\.name).joined(separator: ", "))")
        }
        return s.config
    }
}
