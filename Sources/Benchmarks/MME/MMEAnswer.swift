import PythonText

/// MME answer parsing exactly as MME's `calculation.py` (`parse_pred_ans`) applies it.
public enum MMEAnswer {
    /// "yes", "no" or "other" for a raw model output.
    ///
    /// `calculation.py` reads the answer as the last tab field of a results line, so it still carries
    /// the line's `\n`; it lower-cases, accepts exactly "yes"/"no", else looks only at the first four
    /// characters: any "yes" there wins, then any "no" ("snow" → no, "nyes" → yes, "y es" → other).
    public static func parse(_ output: String) -> String {
        parse(resultsField: output + "\n")
    }

    /// The same rule applied to the answer field as read from a results `.txt` line (with its `\n`).
    public static func parse(resultsField: String) -> String {
        let pred = resultsField.lowercased()
        if pred == "yes" || pred == "no" { return pred }
        // Python slices code points, so take Unicode scalars, not grapheme clusters.
        var prefix = String.UnicodeScalarView()
        prefix.append(contentsOf: pred.unicodeScalars.prefix(4))
        let head = String(prefix)
        if PythonText.contains(head, "yes") { return "yes" }
        if PythonText.contains(head, "no") { return "no" }
        return "other"
    }
}
