/// Round axis ticks ("nice numbers", as in Heckbert's loose labelling or d3's `ticks`): the step is
/// 1, 2, 2.5 or 5 × 10^k, the first tick is at or below the data and the last at or above it, and
/// every tick is an exact multiple of the step (computed as `i × step`, or `i / (1 / step)` for steps
/// below 1, so that 0.1 × 3 prints as 0.3).
struct AxisTicks: Equatable {
    /// The tick values, increasing; at least two.
    var values: [Double]
    /// The step is `mantissa × 10^exponent`, with `mantissa` one of 1, 2, 2.5, 5.
    var mantissa: Double
    var exponent: Int

    var step: Double { mantissa * Self.power10(exponent) }
    /// The axis starts at the first tick and ends at the last.
    var lower: Double { values.first ?? 0 }
    var upper: Double { values.last ?? 1 }

    /// Ticks covering `lower...upper` with about `count` intervals. A zero span is widened around
    /// the value (0 becomes 0...1); non-finite bounds give 0...1. With `integers`, the step is a whole
    /// number (for optimizer steps).
    init(covering lower: Double, _ upper: Double, count: Int = 5, integers: Bool = false) {
        var lo = 0.0, hi = 1.0
        switch (lower.isFinite ? lower : nil, upper.isFinite ? upper : nil) {
        case let (a?, b?): (lo, hi) = (min(a, b), max(a, b))
        case let (a?, nil), let (nil, a?): (lo, hi) = (a, a)
        case (nil, nil): break
        }
        if hi == lo {
            if lo == 0 { hi = 1 } else { let d = abs(lo) * 0.1; lo -= d; hi += d }
        }
        let span = hi - lo
        guard span.isFinite else {  // near ±Double.greatestFiniteMagnitude: just the ends
            (values, mantissa, exponent) = ([lo, hi], 1, Self.decade(max(abs(lo), abs(hi))))
            return
        }
        let raw = span / Double(max(1, count))
        var k = Self.decade(raw)
        let fraction = raw / Self.power10(k)
        var m: Double
        switch fraction {
        case ..<1.4142135623730951: m = 1  // geometric midpoints between the candidates
        case ..<2.23606797749979: m = 2
        case ..<3.5355339059327378: m = 2.5
        case ..<7.0710678118654755: m = 5
        default: m = 1; k += 1
        }
        if integers && k < 0 { m = 1; k = 0 }
        if integers && k == 0 && m == 2.5 { m = 2 }
        mantissa = m
        exponent = k
        // Steps below 1 divide by an exact integer instead of multiplying by an inexact fraction.
        let inverse: Double? = k < 0 ? Self.power10(-k) / m : nil
        let step = m * Self.power10(k)
        func quotient(_ v: Double) -> Double { inverse.map { v * $0 } ?? v / step }
        let qLo = quotient(lo), qHi = quotient(hi)
        guard abs(qLo) < 1e15 && abs(qHi) < 1e15 else {  // the span is lost in the magnitude
            values = [lo, hi]
            return
        }
        let first = Int((qLo + 1e-9 * max(1, abs(qLo))).rounded(.down))
        var last = Int((qHi - 1e-9 * max(1, abs(qHi))).rounded(.up))
        if last <= first { last = first + 1 }
        values = (first...last).map { i in inverse.map { Double(i) / $0 } ?? Double(i) * step }
    }

    /// The label of a tick: as many decimals as the step needs, without trailing zeros (0.5, 1, 1.5),
    /// and `2e-4` style when the step is below 1e-3 or the values reach 1e9.
    func label(_ value: Double) -> String {
        guard value.isFinite else { return "\(value)" }
        let extra = mantissa == 2.5 ? 1 : 0
        if abs(value) < step * 1e-9 { return "0" }
        let largest = max(abs(lower), abs(upper))
        if exponent >= -3 && largest < 1e9 {
            return Self.trimmed(Self.fixed(value, decimals: max(0, -exponent + extra)))
        }
        let e = Self.decade(abs(value) * (1 + 1e-12))
        let digits = min(15, max(0, e - exponent + extra))
        return Self.trimmed(Self.fixed(value / Self.power10(e), decimals: digits)) + "e\(e)"
    }

    /// All labels, in tick order.
    var labels: [String] { values.map(label) }

    /// 10^k, exact for 0 ≤ k ≤ 22 and correctly rounded for -22 ≤ k < 0.
    static func power10(_ k: Int) -> Double {
        var p = 1.0
        for _ in 0..<min(abs(k), 400) { p *= 10 }
        return k < 0 ? 1 / p : p
    }

    /// The k with 10^k ≤ x < 10^(k+1), for finite x > 0 (0 otherwise).
    static func decade(_ x: Double) -> Int {
        guard x.isFinite && x > 0 else { return 0 }
        var k = 0
        while k < 400 && power10(k + 1) <= x { k += 1 }
        while k > -400 && power10(k) > x { k -= 1 }
        return k
    }

