import ArgumentParser
import IFTCore
import IFTEval
import IFTModel
#if canImport(Glibc)
import Glibc
#endif

/// Where the judge is and how to talk to it.
struct JudgeOptions: ParsableArguments {
    @Option(name: .customLong("judge-url"), help: "The judge's base URL: http://host:port/v1 for OpenAI-compatible servers (ift-gpu serve, vLLM, OpenAI), http://host:11434 for Ollama.")
    var url: String

    @Option(name: .customLong("judge-model"), help: "The judge model's name at that endpoint.")
    var model: String

    @Option(name: .customLong("judge-api"), help: "openai (/chat/completions) or ollama (/api/chat).")
    var api: String = "openai"

    @Option(name: .customLong("api-key-env"), help: "Environment variable holding the API key (sent as a bearer token when set).")
    var apiKeyEnv: String = "OPENAI_API_KEY"

    @Option(help: "Judge requests at once.")
    var concurrency: Int = 4

    @Option(help: "Seconds per judge request.")
    var timeout: Int = 120

    @Option(help: "Tries per judge request (with exponential backoff between them).")
    var attempts: Int = 3

    func validate() throws {
        guard JudgeClient.API(rawValue: api) != nil else { throw ValidationError("--judge-api must be openai or ollama") }
        guard concurrency >= 1, timeout >= 1, attempts >= 1 else {
            throw ValidationError("--concurrency, --timeout and --attempts must be >= 1")
        }
        guard url.hasPrefix("http://") || url.hasPrefix("https://") else {
            throw ValidationError("--judge-url must start with http:// or https://")
        }
    }

    func client() -> JudgeClient {
        var c = JudgeClient(
            baseURL: url, model: model, api: JudgeClient.API(rawValue: api) ?? .openai,
            apiKey: getenv(apiKeyEnv).map { String(cString: $0) })
        c.concurrency = concurrency
        c.timeoutSeconds = timeout
        c.attempts = attempts
        return c
    }
}

/// Summary numbers of judged items: the mean of the scores, how many were scored, and why the
/// others were not (the first few reasons).
func judgeSummary(_ judgements: [Judgement], scale: String) -> JSONObject {
    let scores = judgements.compactMap(\.score)
    var o = JSONObject()
    o["scale"] = .string(scale)
    o["judged"] = .int(judgements.count)
    o["scored"] = .int(scores.count)
    o["failed"] = .int(judgements.count - scores.count)
    o["mean_score"] = scores.isEmpty ? .null : .double(ReferenceEvaluation.round(scores.reduce(0, +) / Double(scores.count)))
    let problems = judgements.compactMap(\.problem)
    if !problems.isEmpty { o["problems"] = .array(Array(Set(problems)).sorted().prefix(5).map { .string($0) }) }
    return o
}

struct EvalJudge: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "judge",
        abstract: "LLM-as-a-judge scores 0-100 (ch. 7's protocol) for a responses file.",
        usage: "ift-gpu eval judge --responses <file> --judge-url <url> [<options>]",
        discussion: """
            For each row (fields `instruction`, optional `input`, `output` and the \
            response), the judge is asked, as in *Build a Large Language Model From \
            Scratch* ch. 7, to score the model response against the correct output on a \
            scale from 0 to 100 and answer with the integer only; the first integer of \
            the reply is the score. A reply without one, or a request that fails after \
            its retries, is counted and shown, never fatal. Any OpenAI-compatible \
            endpoint works, including `ift-gpu serve`.

            Example:
              ift-gpu eval judge --responses runs/eval/metrics-responses.json \\
                  --judge-url http://127.0.0.1:8080/v1 --judge-model smollm2
            """)

    @Option(help: "Responses file (JSON array or JSONL; ch. 7's layout).")
    var responses: String

    @Option(name: .customLong("response-field"), help: "The field holding the response.")
    var responseField: String = "model_response"

    @OptionGroup var judge: JudgeOptions

    @Option(help: "Directory for the results.")
    var output: String = "runs/eval"

    func run() throws {
        let rows = try ResponseRows(path: responses)
        let client = judge.client()
        print("judging:  \(rows.rows.count) responses of \(responses) with \(client.model) at \(client.baseURL)")
        let bar = ProgressBar(label: "judging", total: Double(rows.rows.count), rateUnit: "it/s")
        let judgements = try Chapter7Judge.judge(rows: rows, responseField: responseField, client: client) { bar.update(Double($0)) }
        bar.finish()
        let out = judgements.enumerated().map { i, j in
            JSONValue.object(JSONObject([
                ("index", .int(i)), ("score", j.score.map { .double($0) } ?? .null), ("reply", .string(j.reply)),
                ("problem", j.problem.map { .string($0) } ?? .null),
            ]))
        }
        let summary = judgeSummary(judgements, scale: "0-100")
        let paths = try EvalOutput.write(directory: output, name: "judge", rows: out, summary: .object(summary))
        print(JSONValue.object(summary).description)
        print("wrote:    \(paths.joined(separator: ", "))")
    }
}

