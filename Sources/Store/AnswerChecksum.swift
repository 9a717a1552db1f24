import Records

/// The checksum stored with every prediction, so that an answer whose bytes changed after it was
/// stored (a hand edit, a bad sync, a disk fault SQLite cannot see) is caught before it is scored.
///
/// Stored as `<version>:<hex SHA-256>`; the prefix names the serialisation, so a row keeps verifying
/// under the format it was written with after a newer one is introduced.
///
/// Serialisation v1: the tag `vispruner-answer-v1\n`, then each field as `name=<UTF-8 byte
/// count>:<bytes>\n`, in this fixed order. The length prefix makes the encoding unambiguous
/// whatever the texts contain (newlines, `=`, digits), so two different answers never serialise
/// to the same bytes. Serialisation v2 (written since costs are stored): tag `vispruner-answer-v2\n`,
/// the v1 fields, then `cost` (the five `ItemCost` integers, decimal, comma-separated). Serialisation v3
/// (written since image paths and selection margins are stored): tag `vispruner-answer-v3\n`, the v2 fields,
/// then `image_path` (its name, or empty when nil) and `selection_margin` (the IEEE-754 bit pattern in hex, or
/// empty when nil).
///
/// The run is identified by its key, not its row id: the id differs between a shard and the merged
/// file, the key does not, so a merged row keeps the checksum it had in its shard. Timings and costs
/// are covered too (timings as exact IEEE-754 bit patterns): latency tables are published like scores.
public enum AnswerChecksum {
    /// The serialisation new rows are written with.
    public static let version = "v3"

    public static func compute(runKey: String, _ p: PredictionRecord) -> String {
        digest(tag: "v3", fields(runKey: runKey, p) + [("cost", costText(p)), ("image_path", p.imagePath?.rawValue ?? ""),
                                                       ("selection_margin", p.selectionMargin.map { String($0.bitPattern, radix: 16) } ?? "")])
    }

    /// Whether `stored` is the checksum of `p` under the serialisation it names. A v1 row predates stored
    /// costs and a v1 or v2 row image paths and margins, so such a row that has one was changed.
    public static func matches(_ stored: String, runKey: String, _ p: PredictionRecord) -> Bool {
        let newer = p.imagePath != nil || p.selectionMargin != nil
        if stored.hasPrefix("v1:") {
            return !p.cost.isRecorded && !newer && stored == digest(tag: "v1", fields(runKey: runKey, p))
        }
        if stored.hasPrefix("v2:") {
            return !newer && stored == digest(tag: "v2", fields(runKey: runKey, p) + [("cost", costText(p))])
        }
        return stored == compute(runKey: runKey, p)
    }

    static func costText(_ p: PredictionRecord) -> String {
        let c = p.cost
        return [c.visionFLOPs, c.projectorFLOPs, c.prefillFLOPs, c.decodeFLOPs, c.kvCacheBytes].map(String.init).joined(separator: ",")
    }

    static func fields(runKey: String, _ p: PredictionRecord) -> [(String, String)] {
        let t = p.timings
        return [
            ("run_key", runKey),
            // The JSON literal keeps int 7 and string "7" apart.
            ("question_id", p.questionID.jsonLiteral),
            ("occurrence", String(p.occurrence)),
            ("item_index", String(p.itemIndex)),
            ("prompt", p.prompt),
            ("raw_output", p.rawOutput),
            ("parsed_answer", p.parsedAnswer),
            ("answer_id", p.answerID),
            ("visual_tokens", String(p.visualTokens)),
            ("generated_tokens", String(p.generatedTokens)),
            ("kept", ResultsStore.keptJSON(p.kept)),
            ("timings", [t.load, t.preprocess, t.vision, t.prune, t.projector, t.prefill, t.decode, t.total]
                .map { String($0.bitPattern, radix: 16) }.joined(separator: ",")),
        ]
    }

    static func digest(tag: String, _ fields: [(String, String)]) -> String {
        var bytes = Array("vispruner-answer-\(tag)\n".utf8)
        for (name, value) in fields {
            let utf8 = Array(value.utf8)
            bytes += Array("\(name)=\(utf8.count):".utf8) + utf8 + [UInt8(ascii: "\n")]
        }
        return tag + ":" + SHA256Digest.hash(bytes).map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    }
}
