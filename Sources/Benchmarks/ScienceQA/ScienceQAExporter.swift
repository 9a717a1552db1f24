import Foundation
import Records
import PythonText

/// Writes the two files `eval_science_qa.py` writes, byte-compatible (`json.dump(..., indent=2)`):
/// `<out>/<name>_output.json` (`--output-file`: `{"correct": [...], "incorrect": [...]}`) and
/// `<out>/<name>_result.json` (`--output-result`: `{"acc", "correct", "count", "results", "outputs"}`).
public struct ScienceQAExporter: SubmissionExporter {
    public let spec: DatasetSpec
    public let dataRoot: URL

    public init(spec: DatasetSpec, dataRoot: URL) {
        self.spec = spec
        self.dataRoot = dataRoot
    }

    public func export(_ answers: [AnswerRecord], to directory: URL, name: String) throws -> [URL] {
        let evaluation = try ScienceQAScorer(spec: spec, dataRoot: dataRoot).evaluate(answers)
        guard let acc = evaluation.accuracy else { throw DatasetError("ScienceQA: the test split in pid_splits.json is empty") }
        do { try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true) } catch {
            throw DatasetError(file: directory.path, "cannot create folder: \(error.localizedDescription)")
        }
        let outputURL = try SafePath.resolve(name + "_output.json", under: directory)
        let resultURL = try SafePath.resolve(name + "_result.json", under: directory)
        try write(Self.outputFile(evaluation), to: outputURL)
        try write(Self.resultFile(evaluation, accuracy: acc), to: resultURL)
        return [outputURL, resultURL]
    }

    /// The `--output-file` document.
    static func outputFile(_ e: ScienceQAEvaluation) -> PythonJSONValue {
        func entry(_ x: ScienceQAEvaluation.Entry) -> PythonJSONValue {
            .object([("question_id", .string(x.questionID)), ("parsed_ans", .string(x.parsedAnswer)),
                     ("ground_truth", .string(x.groundTruth)), ("question", .string(x.question)),
                     ("pred", .string(x.prediction)), ("is_multimodal", .bool(x.isMultimodal))])
        }
        return .object([("correct", .array(e.entries.filter(\.correct).map(entry))),
                        ("incorrect", .array(e.entries.filter { !$0.correct }.map(entry)))])
    }

    /// The `--output-result` document.
    static func resultFile(_ e: ScienceQAEvaluation, accuracy: Double) -> PythonJSONValue {
        .object([("acc", .double(accuracy)), ("correct", .int(e.correct)), ("count", .int(e.total)),
                 ("results", .object(e.entries.map { ($0.questionID, .int($0.predictionIndex)) })),
                 ("outputs", .object(e.entries.map { ($0.questionID, .string($0.prediction)) }))])
    }

    func write(_ value: PythonJSONValue, to url: URL) throws {
        do { try Data(value.rendered(indent: 2).utf8).write(to: url, options: .atomic) } catch {
            throw DatasetError(file: url.path, "cannot write: \(error.localizedDescription)")
        }
    }
}

/// A JSON document rendered as Python's `json.dump(obj, indent=n)` writes it (ASCII escapes,
/// `", "`-free separators `","` + newline and `": "`, float `repr`, insertion-ordered keys).
enum PythonJSONValue {
    case string(String), int(Int), double(Double), bool(Bool), null
    case array([PythonJSONValue])
    case object([(String, PythonJSONValue)])

    func rendered(indent: Int) -> String {
        var out = ""
        render(into: &out, indent: indent, level: 0)
        return out
    }

    private func render(into out: inout String, indent: Int, level: Int) {
        let pad = String(repeating: " ", count: indent * (level + 1))
        let closePad = String(repeating: " ", count: indent * level)
        switch self {
        case .string(let s): out += JSONText.quote(s)
        case .int(let i): out += String(i)
        case .double(let d): out += Self.pythonRepr(d)
        case .bool(let b): out += b ? "true" : "false"
        case .null: out += "null"
        case .array(let items):
            guard !items.isEmpty else { out += "[]"; return }
            out += "[\n"
            for (i, item) in items.enumerated() {
                out += pad
                item.render(into: &out, indent: indent, level: level + 1)
                out += i + 1 < items.count ? ",\n" : "\n"
            }
            out += closePad + "]"
        case .object(let pairs):
            guard !pairs.isEmpty else { out += "{}"; return }
            out += "{\n"
            for (i, pair) in pairs.enumerated() {
                out += pad + JSONText.quote(pair.0) + ": "
                pair.1.render(into: &out, indent: indent, level: level + 1)
                out += i + 1 < pairs.count ? ",\n" : "\n"
            }
            out += closePad + "}"
        }
    }

    /// Python's float `repr`. Swift's description gives the same shortest round-trip digits for
    /// the values written here (accuracies in 0…100); the two differ only in where very large or
    /// small magnitudes switch to exponent notation. `json.dump` writes NaN/Infinity as below.
    static func pythonRepr(_ d: Double) -> String {
        if d.isNaN { return "NaN" }
        if d.isInfinite { return d < 0 ? "-Infinity" : "Infinity" }
        return "\(d)"
    }
}
