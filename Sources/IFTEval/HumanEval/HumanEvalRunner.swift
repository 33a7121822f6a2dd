import IFTCore
import IFTModel

/// One completion to score, as a row of human-eval's `samples.jsonl`.
public struct HumanEvalSample: Equatable, Sendable {
    public var taskID: String
    public var completion: String
    /// The 1-based line of the samples file it came from (0 when made in code).
    public var line: Int

    public init(taskID: String, completion: String, line: Int = 0) {
        self.taskID = taskID
        self.completion = completion
        self.line = line
    }
}

/// A completions file: JSONL rows with string fields `task_id` and `completion` (other fields are
/// ignored), several rows per task allowed (n samples for pass@k). Plain or gzip.
public struct HumanEvalSamples: Sendable {
    /// The file the samples came from (named in error messages).
    public let path: String
    public var samples: [HumanEvalSample]

    /// Reads `path`; a malformed line or a missing or non-string field is an `IFTError.file`
    /// naming the file and line.
    public init(path: String) throws {
        var samples: [HumanEvalSample] = []
        for (line, object) in try JSONLines.read(path: path) {
            func field(_ key: String) throws -> String { try JSONLines.string(key, of: object, path: path, line: line) }
            samples.append(HumanEvalSample(taskID: try field("task_id"), completion: try field("completion"), line: line))
        }
        guard !samples.isEmpty else { throw IFTError.file(path: path, location: "1", message: "no samples in the file") }
        self.path = path
        self.samples = samples
    }

    /// Samples made in code; `name` stands for the path in messages.
    public init(_ samples: [HumanEvalSample], name: String = "<samples>") {
        path = name
        self.samples = samples
    }
}

/// The result of one sample, as a row of human-eval's `<samples>_results.jsonl`.
public struct HumanEvalSampleResult: Sendable {
    public var taskID: String
    public var completion: String
    public var execution: HumanEvalExecution

    public var outcome: HumanEvalOutcome { execution.outcome }
    public var passed: Bool { execution.outcome.passed }
    /// "passed", "failed: <exception line>", "timed out" or "launcher failed: ...".
    public var result: String { execution.outcome.description }

    /// `{"task_id", "completion", "result", "passed"}`.
    public var row: JSONValue {
        .object(JSONObject([
            ("task_id", .string(taskID)), ("completion", .string(completion)), ("result", .string(result)),
            ("passed", .bool(passed)),
        ]))
    }
}

/// What a set of samples scored.
public struct HumanEvalSummary: Sendable, CustomStringConvertible {
    /// Problems with at least one sample, and problems in the problems file.
    public var problemsAttempted: Int
    public var problemsTotal: Int
    public var samples: Int
    /// The fewest and the most samples any attempted problem has.
    public var samplesPerProblem: ClosedRange<Int>
    /// pass@k, mean over the attempted problems, for each requested k that every problem's sample
    /// count allows (k <= n), in increasing k.
    public var passAtK: [(k: Int, value: Double)]
    public var passed: Int
    public var failed: Int
    public var timedOut: Int
    public var launcherFailed: Int
    public var containment: HumanEvalContainment

    public var description: String {
        let perProblem = samplesPerProblem.lowerBound == samplesPerProblem.upperBound
            ? "\(samplesPerProblem.lowerBound)" : "\(samplesPerProblem.lowerBound)-\(samplesPerProblem.upperBound)"
        let scores = passAtK.map { "pass@\($0.k) \(ProgressBar.fixed($0.value * 100, 2))%" }.joined(separator: ", ")
        return "HumanEval: \(problemsAttempted)/\(problemsTotal) problems, \(samples) samples (\(perProblem) per problem): "
            + "\(scores); \(passed) passed, \(failed) failed, \(timedOut) timed out"
            + (launcherFailed > 0 ? ", \(launcherFailed) launcher failures" : "") + " (containment: \(containment))"
    }
}

/// Per-sample results in sample order, and the summary.
public struct HumanEvalReport: Sendable {
    public var results: [HumanEvalSampleResult]
    public var summary: HumanEvalSummary

    /// Writes the per-sample rows as JSONL (human-eval's `_results.jsonl`).
    public func writeResults(to path: String) throws {
        try JSONLines.write(results.map(\.row), to: path)
    }
}

