#if canImport(Glibc)
import Glibc
#endif
import IFTConfig
import IFTCore
import IFTData
import IFTModel
import IFTServe
@testable import IFTTrain

/// One libFuzzer entry point for every target; `IFT_FUZZ_TARGET` picks the parser (Tools/fuzz.sh).
/// A target must never crash, hang or read out of bounds on any input: thrown errors are the
/// expected outcome for garbage.
enum FuzzTarget: String, CaseIterable {
    case gguf, safetensors, tokenizer, template, dataset, checkpoint, request, yaml

    static let current: FuzzTarget = {
        let name = getenv("IFT_FUZZ_TARGET").map { String(cString: $0) } ?? ""
        guard let t = FuzzTarget(rawValue: name) else {
            fputs("set IFT_FUZZ_TARGET to one of: \(allCases.map(\.rawValue).joined(separator: ", "))\n", stderr)
            exit(2)
        }
        return t
    }()

    /// A small tokenizer for the targets that need one (byte-level, no merges).
    static let bytes: Tokenizer = {
        var o = JSONObject()
        for b in 0..<256 { o[ByteLevel.encode([UInt8(b)])] = .int(b) }
        let json: JSONValue = .object(JSONObject([
            ("model", .object(JSONObject([("type", .string("BPE")), ("vocab", .object(o)), ("merges", .array([]))]))),
            ("pre_tokenizer", .object(JSONObject([("type", .string("ByteLevel")), ("add_prefix_space", .bool(false))]))),
        ]))
        return try! Tokenizer(huggingFaceJSON: json)
    }()

    static let conversation: [ChatMessage] = [.system("Be brief."), .user("Hi <b>there</b>"), .assistant("Hello."), .user("2+2?")]

    func run(_ data: [UInt8]) {
        switch self {
        case .gguf:
            guard let f = try? GGUFFile(file: MappedFile(bytes: data, name: "fuzz.gguf")) else { return }
            _ = try? LlamaConfig(gguf: f)
            if let t = try? Tokenizer(gguf: f) { _ = t.decode(t.encode("Hello, world! 123", parseSpecial: true)) }
            for info in f.tensors.prefix(8) where info.shape.reduce(1, { $0 &* max($1, 1) }) <= 1 << 16 {
                _ = try? f.floats(info.name)
            }
        case .safetensors:
            guard let f = try? SafetensorsFile(file: MappedFile(bytes: data, name: "fuzz.safetensors")) else { return }
            for info in f.tensors.prefix(8) where info.shape.reduce(1, { $0 &* max($1, 1) }) <= 1 << 16 {
                _ = try? f.floats(info.name)
            }
        case .tokenizer:
            guard let json = try? JSONValue.parse(data, path: "tokenizer.json"),
                let t = try? Tokenizer(huggingFaceJSON: json)
            else { return }
            let ids = t.encode("Hello, world! Ünïcödé 🤖 <|im_start|>user\n42", parseSpecial: true)
            _ = t.decode(ids)
        case .template:
            guard let t = try? ChatTemplate(source: String(decoding: data, as: UTF8.self)) else { return }
            _ = try? t.render(messages: Self.conversation, addGenerationPrompt: true, bosToken: "<s>", eosToken: "</s>")
        case .dataset:
            // The first byte picks how the file is named (JSON, JSONL or text); the rest is the file.
            guard let first = data.first else { return }
            let name = ["fuzz.json", "fuzz.jsonl", "fuzz.txt"][Int(first) % 3]
            guard let d = try? Dataset.load(bytes: Array(data.dropFirst()), path: name, options: LoadOptions(skipInvalid: first & 4 != 0)) else { return }
            guard let examples = try? ExampleTokenizer(tokenizer: Self.bytes, style: .alpaca, endOfTextID: 0) else { return }
            for e in d.examples.prefix(16) { _ = try? examples.tokenize(e) }
        case .checkpoint:
            guard let json = try? JSONValue.parse(data, path: "state.json") else { return }
            _ = try? TrainerState(json: json, path: "state.json")
            _ = json["run"]?.objectValue
        case .request:
            for endpoint in [Endpoint.chat, .completion] {
                _ = try? CompletionRequest(body: data, endpoint: endpoint)
            }
        case .yaml:
            // A training config (`train --config`): arguments, or a TrainConfigError naming the line.
            do {
                _ = try TrainConfigFile.arguments(yaml: String(decoding: data, as: UTF8.self), path: "fuzz.yaml")
            } catch {
                _ = error.description
            }
        }
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    FuzzTarget.current.run(data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? [])
    return 0
}

/// A debug build of an executable target has its `main` renamed to `ift_fuzz_main` by SwiftPM (for
/// testability) and defined as that symbol; hand it to libFuzzer's driver.
@_cdecl("ift_fuzz_main")
public func fuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> Int32 {
    var count = argc
    var arguments = argv
    return LLVMFuzzerRunDriver(&count, &arguments, fuzzOneInput)
}

@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<Int32>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32
) -> Int32
