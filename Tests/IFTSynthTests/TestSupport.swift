import Foundation
import IFTCPU
import IFTCore
import IFTModel
import IFTSynth
import XCTest

enum SynthTestSupport {
    static let packageRoot: String = {
        var parts = "\(#filePath)".split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(3)  // Tests/IFTSynthTests/TestSupport.swift
        return parts.joined(separator: "/")
    }()

    static func fixture(_ name: String) -> String { packageRoot + "/Tests/IFTSynthTests/Fixtures/" + name }

    static func tempDir() throws -> String {
        let dir = NSTemporaryDirectory() + "ift-synth-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    /// SmolLM2-135M-Instruct on the cpu backend: `IFT_SMOLLM2_GGUF`, else `.build/models`; skips
    /// without it, or fails under IFT_REQUIRE_MODEL=1.
    static func smolLM2(file: StaticString = #filePath, line: UInt = #line) throws -> LocalGenerator {
        let env = ProcessInfo.processInfo.environment
        let candidates = [env["IFT_SMOLLM2_GGUF"], packageRoot + "/.build/models/SmolLM2-135M-Instruct.Q4_1.gguf"].compactMap { $0 }
        guard let path = candidates.first(where: { FileManager.default.fileExists(atPath: $0) }) else {
            if env["IFT_REQUIRE_MODEL"] == "1" {
                XCTFail("IFT_REQUIRE_MODEL=1 but SmolLM2-135M-Instruct is missing (set IFT_SMOLLM2_GGUF)", file: file, line: line)
            }
            throw XCTSkip("SmolLM2-135M-Instruct not found; Tools/test.sh downloads it (or set IFT_SMOLLM2_GGUF)")
        }
        let gguf = try GGUFFile(path: path)
        let model = try LlamaModel(gguf: gguf, backend: try CPUBackend(), maxPositions: 512)
        return try LocalGenerator(model: model, tokenizer: try Tokenizer(gguf: gguf), name: "smollm2 (cpu)", maxBatch: 8)
    }
}

/// A deterministic generator: instructions and answers made of words drawn with each request's
/// seed (distinct seeds give distinct rows); `unfinished` marks every completion as cut at the
/// token limit.
struct StubGenerator: TextGenerator {
    var name = "stub"
    var chatTemplate: ChatTemplateRenderer?
    var unfinished = false
    static let words = [
        "river", "mountain", "engine", "garden", "violin", "planet", "bridge", "castle", "forest", "harbor", "island",
        "ladder", "magnet", "needle", "orchard", "pencil", "quarry", "rocket", "saddle", "tunnel", "valley", "wagon",
        "yacht", "zebra", "anchor", "barrel", "candle", "desert", "falcon", "glacier", "hammer", "jungle", "kettle",
        "lantern", "meadow", "nickel", "oyster", "parrot", "quilt", "ribbon", "statue", "tractor", "umbrella", "velvet",
        "walrus", "canyon", "dolphin", "feather", "granite", "helmet",
    ]

    func generate(_ requests: [SynthRequest], onDone: (Int) -> Void) throws -> [Result<SynthCompletion, SynthFailure>] {
        requests.enumerated().map { i, r in
            var g = SeededGenerator(seed: r.sampling.seed)
            let w = (0..<4).map { _ in Self.words[Int(g.next() % UInt64(Self.words.count))] }
            let text: String
            switch r.prompt {
            case .text: text = "Explain why the \(w[0]) \(w[1]) and the \(w[2]) \(w[3]) matter."
            case .chat: text = "The \(w[0]) matters because of the \(w[1]); the \(w[2]) and \(w[3]) follow."
            }
            onDone(i + 1)
            return .success(SynthCompletion(text: text, finished: !unfinished))
        }
    }
}

/// Templates as their models ship them (Hugging Face `chat_template`).
enum Templates {
    static let smolLM2 = """
        {% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system
        You are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>
        ' }}{% endif %}{{'<|im_start|>' + message['role'] + '
        ' + message['content'] + '<|im_end|>' + '
        '}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant
        ' }}{% endif %}
        """
    static let llama3 = """
        {% set loop_messages = messages %}{% for message in loop_messages %}{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n'+ message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{% endif %}
        """
    static let gemma = """
        {{ bos_token }}{% if messages[0]['role'] == 'system' %}{{ raise_exception('System role not supported') }}{% endif %}{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if (message['role'] == 'assistant') %}{% set role = 'model' %}{% else %}{% set role = message['role'] %}{% endif %}{{ '<start_of_turn>' + role + '\\n' + message['content'] | trim + '<end_of_turn>\\n' }}{% endfor %}{% if add_generation_prompt %}{{'<start_of_turn>model\\n'}}{% endif %}
        """
    static let mistral = """
        {{ bos_token }}{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if message['role'] == 'user' %}{{ '[INST] ' + message['content'] + ' [/INST]' }}{% elif message['role'] == 'assistant' %}{{ message['content'] + eos_token}}{% else %}{{ raise_exception('Only user and assistant roles are supported!') }}{% endif %}{% endfor %}
        """

    static func renderer(_ source: String, bos: String = "", eos: String = "") throws -> ChatTemplateRenderer {
        ChatTemplateRenderer(template: try ChatTemplate(source: source, name: "test template"), bosToken: bos, eosToken: eos)
    }
}
