import Foundation

/// Axis ticks at round numbers (1, 2, 2.5 or 5 times a power of ten), the axis widened to the ticks
/// around the data, so every tick label is short and the data never touches the frame.
public struct NiceTicks: Equatable, Sendable {
    public var lower: Double
    public var upper: Double
    public var step: Double
    public var values: [Double]
    /// Decimals that show every tick exactly (0 for integer steps).
    public var decimals: Int

    /// Ticks for data in `lo...hi`, about `target` of them; `floor` keeps the axis from going below it
    /// (scores and latencies are never negative).
    public init(lo: Double, hi: Double, target: Int = 5, floor: Double? = 0) {
        var lo = lo, hi = hi
        if !lo.isFinite || !hi.isFinite { lo = 0; hi = 1 }
        if hi < lo { swap(&lo, &hi) }
        if hi - lo < 1e-12 * max(1, abs(hi)) {
            // One value: a window around it, so a flat series sits in the middle of the panel.
            let half = lo == 0 ? 1 : abs(lo) * 0.05
            lo -= half; hi += half
        }
        let pad = (hi - lo) * 0.06
        if let floor { lo = Swift.max(floor, lo - pad) } else { lo -= pad }
        hi += pad
        let raw = (hi - lo) / Double(Swift.max(1, target - 1))
        let magnitude = pow(10, (log10(raw)).rounded(.down))
        // The nice step nearest the raw one (Heckbert's rounding): the tick count stays near `target`.
        let m = raw / magnitude
        let step = (m < 1.5 ? 1 : m < 2.25 ? 2 : m < 3.5 ? 2.5 : m < 7.5 ? 5 : 10) * magnitude
        let first = (lo / step).rounded(.down), last = (hi / step).rounded(.up)
        self.step = step
        lower = first * step
        upper = last * step
        values = stride(from: first, through: last, by: 1).map { $0 * step }
        // 2.5 × 10^k needs one decimal more than the power of ten.
        let frac = (step / magnitude * 2).rounded() == 5 ? 1 : 0
        decimals = Swift.max(0, -Int(log10(step).rounded(.down)) + frac)
    }

    public func label(_ v: Double) -> String {
        let s = String(format: "%.\(decimals)f", v)
        return s == "-0" ? "0" : s
    }

    public var labels: [String] { values.map(label) }
}
