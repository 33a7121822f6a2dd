import IFTCore
import IFTData
import IFTModel

/// Responses of a model to instruction examples (a dataset split), generated in batches with a
/// training prompt style, beside their reference outputs: what the reference metrics and the
/// judge score.
public struct InstructionResponses {
    public struct Row {
        public var instruction: String
        public var input: String
        /// The dataset's output (the reference).
        public var output: String
        public var response: String
    }

    public var rows: [Row]

    /// Greedy responses (up to `maxNewTokens` tokens) to every instruction example of `examples`
    /// (chat and completion examples are skipped), prompted with `style`; generation stops at an
    /// end-of-generation token, `<|endoftext|>`, or a new `###` section (the alpaca style's).
    public init(
        model: LlamaModel, tokenizer: Tokenizer, style: PromptStyle, examples: [Example], maxNewTokens: Int,
        maxBatch: Int = 32, onFinish: (Int, Int) -> Void = { _, _ in }
    ) throws {
        var generator = BatchGenerator(model: model, tokenizer: tokenizer, maxBatch: maxBatch)
        if let eot = tokenizer.id(forToken: "<|endoftext|>") { generator.additionalStopTokens.insert(eot) }
        var rows: [Row] = []
        var requests: [GenerationRequest] = []
        for e in examples {
            guard case .instruction(let instruction, let input, let output) = e.content else { continue }
            let prompt = tokenizer.encode(try style.prompt(for: e.content), parseSpecial: true)
            rows.append(Row(instruction: instruction, input: input, output: output, response: ""))
            requests.append(GenerationRequest(prompt: prompt, maxTokens: maxNewTokens, stop: ["\n###"]))
        }
        guard !requests.isEmpty else { throw IFTError.invalidArgument("no instruction examples to answer") }
        var done = 0
        let results = try generator.generate(requests) { _, _ in
            done += 1
            onFinish(done, requests.count)
        }
        for i in rows.indices { rows[i].response = Self.trimmed(results[i].text) }
        self.rows = rows
    }

    /// The rows as JSON objects in ch. 7's layout (`instruction`, `input`, `output`,
    /// `model_response`), so `eval metrics --responses` and `eval judge` read them back.
    public var json: [JSONValue] {
        rows.map { r in
            .object(JSONObject([
                ("instruction", .string(r.instruction)), ("input", .string(r.input)), ("output", .string(r.output)),
                ("model_response", .string(r.response)),
            ]))
        }
    }

    static func trimmed(_ s: String) -> String {
        var t = Substring(s)
        while let f = t.first, f.isWhitespace { t.removeFirst() }
        while let l = t.last, l.isWhitespace { t.removeLast() }
        return String(t)
    }
}
