#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import IFTCore

/// How one completion's program ended.
public enum HumanEvalOutcome: Equatable, Sendable, CustomStringConvertible {
    /// The program ran to its end: `check(<entry_point>)` returned.
    case passed
    /// It raised (or ended the process early); the payload is the exception's last line, such as
    /// "AssertionError" or "NameError: name 'x' is not defined".
    case failed(String)
    /// It ran past the wall-clock or CPU time limit and was killed.
    case timedOut
    /// The launcher itself did not get as far as running the program (the payload says why).
    case launcherFailed(String)

    public var passed: Bool { self == .passed }

    /// The `result` string of human-eval's `_results.jsonl`: "passed", "failed: ...", "timed out",
    /// or "launcher failed: ...".
    public var description: String {
        switch self {
        case .passed: return "passed"
        case .failed(let line): return "failed: \(line)"
        case .timedOut: return "timed out"
        case .launcherFailed(let why): return "launcher failed: \(why)"
        }
    }
}

/// How the sandbox keeps a program off the network.
public enum HumanEvalContainment: String, Equatable, Sendable, CustomStringConvertible {
    /// A new, empty network namespace (`unshare --net`, or for a user without CAP_SYS_ADMIN
    /// `unshare --map-root-user --net`): only a loopback interface, and that is down.
    case networkNamespace = "network namespace"
    /// The launcher's audit hook refuses every `socket.*` event (no namespace available).
    case pythonGuard = "python socket guard"

    public var description: String { rawValue }
}

/// Runs Python programs one per `python3` process, in a throw-away directory, with limits and
/// guards (see `HumanEvalLauncher`), and tells how each ended.
///
/// Creating a sandbox finds python3 (an error for the whole run when it is missing) and probes once
/// per process whether a network namespace can be made; the result is cached.
public struct HumanEvalSandbox: Sendable {
    /// Limits and choices for every run.
    public struct Configuration: Equatable, Sendable {
        /// The Python interpreter: a name looked up in PATH, or a path.
        public var python: String = "python3"
        /// Wall-clock limit per program; the process group is killed when it expires.
        public var timeLimit: Duration = .seconds(10)
        /// Address-space limit (RLIMIT_AS, and RLIMIT_DATA) in bytes.
        public var memoryLimit: Int = 2 << 30
        /// Largest file the program may write, in bytes (RLIMIT_FSIZE).
        public var fileSizeLimit: Int = 64 << 20
        /// How much of stdout and of stderr to keep (the start and the end).
        public var outputLimit: Int = 4096
        /// Where the per-run directories are made; nil: `$TMPDIR`, else /tmp.
        public var temporaryDirectory: String? = nil
        /// How to keep programs off the network.
        public var network: NetworkPolicy = .automatic

        public init() {}

        /// The CPU-time limit (RLIMIT_CPU): the wall-clock limit rounded up, plus one second.
        public var cpuTimeLimitSeconds: Int {
            let c = timeLimit.components
            return Int(c.seconds) + (c.attoseconds > 0 ? 1 : 0) + 1
        }
    }

    /// The choice between a network namespace and the Python-level guard.
    public enum NetworkPolicy: String, Equatable, Sendable {
        /// A network namespace when the system allows one, else the Python socket guard.
        case automatic
        /// A network namespace, or an error when none can be made.
        case namespace
        /// The Python socket guard only.
        case pythonGuard
    }

    public let configuration: Configuration
    /// The interpreter's absolute path (what `sys.executable` reported, past any pyenv shim).
    public let pythonExecutable: String
    /// What keeps programs off the network in this sandbox.
    public let containment: HumanEvalContainment
    /// The `unshare` command line that puts a program into its namespace (empty with the guard).
    private let namespacePrefix: [String]

    /// Finds python3 and settles the containment. Throws `IFTError.invalidArgument` when python3
    /// is missing or unusable, or when `.namespace` was asked for and none can be made.
    public init(configuration: Configuration = Configuration()) throws {
        self.configuration = configuration
        let probe = try SandboxProbe.probe(python: configuration.python, network: configuration.network)
        pythonExecutable = probe.python
        namespacePrefix = probe.namespacePrefix
        containment = probe.containment
    }

