// Test helper for StoreTests: writes predictions to a results database in a loop so a test can
// SIGKILL it mid-write. Usage: store-writer DB FIRST COUNT [DELAY_MS [TOTAL]]
// Items FIRST..<FIRST+COUNT are recorded (even indices as integer ids, odd as string ids),
// skipping those already done; after each `record` returns it prints "done <index>" and flushes,
// so the parent knows exactly which items were committed before the kill.
import Foundation
import Store
import Records

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("store-writer: \(message)\n".utf8))
    exit(2)
}

let args = CommandLine.arguments
guard args.count >= 4, let first = Int(args[2]), let count = Int(args[3]), count >= 0, count <= 1_000_000 else {
    fail("usage: store-writer DB FIRST COUNT [DELAY_MS [TOTAL]]")
}
let delayMs = args.count > 4 ? (Int(args[4]) ?? 0) : 0
// Items the whole run expects (all writers together); defaults to this writer's range end.
let total = args.count > 5 ? (Int(args[5]) ?? first + count) : first + count

/// The config every writer uses, so all of them (and the test) address one run.
let config = RunConfig(modelID: "writer-model", checkpointFingerprint: "fp", dataset: "synthetic", split: "test",
                       pruning: .pruned(.vispruner, tokens: 64, ratio: 0.5), maxNewTokens: 16)

func questionID(_ i: Int) -> QuestionID { i % 2 == 0 ? .int(Int64(i)) : .string("q\(i)") }

do {
    let store = try ResultsStore(path: args[1])
    let run = try store.beginRun(config, metadata: RunMetadata(toolVersion: "test"), expectedItems: total)
    let done = try store.doneQuestionIDs(run)
    for i in first..<(first + count) {
        let qid = questionID(i)
        if done.contains(qid) { continue }
        let p = PredictionRecord(runID: run, questionID: qid, itemIndex: i, prompt: "prompt \(i)",
                                 rawOutput: "answer \(i) " + String(repeating: "x", count: i % 200),
                                 parsedAnswer: "answer \(i)", answerID: AnswerID.derive(runKey: config.key, questionID: qid),
                                 visualTokens: 64, generatedTokens: i % 7, kept: [[i, i + 1, i + 2]],
                                 timings: StageTimings(total: Double(i)))
        try store.record(p)
        print("done \(i)")
        fflush(stdout)
        if delayMs > 0 { usleep(useconds_t(delayMs * 1000)) }
    }
    try store.finishRun(run)
} catch {
    fail("\(error)")
}
