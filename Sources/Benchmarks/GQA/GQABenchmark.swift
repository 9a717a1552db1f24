import Foundation
import Records
import PythonText

/// GQA testdev-balanced. Items come from LLaVA's `llava_gqa_testdev_balanced.jsonl` (string ids) or
/// from the original `testdev_balanced_questions.json` (id → {question, imageId, ...}; file order kept).
/// The scored answer is `text.rstrip('.').lower()`, exactly what `convert_gqa_for_eval.py` writes.
public struct GQABenchmark: Benchmark {
    public static let implementation = "gqa"
    public static let submissionFormat = "gqa-predictions"
    public let spec: DatasetSpec
    public let dataRoot: URL

    public init(spec: DatasetSpec, dataRoot: URL) {
        self.spec = spec
        self.dataRoot = dataRoot
    }

    public func items() throws -> [BenchmarkItem] {
        let url = try resolve(spec.questionFile)
        if url.pathExtension == "json" {
            let questions = try GQAQuestions.load(url)
            return questions.entries.map {
                let text = $0.question + spec.promptSuffix
                return BenchmarkItem(questionID: .string($0.id), image: $0.imageID + ".jpg", prompt: text, answerPrompt: text, category: "default")
            }
        }
        return try LLaVAQuestionFile.read(url).map {
            BenchmarkItem(questionID: $0.questionID, image: $0.image, prompt: $0.text, answerPrompt: $0.text, category: $0.category)
        }
    }

    public func parseAnswer(_ output: String) -> String {
        Self.prediction(output)
    }

    /// `convert_gqa_for_eval.py`: all trailing periods removed, then Python `lower()`; nothing else.
    public static func prediction(_ text: String) -> String {
        PythonText.string(PythonText.lower(Array(PythonText.rstrip(text, ".").unicodeScalars)))
    }
}

/// The original GQA questions file (`{tier}_questions.json`), in file order.
public struct GQAQuestions: Sendable {
    public struct Entry: Sendable {
        public var id: String
        public var question: String
        public var imageID: String
        public var answer: String
        public var isBalanced: Bool
        /// `types.structural` (query/verify/logic/choose/compare) and `types.semantic`.
        public var structural: String
        public var semantic: String
        /// `types.detailed` (validity/plausibility treat "...Common" questions specially).
        public var detailed: String
        /// `groups.global`, nil when JSON null.
        public var globalGroup: String?
        /// "operation: argument" of each semantic step (for the steps count).
        public var semanticSteps: [String]
    }

    public var entries: [Entry]

    public static func load(_ url: URL) throws -> GQAQuestions {
        let data = try readBounded(url, limit: LLaVAQuestionFile.maxBytes)
        let any: Any
        do { any = try JSONSerialization.jsonObject(with: data) } catch {
            throw DatasetError(file: url.path, "not valid JSON (\(error.localizedDescription))")
        }
        guard let dict = any as? [String: Any] else { throw DatasetError(file: url.path, "expected an object id -> question") }
        var order = JSONKeyOrder.topLevelKeys(data)
        if Set(order) != Set(dict.keys) || order.count != dict.count { order = dict.keys.sorted() }
        var entries: [Entry] = []
        entries.reserveCapacity(order.count)
        for id in order {
            guard let q = dict[id] as? [String: Any] else { throw DatasetError(file: url.path, field: id, "not an object") }
            func str(_ k: String) throws -> String {
                guard let s = q[k] as? String else { throw DatasetError(file: url.path, field: "\(id).\(k)", "missing or not a string") }
                return s
            }
            guard let types = q["types"] as? [String: Any], let structural = types["structural"] as? String,
                  let semantic = types["semantic"] as? String, let detailed = types["detailed"] as? String else {
                throw DatasetError(file: url.path, field: "\(id).types", "missing structural/semantic/detailed type")
            }
            let groups = q["groups"] as? [String: Any]
            let steps = (q["semantic"] as? [[String: Any]] ?? []).map { step -> String in
                "\(pyStr(step["operation"])): \(pyStr(step["argument"]))"
            }
            let balanced: Bool
            if let b = q["isBalanced"] as? NSNumber { balanced = b.boolValue } else {
                throw DatasetError(file: url.path, field: "\(id).isBalanced", "missing or not a boolean")
            }
            entries.append(Entry(id: id, question: try str("question"), imageID: try str("imageId"), answer: try str("answer"),
                                 isBalanced: balanced, structural: structural, semantic: semantic, detailed: detailed,
                                 globalGroup: groups?["global"] as? String, semanticSteps: steps))
        }
        return GQAQuestions(entries: entries)
    }

    /// `"{}".format(v)` for the string/None values the semantic programs hold.
    private static func pyStr(_ v: Any?) -> String {
        switch v {
        case let s as String: return s
        case nil, is NSNull: return "None"
        case let n as NSNumber: return n.stringValue
        default: return "\(v!)"
        }
    }
}

extension GQABenchmark {
    /// Percent, as the official script prints it.
    public static func tableColumns(_ spec: DatasetSpec) -> BenchmarkColumns { headlineColumn(spec, "GQA") }

    public func scorer() throws -> any BenchmarkScorer { try GQAScorer(spec: spec, dataRoot: dataRoot) }

    public func submissionExporter() -> any SubmissionExporter { GQAExporter(spec: spec, dataRoot: dataRoot) }
}
