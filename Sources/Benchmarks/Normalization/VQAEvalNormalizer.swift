import PythonText

/// The answer processing of the official VQA evaluation (`vqaEval.py`, GT-Vision-Lab/VQA):
/// `processPunctuation` (COMMA_STRIP is `(\d)(\,)(\d)`, exactly one comma) and
/// `processDigitArticle`. Unlike the EvalAI processor it does not drop commas, "?" or split "'s"
/// up front, and the caller decides when to apply it (see `VQAv2Scorer`).
public enum VQAEvalNormalizer {
    public static func processPunctuation(_ s: String) -> String {
        let a = Array(s.unicodeScalars)
        return PythonText.string(AnswerNormalizationTables.processPunctuation(a, commaBetweenDigits: hasDigitCommaDigit(a)))
    }

    public static func processDigitArticle(_ s: String) -> String {
        AnswerNormalizationTables.processDigitArticle(Array(s.unicodeScalars))
    }

    /// processPunctuation followed by processDigitArticle.
    public static func normalize(_ s: String) -> String {
        processDigitArticle(processPunctuation(s))
    }

    static func hasDigitCommaDigit(_ s: [Unicode.Scalar]) -> Bool {
        guard s.count >= 3 else { return false }
        for i in 1..<(s.count - 1) where s[i] == "," {
            if PythonText.isDecimalDigit(s[i - 1]), PythonText.isDecimalDigit(s[i + 1]) { return true }
        }
        return false
    }
}
