@testable import IFTTrain
import XCTest

final class ReportTests: XCTestCase {
    // MARK: Ticks

    func testNiceTicksCoverTheDataWithRoundSteps() {
        XCTAssertEqual(AxisTicks(covering: 0, 4.544).values, [0, 1, 2, 3, 4, 5])
        XCTAssertEqual(AxisTicks(covering: 0, 53).values, [0, 10, 20, 30, 40, 50, 60])
        XCTAssertEqual(AxisTicks(covering: 1e-5, 1e-3).values, [0, 2e-4, 4e-4, 6e-4, 8e-4, 1e-3])
        XCTAssertEqual(AxisTicks(covering: 1.2, 2.9).values, [1, 1.25, 1.5, 1.75, 2, 2.25, 2.5, 2.75, 3], "2.5 × 10^-1 steps")
        XCTAssertEqual(AxisTicks(covering: 0, 1.4e-4).values, [0, 2.5e-5, 5e-5, 7.5e-5, 1e-4, 1.25e-4, 1.5e-4])
        XCTAssertEqual(AxisTicks(covering: 0, 123_456).values, [0, 25_000, 50_000, 75_000, 100_000, 125_000])
        XCTAssertEqual(AxisTicks(covering: 0.3, 0.7).values, [0.3, 0.4, 0.5, 0.6, 0.7], "exact multiples stay, no extra tick")
    }

    func testNiceTicksOfASingleValueAndOfNegativeRanges() {
        XCTAssertEqual(AxisTicks(covering: 3, 3).values, [2.7, 2.8, 2.9, 3, 3.1, 3.2, 3.3])
        XCTAssertEqual(AxisTicks(covering: 0, 0).values, [0, 0.2, 0.4, 0.6, 0.8, 1])
        XCTAssertEqual(AxisTicks(covering: -3.2, -0.4).values, [-3.5, -3, -2.5, -2, -1.5, -1, -0.5, 0])
        XCTAssertEqual(AxisTicks(covering: -12, 7).values, [-15, -10, -5, 0, 5, 10])
        XCTAssertEqual(AxisTicks(covering: -2, -2).values, [-2.2, -2.1, -2, -1.9, -1.8])
        XCTAssertEqual(AxisTicks(covering: 5, 1).values, [1, 2, 3, 4, 5], "bounds in either order")
        XCTAssertEqual(AxisTicks(covering: .nan, .infinity).values, [0, 0.2, 0.4, 0.6, 0.8, 1])
        XCTAssertEqual(AxisTicks(covering: 5, .nan).values, AxisTicks(covering: 5, 5).values)
        XCTAssertEqual(AxisTicks(covering: -1e308, 1e308).labels, ["-1e308", "1e308"], "a span that overflows: just the ends")
    }

    func testIntegerTicksForOptimizerSteps() {
        XCTAssertEqual(AxisTicks(covering: 0, 30, count: 8, integers: true).values, [0, 5, 10, 15, 20, 25, 30])
        XCTAssertEqual(AxisTicks(covering: 0, 1, count: 8, integers: true).values, [0, 1])
        XCTAssertEqual(AxisTicks(covering: 0, 0, count: 8, integers: true).values, [0, 1])
        XCTAssertEqual(AxisTicks(covering: 0, 7, count: 8, integers: true).values, [0, 1, 2, 3, 4, 5, 6, 7])
        XCTAssertEqual(AxisTicks(covering: 0, 12, count: 5, integers: true).values, [0, 2, 4, 6, 8, 10, 12], "2.5 becomes 2")
        XCTAssertEqual(AxisTicks(covering: 0, 12_345, count: 8, integers: true).values, (0...7).map { Double($0) * 2000 })

        // The shared step axis: about 8 ticks, fewer when long labels would collide in a small panel.
        XCTAssertEqual(LineChart.stepTicks(upTo: 30).values, [0, 5, 10, 15, 20, 25, 30])
        XCTAssertEqual(AxisTicks(covering: 0, 1130, count: 8, integers: true).values.count, 13)
        XCTAssertEqual(LineChart.stepTicks(upTo: 1130).values, [0, 200, 400, 600, 800, 1000, 1200], "13 labels of 4 characters do not fit")
        for maxStep in [0, 1, 7, 99, 1130, 11_300, 113_000, 1_130_000, 2_345_678] {
            let ticks = LineChart.stepTicks(upTo: maxStep)
            let widest = Double(ticks.labels.map(\.count).max() ?? 0) * LineChart.charWidth
            XCTAssertLessThanOrEqual(Double(ticks.values.count - 1) * (widest + 12), 430, "\(maxStep): \(ticks.labels)")
            XCTAssertGreaterThanOrEqual(ticks.upper, Double(maxStep))
            XCTAssertTrue(ticks.values.allSatisfy { $0 == $0.rounded() }, "\(ticks.values)")
        }
    }

