import Foundation

/// The fake OpenAI-compatible judge and endpoint of the evaluation and synthesis tests:
/// `Tests/IFTEvalTests/Fixtures/judge/fake_judge.py` (python3 standard library only), serving on a
/// free port of 127.0.0.1.
public enum FakeJudge {
    /// The script, located from this source file (Tests/IFTTestSupport/FakeJudge.swift).
    public static let script: String = {
        var parts = "\(#filePath)".split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(3)
        return parts.joined(separator: "/") + "/Tests/IFTEvalTests/Fixtures/judge/fake_judge.py"
    }()

    /// The script did not print its port within 20 seconds.
    public struct StartFailure: Error, CustomStringConvertible {
        public let description: String
    }

    /// Starts the fake judge and returns its base URL (`http://127.0.0.1:PORT`) and a function
    /// that stops it (terminates the process and waits for it).
    public static func start() throws -> (url: String, stop: () -> Void) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", script]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        var line = Data()
        let deadline = Date().addingTimeInterval(20)
        while !line.contains(10), Date() < deadline {
            let chunk = out.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            line.append(chunk)
        }
        guard let port = Int(String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)) else {
            p.terminate()
            throw StartFailure(description: "the fake judge (python3 \(script)) did not print its port")
        }
        return ("http://127.0.0.1:\(port)", { p.terminate(); p.waitUntilExit() })
    }
}
