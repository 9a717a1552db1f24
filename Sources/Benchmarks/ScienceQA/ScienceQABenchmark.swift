import Foundation
import Records
import PythonText

/// ScienceQA (test split). Questions from LLaVA's `llava_test_CQM-I.json` (the 2,017 image
/// questions VisPruner evaluates) or `llava_test_CQM-A.json` (all 4,241): a JSON array of
/// `{"id", "image"?, "conversations": [{"from": "human", "value": "<image>\nContext: …\nA. …"}, …]}`.
/// Prompts are built as `model_vqa_science.py --single-pred-prompt` builds them.
public struct ScienceQABenchmark: Benchmark {
    public static let implementation = "scienceqa"
    /// `model_vqa_science.py` passes `Image.open(...)` straight to `process_images`.
    public static let opensImagesUnconverted = true
    public static let submissionFormat = "scienceqa-result"
    public let spec: DatasetSpec
    public let dataRoot: URL

    public init(spec: DatasetSpec, dataRoot: URL) {
        self.spec = spec
        self.dataRoot = dataRoot
    }

    /// The instruction `--single-pred-prompt` appends on its own line.
    public static let singlePredictionInstruction = "Answer with the option's letter from the given choices directly."

    /// The appended instruction: the spec's `promptSuffix` (with or without its leading newline),
    /// or the reference one when the spec leaves it empty.
    public var instruction: String {
        var s = Substring(spec.promptSuffix)
        while s.first == "\n" { s = s.dropFirst() }
        return s.isEmpty ? Self.singlePredictionInstruction : String(s)
    }

    /// Largest question file accepted (the real CQM-A file is about 3 MB).
    static let maxBytes = 1 << 28

    /// Items in question-file order. `questionFile` may also name ScienceQA's original `problems.json`:
    /// the image problems of the `pid_splits.json` test split (the CQM-I subset) are then turned into
    /// LLaVA's CQM text — `Context: <hint>` (when there is one), the question, `A. …` option lines, double
    /// spaces collapsed — and images `<id>/<image>`. LLaVA's converter for that file is not published, so
    /// this rebuilds its observable format; prefer the LLaVA question file when you have it.
    public func items() throws -> [BenchmarkItem] {
        let url = try resolve(spec.questionFile)
        if url.lastPathComponent == "problems.json" { return try itemsFromProblems(url) }
        let data = try YesNoQuestionFile.readData(url, limit: Self.maxBytes)
        let any: Any
        do { any = try JSONSerialization.jsonObject(with: data) } catch {
            throw DatasetError(file: url.path, "not valid JSON")
        }
        guard let list = any as? [Any] else { throw DatasetError(file: url.path, "expected a JSON array of questions") }
        return try list.enumerated().map { index, element in
            let at = "[\(index)]"
            guard let obj = element as? [String: Any] else {
                throw DatasetError(file: url.path, field: at, "not an object")
            }
            guard let id = obj["id"] as? String else {
                throw DatasetError(file: url.path, field: "\(at).id", "missing or not a string")
            }
            let image: String?
            switch obj["image"] {
            case nil: image = nil
            case let s as String: image = s
            default: throw DatasetError(file: url.path, field: "\(at).image", "not a string")
            }
            guard let turns = obj["conversations"] as? [[String: Any]], let first = turns.first,
                  let value = first["value"] as? String else {
                throw DatasetError(file: url.path, field: "\(at).conversations[0].value", "missing or not a string")
            }
            return makeItem(id: id, image: image, humanTurn: value)
        }
    }

    /// One item from the first (human) turn, as `model_vqa_science.py` builds it: `<image>` removed
    /// and the text stripped; the model sees that text plus the instruction line after the image
    /// placeholder; the answers file records `"<image>\n"` + it for image questions.
    public func makeItem(id: String, image: String?, humanTurn: String) -> BenchmarkItem {
        let qs = PythonText.replace(humanTurn, "<image>", with: "").trimmingCharacters(in: .whitespacesAndNewlines)
        let prompt = qs + "\n" + instruction
        return BenchmarkItem(questionID: .string(id), image: image, prompt: prompt,
                             answerPrompt: image == nil ? prompt : "<image>\n" + prompt,
                             category: "default", options: Self.options(in: qs))
    }

    func itemsFromProblems(_ url: URL) throws -> [BenchmarkItem] {
        let problems = try ScienceQAProblems.load(url)
        let ids = try (try? splitIDs(spec.split)) ?? splitIDs("test")
        return try ids.compactMap { id in
            guard let p = problems.problems[id] else {
                throw DatasetError(file: url.path, field: id, "id from pid_splits.json is not in problems.json")
            }
            guard let image = p.image else { return nil }
            guard p.choices.count <= ScienceQAAnswer.options.count else {
                throw DatasetError(file: url.path, field: "\(id).choices", "more than \(ScienceQAAnswer.options.count) choices")
            }
            var text = p.hint.isEmpty ? "" : "Context: \(p.hint)\n"
            text += p.question
            for (i, c) in p.choices.enumerated() { text += "\n\(ScienceQAAnswer.options[i]). \(c)" }
            text = PythonText.replace(text, "  ", with: " ")
            return makeItem(id: id, image: "\(id)/\(image)", humanTurn: "<image>\n" + text)
        }
    }

    /// The trailing `A. …`, `B. …` lines of a question text, in order (nil when there are none).
    public static func options(in text: String) -> [String]? {
        let lines = PythonText.split(text, "\n")
        var options: [String] = []
        // Walk back over the trailing option lines; they must run A, B, C… from the first one.
        for line in lines.reversed() {
            let scalars = Array(line.unicodeScalars)
            guard scalars.count >= 3, scalars[1] == ".", scalars[2] == " ",
                  scalars[0].value >= 0x41, scalars[0].value <= 0x5A else { break }
            options.insert(line, at: 0)
        }
        // A context line that happens to look like an option may precede the real run: start at the last "A. ".
        guard let start = options.lastIndex(where: { $0.unicodeScalars.first == "A" }) else { return nil }
        var result: [String] = []
        for (i, line) in options[start...].enumerated() {
            guard line.unicodeScalars.first?.value == 0x41 + UInt32(min(i, 25)) else { return nil }
            result.append(String(String.UnicodeScalarView(line.unicodeScalars.dropFirst(3))))
        }
        return result
    }

    /// The option letter, or "FAILED", as `eval_science_qa.py` parses it.
    public func parseAnswer(_ output: String) -> String { ScienceQAAnswer.parse(output) }

    /// `problems.json` (`annotationFiles["problems"]`), loaded.
    public func problems() throws -> ScienceQAProblems {
        try ScienceQAProblems.load(resolve(spec.requiredAnnotation("problems")))
    }

    /// Ordered ids of the evaluated split from `pid_splits.json` (`annotationFiles["pid_splits"]`).
    public func splitIDs(_ split: String = "test") throws -> [String] {
        try ScienceQAProblems.split(split, from: resolve(spec.requiredAnnotation("pid_splits")))
    }
}

extension ScienceQABenchmark {
    /// Percent, as the official script prints it.
    public static func tableColumns(_ spec: DatasetSpec) -> BenchmarkColumns { headlineColumn(spec, "SQA-IMG") }

    public func scorer() throws -> any BenchmarkScorer { try ScienceQAScorer(spec: spec, dataRoot: dataRoot) }

    public func submissionExporter() -> any SubmissionExporter { ScienceQAExporter(spec: spec, dataRoot: dataRoot) }
}
