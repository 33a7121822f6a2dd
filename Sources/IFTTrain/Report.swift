import IFTCore
import IFTModel

/// The HTML page a person checks a run by, written next to `metrics.jsonl` as `report.html`: the
/// summary and settings, charts of the loss, learning rate, gradient norm, throughput and memory,
/// and, when given, evaluation tables and sample generations. One self-contained file: inline CSS
/// and SVG, no scripts, nothing loaded from elsewhere.
public enum TrainingReport {
    /// A titled table, e.g. "base vs fine-tuned" metrics. Rows shorter than the header are padded;
    /// columns of numbers (`0.41`, `12.5%`, `+3`) are right-aligned.
    public struct Table: Sendable, Equatable {
        public var title: String
        public var header: [String]
        public var rows: [[String]]

        public init(title: String, header: [String], rows: [[String]]) {
            self.title = title
            self.header = header
            self.rows = rows
        }
    }

    /// One prompt with the reference answer and the model's answers before and after training
    /// (any of the three may be missing).
    public struct Sample: Sendable, Equatable {
        public var prompt: String
        public var expected: String?
        public var before: String?
        public var after: String?

        public init(prompt: String, expected: String? = nil, before: String? = nil, after: String? = nil) {
            self.prompt = prompt
            self.expected = expected
            self.before = before
            self.after = after
        }
    }

    /// Everything a report shows.
    public struct Content: Sendable {
        public var title: String
        /// One entry per optimizer step, as in `metrics.jsonl`.
        public var history: [StepMetrics]
        /// Results of the run, shown first (label, value).
        public var summary: [(String, String)]
        /// The options the run was started with (label, value).
        public var settings: [(String, String)]
        /// The validation loss before the first step, drawn at step 0.
        public var initialValidationLoss: Double?
        /// Evaluation tables, in order.
        public var tables: [Table]
        /// Sample generations, in order.
        public var samples: [Sample]
        /// The weight of TensorBoard-style exponential smoothing of the training loss (0: none).
        public var smoothing: Double

        public init(
            title: String, history: [StepMetrics] = [], summary: [(String, String)] = [], settings: [(String, String)] = [],
            initialValidationLoss: Double? = nil, tables: [Table] = [], samples: [Sample] = [], smoothing: Double = 0.6
        ) {
            self.title = title
            self.history = history
            self.summary = summary
            self.settings = settings
            self.initialValidationLoss = initialValidationLoss
            self.tables = tables
            self.samples = samples
            self.smoothing = smoothing
        }
    }

    /// The page as one HTML string.
    public static func html(_ content: Content) -> String {
        var body = "<h1>\(escape(content.title))</h1>\n<div class='kv'>"
        if !content.summary.isEmpty { body += keyValueTable("Summary", content.summary) }
        if !content.settings.isEmpty { body += keyValueTable("Settings", content.settings) }
        body += "</div>\n<h2>Training curves</h2>\n<div class='grid'>\n"
        for (i, panel) in panels(content).enumerated() {
            body += "<figure\(i == 0 ? " class='wide'" : "")><figcaption>\(escape(panel.caption))</figcaption>\(panel.chart.svg())</figure>\n"
        }
        body += "</div>\n"
        if !content.tables.isEmpty {
            body += "<h2>Evaluation</h2>\n"
            for table in content.tables { body += tableHTML(table) }
        }
        if !content.samples.isEmpty {
            body += "<h2>Sample generations</h2>\n"
            for (i, sample) in content.samples.enumerated() { body += sampleHTML(sample, number: i + 1) }
        }
        return """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(escape(content.title))</title>
            <style>\(style)</style>
            </head><body>
            \(body)<p class='note'>Per-step numbers: <code>metrics.jsonl</code> next to this file.</p>
            </body></html>

            """
    }

    /// Writes the page atomically.
    public static func write(_ content: Content, to path: String) throws {
        let text = html(content)
        try AtomicFileWriter.write(to: path) { try $0.write(Array(text.utf8)) }
    }

