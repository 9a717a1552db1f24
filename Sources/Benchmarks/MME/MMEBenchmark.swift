import Foundation
import Records
import PythonText

/// MME (14 yes/no subtasks). Questions come from LLaVA's `llava_mme.jsonl`, whose `text` already
/// ends with the short-answer suffix; the task is the first component of the question id, and
/// each image appears twice (one "yes" and one "no" question). Ground truth: `annotationFiles["ground_truth"]`
/// (the `MME_Benchmark_release_version` folder).
public struct MMEBenchmark: Benchmark {
    public static let implementation = "mme"
    public static let submissionFormat = "mme-eval-tool"
    public let spec: DatasetSpec
    public let dataRoot: URL

    public init(spec: DatasetSpec, dataRoot: URL) {
        self.spec = spec
        self.dataRoot = dataRoot
    }

    /// The fourteen tasks in the order `calculation.py` reports them, split as it totals them.
    public static let perceptionTasks = ["existence", "count", "position", "color", "posters", "celebrity",
                                         "scene", "landmark", "artwork", "OCR"]
    public static let cognitionTasks = ["commonsense_reasoning", "numerical_calculation", "text_translation",
                                        "code_reasoning"]

    /// Items in question-file order. `questionFile` may also name the original
    /// `MME_Benchmark_release_version` folder: items are then built as LLaVA built `llava_mme.jsonl` —
    /// " Please answer yes or no." replaced by the short-answer suffix, id = image path — task by task
    /// in the report order, files sorted, the two questions of an image kept adjacent (the scorer pairs
    /// consecutive answers).
    public func items() throws -> [BenchmarkItem] {
        let url = try resolve(spec.questionFile)
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: url.path, isDirectory: &isDir), isDir.boolValue {
            return try itemsFromRelease(url)
        }
        return try YesNoQuestionFile.read(url).map { line in
            let id: String
            switch line.questionID {
            case .string(let s): id = s
            case .int:
                throw DatasetError(file: url.path, line: line.line, field: "question_id",
                                   "MME question ids are image paths (strings)")
            }
            return BenchmarkItem(questionID: line.questionID, image: line.image, prompt: line.text,
                                 answerPrompt: line.text, category: MMEGroundTruth.category(ofQuestionID: id))
        }
    }

    static let imageExtensions = ["jpg", "png", "jpeg", "JPG", "PNG", "JPEG"]

    func itemsFromRelease(_ root: URL) throws -> [BenchmarkItem] {
        let fm = FileManager.default
        let suffix = spec.promptSuffix.isEmpty ? "\nAnswer the question using a single word or phrase." : spec.promptSuffix
        let known = Self.perceptionTasks + Self.cognitionTasks
        let present = try MMEGroundTruth.listing(root).filter { name in
            var isDir: ObjCBool = false
            return fm.fileExists(atPath: root.appendingPathComponent(name).path, isDirectory: &isDir) && isDir.boolValue
        }
        let tasks = known.filter(present.contains) + present.filter { !known.contains($0) }.sorted()
        var items: [BenchmarkItem] = []
        for task in tasks {
            let taskDir = root.appendingPathComponent(task)
            let split = fm.fileExists(atPath: taskDir.appendingPathComponent("images").path)
            let qaDir = split ? taskDir.appendingPathComponent("questions_answers_YN") : taskDir
            let imagePrefix = split ? "\(task)/images/" : "\(task)/"
            for file in try MMEGroundTruth.listing(qaDir).sorted() where file.hasSuffix(".txt") {
                let stem = String(file.dropLast(4))
                guard let ext = Self.imageExtensions.first(where: {
                    fm.fileExists(atPath: root.appendingPathComponent(imagePrefix + stem + "." + $0).path)
                }) else {
                    throw DatasetError(file: qaDir.appendingPathComponent(file).path, "no image \(stem).jpg/.png beside it")
                }
                let image = imagePrefix + stem + "." + ext
                let txt = qaDir.appendingPathComponent(file)
                let data = try YesNoQuestionFile.readData(txt, limit: MMEGroundTruth.maxFileBytes)
                guard let text = String(data: data, encoding: .utf8) else { throw DatasetError(file: txt.path, "not UTF-8 text") }
                for (index, raw) in MMEGroundTruth.pythonLines(text).enumerated() {
                    let line = raw.trimmingCharacters(in: .whitespacesAndNewlines)
                    if line.isEmpty { continue }
                    let fields = PythonText.split(line, "\t")
                    guard fields.count == 2 else {
                        throw DatasetError(file: txt.path, line: index + 1, "expected 'question<TAB>answer'")
                    }
                    let question = PythonText.replace(fields[0], MMEGroundTruth.mmeSuffix, with: "")
                        .trimmingCharacters(in: .whitespacesAndNewlines) + suffix
                    items.append(BenchmarkItem(questionID: .string(image), image: image, prompt: question,
                                               answerPrompt: question, category: task))
                }
            }
        }
        return items
    }

    /// "yes", "no" or "other", as `calculation.py` reads the answer.
    public func parseAnswer(_ output: String) -> String { MMEAnswer.parse(output) }

    /// The ground-truth folder (`annotationFiles["ground_truth"]`), loaded.
    public func groundTruth() throws -> MMEGroundTruth {
        try MMEGroundTruth.load(root: resolve(spec.requiredAnnotation("ground_truth")))
    }
}

extension MMEBenchmark {
    /// Perception and cognition sums and their total, as MME's calculation.py prints them.
    public static func tableColumns(_ spec: DatasetSpec) -> BenchmarkColumns {
        let perception = TableColumn("MME-P", metric: "perception", axisLabel: "Perception score (sum)")
        return BenchmarkColumns(dataset: spec.name,
                                columns: [perception, TableColumn("MME-C", metric: "cognition", axisLabel: "Cognition score (sum)"),
                                          TableColumn("MME", metric: "total", sumOf: ["perception", "cognition"], axisLabel: "Total score (sum)")],
                                headline: perception)
    }

    public func scorer() throws -> any BenchmarkScorer { try MMEScorer(spec: spec, dataRoot: dataRoot) }

    public func submissionExporter() -> any SubmissionExporter { MMEExporter(spec: spec, dataRoot: dataRoot) }
}
