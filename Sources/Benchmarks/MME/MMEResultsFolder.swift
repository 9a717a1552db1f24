import Foundation
import Records

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
