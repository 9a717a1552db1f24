import Foundation
import Records
import PythonText

/// Writes what Python's `json.dump(list_of_dicts, f)` writes (no indent, ", " and ": " separators,
/// ASCII escapes) for flat objects of string/integer values.
enum PythonJSON {
    enum Value {
        case string(String)
        case id(QuestionID)
        case int(Int64)

        var text: String {
            switch self {
            case .string(let s): return JSONText.quote(s)
            case .id(let q): return q.jsonLiteral
            case .int(let i): return String(i)
            }
        }
    }

    static func array(_ objects: [[(String, Value)]]) -> String {
        "[" + objects.map { obj in
            "{" + obj.map { JSONText.quote($0.0) + ": " + $0.1.text }.joined(separator: ", ") + "}"
        }.joined(separator: ", ") + "]"
    }

    static func write(_ text: String, to url: URL) throws {
        do {
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(text.utf8).write(to: url, options: .atomic)
        } catch {
            throw DatasetError(file: url.path, "cannot write: \(error.localizedDescription)")
        }
    }
}

/// LLaVA-style answers `.jsonl` (the format every benchmark's own scripts read): `<dir>/<name>.jsonl`,
/// one `json.dumps` line per answer in the given order.
public struct AnswersJSONLExporter: SubmissionExporter {
    /// The format key every benchmark supports.
    public static let format = "answers-jsonl"
    public let spec: DatasetSpec
    public init(spec: DatasetSpec, dataRoot: URL) { self.spec = spec }

    public func export(_ answers: [AnswerRecord], to directory: URL, name: String) throws -> [URL] {
        let url = directory.appendingPathComponent("\(name).jsonl")
        try PythonJSON.write(answers.map { $0.jsonLine + "\n" }.joined(), to: url)
        return [url]
    }
}
