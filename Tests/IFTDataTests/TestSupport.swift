import Foundation
import IFTCore
import IFTData
import IFTModel
import XCTest

/// Test helpers: fixture paths and a tiny byte-level tokenizer (ids 0-255 are the bytes) with
/// the chat special tokens as control tokens, so `encode(_:parseSpecial: true)` recognizes them.
enum DataTestSupport {
    static let fixtures: String = {
        var parts = "\(#filePath)".split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast()
        return parts.joined(separator: "/") + "/Fixtures"
    }()

    static func fixture(_ name: String) -> String { fixtures + "/" + name }

    /// `../shared/data/raschka-ch07/instruction-data.json`, found from the package root or above.
    static let ch07Data: String? = {
        var parts = "\(#filePath)".split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(3)  // Tests/IFTDataTests/TestSupport.swift
        let root = parts.joined(separator: "/")
        for candidate in [root + "/shared/data/raschka-ch07/instruction-data.json", root + "/../shared/data/raschka-ch07/instruction-data.json"]
        where FileManager.default.fileExists(atPath: candidate) {
            return candidate
        }
        return nil
    }()

    static let specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|user|>", "<|assistant|>", "<|end|>", "<|system|>"]

    static func tokenizer(chatTemplate: String? = nil) throws -> Tokenizer {
        let tokens = (0..<256).map { ByteLevel.encode([UInt8($0)]) } + specials
        let types = [Tokenizer.TokenType](repeating: .normal, count: 256)
            + [Tokenizer.TokenType](repeating: .control, count: specials.count)
        return try Tokenizer(
            tokens: tokens, types: types, merges: [], preTokenizer: .gpt2, eosID: id("<|endoftext|>"),
            chatTemplate: chatTemplate, source: "tiny-byte-tokenizer")
    }

    static func id(_ special: String) -> Int32 { Int32(256 + specials.firstIndex(of: special)!) }
    static var eot: Int32 { id("<|endoftext|>") }

    /// Byte ids of plain text.
    static func bytes(_ s: String) -> [Int32] { s.utf8.map { Int32($0) } }
}
