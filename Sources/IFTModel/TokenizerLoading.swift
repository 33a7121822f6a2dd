import IFTCore

extension Tokenizer {
    /// llama.cpp's `tokenizer.ggml.pre` names for which it sets `ignore_merges`.
    static let ignoreMergesNames: Set<String> = [
        "llama3", "llama-v3", "llama-bpe", "falcon3", "falcon-h1", "pixtral", "midm-2.0", "lfm2",
    ]

    /// The tokenizer a GGUF file describes: `tokenizer.ggml.model` `gpt2` (byte-level BPE;
    /// `tokenizer.ggml.pre` picks the pre-tokenizer, see `PreTokenizer(llamaCppName:)`) or
    /// `llama` (SentencePiece BPE: `scores` give the merges, `add_space_prefix` the `▁` prefix);
    /// `tokens`, `token_type`, `merges`, the BOS/EOS/padding/unknown ids, `add_bos_token`,
    /// `add_eos_token` and `tokenizer.chat_template` are read when present.
    public convenience init(gguf: GGUFFile) throws {
        try self.init(ggufMetadata: gguf.metadata)
    }

    public convenience init(ggufMetadata md: GGUFMetadata) throws {
        func fail(_ key: String, _ m: String) -> IFTError {
            .file(path: md.path, location: "metadata key \(key)", message: m)
        }
        let model = try md.string("tokenizer.ggml.model")
        if model == "llama" {
            try self.init(sentencePieceGGUF: md)
            return
        }
        guard model == "gpt2" else {
            throw fail(
                "tokenizer.ggml.model",
                "tokenizer model '\(model)' is not supported: byte-level BPE ('gpt2': Llama 3, SmolLM, Qwen) and "
                    + "SentencePiece BPE ('llama': Llama 2, Mistral, Gemma) are")
        }
        let preName = try md.stringIfPresent("tokenizer.ggml.pre") ?? "default"
        guard let pre = PreTokenizer(llamaCppName: preName) else {
            throw fail(
                "tokenizer.ggml.pre",
                "unknown pre-tokenizer '\(preName)'; known: \(PreTokenizer.knownLlamaCppNames.joined(separator: ", "))")
        }
        let tokens = try md.strings("tokenizer.ggml.tokens")
        let types = try Self.tokenTypes(md, count: tokens.count)
        let mergeStrings = try md.strings("tokenizer.ggml.merges")
        var merges: [(String, String)] = []
        merges.reserveCapacity(mergeStrings.count)
        for (i, m) in mergeStrings.enumerated() {
            guard let pair = Self.splitMerge(m) else {
                throw fail("tokenizer.ggml.merges", "merge \(i) '\(m)' is not two tokens separated by a space")
            }
            merges.append(pair)
        }
        func id(_ key: String) throws -> Int32? {
            guard let v = try md.intIfPresent(key) else { return nil }
            guard v >= 0 && v < tokens.count else {
                throw fail(key, "token id \(v) is outside the vocabulary (0..<\(tokens.count))")
            }
            return Int32(v)
        }
        let isLlama3 = pre.stages == [.llama3(maxDigits: 3)]
        try self.init(
            tokens: tokens, types: types, merges: merges, preTokenizer: pre,
            bosID: id("tokenizer.ggml.bos_token_id"), eosID: id("tokenizer.ggml.eos_token_id"),
            padID: id("tokenizer.ggml.padding_token_id"), unknownID: id("tokenizer.ggml.unknown_token_id"),
            addsBOS: try md.boolIfPresent("tokenizer.ggml.add_bos_token") ?? isLlama3,
            addsEOS: try md.boolIfPresent("tokenizer.ggml.add_eos_token") ?? false,
            ignoresMerges: Self.ignoreMergesNames.contains(preName),
            chatTemplate: try md.stringIfPresent("tokenizer.chat_template"), source: md.path)
    }

