import PythonText

/// Answer normalization of m4c's `EvalAIAnswerProcessor` (LLaVA `llava/eval/m4c_evaluator.py`), the
/// function behind the VQAv2 EvalAI submission and the TextVQA accuracy, with all its quirks:
/// commas and "?" dropped up front, "'s" split off, punctuation deleted or turned into spaces
/// depending on the original string, at most 32 periods removed, number words mapped to digits,
/// articles dropped, contractions restored.
public struct EvalAIAnswerProcessor: Sendable {
    public init() {}

    /// The normalized answer for a raw string.
    public func callAsFunction(_ item: String) -> String {
        Self.normalize(item)
    }

    public static func normalize(_ item: String) -> String {
        // word_tokenize
        var s = PythonText.lower(Array(item.unicodeScalars))
        s = PythonText.replace(s, [","], [])
        s = PythonText.replace(s, ["?"], [])
        s = PythonText.replace(s, ["'", "s"], [" ", "'", "s"])
        s = PythonText.strip(s)
        s = PythonText.replace(s, ["\n"], [" "])
        s = PythonText.replace(s, ["\t"], [" "])
        s = PythonText.strip(s)
        s = processPunctuation(s)
        return AnswerNormalizationTables.processDigitArticle(s)
    }

    /// `process_punctuation` alone (COMMA_STRIP is `(?<=\d)(\,)+(?=\d)`).
    public static func processPunctuation(_ s: [Unicode.Scalar]) -> [Unicode.Scalar] {
        AnswerNormalizationTables.processPunctuation(s, commaBetweenDigits: hasCommaRunBetweenDigits(s))
    }

    static func hasCommaRunBetweenDigits(_ s: [Unicode.Scalar]) -> Bool {
        var i = 1
        while i < s.count {
            if s[i] == ",", PythonText.isDecimalDigit(s[i - 1]) {
                var j = i
                while j < s.count, s[j] == "," { j += 1 }
                if j < s.count, PythonText.isDecimalDigit(s[j]) { return true }
                i = j
            } else {
                i += 1
            }
        }
        return false
    }
}
