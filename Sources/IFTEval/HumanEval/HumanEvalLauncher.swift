/// The Python launcher that `HumanEvalSandbox` writes into each run's temporary directory next to
/// `program.py`, and runs as `python3 -I -B -S launcher.py memory=N cpu=S fsize=N network=MODE`.
///
/// It changes into its own directory, sets resource limits (address space, data, CPU time, file
/// size, no core dumps, no new processes), installs an audit hook (PEP 578; it cannot be removed
/// from Python code) that refuses: starting processes (`os.fork`, `os.system`, `os.exec*`,
/// `os.posix_spawn`, `subprocess.Popen`, and `_posixsubprocess.fork_exec`, which `multiprocessing`
/// calls without an event), `ctypes`, signals to other processes, changing directory or limits,
/// writing, creating, removing, renaming or re-permissioning anything outside the working directory
/// (the `open` event with write flags, and the `os.*`/`shutil.rmtree` path events), and, with
/// `network=guard`, every `socket.*` event. Then it compiles and runs the program, and records the
/// outcome in `.outcome`: `started`, then `passed` or `failed: <the exception's last line>`.
///
/// The audit hook is the same kind of best-effort guard as the official harness's
/// `reliability_guard` (which nulls out `os` functions instead): it stops accidents, not a determined
/// attacker. The network namespace, when the system allows one, is real isolation.
enum HumanEvalLauncher {
    /// The file names inside a run's directory.
    static let launcherFile = "launcher.py"
    static let programFile = "program.py"
    static let outcomeFile = ".outcome"

    static let source = #"""
        # ift-gpu HumanEval launcher: limits, guards, then program.py. Written by HumanEvalSandbox.
        # Everything the launcher needs is loaded before the limits are set.
        import builtins, os, sys, resource, _posixsubprocess

        def set_limits(memory, cpu, fsize):
            def limit(name, value):
                which = getattr(resource, name, None)
                if which is None:
                    return
                soft, hard = resource.getrlimit(which)
                if hard != resource.RLIM_INFINITY:
                    value = min(value, hard)
                resource.setrlimit(which, (value, value))
            limit("RLIMIT_AS", memory)
            limit("RLIMIT_DATA", memory)
            limit("RLIMIT_CORE", 0)
            limit("RLIMIT_FSIZE", fsize)
            soft, hard = resource.getrlimit(resource.RLIMIT_CPU)
            if hard == resource.RLIM_INFINITY or hard > cpu:
                resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
            # No new processes or threads. Not enforced for root (CAP_SYS_RESOURCE), hence the hook.
            limit("RLIMIT_NPROC", 0)

        def install_guard(root, guard_network):
            def no_fork_exec(*args, **kwargs):
                raise PermissionError("sandbox: starting processes is not allowed")
            _posixsubprocess.fork_exec = no_fork_exec
            realpath, join, isabs, isdir = os.path.realpath, os.path.join, os.path.isabs, os.path.isdir
            fspath, fsdecode, sep = os.fspath, os.fsdecode, os.sep
            writing = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
            denied = frozenset((
                "os.system", "os.fork", "os.forkpty", "os.exec", "os.posix_spawn", "os.spawn",
                "subprocess.Popen", "os.startfile", "os.kill", "os.killpg", "signal.pthread_kill",
                "os.chdir", "os.chroot", "os.putenv", "os.unsetenv", "resource.setrlimit",
                "resource.prlimit", "ctypes.dlopen", "ctypes.dlsym", "ctypes.dlsym/handle",
                "ctypes.call_function", "ctypes.cdata", "ctypes.addressof", "webbrowser.open",
                "os.add_dll_directory", "shutil.chown", "os.setxattr", "os.removexattr",
            ))
            # Events that modify paths: (positions of the paths, positions of their dir_fd arguments).
            # Descriptors are refused here (fchmod of a file opened read-only outside), and so are
            # relative paths taken relative to a dir_fd.
            modifying = {
                "os.remove": ((0,), (1,)), "os.rmdir": ((0,), (1,)), "os.mkdir": ((0,), (2,)),
                "os.rename": ((0, 1), (2, 3)), "os.link": ((0, 1), (2, 3)), "os.symlink": ((1,), (2,)),
                "os.truncate": ((0,), ()), "os.chmod": ((0,), (2,)), "os.chown": ((0,), (3,)),
                "os.utime": ((0,), (3,)), "os.chflags": ((0,), ()), "shutil.rmtree": ((0,), (1,)),
            }

            def inside(path):
                if isinstance(path, int):
                    return True  # an already open descriptor
                try:
                    p = fsdecode(fspath(path))
                except Exception:
                    return False
                r = realpath(join(root, p))
                return r == root or r.startswith(root + sep)

            def refuse(what, path):
                raise PermissionError(f"sandbox: {what} outside the working directory is not allowed: {path!r}")

            def hook(event, args):
                if event in denied:
                    raise PermissionError(f"sandbox: {event} is not allowed")
                if guard_network and event.startswith("socket."):
                    raise PermissionError(f"sandbox: network access ({event}) is not allowed")
                if event == "open":
                    path, mode, flags = args[0], args[1], args[2] if len(args) > 2 else 0
                    writes = (isinstance(flags, int) and flags & writing) or (
                        isinstance(mode, str) and any(c in mode for c in "wax+"))
                    if writes:
                        if not inside(path):
                            refuse("writing", path)
                    elif mode is None and not isinstance(path, int) and not inside(path) and isdir(path):
                        # os.open of a directory outside: a dir_fd that later calls could write through.
                        refuse("opening a directory", path)
                    return
                spec = modifying.get(event)
                if spec is not None:
                    paths, dir_fds = spec
                    relative_to_fd = any(i < len(args) and isinstance(args[i], int) and args[i] >= 0 for i in dir_fds)
                    for i in paths:
                        if i >= len(args):
                            continue
                        path = args[i]
                        if isinstance(path, int) or not inside(path):
                            refuse(event, path)
                        if relative_to_fd and not isabs(fsdecode(fspath(path))):
                            raise PermissionError(f"sandbox: {event} relative to a dir_fd is not allowed")

            sys.addaudithook(hook)

        def main():
            here = os.path.dirname(os.path.abspath(__file__))
            os.chdir(here)
            root = os.path.realpath(here)
            options = dict(a.split("=", 1) for a in sys.argv[1:])
            outcome = os.open(".outcome", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            write, exit_ = os.write, os._exit
            with open("program.py", encoding="utf-8") as f:
                source = f.read()
            set_limits(int(options["memory"]), int(options["cpu"]), int(options["fsize"]))
            install_guard(root, options["network"] == "guard")
            reserve = bytearray(4 << 20)  # freed on failure, so that a MemoryError can still be reported
            scope = {"__name__": "__main__", "__builtins__": builtins}
            write(outcome, b"started\n")
            try:
                exec(compile(source, "program.py", "exec"), scope)
                line = "passed"
            except BaseException as e:
                del reserve
                scope.clear()
                line = "failed: " + type(e).__name__
                try:
                    import traceback  # only now: importing it costs a passing run 10-20 ms
                    lines = "".join(traceback.format_exception_only(type(e), e)).strip().splitlines()
                    if lines:
                        line = "failed: " + lines[-1]
                    traceback.print_exception(type(e), e, e.__traceback__)
                except BaseException:
                    pass
            write(outcome, (line.replace("\n", " ") + "\n").encode("utf-8", "replace"))
            for stream in (sys.stdout, sys.stderr):
                try:
                    stream.flush()
                except BaseException:
                    pass
            exit_(0)

        main()

        """#
}
