/// ScienceQA answer parsing exactly as LLaVA's `eval_science_qa.py` does it.
public enum ScienceQAAnswer {
    /// The option letters the script knows (`--options`, default A–E).
    public static let options = ["A", "B", "C", "D", "E"]
    /// The parsed answer of an unparsable (or missing) prediction.
    public static let failed = "FAILED"

    /// The option letter a model output stands for, or "FAILED".
    ///
    /// Rules, in order: the whole text is one of A–E; or it is at least 3 characters, starts with
    /// A–E and continues with ". "; or the pattern `The answer is ([A-Z]).` (the `.` being any
    /// character but a newline) matches exactly once, giving that letter (which may be beyond E).
    public static func parse(_ output: String) -> String {
        if options.contains(output) { return output }
        let scalars = Array(output.unicodeScalars)
        if scalars.count >= 3, case let first = String(scalars[0]), options.contains(first),
           scalars[1] == ".", scalars[2] == " " {
            return first
        }
        let matches = answerIsMatches(scalars)
        return matches.count == 1 ? matches[0] : failed
    }

    /// Index of a parsed letter among the problem's choices, or -1 (`get_pred_idx`).
    public static func predictionIndex(_ parsed: String, choiceCount: Int) -> Int {
        guard let i = options.firstIndex(of: parsed), i < choiceCount else { return -1 }
        return i
    }

    static let phrase = Array("The answer is ".unicodeScalars)

    /// Non-overlapping matches of `The answer is ([A-Z]).`, left to right, as `re.findall` returns them.
    static func answerIsMatches(_ s: [Unicode.Scalar]) -> [String] {
        var found: [String] = []
        let need = phrase.count + 2
        var i = 0
        while i + need <= s.count {
            if s[i..<(i + phrase.count)].elementsEqual(phrase) {
                let l = s[i + phrase.count]
                let any = s[i + phrase.count + 1]
                if l.value >= 0x41 && l.value <= 0x5A && any != "\n" {
                    found.append(String(l))
                    i += need
                    continue
                }
            }
            i += 1
        }
        return found
    }
}