    /// `html(Content(title:history:summary:initialValidationLoss:))`.
    public static func html(title: String, history: [StepMetrics], summary: [(String, String)], initialValidationLoss: Double? = nil) -> String {
        html(Content(title: title, history: history, summary: summary, initialValidationLoss: initialValidationLoss))
    }

    /// `write(Content(title:history:summary:initialValidationLoss:), to: path)`.
    public static func write(
        to path: String, title: String, history: [StepMetrics], summary: [(String, String)], initialValidationLoss: Double? = nil
    ) throws {
        try write(Content(title: title, history: history, summary: summary, initialValidationLoss: initialValidationLoss), to: path)
    }

    /// TensorBoard's smoothing: an exponential moving average with weight `weight` on the past,
    /// debiased so that the first value is kept (`ema / (1 - weight^n)`). Non-finite values are
    /// passed through and do not move the average.
    static func smoothed(_ values: [Double], weight: Double) -> [Double] {
        let w = min(max(weight, 0), 0.999)
        var ema = 0.0, decay = 1.0
        return values.map { v in
            guard v.isFinite else { return v }
            ema = ema * w + (1 - w) * v
            decay *= w
            return ema / (1 - decay)
        }
    }

    /// The five panels; the first is the loss.
    static func panels(_ content: Content) -> [(caption: String, chart: LineChart)] {
        let h = content.history
        func points(_ value: (StepMetrics) -> Double?) -> [(x: Double, y: Double)] {
            h.compactMap { m in value(m).flatMap { $0.isFinite ? (Double(m.step), $0) : nil } }
        }
        let maxStep = h.map(\.step).max() ?? 0
        let xTicks = LineChart.stepTicks(upTo: maxStep)
        func chart(_ yLabel: String, zero: Bool, _ series: [LineChart.Series]) -> LineChart {
            LineChart(xLabel: "optimizer step", yLabel: yLabel, series: series, xTicks: xTicks, includesZero: zero, width: 540, height: 260)
        }

        let loss = points(\.loss)
        let smooth = zip(loss, smoothed(loss.map(\.y), weight: content.smoothing)).map { (x: $0.0.x, y: $0.1) }
        let validation = (content.initialValidationLoss.map { [(x: 0.0, y: $0)] } ?? []).filter { $0.y.isFinite } + points(\.validationLoss)
        var lossSeries = [LineChart.Series(label: "training loss", color: "#1f77b4", mark: .thin, points: loss)]
        if content.smoothing > 0 {
            lossSeries.append(.init(label: "training loss, smoothed (\(AxisTicks.trimmed(AxisTicks.fixed(content.smoothing, decimals: 3))))", color: "#1f77b4", mark: .bold, points: smooth))
        }
        if !validation.isEmpty { lossSeries.append(.init(label: "validation loss", color: "#d62728", mark: .lineWithDots, points: validation)) }
        let lossChart = LineChart(xLabel: "optimizer step", yLabel: "loss", series: lossSeries, xTicks: xTicks, width: 1100, height: 360)

        var memory = [LineChart.Series(label: "peak RSS", color: "#8c564b", mark: .line, points: points(\.peakMemoryMB))]
        let device = points(\.peakDeviceMB)
        if !device.isEmpty { memory.append(.init(label: "peak device memory", color: "#17becf", mark: .line, points: device)) }
        return [
            ("Loss", lossChart),
            ("Learning rate", chart("learning rate", zero: true, [.init(label: "learning rate", color: "#2ca02c", mark: .line, points: points(\.learningRate))])),
            ("Gradient norm (before clipping)", chart("gradient norm", zero: true, [.init(label: "gradient norm", color: "#9467bd", mark: .line, points: points(\.gradNorm))])),
            ("Throughput", chart("tokens/s", zero: true, [.init(label: "tokens/s", color: "#ff7f0e", mark: .line, points: points(\.tokensPerSecond))])),
            ("Memory", chart(device.isEmpty ? "peak RSS (MB)" : "MB", zero: true, memory)),
        ]
    }

