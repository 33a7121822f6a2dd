import IFTCore
import IFTEval
import IFTModel

/// A candidate row, or why a method could not make one (the reason is counted).
public typealias Candidate = Result<SynthRow, Rejection>

public struct Rejection: Error, Sendable, Equatable {
    public var reason: String
    public init(_ reason: String) { self.reason = reason }
}

/// A data-generation method (Magpie, Self-Instruct, from-text): turns attempt numbers into
/// candidate rows through a `TextGenerator`. Each attempt's sampling seed derives from the run's
/// seed and the attempt number, so a run is reproducible and a resumed run goes on with new ones.
public protocol SynthMethod {
    var name: String { get }
    /// Adds what duplicates must also be checked against (e.g. the seed tasks) to the filter.
    func prime(_ filter: inout QualityFilter)
    /// Candidates for these attempts (one per attempt or fewer), generated in batches. `filter`
    /// holds the rows accepted so far, for early checks (e.g. of an instruction before its answer
    /// is generated). `onProgress(done, total)` follows the generation requests.
    mutating func candidates(
        attempts: Range<Int>, generator: TextGenerator, filter: QualityFilter, onProgress: (Int, Int) -> Void
    ) throws -> [Candidate]
    /// A row was accepted (or read back when resuming).
    mutating func accepted(_ row: SynthRow)
}

/// Seeds of one attempt's generation requests.
public enum SynthSeeds {
    /// The seed of `attempt` in a run seeded `seed` (recorded in the row's provenance).
    public static func attempt(_ seed: UInt64, _ attempt: Int) -> UInt64 { seed &+ UInt64(attempt) }
    /// A request's sampling seed: the attempt's seed mixed with the stage (instruction, response, turn).
    public static func stage(_ attemptSeed: UInt64, _ stage: Int) -> UInt64 {
        var g = SeededGenerator(seed: attemptSeed ^ (UInt64(stage) &* 0xD6E8_FEB8_6659_FD93))
        return g.next()
    }
}

/// Sampling settings as provenance JSON.
public func samplingJSON(_ s: SamplingOptions, maxTokens: Int) -> JSONValue {
    .object(JSONObject([
        ("temperature", .double(Double(s.temperature))), ("top_p", .double(Double(s.topP))), ("top_k", .int(s.topK)),
        ("max_tokens", .int(maxTokens)),
    ]))
}

/// An optional judge of generated rows: an LLM behind `JudgeClient` rates each instruction and
/// response 0-100; rows below `minScore` are rejected. A reply without a score or a failed call
/// does not stop the run: the row is kept and counted as unjudged.
public struct RowJudge {
    public var client: JudgeClient
    public var minScore: Double

    public init(client: JudgeClient, minScore: Double) {
        self.client = client
        self.minScore = minScore
    }

    public static func prompt(_ row: SynthRow) -> String {
        "Rate the quality of this instruction and response for training an AI assistant: is the instruction clear and "
            + "sensible, and does the response answer it correctly and helpfully?\n\n[Instruction]\n\(row.firstUserMessage)\n\n"
            + "[Response]\n\(row.output)\n\nScore it on a scale from 0 to 100, where 100 is the best score. Respond with the integer number only."
    }

    /// The score of each row (nil when the judge failed or gave none).
    public func scores(_ rows: [SynthRow]) -> [Double?] {
        let replies = client.completeAll(rows.map { (system: nil, user: Self.prompt($0)) })
        return rows.indices.map { i in
            guard i < replies.count, case .success(let reply) = replies[i] else { return nil }
            return Chapter7Judge.score(reply)
        }
    }
}

/// The loop every method shares: resume from the output file, generate candidates in batches of
/// attempts, filter them, optionally judge them, write the file after each batch, until `target`
/// rows or `maxAttempts` attempts.
public struct SynthRunner {
    public var output: SynthOutput
    public var target: Int
    public var seed: UInt64
    /// Attempts per batch (each batch's requests decode together).
    public var batch = 64
    /// Stop after this many attempts in this run, even short of `target` (0: 20 x target).
    public var maxAttempts = 0
    /// Start no new batch after this many seconds (0: no limit); a rerun continues.
    public var maxSeconds = 0.0
    public var filter: QualityFilter
    public var judge: RowJudge?
    /// Shows a progress bar on standard error.
    public var showProgress = true

    public init(output: SynthOutput, target: Int, seed: UInt64, filter: QualityFilter = QualityFilter()) {
        self.output = output
        self.target = target
        self.seed = seed
        self.filter = filter
    }

    public struct Summary: Sendable {
        /// Rows in the file at the start (resumed) and at the end.
        public var resumed: Int
        public var rows: Int
        public var attempts: Int
        public var rejections: RejectionCounts
        /// Rows the judge gave no score (kept).
        public var unjudged: Int
        public var seconds: Double
        public var newRows: Int { rows - resumed }
        public var rowsPerSecond: Double { seconds > 0 ? Double(newRows) / seconds : 0 }
    }

    public mutating func run<M: SynthMethod>(_ method: inout M, generator: TextGenerator) throws -> Summary {
        var rows = try output.read()
        method.prime(&filter)
        // Rows already written join the pools (a resumed run adds no duplicates of them); attempts
        // go on after the highest one recorded.
        var nextAttempt = 0
        for r in rows {
            filter.pool(instruction: r.instruction, input: r.input)
            method.accepted(r)
            if let a = r.provenance["attempt"]?.intValue { nextAttempt = max(nextAttempt, a + 1) }
        }
        let resumed = rows.count
        var rejections = RejectionCounts()
        var unjudged = 0
        var attempts = 0
        let limit = maxAttempts > 0 ? maxAttempts : 20 * max(target, 1)
        let bar = showProgress && rows.count < target ? ProgressBar(label: method.name, total: Double(target - resumed), rateUnit: "rows/s") : nil
        let clock = ContinuousClock()
        let start = clock.now
        while rows.count < target && attempts < limit {
            if maxSeconds > 0, ProgressBar.seconds(clock.now - start) >= maxSeconds { break }
            let n = min(batch, limit - attempts)
            let range = nextAttempt..<(nextAttempt + n)
            let candidates = try method.candidates(attempts: range, generator: generator, filter: filter) { _, _ in }
            nextAttempt += n
            attempts += n
            var fresh: [SynthRow] = []
            for c in candidates {
                switch c {
                case .failure(let r): rejections.add(r.reason)
                case .success(let row):
                    if let why = filter.admit(row) { rejections.add(why) } else { fresh.append(row) }
                }
            }
            if let judge, !fresh.isEmpty {
                let scores = judge.scores(fresh)
                var kept: [SynthRow] = []
                for (row, score) in zip(fresh, scores) {
                    var row = row
                    if let score {
                        row.provenance["judge_score"] = .double(score)
                        if score < judge.minScore {
                            rejections.add("judge score below \(ProgressBar.fixed(judge.minScore, 0))")
                            continue
                        }
                    } else {
                        unjudged += 1
                    }
                    kept.append(row)
                }
                fresh = kept
            }
            for row in fresh where rows.count < target {
                rows.append(row)
                method.accepted(row)
            }
            try output.write(rows)
            if let bar {
                bar.extra = "rejected \(rejections.total)" + (rejections.total > 0 ? " (\(rejections))" : "")
                bar.update(Double(rows.count - resumed))
            }
        }
        bar?.finish(at: Double(rows.count - resumed))
        return Summary(
            resumed: resumed, rows: rows.count, attempts: attempts, rejections: rejections, unjudged: unjudged,
            seconds: ProgressBar.seconds(clock.now - start))
    }
}
