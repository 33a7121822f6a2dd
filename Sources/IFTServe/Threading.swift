#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import IFTCore

/// A pthread mutex with one condition variable: the engine's queue lock, which its thread sleeps
/// on while there is nothing to decode. Never yield to or finish an `AsyncStream` while holding
/// it (their termination handlers take the lock again).
final class ConditionLock: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let condition: UnsafeMutablePointer<pthread_cond_t>

    init() {
        mutex = .allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        pthread_mutex_init(mutex, nil)
        condition = .allocate(capacity: 1)
        condition.initialize(to: pthread_cond_t())
        pthread_cond_init(condition, nil)
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        condition.deallocate()
        mutex.deallocate()
    }

    func lock() { pthread_mutex_lock(mutex) }
    func unlock() { pthread_mutex_unlock(mutex) }

    func withLock<T>(_ body: () throws -> T) rethrows -> T {
        lock()
        defer { unlock() }
        return try body()
    }

    /// Sleeps until `broadcast`; call with the lock held (it is held again on return).
    func wait() { pthread_cond_wait(condition, mutex) }

    /// Wakes every thread waiting in `wait`.
    func broadcast() { pthread_cond_broadcast(condition) }
}

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
