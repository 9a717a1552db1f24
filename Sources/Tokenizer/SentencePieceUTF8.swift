/// SentencePiece's UTF-8 rule for byte fallback decoding.
enum SentencePieceUTF8 {
    /// Length of the well-formed UTF-8 character at `bytes[i]`, or 0 when it is malformed (by SentencePiece's
    /// rules: no overlong forms, no surrogates, nothing above U+10FFFF).
    static func validLength(_ bytes: [UInt8], at i: Int) -> Int {
        let lead = bytes[i]
        let remaining = bytes.count - i
        func trail(_ k: Int) -> UInt32? {
            let b = bytes[i + k]
            return b & 0xC0 == 0x80 ? UInt32(b & 0x3F) : nil
        }
        func isValidScalar(_ c: UInt32) -> Bool { c < 0xD800 || (c >= 0xE000 && c <= 0x10FFFF) }
        if lead < 0x80 { return 1 }
        if lead & 0xE0 == 0xC0, remaining >= 2, let t1 = trail(1) {
            let c = (UInt32(lead & 0x1F) << 6) | t1
            return c >= 0x80 ? 2 : 0
        }
        if lead & 0xF0 == 0xE0, remaining >= 3, let t1 = trail(1), let t2 = trail(2) {
            let c = (UInt32(lead & 0x0F) << 12) | (t1 << 6) | t2
            return c >= 0x800 && isValidScalar(c) ? 3 : 0
        }
        if lead & 0xF8 == 0xF0, remaining >= 4, let t1 = trail(1), let t2 = trail(2), let t3 = trail(3) {
            let c = (UInt32(lead & 0x07) << 18) | (t1 << 12) | (t2 << 6) | t3
            return c >= 0x10000 && isValidScalar(c) ? 4 : 0
        }
        return 0
    }
}
