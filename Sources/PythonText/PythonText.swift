/// The handful of Python `str` operations the official scorers rely on, reproduced on Unicode
/// scalars (Python strings are code-point sequences; Swift's `String` compares by canonical
/// equivalence, which would make "é" and "e\u{301}" equal where Python says they differ).
public enum PythonText {
    /// `str.isspace()` for one code point: bidi class WS/B/S or general category Zs.
    public static func isSpace(_ s: Unicode.Scalar) -> Bool {
        switch s.value {
        case 0x09...0x0D, 0x1C...0x20, 0x85, 0xA0, 0x1680, 0x2000...0x200A,
             0x2028, 0x2029, 0x202F, 0x205F, 0x3000:
            return true
        default:
            return false
        }
    }

    /// `\d` of Python 3 `re` on str patterns: any code point of general category Nd.
    public static func isDecimalDigit(_ s: Unicode.Scalar) -> Bool {
        if s.value < 0x80 { return s.value >= 0x30 && s.value <= 0x39 }
        return s.properties.numericType == .decimal
    }

    /// `str.strip()` without arguments.
    public static func strip(_ s: [Unicode.Scalar]) -> [Unicode.Scalar] {
        guard let first = s.firstIndex(where: { !isSpace($0) }),
              let last = s.lastIndex(where: { !isSpace($0) }) else { return [] }
        return Array(s[first...last])
    }

    /// `str.split()` without arguments: runs of whitespace separate, empty pieces dropped.
    public static func split(_ s: [Unicode.Scalar]) -> [[Unicode.Scalar]] {
        var out: [[Unicode.Scalar]] = []
        var cur: [Unicode.Scalar] = []
        for c in s {
            if isSpace(c) {
                if !cur.isEmpty { out.append(cur); cur.removeAll(keepingCapacity: true) }
            } else {
                cur.append(c)
            }
        }
        if !cur.isEmpty { out.append(cur) }
        return out
    }

    /// `str.lower()`: full lowercase mapping per code point, with Python's Final_Sigma rule
    /// (capital sigma ending a word becomes final sigma).
    public static func lower(_ s: [Unicode.Scalar]) -> [Unicode.Scalar] {
        var out: [Unicode.Scalar] = []
        out.reserveCapacity(s.count)
        for (i, c) in s.enumerated() {
            if c.value < 0x80 {
                out.append(c.value >= 0x41 && c.value <= 0x5A ? Unicode.Scalar(c.value + 32)! : c)
            } else if c.value == 0x03A3 {
                out.append(isFinalSigma(s, at: i) ? "\u{03C2}" : "\u{03C3}")
            } else {
                out.append(contentsOf: c.properties.lowercaseMapping.unicodeScalars)
            }
        }
        return out
    }

    private static func isFinalSigma(_ s: [Unicode.Scalar], at i: Int) -> Bool {
        var j = i - 1
        while j >= 0, s[j].properties.isCaseIgnorable { j -= 1 }
        guard j >= 0, s[j].properties.isCased else { return false }
        var k = i + 1
        while k < s.count, s[k].properties.isCaseIgnorable { k += 1 }
        return !(k < s.count && s[k].properties.isCased)
    }

    /// `str.replace(old, new)` on scalar arrays (all non-overlapping occurrences, left to right).
    public static func replace(_ s: [Unicode.Scalar], _ old: [Unicode.Scalar], _ new: [Unicode.Scalar]) -> [Unicode.Scalar] {
        // Most calls find nothing (21 punctuation passes per answer): return the input untouched.
        guard !old.isEmpty, let first = firstMatch(s, old, from: 0) else { return s }
        var out: [Unicode.Scalar] = []
        out.reserveCapacity(s.count + new.count)
        out.append(contentsOf: s[0..<first])
        var i = first
        while i < s.count {
            if matches(s, old, at: i) {
                out.append(contentsOf: new)
                i += old.count
            } else {
                out.append(s[i])
                i += 1
            }
        }
        return out
    }

    /// `needle in haystack` for scalar arrays.
    public static func contains(_ haystack: [Unicode.Scalar], _ needle: [Unicode.Scalar]) -> Bool {
        needle.isEmpty || firstMatch(haystack, needle, from: 0) != nil
    }

    static func matches(_ s: [Unicode.Scalar], _ needle: [Unicode.Scalar], at i: Int) -> Bool {
        guard i + needle.count <= s.count else { return false }
        for k in 0..<needle.count where s[i + k] != needle[k] { return false }
        return true
    }

    /// `s.find(needle, from)`: the first index at or after `from` where `needle` starts, or nil.
    public static func firstMatch(_ s: [Unicode.Scalar], _ needle: [Unicode.Scalar], from: Int) -> Int? {
        guard !needle.isEmpty else { return from <= s.count ? from : nil }
        guard s.count >= needle.count, from <= s.count - needle.count else { return nil }
        for i in from...(s.count - needle.count) where s[i] == needle[0] && matches(s, needle, at: i) { return i }
        return nil
    }

    /// Code-point equality, as Python's `==` on str (no canonical equivalence).
    public static func equal(_ a: String, _ b: String) -> Bool {
        a.unicodeScalars.elementsEqual(b.unicodeScalars)
    }

    /// A hashable key with Python's notion of string identity (the UTF-8 bytes).
    public static func key(_ s: String) -> [UInt8] { Array(s.utf8) }

    public static func scalars(_ s: String) -> [Unicode.Scalar] { Array(s.unicodeScalars) }

    public static func string<S: Sequence>(_ s: S) -> String where S.Element == Unicode.Scalar {
        var v = String.UnicodeScalarView()
        v.append(contentsOf: s)
        return String(v)
    }

    /// `str.rstrip(chars)` for a single character.
    public static func rstrip(_ s: String, _ ch: Unicode.Scalar) -> String {
        var a = scalars(s)
        while let l = a.last, l == ch { a.removeLast() }
        return string(a)
    }
}


// The same operations on `String`, for callers that do not keep scalar arrays.
extension PythonText {
    /// `s.strip()`.
    public static func strip(_ s: String) -> String { string(strip(scalars(s))) }

    /// `needle in haystack`.
    public static func contains(_ haystack: String, _ needle: String) -> Bool {
        contains(scalars(haystack), scalars(needle))
    }

    /// `s.replace(old, new)`.
    public static func replace(_ s: String, _ old: String, with new: String) -> String {
        string(replace(scalars(s), scalars(old), scalars(new)))
    }

    /// `s.split(sep)` for a non-empty separator (empty pieces kept).
    public static func split(_ s: String, _ sep: String) -> [String] {
        let hay = scalars(s), pat = scalars(sep)
        guard !pat.isEmpty else { return [s] }
        var parts: [String] = []
        var i = 0
        while let r = firstMatch(hay, pat, from: i) {
            parts.append(string(hay[i..<r]))
            i = r + pat.count
        }
        parts.append(string(hay[i...]))
        return parts
    }
}