/// Scores completions: each program runs in `sandbox`, many at once.
public struct HumanEvalRunner: Sendable {
    public var sandbox: HumanEvalSandbox
    /// How many programs run at once.
    public var workers: Int

    /// `workers` defaults to the online cores.
    public init(sandbox: HumanEvalSandbox, workers: Int? = nil) {
        self.sandbox = sandbox
        self.workers = max(1, workers ?? ChildProcess.availableCores)
    }

    /// Runs `programs` concurrently; the executions are in the order of `programs`.
    public func run(_ programs: [String]) throws -> [HumanEvalExecution] {
        try WorkerThreads.map(programs.count, workers: workers) { try sandbox.run(programs[$0]) }
    }

    /// Scores every sample against its problem, and pass@k for the `ks` the sample counts allow.
    /// All task ids are checked before anything runs: an unknown one is an `IFTError.file` naming
    /// the samples file and line.
    public func evaluate(_ samples: HumanEvalSamples, problems: HumanEvalProblems, ks: [Int] = [1, 10, 100]) throws -> HumanEvalReport {
        guard !samples.samples.isEmpty else { throw IFTError.file(path: samples.path, location: "1", message: "no samples") }
        var programs: [String] = []
        programs.reserveCapacity(samples.samples.count)
        for sample in samples.samples {
            guard let problem = problems[sample.taskID] else {
                throw IFTError.file(
                    path: samples.path, location: "\(sample.line)",
                    message: "unknown task_id '\(sample.taskID)' (\(problems.path) has \(problems.taskIDRange))")
            }
            programs.append(problem.program(completion: sample.completion))
        }
        let executions = try run(programs)
        let results = zip(samples.samples, executions).map {
            HumanEvalSampleResult(taskID: $0.taskID, completion: $0.completion, execution: $1)
        }
        return HumanEvalReport(results: results, summary: try summarize(results, problemsTotal: problems.problems.count, ks: ks))
    }

    /// Scores each problem's canonical solution (all of them should pass).
    public func evaluateCanonicalSolutions(_ problems: HumanEvalProblems) throws -> HumanEvalReport {
        let samples = problems.problems.map { HumanEvalSample(taskID: $0.taskID, completion: $0.canonicalSolution) }
        return try evaluate(HumanEvalSamples(samples, name: problems.path), problems: problems, ks: [1])
    }

    /// Reads a samples file and a problems file, scores the samples, and writes the per-sample
    /// results to `resultsPath` (default: the samples path + "_results.jsonl", as human-eval does).
    public func scoreFile(samples samplesPath: String, problems problemsPath: String, results resultsPath: String? = nil,
                          ks: [Int] = [1, 10, 100]) throws -> HumanEvalReport {
        let problems = try HumanEvalProblems(path: problemsPath)
        let samples = try HumanEvalSamples(path: samplesPath)
        let report = try evaluate(samples, problems: problems, ks: ks)
        try report.writeResults(to: resultsPath ?? samplesPath + "_results.jsonl")
        return report
    }

    private func summarize(_ results: [HumanEvalSampleResult], problemsTotal: Int, ks: [Int]) throws -> HumanEvalSummary {
        var order: [String] = []
        var counts: [String: (samples: Int, correct: Int)] = [:]
        var passed = 0, failed = 0, timedOut = 0, launcherFailed = 0
        for r in results {
            if counts[r.taskID] == nil { order.append(r.taskID) }
            var c = counts[r.taskID] ?? (0, 0)
            c.samples += 1
            switch r.outcome {
            case .passed:
                c.correct += 1
                passed += 1
            case .failed: failed += 1
            case .timedOut: timedOut += 1
            case .launcherFailed: launcherFailed += 1
            }
            counts[r.taskID] = c
        }
        let perProblem = order.compactMap { counts[$0] }
        let fewest = perProblem.map(\.samples).min() ?? 0
        let most = perProblem.map(\.samples).max() ?? 0
        var passAtK: [(k: Int, value: Double)] = []
        for k in Set(ks).sorted() where k >= 1 && k <= fewest {
            passAtK.append((k, try PassAtK.mean(perProblem, k: k)))
        }
        return HumanEvalSummary(
            problemsAttempted: order.count, problemsTotal: problemsTotal, samples: results.count,
            samplesPerProblem: fewest...most, passAtK: passAtK, passed: passed, failed: failed, timedOut: timedOut,
            launcherFailed: launcherFailed, containment: sandbox.containment)
    }
}
