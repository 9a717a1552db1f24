import Benchmarks
import Foundation
import FuzzSupport

let scratch = ScratchFile(name: "input.json")
// MMEGroundTruth reads a folder tree: <root>/<category>/<name>.txt.
let mmeRoot = scratch.url.deletingLastPathComponent().appendingPathComponent("mme", isDirectory: true)
let mmeFile: URL = {
    let f = mmeRoot.appendingPathComponent("color/0001.txt")
    try? FileManager.default.createDirectory(at: f.deletingLastPathComponent(), withIntermediateDirectories: true)
    return f
}()

/// The first byte picks a reader, the rest is the file it reads. Readers must return or throw a
/// DatasetError for any content; the answer parsers behind them get the same bytes as model output text.
@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    var cursor = ByteCursor(fuzzInput(data, size))
    let selector = cursor.byte()
    let body = cursor.rest
    switch selector % 10 {
    case 0:
        _ = AnswersFile.parse(body, file: "answers.jsonl")
    case 1:
        _ = try? LLaVAQuestionFile.readLenient(scratch.write(body))
    case 2:
        _ = try? YesNoQuestionFile.read(scratch.write(body))
    case 3:
        _ = try? POPELabels.read(scratch.write(body))
    case 4:
        _ = try? GQAQuestions.load(scratch.write(body))
        _ = JSONKeyOrder.topLevelKeys(body)
    case 5:
        _ = try? ScienceQAProblems.load(scratch.write(body))
    case 6:
        _ = try? ScienceQAProblems.split("test", from: scratch.write(body))
    case 7:
        _ = try? DatasetRegistry.parse(body)
    case 8:
        do { try body.write(to: mmeFile) } catch { fatalError("cannot write \(mmeFile.path): \(error)") }
        if let truth = try? MMEGroundTruth.load(root: mmeRoot) {
            _ = truth.resolve(questionID: "color/0001.png", prompt: "Is this red?")
        }
    default:
        // Model answers are at most a few hundred tokens; the normalisers cost tens of µs per byte under ASan, so a
        // whole 30 KB file as "answer" would spend the run on throughput rather than on new paths.
        let text = String(decoding: body.prefix(2048), as: UTF8.self)
        _ = MMEAnswer.parse(text)
        _ = MMEAnswer.parse(resultsField: text)
        _ = POPEAnswer.parse(text)
        _ = ScienceQABenchmark.options(in: text)
        let parsed = ScienceQAAnswer.parse(text)
        _ = ScienceQAAnswer.predictionIndex(parsed, choiceCount: 5)
        _ = GQABenchmark.prediction(text)
        _ = TextVQABenchmark.question(fromPrompt: text)
        _ = EvalAIAnswerProcessor.normalize(text)
        _ = VQAEvalNormalizer.normalize(text)
        _ = MMEGroundTruth.category(ofQuestionID: text)
        _ = MMEGroundTruth.txtFile(ofQuestionID: text)
    }
    return 0
}

@_cdecl("FuzzDatasetFiles_main")
public func fuzzerMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    runFuzzerDriver(argc, argv, testOneInput)
}
