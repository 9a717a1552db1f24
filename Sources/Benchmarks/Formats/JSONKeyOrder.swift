import Foundation

/// Key order of a JSON object. `JSONSerialization` returns unordered dictionaries, but the official
/// scripts iterate Python dicts in file order (GQA's eval.py accumulates its chi-square over groups
/// in that order), so the order is recovered by scanning the text.
public enum JSONKeyOrder {
    /// Keys of the top-level object in the order they appear; empty if the document is not an object.
    public static func topLevelKeys(_ data: Data) -> [String] {
        var keys: [String] = []
        data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            let b = raw.bindMemory(to: UInt8.self)
            var i = 0
            let n = b.count
            while i < n, b[i] != UInt8(ascii: "{") {
                if b[i] != 0x20 && b[i] != 0x0A && b[i] != 0x0D && b[i] != 0x09 && !(i < 3 && b[i] >= 0xEF) { return }
                i += 1
            }
            var depth = 0
            var expectKey = false
            while i < n {
                let c = b[i]
                if c == UInt8(ascii: "\"") {
                    let start = i
                    i += 1
                    while i < n, b[i] != UInt8(ascii: "\"") { i += b[i] == UInt8(ascii: "\\") ? 2 : 1 }
                    if depth == 1 && expectKey {
                        let literal = Data(UnsafeBufferPointer(rebasing: b[start...min(i, n - 1)]))
                        if let s = try? JSONSerialization.jsonObject(with: literal, options: [.fragmentsAllowed]) as? String {
                            keys.append(s)
                        }
                        expectKey = false
                    }
                } else if c == UInt8(ascii: "{") || c == UInt8(ascii: "[") {
                    depth += 1
                    expectKey = depth == 1
                } else if c == UInt8(ascii: "}") || c == UInt8(ascii: "]") {
                    depth -= 1
                    if depth == 0 { return }
                } else if c == UInt8(ascii: ",") && depth == 1 {
                    expectKey = true
                }
                i += 1
            }
        }
        return keys
    }
}