    /// A SentencePiece BPE tokenizer from GGUF metadata (`tokenizer.ggml.model = "llama"`).
    convenience init(sentencePieceGGUF md: GGUFMetadata) throws {
        func fail(_ key: String, _ m: String) -> IFTError {
            .file(path: md.path, location: "metadata key \(key)", message: m)
        }
        let tokens = try md.strings("tokenizer.ggml.tokens")
        let types = try Self.tokenTypes(md, count: tokens.count)
            ?? [TokenType](repeating: .normal, count: tokens.count)
        guard let scores = try md.floatsIfPresent("tokenizer.ggml.scores") else {
            throw fail("tokenizer.ggml.scores", "missing: a SentencePiece ('llama') vocabulary needs its token scores")
        }
        guard scores.count == tokens.count else {
            throw fail("tokenizer.ggml.scores", "\(scores.count) scores for \(tokens.count) tokens")
        }
        if let i = scores.firstIndex(where: { !$0.isFinite }) {
            throw fail("tokenizer.ggml.scores", "token \(i) has score \(scores[i]); scores must be finite")
        }
        let (merges, ranks) = SentencePieceOptions.mergesFromScores(tokens: tokens, types: types, scores: scores)
        func id(_ key: String) throws -> Int32? {
            guard let v = try md.intIfPresent(key) else { return nil }
            guard v >= 0 && v < tokens.count else {
                throw fail(key, "token id \(v) is outside the vocabulary (0..<\(tokens.count))")
            }
            return Int32(v)
        }
        let prefix = try md.boolIfPresent("tokenizer.ggml.add_space_prefix") ?? true
        try self.init(
            tokens: tokens, types: types, merges: merges, preTokenizer: PreTokenizer(name: "none", stages: []),
            bosID: id("tokenizer.ggml.bos_token_id"), eosID: id("tokenizer.ggml.eos_token_id"),
            padID: id("tokenizer.ggml.padding_token_id"), unknownID: id("tokenizer.ggml.unknown_token_id"),
            addsBOS: try md.boolIfPresent("tokenizer.ggml.add_bos_token") ?? true,
            addsEOS: try md.boolIfPresent("tokenizer.ggml.add_eos_token") ?? false,
            chatTemplate: try md.stringIfPresent("tokenizer.chat_template"), source: md.path,
            mergeRanks: ranks, sentencePiece: SentencePieceOptions(prefix: prefix ? .always : .never))
    }

    /// `tokenizer.ggml.token_type`, checked; nil when absent.
    static func tokenTypes(_ md: GGUFMetadata, count: Int) throws -> [TokenType]? {
        guard let raw = try md.intsIfPresent("tokenizer.ggml.token_type") else { return nil }
        func fail(_ m: String) -> IFTError { .file(path: md.path, location: "metadata key tokenizer.ggml.token_type", message: m) }
        guard raw.count == count else { throw fail("\(raw.count) token types for \(count) tokens") }
        return try raw.enumerated().map { i, t in
            guard let tt = TokenType(rawValue: t) else { throw fail("token \(i) has type \(t); types are 0...6") }
            return tt
        }
    }

    /// "a b" → ("a", "b"): split at the first space after the first character (llama.cpp).
    static func splitMerge(_ m: String) -> (String, String)? {
        let u = m.utf8
        guard let first = u.first else { return nil }
        var i = u.index(after: u.startIndex)
        // Skip the rest of the first character.
        if first >= 0x80 { while i < u.endIndex && u[i] & 0xC0 == 0x80 { i = u.index(after: i) } }
        guard let sp = u[i...].firstIndex(of: 0x20) else { return nil }
        let a = String(m[..<sp])
        let b = String(m[m.utf8.index(after: sp)...])
        guard !b.isEmpty else { return nil }
        return (a, b)
    }

    /// A tokenizer from Hugging Face `tokenizer.json` and (optionally) `tokenizer_config.json`
    /// files.
    public convenience init(tokenizerJSONPath path: String, configPath: String? = nil) throws {
        let json = try JSONValue.parse(contentsOf: path)
        let config = try configPath.map { try JSONValue.parse(contentsOf: $0) }
        try self.init(huggingFaceJSON: json, path: path, config: config)
    }

