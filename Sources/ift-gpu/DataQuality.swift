import ArgumentParser
import IFTCore
import IFTData
import IFTModel
import IFTSynth

/// `ift-gpu data inspect --quality`: the data-quality report (`QualityReport`) and the cleaned file.
struct QualityOptions: ParsableArguments {
    @Flag(help: "Report data quality: duplicates, split overlap, contamination with eval sets, empty/short/long responses, refusals, task types, languages.")
    var quality = false

    @Option(name: .customLong("write-clean"), help: "Write the rows that pass (no duplicates, empty responses, refusals or contaminated rows) to this .json/.jsonl file.")
    var writeClean: String?

    @Option(help: "IFEval prompts (input_data.jsonl) for the contamination check (default: ../shared/data/ifeval/input_data.jsonl when present).")
    var ifeval: String?

    @Option(name: .customLong("mt-bench"), help: "MT-Bench questions (question.jsonl) (default: ../shared/data/mt-bench/question.jsonl when present).")
    var mtBench: String?

    @Option(help: "HumanEval problems (HumanEval.jsonl[.gz]) (default: ../shared/data/humaneval/HumanEval.jsonl.gz when present).")
    var humaneval: String?

    @Option(name: .customLong("show"), help: "Examples of each finding to print.")
    var show: Int = 3

    /// The given path, else the first default that exists.
    static func path(_ given: String?, _ relative: String) -> String? {
        if let given { return given }
        return ["../shared/data/" + relative, "shared/data/" + relative].first(where: FileSystem.exists)
    }

    func evalSets() throws -> [EvalPrompts] {
        var sets: [EvalPrompts] = []
        if let p = Self.path(ifeval, "ifeval/input_data.jsonl") { sets.append(try .ifeval(p)) }
        if let p = Self.path(mtBench, "mt-bench/question.jsonl") { sets.append(try .mtBench(p)) }
        if let p = Self.path(humaneval, "humaneval/HumanEval.jsonl.gz") { sets.append(try .humanEval(p)) }
        return sets
    }

    func report(_ dataset: Dataset, file: String) throws {
        let sets = try evalSets()
        let r = QualityReport(examples: dataset.examples, evalSets: sets)
        let n = r.rows.count
        func pct(_ k: Int) -> String { "\(k) (\(ProgressBar.fixed(100 * Double(k) / Double(max(n, 1)), 1))%)" }
        func clip(_ s: String) -> String {
            let one = s.split(whereSeparator: \.isNewline).joined(separator: " ")
            return one.count > 90 ? String(one.prefix(87)) + "..." : one
        }
        func source(_ i: Int) -> String { dataset.examples[i].source.description }
        print("file:               \(file) (\(dataset.format.rawValue), \(n) rows)")
        print("exact duplicates:   \(pct(r.exactDuplicates.count)) (same prompt after lowercasing and collapsing whitespace)")
        for d in r.exactDuplicates.prefix(show) { print("  \(source(d.row)) repeats \(source(d.of)): \(clip(r.rows[d.row].prompt))") }
        print("near duplicates:    \(pct(r.nearDuplicates.count)) (MinHash Jaccard >= \(r.settings.nearThreshold) on word 3-grams; \(r.nearDuplicatesWithSameResponse) with the same response)")
        for d in r.nearDuplicates.prefix(show) {
            print("  \(source(d.row)) ~ \(source(d.of)) (\(ProgressBar.fixed(d.similarity, 2))): \(clip(r.rows[d.row].prompt)) | \(clip(r.rows[d.of].prompt))")
        }
        print("split overlap:      " + r.splitOverlap.map { "\($0.pair) \($0.rows)" }.joined(separator: ", ") + " (85/10/5 in file order)")
        print("contamination:      \(pct(Set(r.contamination.map(\.row)).count)) vs " + (sets.isEmpty ? "no eval sets (give --ifeval/--mt-bench/--humaneval)" : sets.map { "\($0.name) (\($0.prompts.count) prompts)" }.joined(separator: ", ")) + " (a shared \(r.settings.contaminationNGram)-word n-gram)")
        for c in r.contamination.prefix(show) {
            let evalPrompt = sets.first { $0.name == c.set }?.prompts[c.prompt] ?? ""
            print("  \(source(c.row)) ~ \(c.set) #\(c.prompt): \(clip(r.rows[c.row].prompt)) | \(clip(evalPrompt))")
        }
        print("empty responses:    \(pct(r.emptyResponses.count))")
        print("short responses:    \(pct(r.shortResponses.count)) (< \(r.settings.shortResponseWords) words)")
        for i in r.shortResponses.prefix(show) { print("  \(source(i)): \(clip(r.rows[i].prompt)) -> \(clip(r.rows[i].response).debugDescription)") }
        print("long responses:     \(pct(r.longResponses.count)) (> \(r.settings.longResponseChars) characters)")
        print("refusals:           \(pct(r.refusals.count))")
        for i in r.refusals.prefix(show) { print("  \(source(i)): \(clip(r.rows[i].response))") }
        print("task types:         " + r.taskTypes.map { "\($0.0) \($0.1)" }.joined(separator: ", "))
        print("languages:          " + r.languages.map { "\($0.0) \($0.1)" }.joined(separator: ", "))
        print("clean:              \(r.keep.count) rows kept, \(n - r.keep.count) dropped")
        if let out = writeClean {
            try CleanFile.write(r.keep.map { dataset.examples[$0] }, to: out)
            print("wrote:              \(out)")
        }
    }
}