    static func keyValueTable(_ caption: String, _ pairs: [(String, String)]) -> String {
        var out = "<table><caption>\(escape(caption))</caption>"
        for (k, v) in pairs { out += "<tr><th>\(escape(k))</th><td>\(escape(v))</td></tr>" }
        return out + "</table>"
    }

    static func tableHTML(_ table: Table) -> String {
        let columns = max(table.header.count, table.rows.map(\.count).max() ?? 0)
        // A column whose filled cells all read as numbers (12.5%, +3, 0.41) is right-aligned.
        func isNumber(_ text: String) -> Bool {
            text.contains(where: \.isNumber) && Double(text.filter { $0 != "%" && $0 != "+" && $0 != "," }) != nil
        }
        let numeric = (0..<columns).map { i in
            let cells = table.rows.compactMap { i < $0.count && !$0[i].isEmpty ? $0[i] : nil }
            return !cells.isEmpty && cells.allSatisfy(isNumber)
        }
        func cells(_ row: [String], _ tag: String) -> String {
            (0..<columns).map { i in
                "<\(tag)\(numeric[i] ? " class='num'" : "")>\(escape(i < row.count ? row[i] : ""))</\(tag)>"
            }.joined()
        }
        var out = "<table class='eval'><caption>\(escape(table.title))</caption>"
        if !table.header.isEmpty { out += "<thead><tr>\(cells(table.header, "th"))</tr></thead>" }
        out += "<tbody>" + table.rows.map { "<tr>\(cells($0, "td"))</tr>" }.joined() + "</tbody></table>\n"
        return out
    }

    static func sampleHTML(_ sample: Sample, number: Int) -> String {
        func block(_ label: String, _ text: String?) -> String {
            "<div><div class='label'>\(label)</div>" + (text.map { "<pre>\(escape($0))</pre>" } ?? "<pre class='missing'>—</pre>") + "</div>"
        }
        return "<div class='sample'><div class='label'>\(number). Prompt</div><pre>\(escape(sample.prompt))</pre>"
            + "<div class='answers'>\(block("Expected", sample.expected))\(block("Before training", sample.before))\(block("After training", sample.after))</div></div>\n"
    }

    static let style = """
        body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;color:#222;max-width:1160px;margin:24px auto;padding:0 16px}
        h1{font-size:21px;margin:0 0 12px}h2{font-size:17px;margin:28px 0 10px;padding-bottom:4px;border-bottom:1px solid #ddd}
        table{border-collapse:collapse;margin:0 0 14px}caption{text-align:left;font-weight:600;padding:4px 0}
        th,td{text-align:left;vertical-align:top;padding:3px 12px 3px 0;border-bottom:1px solid #eee}
        .kv{display:flex;flex-wrap:wrap;align-items:flex-start;gap:12px 48px}.kv th{font-weight:500;color:#555}.kv td{font-family:ui-monospace,Menlo,monospace;font-size:13px;word-break:break-all}
        .eval th,.eval td{padding:4px 14px 4px 0}.eval thead th{border-bottom:2px solid #ccc}.num{text-align:right;font-variant-numeric:tabular-nums}
        .grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(480px,1fr));gap:14px}
        figure{margin:0;padding:8px 10px;border:1px solid #e3e3e3;border-radius:6px}figure.wide{grid-column:1/-1}
        figcaption{font-weight:600;margin-bottom:2px}svg{display:block;width:100%;height:auto}
        .sample{margin:0 0 18px}.answers{display:grid;grid-template-columns:repeat(3,1fr);gap:10px;margin-top:6px}
        .label{font-size:12px;font-weight:600;color:#555;margin-bottom:2px}
        pre{white-space:pre-wrap;word-break:break-word;background:#f6f6f6;border-radius:4px;padding:6px 8px;margin:0;font-size:12.5px}
        pre.missing{color:#aaa}.note{color:#777;font-size:12px;margin-top:24px}
        """

    /// `s` with the five HTML-special characters escaped (safe in text and quoted attributes).
    static func escape(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        for c in s {
            switch c {
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "&": out += "&amp;"
            case "'": out += "&#39;"
            case "\"": out += "&quot;"
            default: out.append(c)
            }
        }
        return out
    }
}
