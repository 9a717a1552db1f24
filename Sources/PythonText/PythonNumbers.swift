import Foundation

/// Python's numeric rounding/formatting, so stored values and printed tables match the scripts.
public enum PythonNumbers {
    /// `round(x, digits)`: correctly rounded from the exact binary value, ties to even — the same
    /// result glibc's printf gives, which is what this uses.
    public static func round(_ x: Double, _ digits: Int) -> Double {
        guard x.isFinite else { return x }
        return Double(String(format: "%.\(digits)f", x)) ?? x
    }

    /// `'{:.Nf}'.format(x)` / `'%.Nf' % x`.
    public static func fixed(_ x: Double, _ digits: Int) -> String {
        if x.isNaN { return "nan" }
        if x.isInfinite { return x > 0 ? "inf" : "-inf" }
        return String(format: "%.\(digits)f", x)
    }
}