    /// A tokenizer from a parsed Hugging Face `tokenizer.json`: a BPE model with `byte_fallback`
    /// is SentencePiece-style (see `SentencePieceOptions.fromHuggingFaceJSON`); otherwise a
    /// byte-level BPE model
    /// (`model.vocab`, `model.merges` as "a b" strings or ["a", "b"] pairs, `model.ignore_merges`),
    /// `added_tokens` (special ones become control tokens, matched only with `parseSpecial`;
    /// others user-defined, always matched; `lstrip`/`rstrip` honoured) and a pre-tokenizer made
    /// of ByteLevel, Digits and Split stages with a known pattern (GPT-2, Llama 3, Qwen 2).
    /// `config` (tokenizer_config.json) supplies `bos_token`, `eos_token`, `pad_token`,
    /// `unk_token`, `add_bos_token`, `add_eos_token` and `chat_template`.
    public convenience init(huggingFaceJSON json: JSONValue, path: String = "tokenizer.json", config: JSONValue? = nil) throws {
        func fail(_ loc: String, _ m: String) -> IFTError { .file(path: path, location: loc, message: m) }
        guard let model = json["model"], model.objectValue != nil else { throw fail("model", "missing (expected an object)") }
        if let t = model["type"]?.stringValue, t != "BPE" {
            throw fail("model.type", "model type '\(t)' is not supported: only BPE is")
        }
        let sentencePiece = model["byte_fallback"]?.boolValue == true
            ? try SentencePieceOptions.fromHuggingFaceJSON(json, path: path) : nil
        if sentencePiece == nil, let n = json["normalizer"], !n.isNull {
            throw fail("normalizer", "normalizer \(n["type"]?.stringValue ?? n.typeName) is not supported (byte-level BPE tokenizers have none)")
        }
        guard let vocabObject = model["vocab"]?.objectValue else { throw fail("model.vocab", "missing (expected an object)") }
        var byID: [Int: String] = [:]
        byID.reserveCapacity(vocabObject.count)
        for (token, v) in vocabObject.members {
            guard let id = v.intValue, id >= 0, id < Int(Int32.max) else {
                throw fail("model.vocab", "token '\(token)' has id \(v), not a non-negative integer")
            }
            byID[id] = token
        }
        var specialIDs: [Int: (special: Bool, options: MatchOptions)] = [:]
        for (i, a) in (json["added_tokens"]?.arrayValue ?? []).enumerated() {
            guard let id = a["id"]?.intValue, id >= 0, id < Int(Int32.max), let content = a["content"]?.stringValue else {
                throw fail("added_tokens[\(i)]", "expected an object with an integer 'id' and a string 'content'")
            }
            byID[id] = content
            specialIDs[id] = (
                a["special"]?.boolValue ?? false,
                MatchOptions(lstrip: a["lstrip"]?.boolValue ?? false, rstrip: a["rstrip"]?.boolValue ?? false))
        }
        let count = (byID.keys.max() ?? -1) + 1
        guard count > 0 else { throw fail("model.vocab", "the vocabulary is empty") }
        // Ids number the tokens 0..<n with few gaps; one stray huge id would size the tables (found by fuzzing).
        guard count - byID.count <= 1 << 16 else {
            throw fail("model.vocab", "token id \(count - 1) leaves \(count - byID.count) unused ids below it: the ids of \(byID.count) tokens must number them 0..<\(byID.count) (with at most 65536 gaps)")
        }
        var tokens = [String](repeating: "", count: count)
        var types = [TokenType](repeating: .unused, count: count)
        for (id, t) in byID {
            tokens[id] = t
            // Byte fallback looks its tokens up by their `<0xXX>` spelling.
            types[id] = sentencePiece != nil && SentencePieceOptions.byteValue(t) != nil ? .byte : .normal
        }
        var options: [Int32: MatchOptions] = [:]
        for (id, s) in specialIDs {
            types[id] = s.special ? .control : .userDefined
            options[Int32(id)] = s.options
        }

        var merges: [(String, String)] = []
        let mergeValues = model["merges"]?.arrayValue ?? []
        merges.reserveCapacity(mergeValues.count)
        for (i, m) in mergeValues.enumerated() {
            if let s = m.stringValue, let pair = Self.splitMerge(s) {
                merges.append(pair)
            } else if let a = m.arrayValue, a.count == 2, let l = a[0].stringValue, let r = a[1].stringValue {
                merges.append((l, r))
            } else {
                throw fail("model.merges[\(i)]", "expected \"a b\" or [\"a\", \"b\"], found \(String(m.description.prefix(60)))")
            }
        }
        let pre = sentencePiece != nil
            ? PreTokenizer(name: "none", stages: [])
            : try Self.preTokenizer(fromJSON: json["pre_tokenizer"] ?? .null, path: path)

        func configToken(_ key: String) throws -> Int32? {
            guard let config, let v = config[key], !v.isNull else { return nil }
            guard let s = v.stringValue ?? v["content"]?.stringValue else {
                throw IFTError.file(path: path, location: "tokenizer config \(key)", message: "expected a string or {\"content\": ...}")
            }
            guard let i = byID.first(where: { $0.value == s })?.key else {
                throw IFTError.file(path: path, location: "tokenizer config \(key)", message: "'\(s)' is not in the vocabulary")
            }
            return Int32(i)
        }
        var template: String? = nil
        if let t = config?["chat_template"] {
            template = t.stringValue
                ?? t.arrayValue?.first(where: { $0["name"]?.stringValue == "default" })?["template"]?.stringValue
        }
        try self.init(
            tokens: tokens, types: types, merges: merges, preTokenizer: pre,
            bosID: configToken("bos_token"), eosID: configToken("eos_token"), padID: configToken("pad_token"),
            unknownID: configToken("unk_token"), addsBOS: config?["add_bos_token"]?.boolValue ?? false,
            addsEOS: config?["add_eos_token"]?.boolValue ?? false, ignoresMerges: model["ignore_merges"]?.boolValue ?? false,
            matchOptions: options, chatTemplate: template, source: path, sentencePiece: sentencePiece)
    }