    /// Runs `program` (complete Python source) and reports how it ended. Throws only when the run
    /// cannot be set up (no temporary directory, the process cannot be started).
    public func run(_ program: String) throws -> HumanEvalExecution {
        let directory = try Self.makeTemporaryDirectory(in: configuration.temporaryDirectory)
        defer { Self.removeTree(directory) }
        try Self.writeFile(directory + "/" + HumanEvalLauncher.launcherFile, HumanEvalLauncher.source)
        try Self.writeFile(directory + "/" + HumanEvalLauncher.programFile, program)
        var arguments: [String] = []
        if containment == .networkNamespace { arguments += namespacePrefix }
        arguments += [
            pythonExecutable, "-I", "-B", "-S", directory + "/" + HumanEvalLauncher.launcherFile,
            "memory=\(configuration.memoryLimit)", "cpu=\(configuration.cpuTimeLimitSeconds)",
            "fsize=\(configuration.fileSizeLimit)", "network=\(containment == .networkNamespace ? "namespace" : "guard")",
        ]
        let environment = [
            "PATH=/usr/local/bin:/usr/bin:/bin", "LANG=C.UTF-8", "LC_ALL=C.UTF-8", "HOME=\(directory)", "TMPDIR=\(directory)",
        ]
        let child = try ChildProcess.run(
            arguments, environment: environment, timeLimit: configuration.timeLimit, outputLimit: configuration.outputLimit)
        let record = (try? FileSystem.readText(directory + "/" + HumanEvalLauncher.outcomeFile)) ?? ""
        return HumanEvalExecution(
            outcome: Self.outcome(child, record: record), stdout: child.stdout, stderr: child.stderr,
            duration: child.duration, workingDirectory: directory, processID: child.processID)
    }

    /// Reads the launcher's record and the way the process ended as one outcome.
    static func outcome(_ child: ChildProcess, record: String) -> HumanEvalOutcome {
        if child.killedAtDeadline { return .timedOut }
        let lines = record.split(separator: "\n").map(String.init)
        if let last = lines.last, lines.first == "started" {
            if last == "passed" {
                return child.termination == .exited(0) ? .passed : .failed("the process ended abnormally (\(child.termination)) after the tests passed")
            }
            if last.hasPrefix("failed: ") { return .failed(String(last.dropFirst("failed: ".count))) }
        }
        if lines.first == "started" {
            // The program ended the process itself, or a limit did.
            switch child.termination {
            case .signaled(SIGXCPU): return .timedOut
            case .signaled(let s): return .failed("the process was killed by signal \(s) before the tests finished")
            case .exited(let code): return .failed("the process exited with status \(code) before the tests finished")
            }
        }
        let said = child.stderr.split(separator: "\n").last.map(String.init) ?? ""
        let how: String
        switch child.termination {
        case .exited(let code): how = "exit status \(code)"
        case .signaled(let s): how = "signal \(s)"
        }
        return .launcherFailed(said.isEmpty ? how : "\(said) (\(how))")
    }

    // MARK: Files

    static func makeTemporaryDirectory(in base: String?) throws -> String {
        let root = base ?? getenv("TMPDIR").map { String(cString: $0) }.flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
        var template = Array((root + "/ift-humaneval-XXXXXX").utf8CString)
        let made = template.withUnsafeMutableBufferPointer { buffer in buffer.baseAddress.flatMap { mkdtemp($0) } }
        guard made != nil else {
            throw IFTError.file(path: root, location: "mkdtemp", message: "cannot make a temporary directory: \(String(cString: strerror(errno)))")
        }
        return String(cString: template)
    }

    static func writeFile(_ path: String, _ text: String) throws {
        guard let f = fopen(path, "wb") else {
            throw IFTError.file(path: path, location: "open", message: "cannot create: \(String(cString: strerror(errno)))")
        }
        let bytes = Array(text.utf8)
        let written = bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, f) }
        let closed = fclose(f)
        guard written == bytes.count, closed == 0 else {
            throw IFTError.file(path: path, location: "write", message: "cannot write: \(String(cString: strerror(errno)))")
        }
    }

    /// `rm -rf path`, never following symbolic links; directories are made writable first.
    static func removeTree(_ path: String) {
        var st = stat()
        guard lstat(path, &st) == 0 else { return }
        if (st.st_mode & S_IFMT) == S_IFDIR {
            chmod(path, 0o700)
            for name in FileSystem.list(path) { removeTree(path + "/" + name) }
            rmdir(path)
        } else {
            unlink(path)
        }
    }
}

