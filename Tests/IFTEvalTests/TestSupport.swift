import Foundation
import XCTest

/// Paths the evaluation tests read: this target's fixtures and `../shared/data` (present in CI).
enum EvalTestSupport {
    static let packageRoot: String = {
        var parts = "\(#filePath)".split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(3)  // Tests/IFTEvalTests/TestSupport.swift
        return parts.joined(separator: "/")
    }()

    static func fixture(_ name: String) -> String { packageRoot + "/Tests/IFTEvalTests/Fixtures/" + name }

    /// `shared/data/<relative>` beside or inside the package root; skips the test when absent.
    static func sharedData(_ relative: String) throws -> String {
        for root in [packageRoot + "/shared/data/", packageRoot + "/../shared/data/"]
        where FileManager.default.fileExists(atPath: root + relative) {
            return root + relative
        }
        throw XCTSkip("needs ../shared/data/\(relative)")
    }
}
