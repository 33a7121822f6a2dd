#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A progress bar on standard error: done/total, rate and ETA. On a terminal it redraws one line;
/// otherwise (logs, CI) it prints a line at every tenth of the way.
public final class ProgressBar {
    public let label: String
    public let total: Double
    /// Formats an amount of work (e.g. bytes as "12.3 MB", tokens as "4.1k tok").
    public let formatAmount: (Double) -> String
    /// Unit of the rate (e.g. "MB/s", "tok/s") and the divisor applied to work per second.
    public let rateUnit: String
    public let rateScale: Double
    private let start = ContinuousClock.now
    private var lastDraw = ContinuousClock.now
    private var lastDecile = -1
    private let isTerminal = isatty(2) != 0
    public var extra: String = ""

    public init(
        label: String, total: Double, rateUnit: String = "it/s", rateScale: Double = 1,
        formatAmount: @escaping (Double) -> String = { "\(Int($0))" }
    ) {
        self.label = label
        self.total = total
        self.rateUnit = rateUnit
        self.rateScale = rateScale
        self.formatAmount = formatAmount
    }

    /// Seconds since the bar was created.
    public var elapsed: Double { Self.seconds(ContinuousClock.now - start) }

    /// A duration in seconds.
    public static func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }

    public func update(_ done: Double, force: Bool = false) {
        let now = ContinuousClock.now
        let fraction = total > 0 ? min(1, done / total) : 0
        let decile = Int(fraction * 10)
        if isTerminal {
            guard force || Self.seconds(now - lastDraw) >= 0.2 || done >= total else { return }
        } else {
            guard force || decile > lastDecile else { return }
        }
        lastDraw = now
        lastDecile = decile
        let t = elapsed
        let rate = t > 0 ? done / t : 0
        let eta = rate > 0 ? (total - done) / rate : 0
        let width = 24
        let filled = Int(fraction * Double(width))
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        var line = "\(label) [\(bar)] \(Int(fraction * 100))% \(formatAmount(done))/\(formatAmount(total))"
        line += " \(Self.fixed(rate / rateScale, 1)) \(rateUnit) ETA \(Self.clock(eta))"
        if !extra.isEmpty { line += " " + extra }
        let text = isTerminal ? "\r\u{1B}[K" + line : line + "\n"
        fputs(text, stderr)
    }

    /// Ends the bar's line.
    public func finish() { finish(at: total) }

    /// Ends the bar's line at `done` (work that stopped short of the total shows where it stopped).
    public func finish(at done: Double) {
        if isTerminal || lastDecile < 10 || done < total { update(done, force: true) }
        if isTerminal { fputs("\n", stderr) }
    }

    public static func clock(_ seconds: Double) -> String {
        guard seconds.isFinite, seconds >= 0 else { return "--:--" }
        let s = Int(seconds.rounded())
        return s >= 3600 ? "\(s / 3600):\(pad2((s / 60) % 60)):\(pad2(s % 60))" : "\(s / 60):\(pad2(s % 60))"
    }

    static func pad2(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }

    /// `x` with `digits` decimals, without Foundation.
    public static func fixed(_ x: Double, _ digits: Int) -> String {
        guard x.isFinite else { return "\(x)" }
        var scale = 1.0
        for _ in 0..<digits { scale *= 10 }
        let r = (abs(x) * scale).rounded()
        let whole = Int(r / scale)
        let frac = Int(r - Double(whole) * scale)
        let sign = x < 0 && r != 0 ? "-" : ""
        if digits == 0 { return "\(sign)\(whole)" }
        let f = String(frac)
        return "\(sign)\(whole).\(String(repeating: "0", count: digits - f.count))\(f)"
    }

    /// Bytes as "12.3 MB".
    public static func bytes(_ n: Double) -> String {
        n >= 1e9 ? fixed(n / 1e9, 2) + " GB" : n >= 1e6 ? fixed(n / 1e6, 1) + " MB" : fixed(n / 1e3, 0) + " kB"
    }
}