    func testTickLabelsUseOnlyTheDecimalsTheStepNeeds() {
        XCTAssertEqual(AxisTicks(covering: 0, 1.5, count: 3).labels, ["0", "0.5", "1", "1.5"])
        XCTAssertEqual(AxisTicks(covering: 0, 4.544).labels, ["0", "1", "2", "3", "4", "5"])
        XCTAssertEqual(AxisTicks(covering: 1.2, 2.9).labels, ["1", "1.25", "1.5", "1.75", "2", "2.25", "2.5", "2.75", "3"])
        XCTAssertEqual(AxisTicks(covering: -3.2, -0.4).labels, ["-3.5", "-3", "-2.5", "-2", "-1.5", "-1", "-0.5", "0"])
        XCTAssertEqual(AxisTicks(covering: 0, 0.009).labels, ["0", "0.002", "0.004", "0.006", "0.008", "0.01"])
        XCTAssertEqual(AxisTicks(covering: 0, 0.012).labels, ["0", "0.0025", "0.005", "0.0075", "0.01", "0.0125"])
        XCTAssertEqual(AxisTicks(covering: 0, 50, count: 2).labels, ["0", "25", "50"], "2.5 × 10: no decimals")
        XCTAssertEqual(AxisTicks(covering: 0, 123_456).labels, ["0", "25000", "50000", "75000", "100000", "125000"])
    }

    func testSmallAndHugeTickLabelsUseExponents() {
        XCTAssertEqual(AxisTicks(covering: 1e-5, 1e-3).labels, ["0", "2e-4", "4e-4", "6e-4", "8e-4", "1e-3"])
        XCTAssertEqual(AxisTicks(covering: 0, 1.4e-4).labels, ["0", "2.5e-5", "5e-5", "7.5e-5", "1e-4", "1.25e-4", "1.5e-4"])
        XCTAssertEqual(AxisTicks(covering: 1.8e-4, 2.2e-4).labels, ["1.8e-4", "1.9e-4", "2e-4", "2.1e-4", "2.2e-4"])
        XCTAssertEqual(AxisTicks(covering: 0, 3e9).labels, ["0", "5e8", "1e9", "1.5e9", "2e9", "2.5e9", "3e9"])
    }

    func testNumberFormattingHelpers() {
        XCTAssertEqual(AxisTicks.fixed(123.456, decimals: 1), "123.5")
        XCTAssertEqual(AxisTicks.fixed(0.05, decimals: 2), "0.05")
        XCTAssertEqual(AxisTicks.fixed(-0.04, decimals: 1), "0.0")
        XCTAssertEqual(AxisTicks.fixed(-7, decimals: 0), "-7")
        XCTAssertEqual(AxisTicks.trimmed("1.500"), "1.5")
        XCTAssertEqual(AxisTicks.trimmed("2.000"), "2")
        XCTAssertEqual(AxisTicks.trimmed("200"), "200")
        XCTAssertEqual(AxisTicks.decade(0.00099), -4)
        XCTAssertEqual(AxisTicks.decade(1000), 3)
        XCTAssertEqual(LineChart.general(0.000123456), "1.235e-4")
        XCTAssertEqual(LineChart.general(2.34567), "2.346")
    }

    // MARK: Smoothing and thinning

    func testSmoothingMatchesTensorBoardByHand() {
        // ema_1 = 0.4·1 = 0.4 → 0.4 / (1 - 0.6) = 1
        // ema_2 = 0.6·0.4 + 0.4·2 = 1.04 → 1.04 / (1 - 0.36) = 1.625
        // ema_3 = 0.6·1.04 + 0.4·3 = 1.824 → 1.824 / (1 - 0.216) = 2.326530612...
        let s = TrainingReport.smoothed([1, 2, 3], weight: 0.6)
        XCTAssertEqual(s.count, 3)
        XCTAssertEqual(s[0], 1, accuracy: 1e-12)
        XCTAssertEqual(s[1], 1.625, accuracy: 1e-12)
        XCTAssertEqual(s[2], 1.824 / 0.784, accuracy: 1e-12)
        let gap = TrainingReport.smoothed([1, .nan, 2], weight: 0.6)
        XCTAssertTrue(gap[1].isNaN)
        XCTAssertEqual(gap[2], 1.625, accuracy: 1e-12, "a NaN does not move the average")
        XCTAssertEqual(TrainingReport.smoothed([5, 1], weight: 0), [5, 1])
    }

