import Foundation
import Records

/// Reader for LLaVA's evaluation question files (`llava_*.jsonl`): one object per line with
/// `question_id` (int or string), `image`, `text` (prompt suffix already included) and `category`.
public enum LLaVAQuestionFile {
    /// One parsed line with its 1-based line number.
    public struct Line: Sendable {
        public var line: Int
        public var questionID: QuestionID
        public var image: String
        public var text: String
        public var category: String
    }

    /// Result of a lenient read: good lines plus the malformed ones (line number, reason).
    public struct Contents: Sendable {
        public var lines: [Line]
        public var badLines: [(line: Int, reason: String)]
    }

    /// Largest question file accepted (the biggest real one, VQAv2 test2015, is ~90 MB).
    public static let maxBytes = 1 << 30

    /// Reads the file, collecting malformed lines instead of failing on them.
    public static func readLenient(_ url: URL) throws -> Contents {
        let data = try readBounded(url, limit: maxBytes)
        var lines: [Line] = []
        var bad: [(Int, String)] = []
        for (lineNo, body) in YesNoQuestionFile.jsonLines(data) {
            do {
                lines.append(try parseLine(body, line: lineNo, file: url.path))
            } catch let e as DatasetError {
                bad.append((lineNo, e.message))
            } catch {
                bad.append((lineNo, "\(url.path):\(lineNo): not valid JSON"))
            }
        }
        return Contents(lines: lines, badLines: bad)
    }

    /// Reads the file and fails on the first malformed line, naming file, line and field.
    public static func read(_ url: URL) throws -> [Line] {
        let c = try readLenient(url)
        if let first = c.badLines.first { throw DatasetError(first.reason) }
        return c.lines
    }

    static func parseLine(_ data: Data, line: Int, file: String) throws -> Line {
        let obj = try YesNoQuestionFile.object(data, file: file, line: line)
        let qid = try JSONValues.questionID(obj["question_id"], file: file, line: line, field: "question_id")
        guard let image = obj["image"] as? String else {
            throw DatasetError(file: file, line: line, field: "image", "missing or not a string")
        }
        guard let text = obj["text"] as? String else {
            throw DatasetError(file: file, line: line, field: "text", "missing or not a string")
        }
        let category = obj["category"] as? String ?? "default"
        return Line(line: line, questionID: qid, image: image, text: text, category: category)
    }
}

/// Small helpers for reading values out of `JSONSerialization` results with located errors.
public enum JSONValues {
    /// A question id: JSON integer or string (booleans and floats refused).
    public static func questionID(_ v: Any?, file: String, line: Int?, field: String) throws -> QuestionID {
        guard let v else { throw DatasetError(file: file, line: line, field: field, "missing") }
        if let s = v as? String { return .string(s) }
        if let n = v as? NSNumber {
            // JSONSerialization marks booleans with type "c" and floats with "d"/"f".
            let t = String(cString: n.objCType)
            if t != "d" && t != "f" && t != "c" { return .int(n.int64Value) }
        }
        throw DatasetError(file: file, line: line, field: field, "neither an integer nor a string")
    }

    /// Parses a whole JSON document from a file, with size bound and a located error.
    public static func document(_ url: URL, limit: Int = LLaVAQuestionFile.maxBytes) throws -> Any {
        let data = try readBounded(url, limit: limit)
        do { return try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]) } catch {
            throw DatasetError(file: url.path, "not valid JSON (\(error.localizedDescription))")
        }
    }
}

/// Reads a file refusing anything larger than `limit` bytes.
public func readBounded(_ url: URL, limit: Int) throws -> Data {
    let attrs = try? FileManager.default.attributesOfItem(atPath: url.path)
    if attrs == nil { throw DatasetError(file: url.path, "file not found or unreadable") }
    if let size = attrs?[.size] as? NSNumber, size.intValue > limit {
        throw DatasetError(file: url.path, "file is \(size.intValue) bytes, more than the \(limit)-byte limit")
    }
    do { return try Data(contentsOf: url) } catch {
        throw DatasetError(file: url.path, "cannot read: \(error.localizedDescription)")
    }
}
