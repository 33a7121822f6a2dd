#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import IFTCore
import IFTModel

/// One prompt of IFEval's `input_data.jsonl` (`key`, `prompt`, `instruction_id_list`, `kwargs`).
public struct IFEvalPrompt: Sendable, Equatable {
    public let key: Int
    public let prompt: String
    public let instructions: [IFEvalInstruction]

    public var instructionIDs: [String] { instructions.map(\.id) }

    public init(key: Int, prompt: String, instructions: [IFEvalInstruction]) {
        self.key = key
        self.prompt = prompt
        self.instructions = instructions
    }

    /// A prompt from one row of the prompts file; errors say which field or instruction is wrong.
    public init(row: JSONValue) throws {
        guard let key = row["key"]?.intValue else { throw IFTError.invalidArgument("expected an integer field 'key'") }
        guard let prompt = row["prompt"]?.stringValue else { throw IFTError.invalidArgument("expected a string field 'prompt'") }
        guard let ids = row["instruction_id_list"]?.arrayValue else {
            throw IFTError.invalidArgument("expected a list field 'instruction_id_list'")
        }
        guard let kwargs = row["kwargs"]?.arrayValue, kwargs.count == ids.count else {
            throw IFTError.invalidArgument("expected a list field 'kwargs' with one object per instruction (\(ids.count))")
        }
        var instructions: [IFEvalInstruction] = []
        for (i, (id, args)) in zip(ids, kwargs).enumerated() {
            guard let id = id.stringValue, let object = args.objectValue else {
                throw IFTError.invalidArgument("instruction \(i + 1): expected a string id and an object of kwargs")
            }
            do {
                instructions.append(try IFEvalInstruction(id: id, kwargs: object))
            } catch let error as IFTError {
                throw IFTError.invalidArgument("instruction \(i + 1): \(Self.message(error))")
            }
        }
        self.init(key: key, prompt: prompt, instructions: instructions)
    }

    static func message(_ error: IFTError) -> String {
        if case .invalidArgument(let m) = error { return m }
        return error.description
    }
}

/// `strict` tests the response as it is; `loose` also accepts it with its first line, its last
/// line or both removed, each with and without `*` (an upper bound, as the official evaluation).
public enum IFEvalMode: String, Sendable, CaseIterable {
    case strict, loose
}

/// How prompts that the responses file does not answer are scored.
public enum IFEvalMissingResponses: Sendable {
    /// Left out of the results and the accuracies (and counted in `IFEvalReport.unanswered`).
    case skip
    /// Scored as an empty response, which follows no instruction.
    case countAsFailed
}

/// The result of one prompt in one mode: the official `OutputExample`.
public struct IFEvalResult: Sendable, Equatable {
    public let key: Int
    public let prompt: String
    public let response: String
    public let instructionIDs: [String]
    /// `follow_instruction_list`: one verdict per instruction.
    public let followed: [Bool]

    /// `follow_all_instructions`.
    public var followsAll: Bool { followed.allSatisfy { $0 } }

    /// The row as the official `write_outputs` writes it (`json.dumps` of the fields in name order,
    /// ASCII-escaped), so the files compare line by line with `eval_results_strict.jsonl` /
    /// `eval_results_loose.jsonl`.
    public var jsonLine: String {
        func bool(_ b: Bool) -> String { b ? "true" : "false" }
        return "{\"follow_all_instructions\": \(bool(followsAll)), "
            + "\"follow_instruction_list\": [\(followed.map(bool).joined(separator: ", "))], "
            + "\"instruction_id_list\": [\(instructionIDs.map(IFEval.pythonJSONString).joined(separator: ", "))], "
            + "\"prompt\": \(IFEval.pythonJSONString(prompt)), \"response\": \(IFEval.pythonJSONString(response))}"
    }
}

/// IFEval (Zhou et al. 2023, google-research `instruction_following_eval`): loading the prompts,
/// scoring responses strictly and loosely, and writing the official per-prompt rows.
public enum IFEval {
    /// Reads IFEval's prompts (`input_data.jsonl`; a JSON array of the same rows also reads).
    /// Every instruction's checker is built here, so a bad id or kwarg fails at load, naming the line.
    public static func loadPrompts(path: String) throws -> [IFEvalPrompt] {
        let rows = try ResponseRows(path: path)
        return try rows.rows.map { row in
            do {
                return try IFEvalPrompt(row: row.object)
            } catch let error as IFTError {
                throw IFTError.file(path: path, location: location(rows, row.location), message: IFEvalPrompt.message(error))
            }
        }
    }

    static func location(_ rows: ResponseRows, _ n: Int) -> String {
        rows.locationName == "line" ? "\(n)" : "element \(n)"
    }

    /// The responses the loose test also tries, in the official order: the response, without `*`,
    /// without its first line, without its last line, without both, and the last three without `*`
    /// (the line-removed ones stripped of surrounding whitespace).
    public static func looseVariants(of response: String) -> [String] {
        let lines = PyText.split(PyText.scalars(response), separator: ["\n"])
        func joined(_ part: ArraySlice<[Unicode.Scalar]>) -> String {
            PyText.string(PyText.strip(Array(part.joined(separator: ["\n"]))))
        }
        let removeFirst = joined(lines.dropFirst())
        let removeLast = joined(lines.dropLast())
        let removeBoth = joined(lines.dropFirst().dropLast())
        func unstarred(_ s: String) -> String { PyText.string(s.unicodeScalars.filter { $0 != "*" }) }
        return [response, unstarred(response), removeFirst, removeLast, removeBoth,
                unstarred(removeFirst), unstarred(removeLast), unstarred(removeBoth)]
    }