    /// The split patterns recognised in `Split` pre-tokenizers, by their stage.
    static let knownSplitPatterns: [(String, PreTokenizer.Stage)] = [
        (#"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#,
         .llama3(maxDigits: 3)),
        (#"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#,
         .llama3(maxDigits: 1)),
        (#"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"#, .gpt2),
        (#"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)"#, .gpt2),
    ]

    static func preTokenizer(fromJSON j: JSONValue, path: String) throws -> PreTokenizer {
        func fail(_ m: String) -> IFTError { .file(path: path, location: "pre_tokenizer", message: m) }
        var stages: [PreTokenizer.Stage] = []
        var names: [String] = []
        var sawByteLevel = false
        func add(_ p: JSONValue) throws {
            guard let type = p["type"]?.stringValue else { throw fail("expected an object with a 'type', found \(p.typeName)") }
            switch type {
            case "Sequence":
                for q in p["pretokenizers"]?.arrayValue ?? [] { try add(q) }
                return
            case "ByteLevel":
                sawByteLevel = true
                if p["add_prefix_space"]?.boolValue == true {
                    throw fail("ByteLevel with add_prefix_space is not supported")
                }
                if p["use_regex"]?.boolValue ?? true { stages.append(.gpt2) }
                names.append(p["use_regex"]?.boolValue ?? true ? "ByteLevel(regex)" : "ByteLevel")
            case "Digits":
                let ind = p["individual_digits"]?.boolValue ?? false
                stages.append(.digits(individual: ind))
                names.append(ind ? "Digits(individual)" : "Digits")
            case "Split":
                let pattern = p["pattern"]?["Regex"]?.stringValue ?? p["pattern"]?["String"]?.stringValue ?? ""
                let behavior = p["behavior"]?.stringValue ?? ""
                guard behavior.lowercased() == "isolated", p["invert"]?.boolValue != true else {
                    throw fail("Split with behavior '\(behavior)' is not supported (only Isolated)")
                }
                guard let stage = knownSplitPatterns.first(where: { $0.0 == pattern })?.1 else {
                    throw fail("Split pattern \(pattern) is not one of the known ones (GPT-2, Llama 3, Qwen 2)")
                }
                stages.append(stage)
                names.append("Split(\(stage))")
            default:
                throw fail("pre-tokenizer \(type) is not supported (supported: Sequence, ByteLevel, Digits, Split)")
            }
        }
        guard !j.isNull else { throw fail("missing: a byte-level BPE tokenizer needs a ByteLevel pre-tokenizer") }
        try add(j)
        guard sawByteLevel else { throw fail("no ByteLevel pre-tokenizer: only byte-level BPE is supported") }
        return PreTokenizer(name: names.joined(separator: "+"), stages: stages)
    }
}

extension Tokenizer {
    /// The tokenizer of a model on disk, without reading its config or weights: a GGUF file's
    /// metadata (a vocabulary-only GGUF of any architecture will do), or a Hugging Face
    /// directory's `tokenizer.json` (+ `tokenizer_config.json` when present).
    public convenience init(modelPath path: String) throws {
        if FileSystem.isDirectory(path) {
            let json = path + "/tokenizer.json"
            guard FileSystem.exists(json) else {
                throw IFTError.file(path: path, location: "directory", message: "no tokenizer.json (expected a Hugging Face model directory)")
            }
            let config = path + "/tokenizer_config.json"
            try self.init(tokenizerJSONPath: json, configPath: FileSystem.exists(config) ? config : nil)
        } else {
            try self.init(gguf: GGUFFile(path: path))
        }
    }
}
