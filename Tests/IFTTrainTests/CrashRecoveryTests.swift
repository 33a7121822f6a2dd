#if canImport(Glibc)
import Glibc
#endif
import Foundation
import IFTCore
@testable import IFTModel
@testable import IFTTrain
import XCTest

/// What a SIGKILL can leave behind, and how a resume copes (`Tools/soak-resume.sh` kills real runs).
extension TrainerTests {
    /// Killed between moving the old checkpoint aside and the new one in: only `checkpoint.old`
    /// exists; reading (and resuming) moves it back and continues exactly.
    func testResumeRecoversACheckpointMovedAside() throws {
        let straight = try makeTrainer(mode: .lora, steps: 6, output: tmp + "/straight")
        try straight.train()
        let first = try makeTrainer(mode: .lora, steps: 6, stopAfter: 3, output: tmp + "/killed")
        try first.train()
        XCTAssertEqual(rename(tmp + "/killed/checkpoint", tmp + "/killed/checkpoint.old"), 0)
        // A temporary directory of a save that never finished, and a metrics line of step 4 written
        // before the kill (its checkpoint never was), cut in the middle of a second line.
        try FileSystem.makeDirectories(tmp + "/killed/checkpoint.tmp-AbC123")
        let metrics = tmp + "/killed/metrics.jsonl"
        let lines = try FileSystem.readText(metrics)
        try (lines + lines.split(separator: "\n")[0].replacingOccurrences(of: "\"step\":1", with: "\"step\":4") + "\n{\"step\":5,\"lo")
            .write(toFile: metrics, atomically: true, encoding: .utf8)
        let second = try makeTrainer(mode: .lora, steps: 6, output: tmp + "/killed")
        try second.resume(from: tmp + "/killed/checkpoint")
        XCTAssertEqual(second.state.step, 3)
        try second.train()
        XCTAssertEqual(try weights(second), try weights(straight), "weights and moments must be bitwise equal")
        let steps = try FileSystem.readText(metrics).split(separator: "\n").map { try JSONValue.parse(Array($0.utf8), path: metrics)["step"]?.intValue }
        XCTAssertEqual(steps, [1, 2, 3, 4, 5, 6], "each step once, the cut line gone")
        XCTAssertFalse(FileSystem.list(tmp + "/killed").contains { $0.contains(".tmp-") || $0.hasSuffix(".old") }, "\(FileSystem.list(tmp + "/killed"))")
    }
}

extension TrainerTests {
    /// Replacing a checkpoint: the new directory takes the name, the old one is gone, and nothing
    /// else is left — through Linux's atomic name exchange (the path never disappears) and through
    /// the two-rename fallback (IFT_TEST_NO_RENAME_EXCHANGE=1).
    func testReplaceDirectorySwapsAtomicallyOrFallsBack() throws {
        #if os(Linux)
        XCTAssertTrue(try exchangeWorks(), "renameat2(RENAME_EXCHANGE) is available on this Linux file system")
        #endif
        for fallback in [false, true] {
            if fallback { setenv("IFT_TEST_NO_RENAME_EXCHANGE", "1", 1) }
            defer { unsetenv("IFT_TEST_NO_RENAME_EXCHANGE") }
            let dir = tmp + "/replace-\(fallback)"
            for (name, text) in [(dir + "/checkpoint", "old"), (dir + "/checkpoint.tmp-1", "new")] {
                try FileSystem.makeDirectories(name)
                try text.write(toFile: name + "/state.json", atomically: false, encoding: .utf8)
            }
            try FileSystem.replaceDirectory(dir + "/checkpoint", with: dir + "/checkpoint.tmp-1")
            XCTAssertEqual(try FileSystem.readText(dir + "/checkpoint/state.json"), "new", "fallback \(fallback)")
            XCTAssertEqual(FileSystem.list(dir), ["checkpoint"], "fallback \(fallback)")
        }
    }

    private func exchangeWorks() throws -> Bool {
        let a = tmp + "/exchange-a", b = tmp + "/exchange-b"
        try FileSystem.makeDirectories(a)
        try FileSystem.makeDirectories(b)
        try "a".write(toFile: a + "/f", atomically: false, encoding: .utf8)
        guard FileSystem.exchange(a, b) else { return false }
        return FileSystem.exists(b + "/f") && !FileSystem.exists(a + "/f")
    }
}
