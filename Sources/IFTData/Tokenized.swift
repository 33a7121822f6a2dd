import IFTCore
import IFTModel

/// An example as token ids, ending with the end-of-text id, and for each token whether it is
/// part of a response (learned even when instructions are masked). The appended end-of-text
/// token is a response token: the model learns to stop.
public struct TokenizedExample: Sendable, Equatable {
    public var tokens: [Int32]
    /// `isResponse[i]`: token `i` belongs to a response segment (or is the final end-of-text).
    public var isResponse: [Bool]
    public var source: SourceLocation?

    public init(tokens: [Int32], isResponse: [Bool], source: SourceLocation? = nil) {
        precondition(tokens.count == isResponse.count, "one response flag per token")
        self.tokens = tokens
        self.isResponse = isResponse
        self.source = source
    }

    /// The true length in tokens (including the end-of-text token).
    public var count: Int { tokens.count }
}

/// Renders examples with a prompt style and tokenizes them segment by segment.
public struct ExampleTokenizer: @unchecked Sendable {
    public let tokenizer: Tokenizer
    public let style: PromptStyle
    /// Appended to every example (GPT-2's `<|endoftext|>` in ch. 7).
    public let endOfTextID: Int32
    /// Prepend the tokenizer's BOS id (when it has one and the rendered text does not start with it).
    public let addBOS: Bool

    /// `endOfTextID` defaults to the tokenizer's `<|endoftext|>` token, else its EOS id.
    public init(tokenizer: Tokenizer, style: PromptStyle, endOfTextID: Int32? = nil, addBOS: Bool = false) throws {
        self.tokenizer = tokenizer
        self.style = style
        self.addBOS = addBOS
        guard let eot = endOfTextID ?? tokenizer.id(forToken: "<|endoftext|>") ?? tokenizer.eosID else {
            throw IFTError.invalidArgument("the tokenizer (\(tokenizer.source)) has no <|endoftext|> or EOS token: pass an end-of-text id")
        }
        self.endOfTextID = eot
    }

    /// Token ids of each segment, concatenated, with the end-of-text id appended.
    public func tokenize(_ segments: [Segment], source: SourceLocation? = nil) -> TokenizedExample {
        var tokens: [Int32] = []
        var flags: [Bool] = []
        for s in segments {
            let ids = tokenizer.encode(s.text, parseSpecial: true)
            tokens += ids
            flags += [Bool](repeating: s.isResponse, count: ids.count)
        }
        if addBOS, let bos = tokenizer.bosID, tokens.first != bos {
            tokens.insert(bos, at: 0)
            flags.insert(false, at: 0)
        }
        tokens.append(endOfTextID)
        flags.append(true)
        return TokenizedExample(tokens: tokens, isResponse: flags, source: source)
    }

    public func tokenize(_ example: Example) throws -> TokenizedExample {
        do {
            return tokenize(try style.render(example.content), source: example.source)
        } catch let e as IFTError {
            if case .file = e { throw e }
            throw IFTError.file(path: example.source.path, location: "line \(example.source.line)", message: e.description)
        }
    }

    public func tokenize(_ examples: [Example]) throws -> [TokenizedExample] {
        try examples.map { try tokenize($0) }
    }
}
