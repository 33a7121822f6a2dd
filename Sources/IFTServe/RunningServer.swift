import IFTCore
import Logging
import ServiceLifecycle

/// A server started in the background by `OpenAIServer.start` (for tests, or a program that
/// embeds one); `stop` shuts it down gracefully.
public struct RunningServer: Sendable {
    /// The address it listens on.
    public let host: String
    /// The bound port (the real one when the configuration asked for port 0).
    public let port: Int
    private let group: ServiceGroup
    private let task: Task<Void, any Error>

    fileprivate init(host: String, port: Int, group: ServiceGroup, task: Task<Void, any Error>) {
        self.host = host
        self.port = port
        self.group = group
        self.task = task
    }

    /// `http://host:port`.
    public var baseURL: String { "http://\(host):\(port)" }

    /// Stops accepting connections, lets the requests in progress finish, stops the engine, and
    /// returns when all of it is done (rethrowing what the server failed with, if anything).
    public func stop() async throws {
        await group.triggerGracefulShutdown()
        try await task.value
    }
}

extension OpenAIServer {
    /// Starts serving in the background (no signal handling); returns once the socket is bound.
    /// Throws what the server failed with when it could not start (e.g. the port is taken).
    public func start(logger: Logger? = nil) async throws -> RunningServer {
        let (bound, continuation) = AsyncStream<(String, Int)>.makeStream()
        let app = makeApplication(logger: logger) { host, port in
            continuation.yield((host, port))
            continuation.finish()
        }
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(services: [app], logger: logger ?? Logger(label: "ift-gpu.serve")))
        let task = Task {
            defer { continuation.finish() }
            try await group.run()
        }
        for await (host, port) in bound {
            return RunningServer(host: host, port: port, group: group, task: task)
        }
        try await task.value
        throw IFTError.invalidArgument("the server stopped before it was listening")
    }
}
