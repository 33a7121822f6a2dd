import IFTCore
import IFTModel

/// A self-contained HTML page with the loss curves of a run (inline SVG, no scripts), written
/// next to `metrics.jsonl` so a person can look instead of read.
public enum TrainingReport {
    /// `initialValidationLoss` (before the first step) is drawn at step 0.
    public static func html(title: String, history: [StepMetrics], summary: [(String, String)], initialValidationLoss: Double? = nil) -> String {
        let w = 760.0, h = 320.0, left = 60.0, right = 20.0, top = 20.0, bottom = 40.0
        let train = history.map { (Double($0.step), $0.loss) }.filter { $0.1.isFinite }
        let val = ((initialValidationLoss.map { [(0.0, $0)] } ?? []) + history.compactMap { m in m.validationLoss.map { (Double(m.step), $0) } })
            .filter { $0.1.isFinite }
        let all = train + val
        let maxStep = max(1, all.map(\.0).max() ?? 1)
        let lo = all.map(\.1).min() ?? 0, hi = all.map(\.1).max() ?? 1
        let span = max(hi - lo, 1e-6)
        func x(_ s: Double) -> Double { left + (w - left - right) * s / maxStep }
        func y(_ v: Double) -> Double { top + (h - top - bottom) * (1 - (v - lo) / span) }
        func f(_ v: Double) -> String { ProgressBar.fixed(v, 1) }
        func points(_ p: [(Double, Double)]) -> String { p.map { "\(f(x($0.0))),\(f(y($0.1)))" }.joined(separator: " ") }
        var svg = "<svg xmlns='http://www.w3.org/2000/svg' width='\(Int(w))' height='\(Int(h))' font-family='sans-serif' font-size='12'>"
        svg += "<rect x='\(f(left))' y='\(f(top))' width='\(f(w - left - right))' height='\(f(h - top - bottom))' fill='none' stroke='#999'/>"
        for i in 0...4 {
            let v = lo + span * Double(i) / 4
            svg += "<line x1='\(f(left))' x2='\(f(w - right))' y1='\(f(y(v)))' y2='\(f(y(v)))' stroke='#eee'/>"
            svg += "<text x='\(f(left - 6))' y='\(f(y(v) + 4))' text-anchor='end'>\(ProgressBar.fixed(v, 3))</text>"
        }
        for i in 0...4 {
            let s = maxStep * Double(i) / 4
            svg += "<text x='\(f(x(s)))' y='\(f(h - bottom + 16))' text-anchor='middle'>\(Int(s.rounded()))</text>"
        }
        svg += "<text x='\(f((left + w - right) / 2))' y='\(f(h - 4))' text-anchor='middle'>optimizer step</text>"
        if !train.isEmpty { svg += "<polyline fill='none' stroke='#1f77b4' stroke-width='1.5' points='\(points(train))'/>" }
        if !val.isEmpty {
            svg += "<polyline fill='none' stroke='#d62728' stroke-width='2' points='\(points(val))'/>"
            for p in val { svg += "<circle cx='\(f(x(p.0)))' cy='\(f(y(p.1)))' r='3' fill='#d62728'/>" }
        }
        svg += "<text x='\(f(w - right - 150))' y='\(f(top + 16))' fill='#1f77b4'>training loss</text>"
        svg += "<text x='\(f(w - right - 150))' y='\(f(top + 32))' fill='#d62728'>validation loss</text></svg>"
        var rows = ""
        for (k, v) in summary { rows += "<tr><th>\(escape(k))</th><td>\(escape(v))</td></tr>" }
        return """
            <!doctype html><html><head><meta charset="utf-8"><title>\(escape(title))</title>
            <style>body{font-family:sans-serif;margin:2em;color:#222}th{text-align:left;padding-right:1em}td{font-family:monospace}</style>
            </head><body><h1>\(escape(title))</h1>\(svg)<table>\(rows)</table>
            <p>Per-step numbers: <code>metrics.jsonl</code> next to this file.</p></body></html>

            """
    }

    static func escape(_ s: String) -> String {
        var out = ""
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

    /// Writes the report atomically.
    public static func write(
        to path: String, title: String, history: [StepMetrics], summary: [(String, String)], initialValidationLoss: Double? = nil
    ) throws {
        let text = html(title: title, history: history, summary: summary, initialValidationLoss: initialValidationLoss)
        try AtomicFileWriter.write(to: path) { try $0.write(Array(text.utf8)) }
    }
}
