import IFTCore
import IFTModel

/// The model a server serves: the loaded model and tokenizer, the id clients name it by, its chat
/// template and its end-of-generation tokens.
public struct ServedModel: @unchecked Sendable {
    /// The id in `/v1/models` and in every response; a request's `model` must be this (or absent).
    public let id: String
    public let model: LlamaModel
    public let tokenizer: Tokenizer
    /// The parsed `tokenizer.chat_template`, nil when the model has none.
    public let chatTemplate: ChatTemplate?
    /// `BatchGenerator`'s stop tokens (the model's and the tokenizer's EOS) plus the chat
    /// template's end-of-turn tokens (`Tokenizer.endOfTurnIDs`).
    public let stopTokens: Set<Int32>
    /// When the model was loaded (Unix seconds), for `/v1/models`.
    public let created: Int

    /// Throws when the model's chat template does not parse.
    public init(id: String, model: LlamaModel, tokenizer: Tokenizer) throws {
        self.id = id
        self.model = model
        self.tokenizer = tokenizer
        created = unixSeconds()
        chatTemplate = try tokenizer.chatTemplate.map { try ChatTemplate(source: $0, name: "\(id): tokenizer.chat_template") }
        stopTokens = BatchGenerator(model: model, tokenizer: tokenizer).stopTokens
            .union(tokenizer.endOfTurnIDs)
    }

    /// A conversation rendered with the chat template, ending with the assistant's turn opened.
    public func chatPrompt(_ messages: [ChatMessage]) throws -> String {
        guard let chatTemplate else {
            throw IFTError.invalidArgument("the model has no chat template; use /v1/completions with a prompt instead")
        }
        let bos = tokenizer.bosID.flatMap { tokenizer.token(forID: $0) } ?? ""
        let eos = tokenizer.eosID.flatMap { tokenizer.token(forID: $0) } ?? ""
        return try chatTemplate.render(messages: messages, addGenerationPrompt: true, bosToken: bos, eosToken: eos)
    }

    /// Prompt text as token ids; special tokens written in the text (e.g. `<|im_start|>`) are
    /// recognized, as in `ift-gpu generate --chat`.
    public func encode(_ text: String) -> [Int32] { tokenizer.encode(text, parseSpecial: true) }
}
