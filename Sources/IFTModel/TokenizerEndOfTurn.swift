extension Tokenizer {
    /// Spellings of end-of-turn tokens across chat formats (ChatML, Llama 3, Phi-3, Gemma).
    public static let endOfTurnSpellings = ["<|im_end|>", "<|eot_id|>", "<|end|>", "<end_of_turn>"]

    /// The end-of-turn tokens of this tokenizer's chat template: those of `endOfTurnSpellings`
    /// that the template writes and the vocabulary has (e.g. `<|im_end|>` for ChatML models).
    /// Generation in the chat template stops at them.
    public var endOfTurnIDs: Set<Int32> {
        guard let template = chatTemplate else { return [] }
        return Set(Self.endOfTurnSpellings.filter { template.contains($0) }.compactMap { id(forToken: $0) })
    }
}
