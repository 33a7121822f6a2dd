import IFTCore
import IFTData
import IFTModel

/// A judged example: the score, or why there is none (the judge failed, or its reply held no
/// score), with the judge's reply.
public struct Judgement: Sendable {
    public var score: Double?
    public var reply: String
    public var problem: String?

    public init(score: Double?, reply: String, problem: String?) {
        self.score = score
        self.reply = reply
        self.problem = problem
    }
}

/// *Build a Large Language Model From Scratch*, ch. 7.8: the judge sees the instruction (in the
/// Alpaca format), the correct output and the model's response, and answers an integer 0-100.
public enum Chapter7Judge {
    /// The book's prompt for one row.
    public static func prompt(instruction: String, input: String, output: String, response: String) -> String {
        let formatted = try? PromptStyle.alpaca.render(.instruction(instruction: instruction, input: input, output: ""))
        let inputText = formatted?.filter { !$0.isResponse }.map(\.text).joined() ?? instruction
        // The book's format_input() ends before "### Response:"; keep the instruction part only.
        var shown = inputText
        if let r = shown.firstRange(of: "\n\n### Response:") { shown = String(shown[..<r.lowerBound]) }
        return "Given the input `\(shown)` and correct output `\(output)`, score the model response `\(response)` "
            + "on a scale from 0 to 100, where 100 is the best score. Respond with the integer number only."
    }

    /// The first integer of the reply, when it lies in 0...100.
    public static func score(_ reply: String) -> Double? {
        var digits = ""
        for c in reply {
            if c.isASCII && c.isNumber {
                digits.append(c)
            } else if !digits.isEmpty {
                break
            }
        }
        guard let v = Int(digits), (0...100).contains(v) else { return nil }
        return Double(v)
    }

    /// Judges every row (fields `instruction`, `input` (optional), `output` and the response field).
    public static func judge(
        rows: ResponseRows, responseField: String, client: JudgeClient, onDone: (Int) -> Void = { _ in }
    ) throws -> [Judgement] {
        let instructions = try rows.strings("instruction")
        let outputs = try rows.strings("output")
        let responses = try rows.strings(responseField)
        let inputs = rows.rows.map { $0.object["input"]?.stringValue ?? "" }
        let prompts = instructions.indices.map { i in
            (system: String?.none, user: prompt(instruction: instructions[i], input: inputs[i], output: outputs[i], response: responses[i]))
        }
        return client.completeAll(prompts, onDone: onDone).map { r in
            switch r {
            case .success(let reply):
                let s = score(reply)
                return Judgement(score: s, reply: reply, problem: s == nil ? "no score 0-100 in the reply" : nil)
            case .failure(let f):
                return Judgement(score: nil, reply: "", problem: f.description)
            }
        }
    }
}

/// MT-Bench's single-answer grading (FastChat's llm_judge): the judge rates an answer 1-10 and
/// writes the rating as `[[rating]]`.
public enum MTBenchJudge {
    public struct JudgePrompt: Sendable {
        public var name: String
        public var system: String
        public var template: String
    }

    /// The judge prompts by name (`single-v1`, `single-math-v1`, `single-v1-multi-turn`,
    /// `single-math-v1-multi-turn`, ...) from `judge_prompts.jsonl`.
    public static func loadPrompts(_ path: String) throws -> [String: JudgePrompt] {
        var out: [String: JudgePrompt] = [:]
        for row in try ResponseRows(path: path).rows {
            guard let name = row.object["name"]?.stringValue, let system = row.object["system_prompt"]?.stringValue,
                let template = row.object["prompt_template"]?.stringValue
            else {
                throw IFTError.file(path: path, location: "\(row.location)", message: "expected name, system_prompt and prompt_template")
            }
            out[name] = JudgePrompt(name: name, system: system, template: template)
        }
        return out
    }

    /// Categories graded against a reference answer (FastChat's NEED_REF_CATS).
    public static let referenceCategories: Set<String> = ["math", "reasoning", "coding", "arena-hard-200"]

    /// FastChat's parsing: `[[x]]`, else `[x]`; ratings outside 1-10 count as none.
    public static func rating(_ reply: String) -> Double? {
        for (open, close) in [("[[", "]]"), ("[", "]")] {
            var rest = Substring(reply)
            while let a = rest.firstRange(of: open) {
                let after = rest[a.upperBound...]
                guard let b = after.firstRange(of: close) else { break }
                let inside = after[..<b.lowerBound].trimmingCharacters(in: " ")
                if let v = Double(inside), (1...10).contains(v) { return v }
                rest = after[b.upperBound...]
            }
        }
        return nil
    }

    /// Fills a template's `{name}` fields.
    public static func fill(_ template: String, _ values: [String: String]) -> String {
        var s = template
        for (k, v) in values { s = s.replacingOccurrences(of: "{\(k)}", with: v) }
        return s
    }
}

extension Substring {
    fileprivate func trimmingCharacters(in set: String) -> String {
        var s = self
        while let f = s.first, set.contains(f) { s.removeFirst() }
        while let l = s.last, set.contains(l) { s.removeLast() }
        return String(s)
    }
}

extension String {
    /// Every occurrence of `target` replaced (no Foundation).
    func replacingOccurrences(of target: String, with replacement: String) -> String {
        guard !target.isEmpty else { return self }
        var out = ""
        var rest = Substring(self)
        while let r = rest.firstRange(of: target) {
            out += rest[..<r.lowerBound]
            out += replacement
            rest = rest[r.upperBound...]
        }
        return out + rest
    }
}
