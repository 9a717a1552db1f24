import Records

/// The checksum stored with every prediction, so that an answer whose bytes changed after it was
/// stored (a hand edit, a bad sync, a disk fault SQLite cannot see) is caught before it is scored.
///
/// Stored as `v1:<hex SHA-256>`; the prefix names the serialisation below, so a later format can be
/// introduced without misreading rows written with this one.
///
/// Serialisation v1: the tag `vispruner-answer-v1\n`, then each field as `name=<UTF-8 byte
/// count>:<bytes>\n`, in this fixed order. The length prefix makes the encoding unambiguous
/// whatever the texts contain (newlines, `=`, digits), so two different answers never serialise
/// to the same bytes.
///
/// The run is identified by its key, not its row id: the id differs between a shard and the merged
/// file, the key does not, so a merged row keeps the checksum it had in its shard. Timings are
/// covered too (as exact IEEE-754 bit patterns): latency tables are published like scores.
public enum AnswerChecksum {
    public static let version = "v1"

    public static func compute(runKey: String, _ p: PredictionRecord) -> String {
        let t = p.timings
        let fields: [(String, String)] = [
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
        var bytes = Array("vispruner-answer-v1\n".utf8)
        for (name, value) in fields {
            let utf8 = Array(value.utf8)
            bytes += Array("\(name)=\(utf8.count):".utf8) + utf8 + [UInt8(ascii: "\n")]
        }
        return version + ":" + SHA256Digest.hash(bytes).map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    }
}
