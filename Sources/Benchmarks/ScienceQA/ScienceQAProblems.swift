import Foundation

/// ScienceQA's `problems.json` (id → problem) and `pid_splits.json` (split → ordered ids).
public struct ScienceQAProblems: Sendable {
    /// The fields of a problem the scorers use.
    public struct Problem: Equatable, Sendable {
        public var question: String
        public var choices: [String]
        /// Index of the correct choice.
        public var answer: Int
        public var hint: String
        /// Image file name, nil for text-only problems.
        public var image: String?
        public var grade: String
        public var subject: String
        public var topic: String
        public var category: String
        public var split: String
    }

    public var problems: [String: Problem]

    public init(problems: [String: Problem]) { self.problems = problems }

    /// Largest problems.json accepted (the real one is about 50 MB).
    static let maxBytes = 1 << 30

    public static func load(_ url: URL) throws -> ScienceQAProblems {
        let data = try YesNoQuestionFile.readData(url, limit: maxBytes)
        let any: Any
        do { any = try JSONSerialization.jsonObject(with: data) } catch {
            throw DatasetError(file: url.path, "not valid JSON")
        }
        guard let dict = any as? [String: Any] else { throw DatasetError(file: url.path, "expected an object id → problem") }
        var problems: [String: Problem] = [:]
        for (id, value) in dict {
            guard let p = value as? [String: Any] else {
                throw DatasetError(file: url.path, field: id, "problem is not an object")
            }
            func str(_ key: String, required: Bool = true) throws -> String {
                if let s = p[key] as? String { return s }
                if !required, p[key] == nil || p[key] is NSNull { return "" }
                throw DatasetError(file: url.path, field: "\(id).\(key)", "missing or not a string")
            }
            guard let choices = p["choices"] as? [String] else {
                throw DatasetError(file: url.path, field: "\(id).choices", "missing or not a list of strings")
            }
            guard let answerNum = p["answer"] as? NSNumber, String(cString: answerNum.objCType) != "d" else {
                throw DatasetError(file: url.path, field: "\(id).answer", "missing or not an integer")
            }
            let image: String?
            switch p["image"] {
            case nil, is NSNull: image = nil
            case let s as String: image = s.isEmpty ? nil : s
            default: throw DatasetError(file: url.path, field: "\(id).image", "neither a string nor null")
            }
            problems[id] = Problem(question: try str("question"), choices: choices, answer: answerNum.intValue,
                                   hint: try str("hint", required: false), image: image,
                                   grade: try str("grade", required: false), subject: try str("subject", required: false),
                                   topic: try str("topic", required: false), category: try str("category", required: false),
                                   split: try str("split", required: false))
        }
        return ScienceQAProblems(problems: problems)
    }

    /// Ordered ids of one split from `pid_splits.json`.
    public static func split(_ name: String, from url: URL) throws -> [String] {
        let data = try YesNoQuestionFile.readData(url, limit: maxBytes)
        let any: Any
        do { any = try JSONSerialization.jsonObject(with: data) } catch {
            throw DatasetError(file: url.path, "not valid JSON")
        }
        guard let dict = any as? [String: Any] else { throw DatasetError(file: url.path, "expected an object split → ids") }
        guard let ids = dict[name] else { throw DatasetError(file: url.path, field: name, "no such split") }
        guard let list = ids as? [Any] else { throw DatasetError(file: url.path, field: name, "not a list") }
        return try list.map { v in
            if let s = v as? String { return s }
            // Python would fail to find an int id among problems.json's string keys.
            throw DatasetError(file: url.path, field: name, "ids must be strings")
        }
    }
}