    /// `value` with exactly `decimals` digits after the point; any magnitude.
    static func fixed(_ value: Double, decimals: Int) -> String {
        let scaled = (abs(value) * power10(decimals)).rounded()
        guard scaled < 9e15 else { return "\(value)" }
        let digits = String(Int64(scaled))
        let sign = value < 0 && scaled != 0 ? "-" : ""
        guard decimals > 0 else { return sign + digits }
        let padded = String(repeating: "0", count: max(0, decimals + 1 - digits.count)) + digits
        return sign + padded.dropLast(decimals) + "." + padded.suffix(decimals)
    }

    /// "1.500" → "1.5", "2.0" → "2"; strings without a point are kept.
    static func trimmed(_ s: String) -> String {
        guard s.contains(".") else { return s }
        var t = Substring(s)
        while t.last == "0" { t = t.dropLast() }
        if t.last == "." { t = t.dropLast() }
        return String(t)
    }
}

/// A line chart as inline SVG: labelled axes with round ticks, light grid lines, a legend above the
/// plot when there are several series, and each series drawn as a polyline of at most `maxPoints`
/// points (a lone point as a dot).
struct LineChart {
    /// How a series is drawn.
    enum Mark { case thin, bold, line, lineWithDots }

    struct Series {
        var label: String
        var color: String
        var mark: Mark
        /// (x, y) pairs; non-finite ones are skipped.
        var points: [(x: Double, y: Double)]
    }

    var xLabel: String
    var yLabel: String
    var series: [Series]
    /// Shared by the panels of one report so that their steps line up.
    var xTicks: AxisTicks
    /// The y axis starts at or below zero (rates, norms, throughput, memory).
    var includesZero = false
    var width = 1100.0
    var height = 340.0
    var maxPoints = 1000

    static let charWidth = 7.0  // 12 px sans-serif, generous

    /// Integer ticks for optimizer steps 0...`maxStep`: about 8, fewer when their labels would not
    /// fit side by side in `plotWidth` (the narrowest panel).
    static func stepTicks(upTo maxStep: Int, plotWidth: Double = 430) -> AxisTicks {
        var count = 8
        while true {
            let ticks = AxisTicks(covering: 0, Double(max(0, maxStep)), count: count, integers: true)
            let widest = Double(ticks.labels.map(\.count).max() ?? 1) * charWidth
            if count <= 2 || Double(ticks.values.count - 1) * (widest + 12) <= plotWidth { return ticks }
            count -= 1
        }
    }