    func testThinningKeepsSpikesAndOrder() {
        var points = (0..<5000).map { (x: Double($0), y: 1.0) }
        points[1234].y = 50
        points[4321].y = -7
        let thin = LineChart.thinned(points, maxPoints: 1000)
        XCTAssertLessThanOrEqual(thin.count, 1000)
        XCTAssertGreaterThan(thin.count, 400)
        XCTAssertTrue(thin.contains { $0.x == 1234 && $0.y == 50 })
        XCTAssertTrue(thin.contains { $0.x == 4321 && $0.y == -7 })
        XCTAssertEqual(thin.map(\.x), thin.map(\.x).sorted())
        XCTAssertEqual(LineChart.thinned(Array(points.prefix(10)), maxPoints: 1000).count, 10)

        // A trend line is thinned to bucket means: a zigzag 0, 2, 0, 2 becomes flat at 1.
        let zigzag = (0..<4000).map { (x: Double($0), y: Double($0 % 2) * 2) }
        let mean = LineChart.thinned(zigzag, maxPoints: 1000, keepingExtremes: false)
        XCTAssertEqual(mean.count, 1000)
        XCTAssertTrue(mean.allSatisfy { $0.y == 1 }, "\(mean.prefix(3))")
        XCTAssertEqual(mean[0].x, 1.5, "the mean of steps 0...3")
    }

    // MARK: The page

    func testPageHasFivePanelsTablesAndSamples() {
        let html = TrainingReport.html(content(steps: 40, device: true))
        for caption in ["Loss", "Learning rate", "Gradient norm (before clipping)", "Throughput", "Memory"] {
            XCTAssertTrue(html.contains("<figcaption>\(caption)</figcaption>"), caption)
        }
        XCTAssertEqual(count("<svg", in: html), 5)
        XCTAssertEqual(count("<figure", in: html), 5)
        XCTAssertTrue(html.contains("training loss, smoothed (0.6)"))
        XCTAssertTrue(html.contains("peak device memory"))
        XCTAssertTrue(html.contains("validation loss at step 0: 2.9"), "the loss before training is drawn at step 0")
        XCTAssertTrue(html.contains("<caption>Settings</caption><tr><th>learning rate</th><td>2e-4</td></tr>"))
        XCTAssertTrue(html.contains("<caption>base vs fine-tuned</caption>"))
        XCTAssertTrue(html.contains("<thead><tr><th>metric</th><th class='num'>base</th><th class='num'>fine-tuned</th></tr></thead>"))
        XCTAssertTrue(html.contains("<tr><td>exact match</td><td class='num'>0.12</td><td class='num'>0.41</td></tr>"))
        XCTAssertTrue(html.contains("<tr><td>short row</td><td class='num'></td><td class='num'></td></tr>"), "padded to the header")
        XCTAssertTrue(html.contains("<h2>Sample generations</h2>"))
        XCTAssertTrue(html.contains("<pre class='missing'>—</pre>"), "a missing answer")
        // Every polyline point lies inside its chart.
        for points in polylines(html) {
            XCTAssertGreaterThan(points.count, 1)
            for (x, y) in points {
                XCTAssertTrue((0...1100).contains(x) && (0...360).contains(y), "\(x),\(y)")
            }
        }
        XCTAssertEqual(polylines(html).count, 8, "raw, smoothed and validation loss; lr; grad norm; tokens/s; RSS and device")
    }

    func testPageEscapesTextAndLoadsNothingFromOutside() {
        let html = TrainingReport.html(content(steps: 12, device: false))
        XCTAssertFalse(html.lowercased().contains("<script"), "no script, and the injected one is escaped")
        XCTAssertTrue(html.contains("&lt;script&gt;alert(&#39;summary&#39;)&lt;/script&gt;"))
        XCTAssertTrue(html.contains("&lt;script&gt;prompt&lt;/script&gt; &amp; &quot;q&quot;"))
        XCTAssertTrue(html.contains("&lt;b&gt;after&lt;/b&gt;"))
        XCTAssertTrue(html.contains("<title>run &lt;1&gt;</title>"))
        for external in ["http", "src=", "href", "url(", "@import", "<link", "<img", "<iframe"] {
            XCTAssertFalse(html.lowercased().contains(external), external)
        }
        XCTAssertFalse(html.contains("peak device memory"), "no device series without device numbers")
    }

