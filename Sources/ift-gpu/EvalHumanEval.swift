import ArgumentParser
import IFTCore
import IFTEval
import IFTModel

struct EvalHumanEval: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "humaneval",
        abstract: "HumanEval pass@k: completions run as Python tests in a sandbox.",
        usage: "ift-gpu eval humaneval --problems <file> [<options>]",
        discussion: """
            Scores an existing samples file (--samples: JSONL rows `task_id`, \
            `completion`, as human-eval's samples.jsonl; several rows per task give \
            pass@k), or lets a model write the completions first (--model or \
            --checkpoint; the problem's prompt is continued as raw text, stopping at a \
            new top-level `def`, `class`, `if`, `print` or `#` line, as the Codex paper \
            does; --n samples per problem, greedy for --n 1, else sampled at \
            --temperature).

            Each completion runs as prompt + completion + test + check(entry_point) in \
            its own python3 process: a throw-away working directory, a time limit \
            (--timeout), memory, CPU-time and file-size limits, no fork, subprocess or \
            writes outside its directory, and no network (a new network namespace where \
            the system allows it, else a socket guard). pass@k is the unbiased \
            estimator of the Codex paper.

            Examples:
              ift-gpu eval humaneval --problems \\
                  ../shared/data/humaneval/HumanEval.jsonl.gz --samples samples.jsonl
              ift-gpu eval humaneval --problems \\
                  ../shared/data/humaneval/HumanEval.jsonl.gz \\
                  --model smollm2-135m-instruct --limit 20
            """)

    @Option(help: "HumanEval problems (HumanEval.jsonl.gz or plain JSONL).")
    var problems: String

    @Option(help: "An existing samples file to score (JSONL: task_id, completion).")
    var samples: String?

    @OptionGroup var modelOptions: EvalModelOptions

    @Option(help: "Completions per problem when generating.")
    var n: Int = 1

    @Option(help: "Sampling temperature when --n > 1.")
    var temperature: Float = 0.8

    @Option(help: "Only the first N problems (0: all).")
    var limit: Int = 0

    @Option(name: .customLong("max-new-tokens"), help: "Longest completion in tokens.")
    var maxNewTokens: Int = 384

    @Option(help: "pass@k for these k (those that --n allows).")
    var k: String = "1,10,100"

    @Option(help: "Seconds each program may run.")
    var timeout: Int = 10

    @Option(help: "Directory for the results.")
    var output: String = "runs/eval"

    func validate() throws {
        guard (samples != nil) != modelOptions.isSet else {
            throw ValidationError("give either --samples FILE, or --model/--checkpoint to write completions")
        }
        guard n >= 1, limit >= 0, maxNewTokens >= 1, timeout >= 1 else {
            throw ValidationError("--n, --max-new-tokens and --timeout must be >= 1, --limit >= 0")
        }
        _ = try ks()
    }

    func ks() throws -> [Int] {
        let values = k.split(separator: ",").map { Int($0.trimmingCharacters(in: " ")) }
        guard !values.isEmpty, values.allSatisfy({ ($0 ?? 0) >= 1 }) else {
            throw ValidationError("--k takes positive integers separated by commas, e.g. 1,10")
        }
        return values.compactMap { $0 }
    }

    func run() throws {
        var problemSet = try HumanEvalProblems(path: problems)
        if limit > 0 {
            problemSet = try HumanEvalProblems(problems: Array(problemSet.problems.prefix(limit)), name: problems)
        }
        var config = HumanEvalSandbox.Configuration()
        config.timeLimit = .seconds(timeout)
        let runner = HumanEvalRunner(sandbox: try HumanEvalSandbox(configuration: config))
        try FileSystem.makeDirectories(output)
        let sampleSet: HumanEvalSamples
        if let samples {
            sampleSet = try HumanEvalSamples(path: samples)
        } else {
            let (model, files, _) = try modelOptions.load()
            let sampling = n == 1 ? SamplingOptions() : SamplingOptions(temperature: temperature, topP: 0.95, seed: 1)
            var requests: [GenerationRequest] = []
            var taskIDs: [String] = []
            for p in problemSet.problems {
                for i in 0..<n {
                    var s = sampling
                    s.seed = sampling.seed &+ UInt64(i) &* 7919
                    requests.append(GenerationRequest(
                        prompt: files.tokenizer.encode(p.prompt), maxTokens: maxNewTokens, sampling: s,
                        stop: ["\ndef ", "\nclass ", "\nif ", "\nprint(", "\n#"]))
                    taskIDs.append(p.taskID)
                }
            }
            print("model:    \(files.path) on \(model.backend.name): \(requests.count) completions (\(n) per problem)")
            let bar = ProgressBar(label: "completions", total: Double(requests.count), rateUnit: "it/s")
            var done = 0
            let results = try BatchGenerator(model: model, tokenizer: files.tokenizer).generate(requests) { _, _ in
                done += 1
                bar.update(Double(done))
            }
            bar.finish()
            let generated = zip(taskIDs, results).map { HumanEvalSample(taskID: $0, completion: $1.text) }
            try JSONLines.write(
                generated.map { .object(JSONObject([("task_id", .string($0.taskID)), ("completion", .string($0.completion))])) },
                to: output + "/humaneval-samples.jsonl")
            sampleSet = HumanEvalSamples(generated, name: output + "/humaneval-samples.jsonl")
        }
        print("running:  \(sampleSet.samples.count) programs, \(runner.workers) at a time, \(timeout) s each at most (containment: \(runner.sandbox.containment))")
        let report = try runner.evaluate(sampleSet, problems: problemSet, ks: try ks())
        let s = report.summary
        var summary = JSONObject()
        summary["problems"] = .int(s.problemsAttempted)
        summary["samples"] = .int(s.samples)
        for (k, v) in s.passAtK { summary["pass@\(k)"] = .double((v * 1e6).rounded() / 1e6) }
        summary["passed"] = .int(s.passed)
        summary["failed"] = .int(s.failed)
        summary["timed_out"] = .int(s.timedOut)
        summary["containment"] = .string("\(s.containment)")
        let paths = try EvalOutput.write(
            directory: output, name: "humaneval", rows: report.results.map(\.row), summary: .object(summary))
        print(s.description)
        print("wrote:    \(paths.joined(separator: ", "))")
    }
}

extension Substring {
    /// Without the leading and trailing characters in `set`.
    func trimmingCharacters(in set: String) -> Substring {
        var s = self
        while let f = s.first, set.contains(f) { s.removeFirst() }
        while let l = s.last, set.contains(l) { s.removeLast() }
        return s
    }
}
