/// JSON text exactly as Python's `json.dumps` writes it (ensure_ascii=True), so files this tool
/// writes are byte-compatible with those of the reference scripts.
public enum JSONText {
    /// A JSON string literal with Python's escaping: `\"`, `\\`, `\n`, `\r`, `\t`, `\b`, `\f`,
    /// other control characters and every non-ASCII scalar as `\uXXXX` (surrogate pairs above U+FFFF).
    public static func quote(_ s: String) -> String {
        var out = "\""
        out.reserveCapacity(s.utf8.count + 2)
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            default:
                let v = scalar.value
                if v < 0x20 || v > 0x7E {
                    if v > 0xFFFF {
                        let u = v - 0x10000
                        out += hex4(0xD800 + (u >> 10)) + hex4(0xDC00 + (u & 0x3FF))
                    } else {
                        out += hex4(v)
                    }
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }

    private static func hex4(_ v: UInt32) -> String {
        let h = String(v, radix: 16)
        return "\\u" + String(repeating: "0", count: 4 - h.count) + h
    }
}
