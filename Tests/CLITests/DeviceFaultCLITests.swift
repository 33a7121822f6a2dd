import Foundation
import XCTest

/// A Vulkan device lost in the middle of `ift-gpu train` (injected with
/// IFT_VULKAN_INJECT_DEVICE_LOST): the run stops with an error naming the last checkpoint, which is
/// intact, and resuming from it ends bit-identical to a run that was never interrupted.
extension CLITests {
    func testDeviceLostMidRunLeavesTheLastCheckpointAndResumesBitIdentically() throws {
        let tmp = try tempDir()
        defer { try? FileManager.default.removeItem(atPath: tmp) }
        let common = [
            "train", "--model", Self.families + "/llama3", "--data", repoRoot + "/data/default/instructions.json",
            "--backend", "vulkan", "--max-steps", "4", "--save-every", "1", "--batch-size", "2", "--max-length", "48",
            "--rank", "2", "--eval-examples", "0",
        ]
        var r = try run(common + ["--output", tmp + "/clean"])
        XCTAssertEqual(r.status, 0, r.stderr)

        // The submission count per step depends on the kernels; find a fault that lands after the
        // first checkpoint and before the last step.
        let out = tmp + "/faulted"
        var state: String?
        for submission in stride(from: 10, through: 200, by: 10) {
            try? FileManager.default.removeItem(atPath: out)
            r = try run(common + ["--output", out], env: ["IFT_VULKAN_INJECT_DEVICE_LOST": "\(submission)"])
            if r.status == 0 { break }  // past the end of the run
            XCTAssertTrue(r.stderr.contains("the Vulkan device was lost: vkQueueSubmit returned VK_ERROR_DEVICE_LOST"), r.stderr)
            XCTAssertEqual(r.stderr.split(separator: "\n").filter { $0.hasPrefix("Error:") }.count, 1, r.stderr)
            if let s = try? String(contentsOfFile: out + "/checkpoint/state.json", encoding: .utf8), !s.contains("\"step\":4") {
                XCTAssertTrue(r.stderr.contains("the last checkpoint, \(out)/checkpoint, is intact: continue with --resume \(out)/checkpoint"), r.stderr)
                state = s
                break
            }
        }
        guard let state else { return XCTFail("no injected fault landed between the first checkpoint and the last step") }
        XCTAssertFalse(FileManager.default.fileExists(atPath: out + "/adapter"), "a lost device writes no final adapter")

        r = try run(common + ["--output", out, "--resume", out + "/checkpoint"])
        XCTAssertEqual(r.status, 0, r.stderr)
        for file in ["checkpoint/trainable.safetensors", "checkpoint/optimizer.safetensors"] {
            let resumed = try Data(contentsOf: URL(fileURLWithPath: out + "/" + file))
            let clean = try Data(contentsOf: URL(fileURLWithPath: tmp + "/clean/" + file))
            XCTAssertEqual(resumed, clean, "\(file) after the fault (at \(state)) and a resume")
        }
    }
}
