#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import IFTCore

/// A child process run to completion with POSIX calls (no Foundation): `posix_spawn` into a process
/// group of its own, stdin from /dev/null, stdout and stderr captured through pipes (truncated), a
/// wall-clock deadline after which the whole group is killed.
struct ChildProcess {
    /// How the process ended.
    enum Termination: Equatable, Sendable {
        case exited(Int32)
        case signaled(Int32)
    }

    var termination: Termination
    /// The captured output, truncated to the limit given to `run`.
    var stdout: String
    var stderr: String
    /// True when the deadline passed and the process group was killed.
    var killedAtDeadline: Bool
    var processID: pid_t
    var duration: Duration

    /// Runs `arguments[0]` (an absolute path) with `arguments` and `environment` ("NAME=value").
    /// Throws only when the process cannot be started; everything after that is in the result.
    static func run(
        _ arguments: [String], environment: [String], timeLimit: Duration, outputLimit: Int
    ) throws -> ChildProcess {
        precondition(!arguments.isEmpty, "ChildProcess.run needs a program")
        let start = ContinuousClock.now
        let deadline = start + timeLimit
        // Close-on-exec pipes: concurrent spawns on other threads must not inherit each other's
        // write ends (which would hold off end-of-file). Without pipe2 (a GNU extension the Glibc
        // module leaves out), making the pipes and spawning share one lock. dup2 onto 1 and 2
        // clears the flag there.
        var out: [Int32] = [-1, -1]
        var err: [Int32] = [-1, -1]
        spawnLock.lock()
        var locked = true
        defer { if locked { spawnLock.unlock() } }
        guard pipe(&out) == 0 else { throw spawnError(arguments[0], "pipe") }
        guard pipe(&err) == 0 else {
            let e = spawnError(arguments[0], "pipe")
            close(out[0]); close(out[1])
            throw e
        }
        for fd in out + err { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, out[1], 1)
        posix_spawn_file_actions_adddup2(&actions, err[1], 2)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // A new process group (so the whole group can be killed), default signal dispositions
        // (a test runner may ignore SIGPIPE, which exec would otherwise pass on), nothing blocked.
        var none = sigset_t()
        sigemptyset(&none)
        var all = sigset_t()
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        var envp: [UnsafeMutablePointer<CChar>?] = environment.map { strdup($0) } + [nil]
        defer {
            for p in argv { free(p) }
            for p in envp { free(p) }
        }
        var pid: pid_t = 0
        let status = posix_spawn(&pid, arguments[0], &actions, &attributes, &argv, &envp)
        close(out[1])
        close(err[1])
        spawnLock.unlock()
        locked = false
        guard status == 0 else {
            close(out[0]); close(err[0])
            throw IFTError.invalidArgument("cannot start \(arguments[0]): \(String(cString: strerror(status)))")
        }

        var stdout = CapturedOutput(limit: outputLimit)
        var stderr = CapturedOutput(limit: outputLimit)
        var fds = [pollfd(fd: out[0], events: Int16(POLLIN), revents: 0), pollfd(fd: err[0], events: Int16(POLLIN), revents: 0)]
        var buffer = [UInt8](repeating: 0, count: 65536)
        var killed = false
        // Once the process has exited, whatever still holds the pipes (something it left behind
        // outside its group) gets a short grace period, not the rest of the time limit.
        var drainDeadline: ContinuousClock.Instant?
        while fds.contains(where: { $0.fd >= 0 }) {
            if let drainDeadline, ContinuousClock.now >= drainDeadline { break }
            let left = milliseconds(until: drainDeadline ?? deadline)
            if left <= 0 {
                killed = true
                kill(-pid, SIGKILL)
                break
            }
            let ready = poll(&fds, nfds_t(fds.count), Int32(min(left, 100)))
            if ready < 0 && errno != EINTR { break }
            if ready == 0 && drainDeadline == nil && hasExited(pid) {
                kill(-pid, SIGKILL)
                drainDeadline = ContinuousClock.now + .milliseconds(500)
            }
            for i in fds.indices where fds[i].fd >= 0 && fds[i].revents != 0 {
                let n = buffer.withUnsafeMutableBytes { read(fds[i].fd, $0.baseAddress, $0.count) }
                if n > 0 {
                    if i == 0 { stdout.append(buffer[0..<n]) } else { stderr.append(buffer[0..<n]) }
                } else if n == 0 || (errno != EINTR && errno != EAGAIN) {
                    close(fds[i].fd)
                    fds[i].fd = -1
                }
            }
        }
        for fd in fds where fd.fd >= 0 { close(fd.fd) }

        // Both pipes are closed (usually because the process exited): wait for it until the deadline.
        while !killed && !hasExited(pid) {
            if milliseconds(until: deadline) <= 0 {
                killed = true
                break
            }
            usleep(1000)
        }
        // The process is at most a zombie still (`hasExited` does not reap it), so its process
        // group id cannot have been reused: kill the group (anything it left behind), then reap.
        kill(-pid, SIGKILL)
        var raw: Int32 = 0
        while waitpid(pid, &raw, 0) < 0 && errno == EINTR {}
        let termination: Termination =
            (raw & 0x7F) == 0 ? .exited((raw >> 8) & 0xFF) : .signaled(raw & 0x7F)
        return ChildProcess(
            termination: termination, stdout: stdout.text, stderr: stderr.text, killedAtDeadline: killed,
            processID: pid, duration: ContinuousClock.now - start)
    }

