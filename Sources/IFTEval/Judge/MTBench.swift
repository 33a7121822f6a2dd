import IFTCore
import IFTModel

/// MT-Bench (FastChat's llm_judge): 80 two-turn questions in 8 categories, answered by a model,
/// each turn graded 1-10 by a judge with the single-answer prompts (with the reference answer
/// for math, reasoning and coding).
public struct MTBench {
    public struct Question: Sendable {
        public var id: Int
        public var category: String
        public var turns: [String]
        /// Reference answers for both turns (math, reasoning, coding), when given.
        public var references: [String]?
    }

    public var questions: [Question]

    /// Loads `question.jsonl` and, optionally, reference answers (FastChat's model-answer format:
    /// `question_id` and `choices[0].turns`).
    public init(questions path: String, references referencePath: String? = nil) throws {
        var refs: [Int: [String]] = [:]
        if let referencePath {
            for row in try ResponseRows(path: referencePath).rows {
                if let id = row.object["question_id"]?.intValue, let turns = Self.turns(of: row.object) { refs[id] = turns }
            }
        }
        questions = try ResponseRows(path: path).rows.map { row in
            guard let id = row.object["question_id"]?.intValue, let category = row.object["category"]?.stringValue,
                let turns = row.object["turns"]?.arrayValue?.compactMap(\.stringValue), turns.count == 2
            else {
                throw IFTError.file(path: path, location: "\(row.location)", message: "expected question_id, category and two turns")
            }
            let inline = row.object["reference"]?.arrayValue?.compactMap(\.stringValue)
            return Question(id: id, category: category, turns: turns, references: refs[id] ?? inline)
        }
    }

    /// The turns of a model-answer row: `choices[0].turns` (FastChat) or `turns`.
    public static func turns(of row: JSONValue) -> [String]? {
        let list = row["choices"]?.arrayValue?.first?["turns"]?.arrayValue ?? row["turns"]?.arrayValue
        guard let strings = list?.compactMap(\.stringValue), strings.count == list?.count, !strings.isEmpty else { return nil }
        return strings
    }

    /// The judge's (system, user) prompt for `turn` (0 or 1) of `q` answered with `answers`.
    public static func judgePrompt(
        _ q: Question, answers: [String], turn: Int, prompts: [String: MTBenchJudge.JudgePrompt]
    ) throws -> (system: String?, user: String) {
        let withReference = MTBenchJudge.referenceCategories.contains(q.category) && q.references?.count ?? 0 >= 2
        let name = (withReference ? "single-math-v1" : "single-v1") + (turn == 1 ? "-multi-turn" : "")
        guard let p = prompts[name] else { throw IFTError.invalidArgument("the judge prompts have no '\(name)'") }
        var values = [
            "question": q.turns[0], "answer": answers[0], "question_1": q.turns[0], "question_2": q.turns[1],
            "answer_1": answers[0], "answer_2": answers.count > 1 ? answers[1] : "",
        ]
        if withReference, let r = q.references {
            values["ref_answer_1"] = r[0]
            values["ref_answer_2"] = r[1]
        }
        return (p.system, MTBenchJudge.fill(p.template, values))
    }
}
