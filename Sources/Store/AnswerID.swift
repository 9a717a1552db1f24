import Records

/// Answer ids in the shape the reference writes (`shortuuid.uuid()`: 22 characters from a
/// 57-letter alphabet), but derived from the run key and question id instead of drawn at random,
/// so re-running or re-sharding a run reproduces its answers files byte for byte and merged
/// shards compare equal.
public enum AnswerID {
    /// shortuuid's default alphabet (digits and letters without the look-alikes 0, 1, I, O, l).
    public static let alphabet = Array("23456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz")
    public static let length = 22

    /// The id of `questionID`'s answer in the run keyed `runKey` (`occurrence` > 0 for a repeated id).
    public static func derive(runKey: String, questionID: QuestionID, occurrence: Int = 0) -> String {
        // The id literal keeps int 7 and string "7" apart.
        let suffix = occurrence == 0 ? "" : "\n#\(occurrence)"
        var number = SHA256Digest.hash(Array((runKey + "\n" + questionID.jsonLiteral + suffix).utf8))
        let base = UInt32(alphabet.count)
        var out: [Character] = []
        out.reserveCapacity(length)
        // Repeated long division of the 256-bit digest by 57; 22 digits use ~128 bits of it.
        for _ in 0..<length {
            var remainder: UInt32 = 0
            for i in number.indices {
                let acc = remainder << 8 | UInt32(number[i])
                number[i] = UInt8(acc / base)
                remainder = acc % base
            }
            out.append(alphabet[Int(remainder)])
        }
        return String(out)
    }
}
