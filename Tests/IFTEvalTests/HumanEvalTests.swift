import Foundation
import IFTCore
import XCTest

@testable import IFTEval

/// HumanEval: problems files, the sandbox (each way a completion can go wrong fails cleanly and is
/// contained), pass@k, and scoring a samples file.
final class HumanEvalTests: XCTestCase {
    /// A fresh directory for this test's files; removed at teardown.
    var scratch = ""

    override func setUpWithError() throws {
        scratch = NSTemporaryDirectory() + "ift-humaneval-test-\(getpid())-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: scratch)
    }

    func write(_ text: String, _ name: String) throws -> String {
        let path = scratch + "/" + name
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// A sandbox whose run directories go to a directory of their own (checked empty afterwards).
    func sandbox(timeLimit: Duration = .seconds(10), memoryLimit: Int = 2 << 30, network: HumanEvalSandbox.NetworkPolicy = .automatic)
        throws -> (HumanEvalSandbox, runs: String)
    {
        let runs = scratch + "/runs-\(network.rawValue)"
        try FileManager.default.createDirectory(atPath: runs, withIntermediateDirectories: true)
        var c = HumanEvalSandbox.Configuration()
        c.timeLimit = timeLimit
        c.memoryLimit = memoryLimit
        c.network = network
        c.temporaryDirectory = runs
        return (try HumanEvalSandbox(configuration: c), runs)
    }

    func fixtureProblems() throws -> HumanEvalProblems {
        try HumanEvalProblems(path: EvalTestSupport.fixture("humaneval/problems.jsonl"))
    }

    // MARK: Problems files

    func testProblemsFilesPlainAndGzip() throws {
        let plain = try fixtureProblems()
        // Two gzip members, as `cat a.gz b.gz` makes.
        let gzip = try HumanEvalProblems(path: EvalTestSupport.fixture("humaneval/problems.jsonl.gz"))
        XCTAssertEqual(plain.problems.map(\.taskID), ["Fixture/0", "Fixture/1"])
        XCTAssertEqual(plain.problems, gzip.problems)
        let add = try XCTUnwrap(plain["Fixture/0"])
        XCTAssertEqual(add.entryPoint, "add")
        XCTAssertEqual(
            add.program(completion: "    return a + b"),
            add.prompt + "    return a + b" + "\n" + add.test + "\n" + "check(add)\n")
        XCTAssertNil(plain["HumanEval/0"])

        let all = try HumanEvalProblems(path: try EvalTestSupport.sharedData("humaneval/HumanEval.jsonl.gz"))
        XCTAssertEqual(all.problems.count, 164)
        XCTAssertEqual(all.problems.first?.taskID, "HumanEval/0")
        XCTAssertEqual(all.problems.last?.taskID, "HumanEval/163")
    }

    func testBadProblemsFilesNameTheLine() throws {
        let good = try String(contentsOfFile: EvalTestSupport.fixture("humaneval/problems.jsonl"), encoding: .utf8)
        let firstLine = String(good.split(separator: "\n")[0])
        XCTAssertThrowsError(try HumanEvalProblems(path: try write(firstLine + "\n{\"task_id\": \n", "p1.jsonl"))) { e in
            XCTAssertTrue("\(e)".contains("p1.jsonl:2"), "\(e)")
        }
        XCTAssertThrowsError(try HumanEvalProblems(path: try write(firstLine + "\n\n{\"task_id\": \"X\", \"prompt\": \"p\"}\n", "p2.jsonl"))) { e in
            XCTAssertTrue("\(e)".contains("p2.jsonl:3: missing field 'canonical_solution'"), "\(e)")
        }
        XCTAssertThrowsError(try HumanEvalProblems(path: try write(firstLine + "\n" + firstLine + "\n", "p3.jsonl"))) { e in
            XCTAssertTrue("\(e)".contains("p3.jsonl:2: task_id 'Fixture/0' repeats the problem on line 1"), "\(e)")
        }
        XCTAssertThrowsError(try HumanEvalProblems(path: try write("[1]\n", "p4.jsonl"))) { e in
            XCTAssertTrue("\(e)".contains("p4.jsonl:1: expected a JSON object, found an array"), "\(e)")
        }
        let truncated = try Data(contentsOf: URL(fileURLWithPath: EvalTestSupport.fixture("humaneval/problems.jsonl.gz"))).prefix(100)
        let truncatedPath = scratch + "/p5.jsonl.gz"
        try truncated.write(to: URL(fileURLWithPath: truncatedPath))
        XCTAssertThrowsError(try HumanEvalProblems(path: truncatedPath)) { e in
            XCTAssertTrue("\(e)".contains("p5.jsonl.gz:gzip:"), "\(e)")
        }
    }

    // MARK: The canonical solutions

    func testCanonicalSolutionsAllPass() throws {
        let problems = try HumanEvalProblems(path: try EvalTestSupport.sharedData("humaneval/HumanEval.jsonl.gz"))
        let (sandbox, runs) = try sandbox()
        let runner = HumanEvalRunner(sandbox: sandbox)
        let start = Date()
        let report = try runner.evaluateCanonicalSolutions(problems)
        let seconds = Date().timeIntervalSince(start)
        print("HumanEval canonical solutions: \(report.summary) in \(String(format: "%.1f", seconds)) s on \(runner.workers) workers")
        for r in report.results where !r.passed { XCTFail("\(r.taskID): \(r.result)\n\(r.execution.stderr)") }
        XCTAssertEqual(report.summary.passed, 164)
        XCTAssertEqual(report.summary.problemsAttempted, 164)
        XCTAssertEqual(report.summary.passAtK.map(\.k), [1])
        XCTAssertEqual(report.summary.passAtK.first?.value, 1.0)
        XCTAssertEqual(report.results.map(\.taskID), problems.problems.map(\.taskID), "results keep the sample order")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: runs), [], "run directories are removed")
    }

    // MARK: Failures, contained

    func testEachKindOfFailureIsCleanAndContained() throws {
        let problems = try fixtureProblems()
        let add = try XCTUnwrap(problems["Fixture/0"])
        let outside = scratch + "/outside"
        try FileManager.default.createDirectory(atPath: outside, withIntermediateDirectories: true)
        let listener = try TCPListener()
        defer { listener.close() }
        let body = "    import os\n    print('pid', os.getpid(), 'cwd', os.getcwd(), flush=True)\n"
        let cases: [(name: String, completion: String, expect: (HumanEvalOutcome) -> Bool)] = [
            ("correct", "    return a + b\n", { $0 == .passed }),
            ("empty", "", { $0 == .failed("AssertionError") }),
            ("syntax error", "    return a +* b\n", { $0.description.hasPrefix("failed: SyntaxError: invalid syntax") }),
            ("infinite loop", body + "    while True:\n        pass\n", { $0 == .timedOut }),
            ("network", body + "    import socket\n    socket.create_connection(('127.0.0.1', \(listener.port)), timeout=1)\n    return a + b\n",
             { $0.description.hasPrefix("failed: ") }),
            ("write outside", body + "    open('\(outside)/escaped.txt', 'w').write('x')\n    return a + b\n",
             { $0.description.hasPrefix("failed: PermissionError: sandbox: writing outside the working directory") }),
            ("write to parent", body + "    open('../escaped.txt', 'w').write('x')\n    return a + b\n",
             { $0.description.hasPrefix("failed: PermissionError: sandbox: writing outside the working directory") }),
            ("write inside", body + "    open('inside.txt', 'w').write('x')\n    os.makedirs('sub', exist_ok=True)\n    open('sub/f', 'w').write('y')\n    return a + b\n",
             { $0 == .passed }),
            ("subprocess", body + "    import subprocess\n    subprocess.run(['touch', '\(outside)/spawned'])\n    return a + b\n",
             { $0 == .failed("PermissionError: sandbox: subprocess.Popen is not allowed") }),
            ("os.system", body + "    os.system('touch \(outside)/system')\n    return a + b\n",
             { $0 == .failed("PermissionError: sandbox: os.system is not allowed") }),
            ("fork", body + "    os.fork()\n    return a + b\n", { $0 == .failed("PermissionError: sandbox: os.fork is not allowed") }),
            ("sys.exit(0) before the tests", "    return a + b\nimport sys\nsys.exit(0)\n", { $0 == .failed("SystemExit: 0") }),
            ("os._exit(0) before the tests", "    return a + b\nimport os\nos._exit(0)\n",
             { $0 == .failed("the process exited with status 0 before the tests finished") }),
            ("output flood", "    return a + b\nprint('x' * 10_000_000)\n", { $0 == .passed }),
            ("memory hog", body + "    hog = []\n    while True:\n        hog.append(bytearray(1 << 20))\n", { $0 == .failed("MemoryError") }),
        ]
        for network in [HumanEvalSandbox.NetworkPolicy.automatic, .pythonGuard] {
            let (sandbox, runs) = try sandbox(timeLimit: .seconds(2), memoryLimit: 256 << 20, network: network)
            let runner = HumanEvalRunner(sandbox: sandbox, workers: 4)
            let start = Date()
            let executions = try runner.run(cases.map { add.program(completion: $0.completion) })
            let seconds = Date().timeIntervalSince(start)
            print("\(cases.count) contained failures (\(sandbox.containment)) in \(String(format: "%.1f", seconds)) s")
            XCTAssertLessThan(seconds, 8, "the infinite loop is cut at 2 s")
            for (c, e) in zip(cases, executions) {
                XCTAssertTrue(c.expect(e.outcome), "\(c.name) (\(sandbox.containment)): \(e.outcome)\nstderr: \(e.stderr)")
                XCTAssertFalse(FileManager.default.fileExists(atPath: e.workingDirectory), "\(c.name): run directory left behind")
                if c.name == "network" {
                    let expected = sandbox.containment == .networkNamespace
                        ? "failed: OSError: [Errno 101] Network is unreachable" : "failed: PermissionError: sandbox: network access"
                    XCTAssertTrue(e.outcome.description.hasPrefix(expected), "\(e.outcome)")
                }
                if c.completion.hasPrefix(body) {
                    // The program said its pid and directory: the process (group) is gone, the
                    // directory too.
                    let words = e.stdout.split(separator: " ")
                    XCTAssertEqual(words.first, "pid", "\(c.name): stdout \(e.stdout)")
                    let pid = try XCTUnwrap(words.count > 1 ? Int32(words[1]) : nil, "\(c.name): stdout \(e.stdout)")
                    XCTAssertEqual(pid, e.processID)
                    XCTAssertEqual(kill(pid, 0), -1, "\(c.name): process \(pid) still exists")
                    XCTAssertEqual(errno, ESRCH)
                    XCTAssertEqual(kill(-pid, 0), -1, "\(c.name): process group \(pid) still exists")
                    XCTAssertTrue(e.stdout.contains("cwd \(e.workingDirectory)"), "\(c.name): \(e.stdout) vs \(e.workingDirectory)")
                }
            }
            XCTAssertEqual(executions[3].duration >= .seconds(2), true, "the loop ran until the limit")
            // 10,000,001 bytes of output: its first and last 2 KiB are kept.
            let flood = executions[cases.count - 2].stdout
            let x = String(repeating: "x", count: 2047)
            XCTAssertEqual(flood, x + "x\n[... 9995905 bytes left out ...]\n" + x + "\n", "\(flood.prefix(100))")
            XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: runs), [], "run directories are removed")
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: outside), [], "nothing was written outside")
        XCTAssertFalse(FileManager.default.fileExists(atPath: scratch + "/escaped.txt"))
        XCTAssertFalse(listener.hasPendingConnection(), "a sandboxed program reached the listener")
        // The listener works: a connection from this process does reach it.
        try listener.connectFromHere()
        XCTAssertTrue(listener.hasPendingConnection())
    }

    func testPythonMissingIsOneClearError() throws {
        var c = HumanEvalSandbox.Configuration()
        c.python = "ift-no-such-python3"
        XCTAssertThrowsError(try HumanEvalSandbox(configuration: c)) { e in
            XCTAssertTrue("\(e)".contains("ift-no-such-python3 was not found on PATH"), "\(e)")
        }
        c.python = scratch + "/python3"
        XCTAssertThrowsError(try HumanEvalSandbox(configuration: c)) { e in
            XCTAssertTrue("\(e)".contains("python3 was not found: HumanEval runs every completion"), "\(e)")
        }
    }

    func testContainmentIsProbedAndReported() throws {
        let automatic = try HumanEvalSandbox()
        var c = HumanEvalSandbox.Configuration()
        c.network = .pythonGuard
        XCTAssertEqual(try HumanEvalSandbox(configuration: c).containment, .pythonGuard)
        c.network = .namespace
        do {
            let namespace = try HumanEvalSandbox(configuration: c)
            XCTAssertEqual(namespace.containment, .networkNamespace)
            XCTAssertEqual(automatic.containment, .networkNamespace, "automatic takes the namespace when there is one")
        } catch {
            XCTAssertTrue("\(error)".contains("no network namespace for HumanEval programs: "), "\(error)")
            XCTAssertEqual(automatic.containment, .pythonGuard, "automatic falls back to the guard")
        }
        XCTAssertTrue(automatic.pythonExecutable.hasPrefix("/"), automatic.pythonExecutable)
        print("HumanEval containment on this machine: \(automatic.containment); python: \(automatic.pythonExecutable)")
    }

    func testLauncherThatCannotStartTheProgram() throws {
        // 8 MiB of address space is too little for the launcher's own set-up (it keeps a 1 MiB
        // reserve after the limit is set): the program never starts.
        let (sandbox, runs) = try sandbox(memoryLimit: 8 << 20)
        let e = try sandbox.run("print('never')\n")
        guard case .launcherFailed(let why) = e.outcome else { return XCTFail("\(e.outcome)") }
        XCTAssertTrue(why.contains("MemoryError"), why)
        XCTAssertFalse(e.stdout.contains("never"))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: runs), [])
    }

    // MARK: pass@k

    func testPassAtKHandComputedValues() throws {
        XCTAssertEqual(try PassAtK.estimate(samples: 5, correct: 2, k: 1), 0.4, accuracy: 1e-12)
        XCTAssertEqual(try PassAtK.estimate(samples: 5, correct: 2, k: 2), 0.7, accuracy: 1e-12)  // 1 - C(3,2)/C(5,2)
        XCTAssertEqual(try PassAtK.estimate(samples: 5, correct: 2, k: 4), 1.0, accuracy: 1e-12)  // only 3 wrong
        XCTAssertEqual(try PassAtK.estimate(samples: 5, correct: 2, k: 5), 1.0)
        XCTAssertEqual(try PassAtK.estimate(samples: 10, correct: 0, k: 1), 0)
        XCTAssertEqual(try PassAtK.estimate(samples: 10, correct: 0, k: 10), 0)
        XCTAssertEqual(try PassAtK.estimate(samples: 10, correct: 10, k: 1), 1)
        XCTAssertEqual(try PassAtK.estimate(samples: 1, correct: 1, k: 1), 1)
        XCTAssertEqual(try PassAtK.estimate(samples: 10, correct: 3, k: 3), 1 - 35.0 / 120, accuracy: 1e-12)  // C(7,3)/C(10,3)
        XCTAssertEqual(try PassAtK.mean([(5, 2), (10, 0), (10, 10)], k: 1), (0.4 + 0 + 1) / 3, accuracy: 1e-12)
        XCTAssertThrowsError(try PassAtK.estimate(samples: 5, correct: 2, k: 6))
        XCTAssertThrowsError(try PassAtK.estimate(samples: 5, correct: 6, k: 1))
        XCTAssertThrowsError(try PassAtK.estimate(samples: 5, correct: 2, k: 0))
        XCTAssertThrowsError(try PassAtK.mean([], k: 1))
    }

    func testPassAtKIsStableForTwoHundredSamples() throws {
        // Against 1 - C(n-c,k)/C(n,k) through log-gamma (C(200,100) ~ 9e58 overflows integers).
        func exact(_ n: Int, _ c: Int, _ k: Int) -> Double {
            if n - c < k { return 1 }
            let logRatio = lgamma(Double(n - c + 1)) - lgamma(Double(n - c - k + 1)) - lgamma(Double(n + 1)) + lgamma(Double(n - k + 1))
            return 1 - exp(logRatio)
        }
        let n = 200
        XCTAssertEqual(try PassAtK.estimate(samples: n, correct: 1, k: 1), 0.005, accuracy: 1e-15)
        XCTAssertEqual(try PassAtK.estimate(samples: n, correct: 199, k: 1), 0.995, accuracy: 1e-15)
        for c in [0, 1, 2, 7, 50, 100, 150, 199, 200] {
            var previous = -1.0
            for k in [1, 2, 5, 10, 50, 100, 150, 200] {
                let v = try PassAtK.estimate(samples: n, correct: c, k: k)
                XCTAssertTrue(v.isFinite && v >= 0 && v <= 1, "c \(c) k \(k): \(v)")
                XCTAssertEqual(v, exact(n, c, k), accuracy: 1e-9, "c \(c) k \(k)")
                XCTAssertGreaterThanOrEqual(v, previous, "pass@k grows with k (c \(c), k \(k))")
                previous = v
            }
        }
        // Tiny but not zero: one correct sample in 200, k = 1 vs. the product form's smallest factors.
        XCTAssertGreaterThan(try PassAtK.estimate(samples: n, correct: 1, k: 1), 0)
    }

    // MARK: Scoring a samples file

    func testScoringASamplesFile() throws {
        let problemsPath = EvalTestSupport.fixture("humaneval/problems.jsonl.gz")
        // Three samples per task: Fixture/0 has 2 correct of 3, Fixture/1 none.
        let rows = [
            #"{"task_id": "Fixture/0", "completion": "    return a + b\n"}"#,
            #"{"task_id": "Fixture/1", "completion": "    return s\n"}"#,
            #"{"task_id": "Fixture/0", "completion": "    return a - b\n", "extra": 1}"#,
            #"{"task_id": "Fixture/1", "completion": "    return s.upper()\n"}"#,
            #"{"task_id": "Fixture/0", "completion": "    return b + a\n"}"#,
            #"{"task_id": "Fixture/1", "completion": "    return undefined_name\n"}"#,
        ]
        let samplesPath = try write(rows.joined(separator: "\n") + "\n", "samples.jsonl")
        let (sandbox, _) = try sandbox()
        let runner = HumanEvalRunner(sandbox: sandbox)
        let report = try runner.scoreFile(samples: samplesPath, problems: problemsPath, ks: [1, 3, 10])
        XCTAssertEqual(report.results.map(\.passed), [true, false, false, false, true, false])
        XCTAssertEqual(report.results[5].result, "failed: NameError: name 'undefined_name' is not defined")
        XCTAssertEqual(report.summary.passAtK.map(\.k), [1, 3], "k = 10 needs 10 samples per problem")
        XCTAssertEqual(report.summary.passAtK[0].value, (2.0 / 3 + 0) / 2, accuracy: 1e-12)
        XCTAssertEqual(report.summary.passAtK[1].value, (1.0 + 0) / 2, accuracy: 1e-12)
        XCTAssertEqual(report.summary.samplesPerProblem, 3...3)
        XCTAssertEqual(report.summary.problemsAttempted, 2)
        XCTAssertTrue(report.summary.description.contains("pass@1 33.33%, pass@3 50.00%"), report.summary.description)

        // The results file: one row per sample, in order, with human-eval's fields.
        let written = try JSONLines.read(path: samplesPath + "_results.jsonl")
        XCTAssertEqual(written.count, 6)
        XCTAssertEqual(written.map { $0.object.keys }.first, ["task_id", "completion", "result", "passed"])
        XCTAssertEqual(written.map { $0.object["task_id"]?.stringValue }, report.results.map(\.taskID))
        XCTAssertEqual(written.map { $0.object["passed"]?.boolValue }, report.results.map(\.passed))
        XCTAssertEqual(written[2].object["result"]?.stringValue, "failed: AssertionError")
        XCTAssertEqual(written[2].object["completion"]?.stringValue, "    return a - b\n")
    }

    func testBadSamplesFilesNameTheLine() throws {
        let problems = try fixtureProblems()
        let (sandbox, runs) = try sandbox()
        let runner = HumanEvalRunner(sandbox: sandbox)
        let good = #"{"task_id": "Fixture/0", "completion": "    return a + b\n"}"#
        XCTAssertThrowsError(try HumanEvalSamples(path: try write(good + "\n{\"task_id\": \"Fixture/0\", \n", "s1.jsonl"))) { e in
            XCTAssertTrue("\(e)".contains("s1.jsonl:2"), "\(e)")
        }
        XCTAssertThrowsError(try HumanEvalSamples(path: try write(good + "\n\n{\"task_id\": \"Fixture/0\"}\n", "s2.jsonl"))) { e in
            XCTAssertTrue("\(e)".contains("s2.jsonl:3: missing field 'completion' (the row has: task_id)"), "\(e)")
        }
        XCTAssertThrowsError(try HumanEvalSamples(path: try write(#"{"task_id": 0, "completion": ""}"#, "s3.jsonl"))) { e in
            XCTAssertTrue("\(e)".contains("s3.jsonl:1: field 'task_id' must be a string, found a number"), "\(e)")
        }
        let unknown = try HumanEvalSamples(path: try write(good + "\n" + #"{"task_id": "HumanEval/999", "completion": ""}"#, "s4.jsonl"))
        XCTAssertThrowsError(try runner.evaluate(unknown, problems: problems)) { e in
            XCTAssertTrue("\(e)".contains("s4.jsonl:2: unknown task_id 'HumanEval/999' ("), "\(e)")
            XCTAssertTrue("\(e)".contains("has 2 problems, Fixture/0 ... Fixture/1)"), "\(e)")
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: runs), [], "nothing ran before the check")
    }
}

/// A TCP listener on 127.0.0.1 (an ephemeral port) that never accepts: a connection would wait in
/// its backlog.
final class TCPListener {
    let fd: Int32
    let port: UInt16

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw IFTError.invalidArgument("socket: \(String(cString: strerror(errno)))") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        guard bound == 0, listen(fd, 16) == 0 else { throw IFTError.invalidArgument("bind/listen: \(String(cString: strerror(errno)))") }
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard named == 0 else { throw IFTError.invalidArgument("getsockname: \(String(cString: strerror(errno)))") }
        self.fd = fd
        port = UInt16(bigEndian: address.sin_port)
    }

    /// Whether a connection waits to be accepted.
    func hasPendingConnection() -> Bool {
        var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        return poll(&p, 1, 200) == 1 && (p.revents & Int16(POLLIN)) != 0
    }

    func connectFromHere() throws {
        let client = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { Glibc.close(client) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let r = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(client, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard r == 0 else { throw IFTError.invalidArgument("connect: \(String(cString: strerror(errno)))") }
    }

    func close() { Glibc.close(fd) }
}