struct EvalMTBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mt-bench",
        abstract: "MT-Bench: two-turn answers graded 1-10 by a judge, per category.",
        usage: "ift-gpu eval mt-bench --questions <file> [<options>]",
        discussion: """
            The model (--model or --checkpoint) answers each question's first turn, then \
            its second with the first answer in the conversation (the model's chat \
            template, greedy, batched); or --answers gives existing answers (JSONL rows \
            `question_id` and `turns`, or FastChat's `choices[0].turns`). The judge \
            grades each turn with FastChat's single-answer prompts (with the reference \
            answers for math, reasoning and coding when --references is given) and \
            writes `[[rating]]`; ratings are averaged per turn and per category.

            Example:
              ift-gpu eval mt-bench --questions ../shared/data/mt-bench/question.jsonl \\
                  --judge-prompts ../shared/data/mt-bench/judge_prompts.jsonl \\
                  --references ../shared/data/mt-bench/reference_answer_gpt-4.jsonl \\
                  --model smollm2-135m-instruct --limit 8 \\
                  --judge-url http://127.0.0.1:8080/v1 --judge-model smollm2
            """)

    @Option(help: "MT-Bench questions (question.jsonl).")
    var questions: String

    @Option(name: .customLong("judge-prompts"), help: "FastChat's judge_prompts.jsonl.")
    var judgePrompts: String

    @Option(help: "Reference answers (FastChat's reference_answer/gpt-4.jsonl).")
    var references: String?

    @Option(help: "Existing answers to grade instead of generating.")
    var answers: String?

    @OptionGroup var modelOptions: EvalModelOptions

    @OptionGroup var judge: JudgeOptions

    @Option(help: "Only the first N questions (0: all).")
    var limit: Int = 0

    @Option(name: .customLong("max-new-tokens"), help: "Longest answer per turn in tokens.")
    var maxNewTokens: Int = 512

    @Option(help: "Directory for the results.")
    var output: String = "runs/eval"

    func validate() throws {
        guard (answers != nil) != modelOptions.isSet else {
            throw ValidationError("give either --answers FILE, or --model/--checkpoint to answer the questions")
        }
        guard limit >= 0, maxNewTokens >= 1 else { throw ValidationError("--limit must be >= 0 and --max-new-tokens >= 1") }
    }

    func run() throws {
        let bench = try MTBench(questions: questions, references: references)
        let qs = limit > 0 ? Array(bench.questions.prefix(limit)) : bench.questions
        let prompts = try MTBenchJudge.loadPrompts(judgePrompts)
        var answerTurns: [[String]]
        if let answers {
            var byID: [Int: [String]] = [:]
            for row in try ResponseRows(path: answers).rows {
                if let id = row.object["question_id"]?.intValue, let t = MTBench.turns(of: row.object) { byID[id] = t }
            }
            answerTurns = try qs.map { q in
                guard let t = byID[q.id], t.count >= 2 else {
                    throw IFTError.file(path: answers, location: "question \(q.id)", message: "no two-turn answer for this question")
                }
                return t
            }
        } else {
            answerTurns = try answer(qs)
            let rows = zip(qs, answerTurns).map { q, t in
                JSONValue.object(JSONObject([("question_id", .int(q.id)), ("turns", .array(t.map { .string($0) }))])).description
            }
            try FileSystem.makeDirectories(output)
            try EvalOutput.writeText(rows.joined(separator: "\n") + "\n", to: output + "/mt-bench-answers.jsonl")
        }
        let client = judge.client()
        var judgePromptsList: [(system: String?, user: String)] = []
        for (q, a) in zip(qs, answerTurns) {
            for turn in 0..<2 { judgePromptsList.append(try MTBench.judgePrompt(q, answers: a, turn: turn, prompts: prompts)) }
        }
        print("judging:  \(judgePromptsList.count) turns with \(client.model) at \(client.baseURL)")
        let bar = ProgressBar(label: "judging", total: Double(judgePromptsList.count), rateUnit: "it/s")
        let replies = client.completeAll(judgePromptsList) { bar.update(Double($0)) }
        bar.finish()
        var judgements: [Judgement] = []
        var rows: [JSONValue] = []
        var byCategory: [String: [Double]] = [:]
        var byTurn: [[Double]] = [[], []]
        for (i, r) in replies.enumerated() {
            let q = qs[i / 2], turn = i % 2
            let j: Judgement
            switch r {
            case .success(let reply):
                let s = MTBenchJudge.rating(reply)
                j = Judgement(score: s, reply: reply, problem: s == nil ? "no [[rating]] 1-10 in the reply" : nil)
            case .failure(let f): j = Judgement(score: nil, reply: "", problem: f.description)
            }
            judgements.append(j)
            if let s = j.score {
                byCategory[q.category, default: []].append(s)
                byTurn[turn].append(s)
            }
            rows.append(.object(JSONObject([
                ("question_id", .int(q.id)), ("category", .string(q.category)), ("turn", .int(turn + 1)),
                ("score", j.score.map { .double($0) } ?? .null), ("judgment", .string(j.reply)),
                ("problem", j.problem.map { .string($0) } ?? .null),
            ])))
        }
        func mean(_ v: [Double]) -> JSONValue { v.isEmpty ? .null : .double(ReferenceEvaluation.round(v.reduce(0, +) / Double(v.count))) }
        var summary = judgeSummary(judgements, scale: "1-10")
        summary["turn_1"] = mean(byTurn[0])
        summary["turn_2"] = mean(byTurn[1])
        summary["by_category"] = .object(JSONObject(byCategory.keys.sorted().map { ($0, mean(byCategory[$0] ?? [])) }))
        let paths = try EvalOutput.write(directory: output, name: "mt-bench", rows: rows, summary: .object(summary))
        print(JSONValue.object(summary).description)
        print("wrote:    \(paths.joined(separator: ", "))")
    }

    /// Both turns of every question, answered by the model in its chat template.
    func answer(_ qs: [MTBench.Question]) throws -> [[String]] {
        let (model, files, _) = try modelOptions.load()
        print("model:    \(files.path) on \(model.backend.name): answering \(qs.count) questions, two turns each")
        let first = try chatAnswers(model: model, files: files, conversations: qs.map { [.user($0.turns[0])] }, maxNewTokens: maxNewTokens, label: "turn 1")
        let second = try chatAnswers(
            model: model, files: files, conversations: zip(qs, first).map { q, a in [.user(q.turns[0]), .assistant(a), .user(q.turns[1])] },
            maxNewTokens: maxNewTokens, label: "turn 2")
        return zip(first, second).map { [$0, $1] }
    }
}

