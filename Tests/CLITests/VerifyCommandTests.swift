import Foundation
import Records
import Store
import TestSupport
import XCTest

/// `vispruner verify` lists answers whose bytes changed, and `report` refuses to use them.
final class VerifyCommandTests: XCTestCase {
    func testVerifyNamesAChangedAnswerAndReportFails() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("verify-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let db = dir.appendingPathComponent("r.sqlite").path
        let config = RunConfig(modelID: "m", checkpointFingerprint: "f", dataset: "pope", split: "test",
                               pruning: .pruned(.vispruner, tokens: 64, ratio: 0.5), maxNewTokens: 8)
        do {
            let store = try ResultsStore(path: db)
            let run = try store.beginRun(config, metadata: RunMetadata(toolVersion: "test"), expectedItems: 3)
            for i in 0..<3 {
                let qid = QuestionID.int(Int64(i))
                let text = i == 1 ? "Distinctive Answer" : "no"
                try store.record(PredictionRecord(runID: run, questionID: qid, itemIndex: i, prompt: "q\(i)", rawOutput: text,
                                                  parsedAnswer: text, answerID: AnswerID.derive(runKey: config.key, questionID: qid),
                                                  visualTokens: 64, generatedTokens: 1, kept: [[1]], timings: StageTimings()))
            }
            try store.finishRun(run)
        }
        let clean = try CLIRunner.run(["verify", "--db", db])
        XCTAssertEqual(clean.status, 0, clean.stderr)
        XCTAssertTrue(clean.stdout.contains("3 answers checked, 0 without checksum (written before checksums), 0 changed"), clean.stdout)

        // Flip one byte of the stored answer in the file itself.
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: db)))
        let needle = Array("Distinctive Answer".utf8)
        let at = try XCTUnwrap((0...(bytes.count - needle.count)).first { Array(bytes[$0..<$0 + needle.count]) == needle })
        bytes[at] = UInt8(ascii: "E")
        try Data(bytes).write(to: URL(fileURLWithPath: db))

        let r = try CLIRunner.run(["verify", "--db", db])
        XCTAssertEqual(r.status, 1, r.stdout + r.stderr)
        XCTAssertTrue(r.stdout.contains("CHANGED \(config.label) (run \(config.key.prefix(12))) question 1 occurrence 0"), r.stdout)
        XCTAssertTrue(r.stdout.contains("3 answers checked, 0 without checksum (written before checksums), 1 changed"), r.stdout)

        let report = try CLIRunner.run(["report", "--db", db])
        XCTAssertNotEqual(report.status, 0, "a table must not be built over a changed answer: \(report.stdout)")
        XCTAssertTrue(report.stderr.contains("question 1 occurrence 0"), report.stderr)
    }
}
