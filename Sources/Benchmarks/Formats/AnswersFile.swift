import Foundation
import Records

/// Reading and writing LLaVA answers files (`.jsonl`, one `AnswerRecord` per line).
public enum AnswersFile {
    /// Result of reading a possibly imperfect answers file: unparsable lines are counted and
    /// reported, as the reference conversion scripts skip them.
    public struct Contents: Sendable {
        public var records: [AnswerRecord]
        /// 1-based line numbers that were not valid answer objects, with the reason.
        public var badLines: [(line: Int, reason: String)]

        public init(records: [AnswerRecord], badLines: [(line: Int, reason: String)] = []) {
            self.records = records
            self.badLines = badLines
        }
    }

    public static func read(_ url: URL) throws -> Contents {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw DatasetError(file: url.path, "cannot read answers file: \(error.localizedDescription)")
        }
        return parse(data, file: url.path)
    }

    /// Parses answers text. `strict` callers can turn `badLines` into an error themselves.
    public static func parse(_ data: Data, file: String) -> Contents {
        var records: [AnswerRecord] = []
        var bad: [(Int, String)] = []
        for (lineNo, line) in YesNoQuestionFile.jsonLines(data) {
            do {
                guard line.count <= YesNoQuestionFile.maxLineBytes else {
                    throw DatasetError("line is \(line.count) bytes, more than the \(YesNoQuestionFile.maxLineBytes)-byte limit per line")
                }
                records.append(try record(fromJSONLine: line))
            } catch let e as DatasetError {
                bad.append((lineNo, e.message))
            } catch {
                bad.append((lineNo, "not valid JSON"))
            }
        }
        return Contents(records: records, badLines: bad)
    }

    static func record(fromJSONLine line: Data) throws -> AnswerRecord {
        guard let obj = try JSONSerialization.jsonObject(with: line, options: [.fragmentsAllowed]) as? [String: Any] else {
            throw DatasetError("not a JSON object")
        }
        guard let qidAny = obj["question_id"] else { throw DatasetError("missing field 'question_id'") }
        let qid: QuestionID
        if let s = qidAny as? String { qid = .string(s) } else if let n = qidAny as? NSNumber, !isFloatingPoint(n), !isBoolean(n) {
            qid = .int(n.int64Value)
        } else { throw DatasetError("field 'question_id' is neither an integer nor a string") }
        guard let text = obj["text"] as? String else { throw DatasetError("missing or non-string field 'text'") }
        let prompt = obj["prompt"] as? String ?? ""
        return AnswerRecord(questionID: qid, prompt: prompt, text: text,
                            answerID: obj["answer_id"] as? String ?? "", modelID: obj["model_id"] as? String ?? "")
    }

    /// `is Bool` is true for every NSNumber holding 0 or 1 on Linux (POPE's question_id 1 would be
    /// refused); JSONSerialization marks real booleans with type "c".
    static func isBoolean(_ n: NSNumber) -> Bool {
        String(cString: n.objCType) == "c"
    }

    static func isFloatingPoint(_ n: NSNumber) -> Bool {
        let t = String(cString: n.objCType)
        return t == "d" || t == "f"
    }

    /// Writes records as the reference does: one `json.dumps` line each, newline-terminated.
    public static func write(_ records: [AnswerRecord], to url: URL) throws {
        var out = ""
        for r in records { out += r.jsonLine + "\n" }
        try Data(out.utf8).write(to: url, options: .atomic)
    }
}