    func testEdgeCases() {
        // No steps: five empty panels.
        let empty = TrainingReport.html(.init(title: "empty"))
        XCTAssertEqual(count("<svg", in: empty), 5)
        XCTAssertEqual(count(">no data<", in: empty), 5)
        XCTAssertFalse(empty.contains("<h2>Evaluation</h2>"))
        XCTAssertFalse(empty.contains("<h2>Sample generations</h2>"))

        // One step: dots, no lines; only the initial validation loss in the loss panel is two points.
        let one = TrainingReport.html(.init(title: "one", history: [metrics(step: 1, loss: 2, validation: 1.9)], initialValidationLoss: 2.1))
        XCTAssertEqual(polylines(one).count, 1, "only the validation line has two points")
        XCTAssertGreaterThanOrEqual(count("<circle", in: one), 6)

        // Constant values and NaN/inf are drawn without non-finite coordinates.
        var h = (1...20).map { metrics(step: $0, loss: 1.5, validation: nil) }
        h[3].loss = .nan
        h[4].loss = .infinity
        h[5].gradNorm = -.infinity
        let flat = TrainingReport.html(.init(title: "flat", history: h))
        let lines = polylines(flat)
        XCTAssertEqual(lines.count, 6, "raw and smoothed loss, lr, grad norm, tokens/s, RSS")
        XCTAssertEqual(lines[0].count, 18, "two non-finite losses skipped")
        XCTAssertEqual(lines[1].count, 18, "and not smoothed")
        XCTAssertEqual(lines[3].count, 19, "one non-finite gradient norm skipped")
        XCTAssertEqual(Set(lines[0].map(\.1)).count, 1, "a constant loss is a flat line")

        // Thousands of steps: at most 1000 points per series.
        let long = TrainingReport.html(.init(title: "long", history: (1...6000).map { metrics(step: $0, loss: 2 + Double($0 % 7) * 0.1, validation: nil) }))
        let longLines = polylines(long)
        XCTAssertEqual(longLines.count, 6)
        XCTAssertTrue(longLines.allSatisfy { $0.count <= 1000 && $0.count >= 500 }, "\(longLines.map(\.count))")
        XCTAssertTrue(long.contains(">6000</text>"), "x ticks reach the last step")
    }

    // MARK: Helpers

    func metrics(step: Int, loss: Double, validation: Double?, device: Double? = nil) -> StepMetrics {
        StepMetrics(
            step: step, epoch: 0, loss: loss, learningRate: 2e-4 * min(1, Double(step) / 5), gradNorm: 1 + 1 / Double(step), tokens: 512,
            tokensPerSecond: 900 + Double(step % 3) * 10, elapsedSeconds: Double(step), peakMemoryMB: 800 + Double(step), peakDeviceMB: device,
            validationLoss: validation)
    }

    func content(steps: Int, device: Bool) -> TrainingReport.Content {
        TrainingReport.Content(
            title: "run <1>",
            history: (1...steps).map { metrics(step: $0, loss: 3 / Double($0).squareRoot(), validation: $0 % 10 == 0 ? 2.5 - Double($0) / 100 : nil, device: device ? 300 : nil) },
            summary: [("steps", "\(steps)"), ("note", "<script>alert('summary')</script>")],
            settings: [("learning rate", "2e-4")],
            initialValidationLoss: 2.9,
            tables: [.init(title: "base vs fine-tuned", header: ["metric", "base", "fine-tuned"], rows: [["exact match", "0.12", "0.41"], ["short row"]])],
            samples: [.init(prompt: "<script>prompt</script> & \"q\"", expected: "4", before: nil, after: "<b>after</b>")])
    }

    func count(_ needle: String, in haystack: String) -> Int { haystack.components(separatedBy: needle).count - 1 }

    /// The points of every polyline, in page order.
    func polylines(_ html: String) -> [[(Double, Double)]] {
        html.components(separatedBy: "<polyline").dropFirst().map { tag in
            let list = tag.components(separatedBy: "points='")[1].prefix { $0 != "'" }
            return list.split(separator: " ").map { pair in
                let xy = pair.split(separator: ",").map { Double($0) ?? .nan }
                return (xy[0], xy[1])
            }
        }
    }
}
