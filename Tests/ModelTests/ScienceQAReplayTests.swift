import Foundation
import Model
import Records
import TestSupport
import XCTest

/// The pruned half of ScienceQA's reference parity: every image problem of `Tests/Fixtures/scienceqa-quirks/`
/// answered with the patches the reference kept (`PipelineRequest.fixedSelection`), images opened as the
/// reference opens them (palette black-out, CMYK ink, fallback to RGB for modes it cannot pad) or converted,
/// must give the reference's answer. Everything downstream of selection is then compared on every item,
/// whichever patches this engine's own features would have picked.
final class ScienceQAReplayTests: XCTestCase {
    func testPrunedAnswersWithTheReferenceSelectionsEqualTheReference() throws {
        let root = Fixtures.repoRoot.appendingPathComponent("Tests/Fixtures/scienceqa-quirks")
        let pipeline = try LLaVAPipeline(modelDirectory: Fixtures.repoRoot.appendingPathComponent("demo/models/llava15-synth"))
        var compared = 0
        for line in try String(contentsOf: root.appendingPathComponent("reference.jsonl"), encoding: .utf8).split(separator: "\n") {
            let o = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            guard o["header"] == nil, let image = o["image"] as? String, let kept = o["kept"] as? [Int] else { continue }
            let variant = o["variant"] as! String
            let prompt = o["answer_prompt"] as! String
            let question = String(prompt.dropFirst("<image>\n".count))
            var settings = RunSettings(pruning: try Pruning(method: "vispruner", tokens: 16, ratio: 0.5), maxNewTokens: 1024)
            if variant == "reference" { settings.extra[ImageOpening.extraKey] = ImageOpening.unconvertedValue }
            let url = root.appendingPathComponent("scienceqa/images/test").appendingPathComponent(image)
            let r = try pipeline.run(PipelineRequest(imageURL: url, question: question, settings: settings, fixedSelection: [kept]))
            XCTAssertEqual(r.prompt, o["prompt"] as? String, "\(o["question_id"]!)")
            XCTAssertEqual(r.generatedIDs, o["output_ids"] as? [Int], "\(variant) \(o["question_id"]!)")
            XCTAssertEqual(r.text, o["text"] as? String, "\(variant) \(o["question_id"]!)")
            compared += 1
        }
        XCTAssertEqual(compared, 80, "40 image problems × {reference, rgb}")
    }
}
