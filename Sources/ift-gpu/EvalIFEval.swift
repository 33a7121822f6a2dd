import ArgumentParser
import IFTCore
import IFTEval
import IFTModel

struct EvalIFEval: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ifeval",
        abstract: "IFEval: verifiable instructions, strict and loose, prompt- and instruction-level.",
        usage: "ift-gpu eval ifeval --prompts <file> [<options>]",
        discussion: """
            Scores an existing responses file (--responses: JSONL rows `prompt`, \
            `response`, as IFEval's own response files) or lets a model answer the \
            prompts first (--model or --checkpoint; each prompt is one user message in \
            the model's chat template, greedy, batched). All 25 instruction types follow \
            the official semantics; `ifeval-strict.jsonl` and `ifeval-loose.jsonl` hold \
            one row per prompt with the official field names, to compare with the \
            official tool line by line. Language detection and sentence splitting are \
            close approximations of langdetect and nltk's punkt (99.6% agreement with \
            the official verdicts on the project's fixture).

            Examples:
              ift-gpu eval ifeval --prompts ../shared/data/ifeval/input_data.jsonl \\
                  --responses responses.jsonl
              ift-gpu eval ifeval --prompts ../shared/data/ifeval/input_data.jsonl \\
                  --model smollm2-135m-instruct --limit 50
            """)

    @Option(help: "IFEval's prompts (input_data.jsonl).")
    var prompts: String

    @Option(help: "An existing responses file (JSONL: prompt, response).")
    var responses: String?

    @OptionGroup var modelOptions: EvalModelOptions

    @Option(help: "Only the first N prompts (0: all).")
    var limit: Int = 0

    @Option(name: .customLong("max-new-tokens"), help: "Longest response in tokens.")
    var maxNewTokens: Int = 512

    @Option(help: "Directory for the results.")
    var output: String = "runs/eval"

    func validate() throws {
        guard (responses != nil) != modelOptions.isSet else {
            throw ValidationError("give either --responses FILE, or --model/--checkpoint to answer the prompts")
        }
        guard limit >= 0, maxNewTokens >= 1 else { throw ValidationError("--limit must be >= 0 and --max-new-tokens >= 1") }
    }

    func run() throws {
        var promptSet = try IFEval.loadPrompts(path: prompts)
        if limit > 0 { promptSet = Array(promptSet.prefix(limit)) }
        try FileSystem.makeDirectories(output)
        var responsesPath = responses ?? ""
        if responses == nil {
            let (model, files, _) = try modelOptions.load()
            print("model:    \(files.path) on \(model.backend.name): answering \(promptSet.count) IFEval prompts")
            let answers = try chatAnswers(
                model: model, files: files, conversations: promptSet.map { [.user($0.prompt)] }, maxNewTokens: maxNewTokens,
                label: "answering")
            let results = answers
            responsesPath = output + "/ifeval-responses.jsonl"
            let rows = zip(promptSet, results).map { p, r in
                JSONValue.object(JSONObject([("prompt", .string(p.prompt)), ("response", .string(r))])).description
            }
            try EvalOutput.writeText(rows.joined(separator: "\n") + "\n", to: responsesPath)
        }
        let report = try IFEval.score(responsesAt: responsesPath, prompts: promptSet)
        try IFEval.writeResults(report.strict, to: output + "/ifeval-strict.jsonl")
        try IFEval.writeResults(report.loose, to: output + "/ifeval-loose.jsonl")
        var summary = JSONObject()
        summary["prompts"] = .int(report.strict.count)
        summary["unanswered"] = .int(report.unanswered.count)
        for (mode, s) in [("strict", report.strictScores), ("loose", report.looseScores)] {
            summary["prompt_level_\(mode)"] = .double(ReferenceEvaluation.round(100 * s.prompts.accuracy))
            summary["instruction_level_\(mode)"] = .double(ReferenceEvaluation.round(100 * s.instructions.accuracy))
        }
        summary["by_instruction"] = .object(JSONObject(report.instructionTable().map { row in
            (row.instructionID, JSONValue.object(JSONObject([
                ("count", .int(row.count)), ("strict", .double(ReferenceEvaluation.round(100 * row.strictAccuracy))),
                ("loose", .double(ReferenceEvaluation.round(100 * row.looseAccuracy))),
            ])))
        }))
        try EvalOutput.writeText(JSONValue.object(summary).description + "\n", to: output + "/ifeval-summary.json")
        print(report.summary(), terminator: "")
        print("wrote:    \(output)/ifeval-strict.jsonl, \(output)/ifeval-loose.jsonl, \(output)/ifeval-summary.json")
    }
}
