import Foundation
import Datasets

/// The eval_tool results folder LLaVA's `convert_answer_to_mme.py` writes: one `<task>.txt` per task
/// (tasks in order of first appearance in the answers), lines `file\tquestion\tgt\tanswer\n` in answer order.
public enum MMEResultsFolder {
    /// One task file's name and contents.
    public struct TaskFile: Equatable, Sendable {
        public var task: String
        public var text: String
    }

    /// Task files for a set of answers, plus the answers whose question the ground truth lacks
    /// (the reference script would stop on them with a KeyError).
    public static func taskFiles(_ answers: [AnswerRecord], groundTruth: MMEGroundTruth)
        -> (files: [TaskFile], unresolved: [AnswerRecord]) {
        var order: [String] = []
        var texts: [String: String] = [:]
        var unresolved: [AnswerRecord] = []
        for a in answers {
            guard case .string(let id) = a.questionID,
                  let r = groundTruth.resolve(questionID: id, prompt: a.prompt) else {
                unresolved.append(a)
                continue
            }
            if texts[r.category] == nil { order.append(r.category); texts[r.category] = "" }
            texts[r.category]! += [r.file, r.question, r.groundTruth, a.text].joined(separator: "\t") + "\n"
        }
        return (order.map { TaskFile(task: $0, text: texts[$0]!) }, unresolved)
    }
}

/// Writes the MME eval_tool results folder `<out>/<name>/<task>.txt`, byte-identical to what
/// `convert_answer_to_mme.py --experiment <name>` writes; run MME's `calculation.py --results_dir`
/// on that folder.
public struct MMEExporter: SubmissionExporter {
    public let spec: DatasetSpec
    public let dataRoot: URL

    public init(spec: DatasetSpec, dataRoot: URL) {
        self.spec = spec
        self.dataRoot = dataRoot
    }

    public func export(_ answers: [AnswerRecord], to directory: URL, name: String) throws -> [URL] {
        let gt = try MMEAdapter(spec: spec, dataRoot: dataRoot).groundTruth()
        let (files, unresolved) = MMEResultsFolder.taskFiles(answers, groundTruth: gt)
        if let first = unresolved.first {
            throw DatasetError("MME export: \(unresolved.count) answers have no ground-truth question "
                               + "(first: question_id \(first.questionID.jsonLiteral), prompt \(JSONText.quote(first.prompt)))")
        }
        let folder = try SafePath.resolve(name, under: directory)
        do { try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true) } catch {
            throw DatasetError(file: folder.path, "cannot create folder: \(error.localizedDescription)")
        }
        var written: [URL] = []
        for f in files {
            let url = try SafePath.resolve(f.task + ".txt", under: folder)
            do { try Data(f.text.utf8).write(to: url, options: .atomic) } catch {
                throw DatasetError(file: url.path, "cannot write: \(error.localizedDescription)")
            }
            written.append(url)
        }
        return written
    }
}
