import Foundation
import XCTest

/// `bench train --shape`: a named architecture, cut to one layer so the test stays cheap.
extension CLITests {
    func testBenchTrainShape() throws {
        // Qwen2.5-0.5B's numbers (Tests/IFTModelTests/Fixtures/shapes/qwen2.5-0.5b.json): d 896, FFN 4864,
        // 14 heads of 64, 2 KV heads, vocab 151936, tied, Q/K/V biases.
        let r = try run([
            "bench", "train", "--backend", "cpu", "--shape", "qwen2.5-0.5b", "--layers", "1", "--mode", "qlora", "--rank", "2",
            "--batch", "1", "--seq", "8", "--steps", "1", "--warmup", "0", "--json",
        ])
        XCTAssertEqual(r.status, 0, r.stderr)
        let line = r.stdout.split(separator: "\n").last.map(String.init) ?? ""
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], r.stdout)
        XCTAssertEqual(json["model"] as? String, "qwen2.5-0.5b")
        XCTAssertEqual(json["layers"] as? Int, 1)
        // Rank-2 adapters on all seven projections: 2 x (in + out) each.
        let (d, f, q, kv) = (896, 4864, 14 * 64, 2 * 64)
        let adapters = 2 * ((d + q) + 2 * (d + kv) + (q + d) + 2 * (d + f) + (f + d))
        XCTAssertEqual(json["trainable_params"] as? Int, adapters)
        XCTAssertEqual(json["first_loss"] as? Double ?? .nan, log(151_936.0), accuracy: 0.5, "a random model starts near ln(vocab)")
        // The base: NF4 projections (36 bytes per 64 weights), the tied head in f32 (also the lookup table), f32 norms and biases.
        let projections = d * q + 2 * d * kv + q * d + 3 * d * f
        let base = Double(projections / 64 * 36 + 151_936 * d * 4 + 3 * d * 4 + (q + 2 * kv) * 4) / 1e6
        XCTAssertEqual(json["base_weight_mb"] as? Double ?? 0, base, accuracy: 0.1)
        XCTAssertGreaterThan(json["load_peak_rss_mb"] as? Double ?? 0, 0)

        var bad = try run(["bench", "train", "--shape", "llama-9b"])
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.stderr.contains("unknown model shape 'llama-9b'") && bad.stderr.contains("llama-3.1-8b"), bad.stderr)
        bad = try run(["bench", "train", "--shape", "llama-3.2-1b", "--model", "x.gguf"])
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.stderr.contains("drop it with --model"), bad.stderr)
    }
}