    /// Scores one response (the official `test_instruction_following_strict` / `_loose`): an
    /// instruction is followed when the response (or, loosely, one of `looseVariants`) is not blank
    /// and passes its checker.
    public static func score(_ prompt: IFEvalPrompt, response: String, mode: IFEvalMode) -> IFEvalResult {
        let candidates = (mode == .strict ? [response] : looseVariants(of: response))
            .filter { !PyText.isBlank($0.unicodeScalars) }
        let followed = prompt.instructions.map { instruction in
            candidates.contains { instruction.isFollowed(by: $0) }
        }
        return IFEvalResult(
            key: prompt.key, prompt: prompt.prompt, response: response, instructionIDs: prompt.instructionIDs, followed: followed)
    }

    /// Scores a responses file (JSONL rows, or a JSON array of objects, with string fields `prompt`
    /// and `response`, as IFEval's own response files) against `prompts`, matching rows to prompts
    /// by the prompt text. A row whose prompt is not among `prompts`, a second row for the same
    /// prompt and a row without a string `response` are errors naming the line; prompts without a
    /// row are handled as `missing` says and listed in `IFEvalReport.unanswered`. Results are in the
    /// order of `prompts`.
    public static func score(
        responsesAt path: String, prompts: [IFEvalPrompt], missing: IFEvalMissingResponses = .skip
    ) throws -> IFEvalReport {
        let rows = try ResponseRows(path: path)
        var known: [String: Int] = [:]
        for (i, p) in prompts.enumerated() where known[p.prompt] == nil { known[p.prompt] = i }
        var responses: [String: (response: String, location: Int)] = [:]
        for row in rows.rows {
            let at = location(rows, row.location)
            guard let prompt = row.object["prompt"]?.stringValue else {
                throw IFTError.file(path: path, location: at, message: "expected a string field 'prompt'")
            }
            guard let response = row.object["response"]?.stringValue else {
                throw IFTError.file(path: path, location: at, message: "expected a string field 'response'")
            }
            guard known[prompt] != nil else {
                throw IFTError.file(
                    path: path, location: at,
                    message: "the prompt is not one of the \(prompts.count) IFEval prompts: \"\(abbreviated(prompt))\"")
            }
            if let first = responses[prompt] {
                throw IFTError.file(
                    path: path, location: at,
                    message: "a second response to the prompt answered at \(location(rows, first.location)): \"\(abbreviated(prompt))\"")
            }
            responses[prompt] = (response, row.location)
        }
        var strict: [IFEvalResult] = [], loose: [IFEvalResult] = [], unanswered: [IFEvalPrompt] = []
        for p in prompts {
            let response: String
            if let r = responses[p.prompt] {
                response = r.response
            } else {
                unanswered.append(p)
                guard missing == .countAsFailed else { continue }
                response = ""
            }
            strict.append(score(p, response: response, mode: .strict))
            loose.append(score(p, response: response, mode: .loose))
        }
        return IFEvalReport(strict: strict, loose: loose, unanswered: unanswered)
    }

    static func abbreviated(_ s: String) -> String {
        let flat = s.replacingNewlines()
        return flat.count > 70 ? String(flat.prefix(70)) + "…" : flat
    }

    /// Writes one official row per result (`IFEvalResult.jsonLine`).
    public static func writeResults(_ results: [IFEvalResult], to path: String) throws {
        guard let f = fopen(path, "w") else {
            throw IFTError.file(path: path, location: "open", message: String(cString: strerror(errno)))
        }
        defer { fclose(f) }
        for r in results {
            let line = r.jsonLine + "\n"
            guard fputs(line, f) >= 0 else {
                throw IFTError.file(path: path, location: "write", message: String(cString: strerror(errno)))
            }
        }
    }

    /// `json.dumps(s)` with Python's defaults: `\"`, `\\`, `\n`, `\r`, `\t`, `\b`, `\f`, and
    /// `\uXXXX` (lowercase hex, surrogate pairs above U+FFFF) for everything outside ` `...`~`.
    public static func pythonJSONString(_ s: String) -> String {
        var out = "\""
        func hex4(_ v: UInt32) -> String {
            let h = String(v, radix: 16)
            return "\\u" + String(repeating: "0", count: 4 - h.count) + h
        }
        for c in s.unicodeScalars {
            switch c {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            case " "..."~": out.unicodeScalars.append(c)
            default:
                if c.value > 0xFFFF {
                    let v = c.value - 0x10000
                    out += hex4(0xD800 + (v >> 10)) + hex4(0xDC00 + (v & 0x3FF))
                } else {
                    out += hex4(c.value)
                }
            }
        }
        return out + "\""
    }
}

extension String {
    fileprivate func replacingNewlines() -> String {
        String(map { $0 == "\n" || $0 == "\r\n" ? " " : $0 })
    }
}
