/// String operations on Unicode scalars, matching Python's `str` (a sequence of code points).
/// Swift's `String` compares grapheme clusters under canonical equivalence, so a `.` or a space
/// followed by a combining mark would not be found; the reference scripts would find it.
public enum CodePointText {
    /// Python `needle in haystack`.
    public static func contains(_ haystack: String, _ needle: String) -> Bool {
        firstRange(of: Array(needle.unicodeScalars), in: Array(haystack.unicodeScalars), from: 0) != nil
    }

    /// Python `s.replace(old, new)` (all non-overlapping occurrences, left to right).
    public static func replace(_ s: String, _ old: String, with new: String) -> String {
        let hay = Array(s.unicodeScalars)
        let pat = Array(old.unicodeScalars)
        guard !pat.isEmpty else { return s }
        var out = String.UnicodeScalarView()
        var i = 0
        while let r = firstRange(of: pat, in: hay, from: i) {
            out.append(contentsOf: hay[i..<r])
            out.append(contentsOf: new.unicodeScalars)
            i = r + pat.count
        }
        out.append(contentsOf: hay[i...])
        return String(out)
    }

    /// Python `s.split(sep)` for a non-empty separator (empty pieces kept).
    public static func split(_ s: String, _ sep: String) -> [String] {
        let hay = Array(s.unicodeScalars)
        let pat = Array(sep.unicodeScalars)
        guard !pat.isEmpty else { return [s] }
        var parts: [String] = []
        var i = 0
        while let r = firstRange(of: pat, in: hay, from: i) {
            parts.append(string(hay[i..<r]))
            i = r + pat.count
        }
        parts.append(string(hay[i...]))
        return parts
    }

    static func string(_ scalars: ArraySlice<Unicode.Scalar>) -> String {
        var v = String.UnicodeScalarView()
        v.append(contentsOf: scalars)
        return String(v)
    }

    static func firstRange(of pat: [Unicode.Scalar], in hay: [Unicode.Scalar], from start: Int) -> Int? {
        guard !pat.isEmpty, hay.count >= pat.count, start <= hay.count - pat.count else {
            return pat.isEmpty ? start : nil
        }
        var i = start
        while i <= hay.count - pat.count {
            if hay[i] == pat[0] {
                var j = 1
                while j < pat.count && hay[i + j] == pat[j] { j += 1 }
                if j == pat.count { return i }
            }
            i += 1
        }
        return nil
    }
}
