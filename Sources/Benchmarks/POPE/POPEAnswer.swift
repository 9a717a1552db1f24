import PythonText

/// POPE answer parsing exactly as LLaVA's `eval_pope.py` does it.
public enum POPEAnswer {
    /// "yes" or "no" for a raw model output.
    ///
    /// The script keeps the text before the first `.`, deletes commas, splits on single spaces
    /// only, and answers "no" iff some word is exactly `No`, `not` or `no`; everything else is "yes"
    /// (so `NO`, `No!`, `Nope`, `(No)`, the empty string and "Yes\nNo" all count as yes).
    public static func parse(_ output: String) -> String {
        let firstSentence = PythonText.split(output, ".")[0]
        let noCommas = PythonText.replace(firstSentence, ",", with: "")
        for word in PythonText.split(noCommas, " ") where word == "No" || word == "not" || word == "no" {
            return "no"
        }
        return "yes"
    }
}
