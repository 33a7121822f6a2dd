#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Pauses at named moments when an environment variable asks for it, so that a crash test
/// (`Tools/soak-resume.sh`) can kill the process inside a checkpoint write. Unset (always, outside
/// such tests), a hook costs one `getenv`.
public enum TestHooks {
    /// Sleeps for the milliseconds in environment variable `variable` (nothing when unset or not a number).
    public static func pause(_ variable: String) {
        guard let raw = getenv(variable), let ms = Int(String(cString: raw)), ms > 0 else { return }
        usleep(useconds_t(min(ms, 60_000)) * 1000)
    }
}