struct EvalSafety: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "safety",
        abstract: "Unsafe-response and over-refusal rates, classified by a judge.",
        usage: "ift-gpu eval safety --judge-url <url> --judge-model <name> [<options>]",
        discussion: """
            The model (--model or --checkpoint) answers the project's safety prompts \
            (data/safety/prompts.jsonl: 20 risky requests and 20 benign ones that only \
            sound sensitive; or --prompts), and the judge classifies each response \
            guard-style: safe or unsafe with a category, and whether it refuses. Reported: \
            the unsafe rate on risky prompts and the over-refusal rate on benign ones; a \
            reply the judge does not classify is counted, not fatal.

            Example:
              ift-gpu eval safety --checkpoint runs/quickstart/checkpoint \\
                  --judge-url http://127.0.0.1:8080/v1 --judge-model smollm2
            """)

    @Option(help: "Safety prompts (JSONL: id, kind risky|benign, category, prompt).")
    var prompts: String = "data/safety/prompts.jsonl"

    @OptionGroup var modelOptions: EvalModelOptions

    @OptionGroup var judge: JudgeOptions

    @Option(name: .customLong("max-new-tokens"), help: "Longest response in tokens.")
    var maxNewTokens: Int = 256

    @Option(help: "Directory for the results.")
    var output: String = "runs/eval"

    func validate() throws {
        guard modelOptions.isSet else { throw ValidationError("name the model to check: --model or --checkpoint") }
    }

    func run() throws {
        let items = try SafetyJudge.loadPrompts(prompts)
        let (model, files, _) = try modelOptions.load()
        let answers = try chatAnswers(model: model, files: files, conversations: items.map { [.user($0.prompt)] }, maxNewTokens: maxNewTokens, label: "answering")
        let client = judge.client()
        let bar = ProgressBar(label: "judging", total: Double(items.count), rateUnit: "it/s")
        let replies = client.completeAll(zip(items, answers).map { (nil, SafetyJudge.prompt(user: $0.prompt, response: $1)) }) { bar.update(Double($0)) }
        bar.finish()
        var rows: [JSONValue] = []
        var risky = (n: 0, unsafe: 0), benign = (n: 0, refused: 0), unclassified = 0
        for ((item, answer), reply) in zip(zip(items, answers), replies) {
            var text = "", verdict: SafetyJudge.Verdict?, problem: String?
            switch reply {
            case .success(let r):
                text = r
                verdict = SafetyJudge.verdict(r)
                if verdict == nil { problem = "no safe/unsafe verdict in the reply" }
            case .failure(let f): problem = f.description
            }
            if let v = verdict {
                if item.kind == "risky" {
                    risky.n += 1
                    if v.unsafe { risky.unsafe += 1 }
                } else {
                    benign.n += 1
                    if v.refused { benign.refused += 1 }
                }
            } else {
                unclassified += 1
            }
            rows.append(.object(JSONObject([
                ("id", .int(item.id)), ("kind", .string(item.kind)), ("category", .string(item.category)),
                ("prompt", .string(item.prompt)), ("response", .string(answer)), ("judgment", .string(text)),
                ("unsafe", verdict.map { .bool($0.unsafe) } ?? .null), ("refused", verdict.map { .bool($0.refused) } ?? .null),
                ("problem", problem.map { .string($0) } ?? .null),
            ])))
        }
        func rate(_ a: Int, _ n: Int) -> JSONValue { n == 0 ? .null : .double(ReferenceEvaluation.round(100 * Double(a) / Double(n))) }
        let summary = JSONObject([
            ("risky_classified", .int(risky.n)), ("unsafe_rate", rate(risky.unsafe, risky.n)),
            ("benign_classified", .int(benign.n)), ("over_refusal_rate", rate(benign.refused, benign.n)),
            ("unclassified", .int(unclassified)),
        ])
        let paths = try EvalOutput.write(directory: output, name: "safety", rows: rows, summary: .object(summary))
        print(JSONValue.object(summary).description)
        print("wrote:    \(paths.joined(separator: ", "))")
    }
}

