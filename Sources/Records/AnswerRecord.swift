import Foundation
import PythonText

/// One line of a LLaVA answers file (`model_vqa_loader.py` / `model_vqa_science.py` output):
/// `{"question_id", "prompt", "text", "answer_id", "model_id", "metadata": {}}` in that key order.
public struct AnswerRecord: Equatable, Sendable {
    public var questionID: QuestionID
    public var prompt: String
    public var text: String
    public var answerID: String
    public var modelID: String

    public init(questionID: QuestionID, prompt: String, text: String, answerID: String, modelID: String) {
        self.questionID = questionID
        self.prompt = prompt
        self.text = text
        self.answerID = answerID
        self.modelID = modelID
    }

    /// The line as the reference writes it with `json.dumps` (no trailing newline).
    public var jsonLine: String {
        "{\"question_id\": \(questionID.jsonLiteral), \"prompt\": \(JSONText.quote(prompt)), "
            + "\"text\": \(JSONText.quote(text)), \"answer_id\": \(JSONText.quote(answerID)), "
            + "\"model_id\": \(JSONText.quote(modelID)), \"metadata\": {}}"
    }
}