/// One program's run in the sandbox.
public struct HumanEvalExecution: Sendable {
    public var outcome: HumanEvalOutcome
    /// The program's output, truncated to `Configuration.outputLimit` (its start and its end).
    public var stdout: String
    public var stderr: String
    public var duration: Duration
    /// The run's temporary working directory (already removed when this is returned).
    public var workingDirectory: String
    /// The process id the program ran as (its process group is gone when this is returned).
    public var processID: Int32
}

/// Finds python3 and probes the network namespace once per (python, policy), for the whole process.
enum SandboxProbe {
    struct Result: Sendable {
        var python: String
        var namespacePrefix: [String]
        var containment: HumanEvalContainment
    }

    private static let lock = Lock()
    nonisolated(unsafe) private static var cache: [String: Result] = [:]

    static func probe(python: String, network: HumanEvalSandbox.NetworkPolicy) throws -> Result {
        lock.lock()
        defer { lock.unlock() }
        let key = python + "\u{0}" + network.rawValue
        if let cached = cache[key] { return cached }
        let result = try probeUncached(python: python, network: network)
        cache[key] = result
        return result
    }

    /// This process's environment (the probe runs python3 as the user would, through any pyenv shim).
    private static func currentEnvironment() -> [String] {
        var result: [String] = []
        var p = environ
        while let entry = p.pointee {
            result.append(String(cString: entry))
            p += 1
        }
        return result
    }

    private static func probeUncached(python: String, network: HumanEvalSandbox.NetworkPolicy) throws -> Result {
        guard let found = ChildProcess.which(python) else {
            throw IFTError.invalidArgument(
                "\(python) was not found\(python.contains("/") ? "" : " on PATH"): HumanEval runs every completion in a "
                    + "Python 3.8+ process; install python3 or name an interpreter")
        }
        let env = ["PATH=/usr/local/bin:/usr/bin:/bin", "LANG=C.UTF-8"]
        let check = try ChildProcess.run(
            [found, "-I", "-S", "-c", "import sys, resource, _posixsubprocess; assert sys.version_info >= (3, 8), "
                + "'Python 3.8 or newer is needed, this is ' + sys.version.split()[0]; print(sys.executable)"],
            environment: currentEnvironment(),
            timeLimit: .seconds(60), outputLimit: 4096)
        guard check.termination == .exited(0), !check.killedAtDeadline else {
            let said = check.stderr.split(separator: "\n").last.map(String.init) ?? "\(check.termination)"
            throw IFTError.invalidArgument("\(found) cannot run HumanEval programs: \(said)")
        }
        let reported = check.stdout.split(separator: "\n").first.map(String.init) ?? ""
        let executable = !reported.isEmpty && access(reported, X_OK) == 0 ? reported : found
        if network == .pythonGuard { return Result(python: executable, namespacePrefix: [], containment: .pythonGuard) }
        // The namespace is confirmed, not assumed: inside it, connecting to 127.0.0.1 must fail with
        // "network is unreachable" (the loopback interface of a new namespace is down).
        var why = "util-linux's unshare was not found on PATH"
        if let unshare = ChildProcess.which("unshare") {
            let script = """
                import errno, socket, sys
                s = socket.socket()
                try:
                    s.connect(("127.0.0.1", 9))
                except OSError as e:
                    sys.exit(0 if e.errno == errno.ENETUNREACH else 3)
                sys.exit(4)
                """
            // Root (CAP_SYS_ADMIN) makes a network namespace directly; other users through a user
            // namespace of their own, where they are root (their real uid, files and limits are
            // unchanged outside it).
            for options in [["--net"], ["--map-root-user", "--net"]] {
                let prefix = [unshare] + options + ["--"]
                let run = try ChildProcess.run(
                    prefix + [executable, "-I", "-S", "-c", script], environment: env, timeLimit: .seconds(60), outputLimit: 4096)
                if run.termination == .exited(0), !run.killedAtDeadline {
                    return Result(python: executable, namespacePrefix: prefix, containment: .networkNamespace)
                }
                why = "unshare \(options.joined(separator: " ")) failed: "
                    + (run.stderr.split(separator: "\n").last.map(String.init) ?? "\(run.termination)")
            }
        }
        if network == .namespace {
            throw IFTError.invalidArgument("no network namespace for HumanEval programs: \(why)")
        }
        return Result(python: executable, namespacePrefix: [], containment: .pythonGuard)
    }
}
