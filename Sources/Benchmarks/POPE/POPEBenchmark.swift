import Foundation
import Records

/// POPE (object-hallucination yes/no questions on COCO val2014) in its three splits: adversarial,
/// popular, random. Questions from LLaVA's `llava_pope_test.jsonl` (integer ids, split in `category`);
/// labels in `annotationFiles["labels"]` (the `coco` folder of label files).
public struct POPEBenchmark: Benchmark {
    public static let implementation = "pope"
    public static let submissionFormat = "pope-answers"
    /// eval_pope.py reads the answers .jsonl itself.
    public static let submissionIsAnswersFile = true
    public let spec: DatasetSpec
    public let dataRoot: URL

    public init(spec: DatasetSpec, dataRoot: URL) {
        self.spec = spec
        self.dataRoot = dataRoot
    }

    /// Items in question-file order. `questionFile` may also name the original POPE label folder (or
    /// one `coco_pope_<split>.json`): items are then built as LLaVA built its question file — text plus
    /// the short-answer suffix, splits in the order adversarial, popular, random, and ids offset per
    /// split (random + 10,000,000, popular + 20,000,000) so they match LLaVA's ids.
    public func items() throws -> [BenchmarkItem] {
        let url = try resolve(spec.questionFile)
        var isDir: ObjCBool = false
        let exists = FileManager.default.fileExists(atPath: url.path, isDirectory: &isDir)
        if exists && isDir.boolValue {
            return try itemsFromLabels(POPELabels.files(in: url).files)
        }
        if url.lastPathComponent.hasPrefix("coco_pope_") {
            let name = url.lastPathComponent
            return try itemsFromLabels([POPELabels.File(category: String(name.dropFirst(10).dropLast(5)), url: url)])
        }
        return try YesNoQuestionFile.read(url).map { line in
            BenchmarkItem(questionID: line.questionID, image: line.image, prompt: line.text,
                          answerPrompt: line.text, category: line.category)
        }
    }

    /// Id offsets LLaVA's question file applies per split.
    public static let idOffsets: [String: Int64] = ["adversarial": 0, "random": 10_000_000, "popular": 20_000_000]
    static let splitOrder = ["adversarial", "popular", "random"]

    /// The suffix appended to original POPE questions (the spec's, or LLaVA's short-answer one).
    var suffix: String {
        spec.promptSuffix.isEmpty ? "\nAnswer the question using a single word or phrase." : spec.promptSuffix
    }

    func itemsFromLabels(_ files: [POPELabels.File]) throws -> [BenchmarkItem] {
        let ordered = files.sorted { a, b in
            let ia = Self.splitOrder.firstIndex(of: a.category) ?? Self.splitOrder.count
            let ib = Self.splitOrder.firstIndex(of: b.category) ?? Self.splitOrder.count
            return ia != ib ? ia < ib : a.category < b.category
        }
        var items: [BenchmarkItem] = []
        for file in ordered {
            guard let offset = Self.idOffsets[file.category] else {
                throw DatasetError(file: file.url.path, "unknown POPE split '\(file.category)' (expected adversarial, popular or random)")
            }
            let data = try YesNoQuestionFile.readData(file.url)
            for entry in YesNoQuestionFile.jsonLines(data) {
                let obj = try YesNoQuestionFile.object(entry.bytes, file: file.url.path, line: entry.line)
                let id = try YesNoQuestionFile.questionID(obj["question_id"], file: file.url.path, line: entry.line)
                guard case .int(let n) = id, n >= 0, n < 10_000_000 else {
                    throw DatasetError(file: file.url.path, line: entry.line, field: "question_id",
                                       "expected an integer below 10,000,000")
                }
                let text = try YesNoQuestionFile.string(obj, "text", file: file.url.path, line: entry.line) + suffix
                items.append(BenchmarkItem(questionID: .int(n + offset),
                                           image: try YesNoQuestionFile.string(obj, "image", file: file.url.path, line: entry.line),
                                           prompt: text, answerPrompt: text, category: file.category))
            }
        }
        return items
    }

    /// "yes" or "no", as `eval_pope.py` reads the answer.
    public func parseAnswer(_ output: String) -> String { POPEAnswer.parse(output) }

    /// The labels folder (`annotationFiles["labels"]`).
    public func labelsFolder() throws -> URL {
        try resolve(spec.requiredAnnotation("labels"))
    }
}

extension POPEBenchmark {
    /// F1 and accuracy averaged over the three splits, in percent (the scorer keeps eval_pope.py's fractions).
    public static func tableColumns(_ spec: DatasetSpec) -> BenchmarkColumns {
        let f1 = TableColumn("POPE F1", metric: "f1.average", scale: 100, axisLabel: "F1 (%)")
        return BenchmarkColumns(dataset: spec.name, columns: [f1, TableColumn("POPE Acc", metric: "accuracy.average", scale: 100, axisLabel: "Accuracy (%)")],
                                headline: f1)
    }

    public func scorer() throws -> any BenchmarkScorer { try POPEScorer(spec: spec, dataRoot: dataRoot) }

    /// Every split the questions use needs its label file: eval_pope.py silently scores only the splits it finds.
    public func preflight() -> [String] {
        var problems = groundTruthProblems()
        guard problems.isEmpty, let folder = try? labelsFolder(), let listing = try? POPELabels.files(in: folder),
              let items = try? items() else { return problems }
        let have = Set(listing.files.map(\.category))
        for category in Set(items.map(\.category)).sorted() where !have.contains(category) {
            problems.append("no label file coco_pope_\(category).json in \(folder.path) "
                            + "for the \(category) questions")
        }
        for file in listing.files {
            do { _ = try POPELabels.read(file.url) } catch { problems.append("\(error)") }
        }
        return problems
    }

    public func submissionExporter() -> any SubmissionExporter { POPEExporter(spec: spec, dataRoot: dataRoot) }
}
