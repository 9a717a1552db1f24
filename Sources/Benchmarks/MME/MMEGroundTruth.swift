import Foundation
import PythonText

/// MME ground truth: the `<stem>.txt` files of `MME_Benchmark_release_version`, each line
/// `question<TAB>Yes|No`. Five tasks (artwork, celebrity, landmark, posters, scene) keep them in
/// `<task>/questions_answers_YN/` beside `<task>/images/`; the other nine keep them next to the images.
public struct MMEGroundTruth: Sendable {
    /// Identifies one question: task folder, txt file name (`<stem>.txt`) and question text.
    public struct Key: Hashable, Sendable {
        public var category: String
        public var file: String
        public var question: String
        public init(category: String, file: String, question: String) {
            self.category = category
            self.file = file
            self.question = question
        }
    }

    /// One resolved answer line for the eval_tool results file.
    public struct Resolved: Equatable, Sendable {
        public var category: String
        public var file: String
        public var question: String
        public var groundTruth: String
    }

    public private(set) var answers: [Key: String]

    public init(answers: [Key: String]) { self.answers = answers }

    /// Largest ground-truth txt file accepted (real ones hold two short lines).
    static let maxFileBytes = 1 << 20

    /// Loads every task folder under `root` as LLaVA's `convert_answer_to_mme.py` (`get_gt`) does.
    public static func load(root: URL) throws -> MMEGroundTruth {
        let fm = FileManager.default
        var isDir: ObjCBool = false
        guard fm.fileExists(atPath: root.path, isDirectory: &isDir), isDir.boolValue else {
            throw DatasetError(file: root.path, "MME ground-truth folder is missing")
        }
        var answers: [Key: String] = [:]
        for category in try listing(root).sorted() {
            let categoryDir = root.appendingPathComponent(category)
            guard fm.fileExists(atPath: categoryDir.path, isDirectory: &isDir), isDir.boolValue else { continue }
            let qaDir: URL
            if fm.fileExists(atPath: categoryDir.appendingPathComponent("images").path) {
                qaDir = categoryDir.appendingPathComponent("questions_answers_YN")
                guard fm.fileExists(atPath: qaDir.path, isDirectory: &isDir), isDir.boolValue else {
                    throw DatasetError(file: qaDir.path, "task '\(category)' has images/ but no questions_answers_YN/ folder")
                }
            } else {
                qaDir = categoryDir
            }
            for file in try listing(qaDir).sorted() where file.hasSuffix(".txt") {
                let url = qaDir.appendingPathComponent(file)
                let data = try YesNoQuestionFile.readData(url, limit: maxFileBytes)
                guard let text = String(data: data, encoding: .utf8) else {
                    throw DatasetError(file: url.path, "not UTF-8 text")
                }
                for (index, rawLine) in pythonLines(text).enumerated() {
                    let line = rawLine.trimmingCharacters(in: .whitespacesAndNewlines)
                    if line.isEmpty { continue }
                    let fields = PythonText.split(line, "\t")
                    guard fields.count == 2 else {
                        throw DatasetError(file: url.path, line: index + 1,
                                           "expected 'question<TAB>answer', found \(fields.count) tab-separated fields")
                    }
                    answers[Key(category: category, file: file, question: String(fields[0]))] = String(fields[1])
                }
            }
        }
        return MMEGroundTruth(answers: answers)
    }

    /// Task (category) of a question id: its first path component (`artwork/images/1.jpg` → artwork).
    public static func category(ofQuestionID id: String) -> String {
        String(id.split(separator: "/", omittingEmptySubsequences: false).first ?? "")
    }

    /// Ground-truth file name of a question id: basename up to its first dot, plus `.txt`.
    public static func txtFile(ofQuestionID id: String) -> String {
        let base = id.split(separator: "/", omittingEmptySubsequences: false).last ?? ""
        return String(base.split(separator: ".", omittingEmptySubsequences: false).first ?? "") + ".txt"
    }

    static let llavaSuffix = "Answer the question using a single word or phrase."
    static let mmeSuffix = " Please answer yes or no."

    /// Maps an answer's `prompt` back to the MME question as `convert_answer_to_mme.py` does: drop the
    /// LLaVA suffix, strip, append " Please answer yes or no." (or the two-space variant some GT files
    /// use). Returns nil when the ground truth has no such question.
    public func resolve(questionID: String, prompt: String) -> Resolved? {
        let category = Self.category(ofQuestionID: questionID)
        let file = Self.txtFile(ofQuestionID: questionID)
        var question = prompt
        if PythonText.contains(question, Self.llavaSuffix) {
            question = PythonText.replace(question, Self.llavaSuffix, with: "").trimmingCharacters(in: .whitespacesAndNewlines)
        }
        if !PythonText.contains(question, "Please answer yes or no.") {
            question += Self.mmeSuffix
            if answers[Key(category: category, file: file, question: question)] == nil {
                question = PythonText.replace(question, Self.mmeSuffix, with: " " + Self.mmeSuffix)
            }
        }
        guard let gt = answers[Key(category: category, file: file, question: question)] else { return nil }
        return Resolved(category: category, file: file, question: question, groundTruth: gt)
    }

    /// Lines as Python's text-mode iteration yields them (universal newlines: `\n`, `\r\n`, `\r`).
    static func pythonLines(_ text: String) -> [String] {
        var lines: [String] = []
        var current = String.UnicodeScalarView()
        var previousCR = false
        for s in text.unicodeScalars {
            if previousCR && s == "\n" { previousCR = false; continue }
            previousCR = false
            if s == "\n" || s == "\r" {
                lines.append(String(current))
                current = String.UnicodeScalarView()
                previousCR = s == "\r"
            } else {
                current.append(s)
            }
        }
        if !current.isEmpty { lines.append(String(current)) }
        return lines
    }

    static func listing(_ dir: URL) throws -> [String] {
        do { return try FileManager.default.contentsOfDirectory(atPath: dir.path) } catch {
            throw DatasetError(file: dir.path, "cannot list folder: \(error.localizedDescription)")
        }
    }
}