    /// Whether `pid` (a child) has exited, without reaping it (`WNOWAIT`).
    private static func hasExited(_ pid: pid_t) -> Bool {
        while true {
            var info = siginfo_t()
            let r = waitid(P_PID, id_t(pid), &info, WEXITED | WNOHANG | WNOWAIT)
            if r == 0 { return info._sifields._sigchld.si_pid == pid }
            if errno != EINTR { return true }  // ECHILD: nothing to wait for
        }
    }

    /// The absolute path of `name`: itself when it contains a slash, else the first executable
    /// `PATH` entry (nil when there is none).
    static func which(_ name: String) -> String? {
        if name.contains("/") { return access(name, X_OK) == 0 ? name : nil }
        let path = getenv("PATH").map { String(cString: $0) } ?? "/usr/local/bin:/usr/bin:/bin"
        for dir in path.split(separator: ":") where !dir.isEmpty {
            let candidate = dir + "/" + name
            if access(candidate, X_OK) == 0, !FileSystem.isDirectory(candidate) { return candidate }
        }
        return nil
    }

    /// The online CPUs, at least 1.
    static var availableCores: Int { max(1, sysconf(Int32(_SC_NPROCESSORS_ONLN))) }

    /// Held from making a run's pipes until its child has them (see `run`).
    private static let spawnLock = Lock()

    private static func milliseconds(until deadline: ContinuousClock.Instant) -> Int {
        let left = ContinuousClock.now.duration(to: deadline).components
        return Int(left.seconds) * 1000 + Int(left.attoseconds / 1_000_000_000_000_000)
    }

    private static func spawnError(_ program: String, _ call: String) -> IFTError {
        .invalidArgument("cannot start \(program): \(call) failed: \(String(cString: strerror(errno)))")
    }
}

/// Output kept up to a limit: its first half and its last half, with a note of what was left out
/// between them (a traceback is at the end).
struct CapturedOutput {
    let limit: Int
    private var head: [UInt8] = []
    private var tail: [UInt8] = []
    private var dropped = 0

    init(limit: Int) { self.limit = max(0, limit) }

    mutating func append(_ bytes: ArraySlice<UInt8>) {
        let headLimit = limit - limit / 2
        var rest = bytes[...]
        if head.count < headLimit {
            let n = min(headLimit - head.count, rest.count)
            head.append(contentsOf: rest.prefix(n))
            rest = rest.dropFirst(n)
        }
        tail.append(contentsOf: rest)
        let tailLimit = limit / 2
        if tail.count > 2 * max(tailLimit, 4096) {
            let extra = tail.count - tailLimit
            dropped += extra
            tail.removeFirst(extra)
        }
    }

    var text: String {
        var t = tail
        var dropped = self.dropped
        if t.count > limit / 2 {
            dropped += t.count - limit / 2
            t.removeFirst(t.count - limit / 2)
        }
        guard dropped > 0 else { return String(decoding: head + t, as: UTF8.self) }
        return String(decoding: head, as: UTF8.self) + "\n[... \(dropped) bytes left out ...]\n" + String(decoding: t, as: UTF8.self)
    }
}
