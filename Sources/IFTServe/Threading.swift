#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import IFTCore

/// The engine's queue lock, which its thread sleeps on while there is nothing to decode. Never
/// yield to or finish an `AsyncStream` while holding it (their termination handlers take the lock
/// again).
typealias ConditionLock = Lock

/// A POSIX thread of its own, for work that must not run on Swift concurrency's cooperative pool
/// or on NIO's event loops (a decoding step is long synchronous compute).
struct DedicatedThread {
    private let thread: pthread_t

    /// Starts `body` on a new thread; `name` is for the error when that fails.
    init(name: String, _ body: @escaping @Sendable () -> Void) throws {
        final class Box {
            let body: @Sendable () -> Void
            init(_ body: @escaping @Sendable () -> Void) { self.body = body }
        }
        let box = Unmanaged.passRetained(Box(body)).toOpaque()
        #if canImport(Darwin)
        var t: pthread_t?
        #else
        var t = pthread_t()
        #endif
        let rc = pthread_create(&t, nil, { raw in
            guard let raw else { return nil }
            let box = Unmanaged<Box>.fromOpaque(raw).takeRetainedValue()
            box.body()
            return nil
        }, box)
        #if canImport(Darwin)
        guard rc == 0, let t else {
            Unmanaged<AnyObject>.fromOpaque(box).release()
            throw IFTError.invalidArgument("could not start the \(name) thread (pthread_create: \(rc))")
        }
        #else
        guard rc == 0 else {
            Unmanaged<AnyObject>.fromOpaque(box).release()
            throw IFTError.invalidArgument("could not start the \(name) thread (pthread_create: \(rc))")
        }
        #endif
        thread = t
    }

    /// Waits for the thread's body to return.
    func join() { pthread_join(thread, nil) }
}
