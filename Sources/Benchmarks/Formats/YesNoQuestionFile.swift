import Foundation
import Records

/// Reader for the LLaVA question files of the yes/no benchmarks (`llava_pope_test.jsonl`,
/// `llava_mme.jsonl`): one `{"question_id", "image", "text", "category"}` object per line.
public enum YesNoQuestionFile {
    /// One question line with its 1-based line number in the file.
    public struct Line: Equatable, Sendable {
        public var line: Int
        public var questionID: QuestionID
        public var image: String
        public var text: String
        public var category: String
    }

    /// Largest benchmark file read into memory; the real question and label files are a few MB.
    public static let maxBytes = 1 << 30

    /// Reads a whole file, refusing anything larger than `limit` bytes.
    public static func readData(_ url: URL, limit: Int = maxBytes) throws -> Data {
        let attrs: [FileAttributeKey: Any]
        do { attrs = try FileManager.default.attributesOfItem(atPath: url.path) } catch {
            throw DatasetError(file: url.path, "cannot read: file is missing or unreadable")
        }
        if let size = attrs[.size] as? NSNumber, size.int64Value > Int64(limit) {
            throw DatasetError(file: url.path, "file is \(size.int64Value) bytes, more than the \(limit)-byte limit")
        }
        do { return try Data(contentsOf: url) } catch {
            throw DatasetError(file: url.path, "cannot read: \(error.localizedDescription)")
        }
    }

    /// Longest line of a JSON-lines file that is parsed (documented in EVAL.md): a longer one is a malformed
    /// line, so one huge line cannot make the JSON parser exhaust memory.
    public static let maxLineBytes = 1 << 20

    /// Splits JSON-lines data into (1-based line number, line bytes), skipping blank lines and
    /// dropping a trailing `\r`. Every reader of JSON-lines files (questions, labels, answers) uses it.
    public static func jsonLines(_ data: Data) -> [(line: Int, bytes: Data)] {
        var out: [(Int, Data)] = []
        var lineNo = 0
        for raw in data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            lineNo += 1
            let body = raw.last == UInt8(ascii: "\r") ? raw.dropLast() : raw
            if body.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { continue }
            out.append((lineNo, Data(body)))
        }
        return out
    }

    /// Parses one JSON-lines line into an object, with errors naming file and line.
    public static func object(_ bytes: Data, file: String, line: Int) throws -> [String: Any] {
        guard bytes.count <= maxLineBytes else {
            throw DatasetError(file: file, line: line, "line is \(bytes.count) bytes, more than the \(maxLineBytes)-byte limit per line")
        }
        let any: Any
        do { any = try JSONSerialization.jsonObject(with: bytes, options: [.fragmentsAllowed]) } catch {
            throw DatasetError(file: file, line: line, "not valid JSON")
        }
        guard let obj = any as? [String: Any] else { throw DatasetError(file: file, line: line, "not a JSON object") }
        return obj
    }

    /// A question id as JSON spells it: integer or string (booleans and fractions refused).
    public static func questionID(_ value: Any?, file: String, line: Int, field: String = "question_id") throws -> QuestionID {
        guard let value else { throw DatasetError(file: file, line: line, field: field, "missing") }
        if let s = value as? String { return .string(s) }
        if let n = value as? NSNumber {
            let type = String(cString: n.objCType)
            // JSONSerialization marks booleans "c" and fractions "d"/"f"; `is Bool` is unreliable on Linux.
            if type != "c" && type != "d" && type != "f" { return .int(n.int64Value) }
        }
        throw DatasetError(file: file, line: line, field: field, "neither an integer nor a string")
    }

    /// A required string field.
    public static func string(_ obj: [String: Any], _ field: String, file: String, line: Int) throws -> String {
        guard let v = obj[field] else { throw DatasetError(file: file, line: line, field: field, "missing") }
        guard let s = v as? String else { throw DatasetError(file: file, line: line, field: field, "not a string") }
        return s
    }

    /// Reads a question file, failing on the first malformed line.
    public static func read(_ url: URL) throws -> [Line] {
        let data = try readData(url)
        return try jsonLines(data).map { entry in
            let obj = try object(entry.bytes, file: url.path, line: entry.line)
            return Line(line: entry.line,
                        questionID: try questionID(obj["question_id"], file: url.path, line: entry.line),
                        image: try string(obj, "image", file: url.path, line: entry.line),
                        text: try string(obj, "text", file: url.path, line: entry.line),
                        category: try string(obj, "category", file: url.path, line: entry.line))
        }
    }
}

extension DatasetSpec {
    /// The annotation path registered under `key`, or an error naming the dataset and key.
    public func requiredAnnotation(_ key: String) throws -> String {
        guard let path = annotationFiles[key], !path.isEmpty else {
            throw DatasetError("dataset '\(name)': annotationFiles has no '\(key)' entry (check datasets.json)")
        }
        return path
    }
}
