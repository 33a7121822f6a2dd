import IFTCore
import IFTModel

/// One HumanEval problem: a Python function signature with its docstring, and the tests that a
/// completion of its body must pass.
public struct HumanEvalProblem: Equatable, Sendable {
    /// "HumanEval/0" ... "HumanEval/163".
    public var taskID: String
    /// The function header and docstring the model completes.
    public var prompt: String
    /// The reference body (which, appended to `prompt`, passes `test`).
    public var canonicalSolution: String
    /// Python source defining `check(candidate)`.
    public var test: String
    /// The name of the function under test.
    public var entryPoint: String

    public init(taskID: String, prompt: String, canonicalSolution: String, test: String, entryPoint: String) {
        self.taskID = taskID
        self.prompt = prompt
        self.canonicalSolution = canonicalSolution
        self.test = test
        self.entryPoint = entryPoint
    }

    /// The program that checks `completion`, exactly as the official harness builds it:
    /// `prompt + completion + "\n" + test + "\n" + "check(<entry_point>)\n"`.
    public func program(completion: String) -> String {
        prompt + completion + "\n" + test + "\n" + "check(\(entryPoint))\n"
    }
}

/// The problems of a HumanEval file (`HumanEval.jsonl.gz`, gzip or plain JSONL), in file order.
public struct HumanEvalProblems: Sendable {
    /// The file the problems came from (named in error messages).
    public let path: String
    public let problems: [HumanEvalProblem]
    private let indexByTaskID: [String: Int]

    /// Reads `path`. A malformed line, a missing or non-string field, or a repeated `task_id` is an
    /// `IFTError.file` naming the file and line.
    public init(path: String) throws {
        var problems: [HumanEvalProblem] = []
        var index: [String: Int] = [:]
        var lineOf: [String: Int] = [:]
        for (line, object) in try JSONLines.read(path: path) {
            func field(_ key: String) throws -> String { try JSONLines.string(key, of: object, path: path, line: line) }
            let problem = HumanEvalProblem(
                taskID: try field("task_id"), prompt: try field("prompt"), canonicalSolution: try field("canonical_solution"),
                test: try field("test"), entryPoint: try field("entry_point"))
            if let first = lineOf[problem.taskID] {
                throw IFTError.file(
                    path: path, location: "\(line)", message: "task_id '\(problem.taskID)' repeats the problem on line \(first)")
            }
            lineOf[problem.taskID] = line
            index[problem.taskID] = problems.count
            problems.append(problem)
        }
        guard !problems.isEmpty else { throw IFTError.file(path: path, location: "1", message: "no problems in the file") }
        self.init(path: path, problems: problems, index: index)
    }

    /// Problems given directly (tests, or a subset of a file); `name` stands for the path in messages.
    /// Task ids must be unique.
    public init(problems: [HumanEvalProblem], name: String = "<problems>") throws {
        var index: [String: Int] = [:]
        for (i, p) in problems.enumerated() {
            guard index[p.taskID] == nil else { throw IFTError.invalidArgument("\(name): task_id '\(p.taskID)' appears twice") }
            index[p.taskID] = i
        }
        self.init(path: name, problems: problems, index: index)
    }

    private init(path: String, problems: [HumanEvalProblem], index: [String: Int]) {
        self.path = path
        self.problems = problems
        self.indexByTaskID = index
    }

    /// The problem with task id `taskID` ("HumanEval/0"), or nil.
    public subscript(taskID: String) -> HumanEvalProblem? {
        indexByTaskID[taskID].map { problems[$0] }
    }

    /// A short description of the task ids, for error messages: "164 problems, HumanEval/0 ... HumanEval/163".
    var taskIDRange: String {
        guard let first = problems.first?.taskID, let last = problems.last?.taskID else { return "no problems" }
        return problems.count == 1 ? "1 problem, \(first)" : "\(problems.count) problems, \(first) ... \(last)"
    }
}