    func svg() -> String {
        let drawn: [(Series, [(x: Double, y: Double)])] = series.map { s in (s, s.points.filter { $0.x.isFinite && $0.y.isFinite }) }
        var ys: [Double] = drawn.flatMap { $0.1.map { $0.y } }
        if includesZero { ys.append(0) }
        let yTicks = ys.isEmpty ? AxisTicks(covering: 0, 1) : AxisTicks(covering: ys.min() ?? 0, ys.max() ?? 1)
        let yLabels = yTicks.labels
        let widest = yLabels.map { $0.count }.max() ?? 1
        let left = 36 + Double(widest) * Self.charWidth
        let showsLegend = series.count > 1  // one series: the caption and the y label say it
        let right = 18.0, top = showsLegend ? 30.0 : 14.0, bottom = 46.0
        let plotW = width - left - right, plotH = height - top - bottom
        let xSpan = xTicks.upper - xTicks.lower, ySpan = yTicks.upper - yTicks.lower
        func x(_ v: Double) -> Double { left + plotW * (xSpan > 0 ? (v - xTicks.lower) / xSpan : 0.5) }
        func y(_ v: Double) -> Double { top + plotH * (ySpan > 0 ? 1 - (v - yTicks.lower) / ySpan : 0.5) }
        func f(_ v: Double) -> String { AxisTicks.trimmed(AxisTicks.fixed(v, decimals: 1)) }

        var out = "<svg viewBox='0 0 \(f(width)) \(f(height))' width='\(f(width))' height='\(f(height))' role='img' "
            + "aria-label='\(TrainingReport.escape(yLabel)) by \(TrainingReport.escape(xLabel))' font-family='system-ui,sans-serif' font-size='12'>"
        for (i, v) in yTicks.values.enumerated() {
            let yy = f(y(v))
            out += "<line x1='\(f(left))' x2='\(f(width - right))' y1='\(yy)' y2='\(yy)' stroke='#e6e6e6'/>"
            out += "<text x='\(f(left - 6))' y='\(f(y(v) + 4))' text-anchor='end' fill='#444'>\(yLabels[i])</text>"
        }
        for v in xTicks.values {
            let xx = f(x(v))
            out += "<line x1='\(xx)' x2='\(xx)' y1='\(f(top))' y2='\(f(top + plotH))' stroke='#f0f0f0'/>"
            out += "<line x1='\(xx)' x2='\(xx)' y1='\(f(top + plotH))' y2='\(f(top + plotH + 4))' stroke='#888'/>"
            out += "<text x='\(xx)' y='\(f(top + plotH + 17))' text-anchor='middle' fill='#444'>\(xTicks.label(v))</text>"
        }
        out += "<path d='M\(f(left)),\(f(top))V\(f(top + plotH))H\(f(width - right))' fill='none' stroke='#888'/>"
        out += "<text x='\(f(left + plotW / 2))' y='\(f(height - 8))' text-anchor='middle' fill='#222'>\(TrainingReport.escape(xLabel))</text>"
        out += "<text transform='translate(14,\(f(top + plotH / 2))) rotate(-90)' text-anchor='middle' fill='#222'>\(TrainingReport.escape(yLabel))</text>"

        // Legend, left to right above the plot.
        var lx = left
        for (s, _) in drawn where showsLegend {
            let (strokeWidth, opacity) = Self.stroke(s.mark)
            let legendWidth = f(max(strokeWidth, 2))
            out += "<line x1='\(f(lx))' x2='\(f(lx + 20))' y1='14' y2='14' stroke='\(s.color)' stroke-width='\(legendWidth)' stroke-opacity='\(opacity)'/>"
            if s.mark == .lineWithDots { out += "<circle cx='\(f(lx + 10))' cy='14' r='3.5' fill='\(s.color)'/>" }
            out += "<text x='\(f(lx + 26))' y='18' fill='#222'>\(TrainingReport.escape(s.label))</text>"
            lx += 26 + Double(s.label.count) * Self.charWidth + 18
        }

        for (s, points) in drawn {
            let (strokeWidth, opacity) = Self.stroke(s.mark)
            let shown = Self.thinned(points, maxPoints: maxPoints, keepingExtremes: s.mark != .bold)
            if shown.count > 1 {
                let list = shown.map { "\(f(x($0.x))),\(f(y($0.y)))" }.joined(separator: " ")
                out += "<polyline fill='none' stroke='\(s.color)' stroke-width='\(f(strokeWidth))' stroke-opacity='\(opacity)' "
                    + "stroke-linejoin='round' points='\(list)'/>"
            }
            if s.mark == .lineWithDots || shown.count == 1 {
                for p in shown {
                    out += "<circle cx='\(f(x(p.x)))' cy='\(f(y(p.y)))' r='3.5' fill='\(s.color)' stroke='#fff' stroke-width='1'>"
                        + "<title>\(TrainingReport.escape(s.label)) at step \(xTicks.label(p.x)): \(Self.general(p.y))</title></circle>"
                }
            }
        }
        if drawn.allSatisfy({ $0.1.isEmpty }) {
            out += "<text x='\(f(left + plotW / 2))' y='\(f(top + plotH / 2))' text-anchor='middle' fill='#999'>no data</text>"
        }
        return out + "</svg>"
    }

    /// Stroke width and opacity of a mark.
    static func stroke(_ mark: Mark) -> (Double, String) {
        switch mark {
        case .thin: (1, "0.35")
        case .bold: (2.5, "1")
        case .line: (1.5, "1")
        case .lineWithDots: (2, "1")
        }
    }

    /// A value for a tooltip: 4 significant digits.
    static func general(_ v: Double) -> String {
        guard v.isFinite, v != 0 else { return "\(v)" }
        let e = AxisTicks.decade(abs(v))
        if e < -3 || e >= 9 {
            return AxisTicks.trimmed(AxisTicks.fixed(v / AxisTicks.power10(e), decimals: 3)) + "e\(e)"
        }
        return AxisTicks.trimmed(AxisTicks.fixed(v, decimals: max(0, 3 - e)))
    }

    /// At most `maxPoints` points. When there are more, the points are split into consecutive
    /// buckets: with `keepingExtremes`, the lowest and the highest point of each of `maxPoints / 2`
    /// buckets, in order, so that spikes survive (for raw values); otherwise the mean of each of
    /// `maxPoints` buckets (for a trend line, which min/max would draw as a band).
    static func thinned(_ points: [(x: Double, y: Double)], maxPoints: Int, keepingExtremes: Bool = true) -> [(x: Double, y: Double)] {
        guard points.count > maxPoints, maxPoints >= 2 else { return points }
        let buckets = keepingExtremes ? maxPoints / 2 : maxPoints
        var out: [(x: Double, y: Double)] = []
        out.reserveCapacity(maxPoints)
        for b in 0..<buckets {
            let start = b * points.count / buckets, end = (b + 1) * points.count / buckets
            guard start < end else { continue }
            if !keepingExtremes {
                let slice = points[start..<end]
                let n = Double(slice.count)
                out.append((x: slice.reduce(0) { $0 + $1.x } / n, y: slice.reduce(0) { $0 + $1.y } / n))
                continue
            }
            var lo = start, hi = start
            for i in start..<end {
                if points[i].y < points[lo].y { lo = i }
                if points[i].y > points[hi].y { hi = i }
            }
            out.append(points[min(lo, hi)])
            if lo != hi { out.append(points[max(lo, hi)]) }
        }
        return out
    }
}