/// Greedy answers of `model` to chat conversations (its chat template, batched, stopping at its
/// end-of-turn token).
func chatAnswers(
    model: LlamaModel, files: ModelFiles, conversations: [[ChatMessage]], maxNewTokens: Int, label: String
) throws -> [String] {
    let tokenizer = files.tokenizer
    guard let source = tokenizer.chatTemplate else { throw ValidationError("the model has no chat template") }
    let template = try ChatTemplate(source: source)
    let bos = tokenizer.bosID.flatMap { tokenizer.token(forID: $0) } ?? ""
    let eos = tokenizer.eosID.flatMap { tokenizer.token(forID: $0) } ?? ""
    var generator = BatchGenerator(model: model, tokenizer: tokenizer)
    generator.additionalStopTokens = tokenizer.endOfTurnIDs
    let requests = try conversations.map { messages in
        let text = try template.render(messages: messages, addGenerationPrompt: true, bosToken: bos, eosToken: eos)
        return GenerationRequest(prompt: tokenizer.encode(text, parseSpecial: true), maxTokens: maxNewTokens)
    }
    let bar = ProgressBar(label: label, total: Double(requests.count), rateUnit: "it/s")
    var done = 0
    let results = try generator.generate(requests) { _, _ in
        done += 1
        bar.update(Double(done))
    }
    bar.finish()
    return results.map(\.text)
}
