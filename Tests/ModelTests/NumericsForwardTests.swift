import Crypto
import Foundation
import Records
import Tensor
import TestSupport
import XCTest
@testable import Model

/// Whole forward passes under numerics n2 (CKernels.h): image file → tower → VisPruner selection →
/// projector → prefill → greedy decoding on the tiny fixture models gives the same bits (next-token
/// logits, kept tokens, generated ids) on every kernel path this CPU supports and at 1 and 2 threads,
/// and the logits hash to the committed value (recorded on the portable path).
final class NumericsForwardTests: XCTestCase {
    /// SHA-256 of every run's next-token logits (float32 little-endian, runs in order), portable path.
    static let expectedLogitsHash: [String: String] = [
        "llava15-tiny": "dfc17710545d8a99331e3a23b7fc661fda9d7a1deae9e9559f91e46f91ab9b33",
        "llava16-tiny": "bc5d31f567a84940096ba81c7d62fbfe776f83ab73ad4370aadec8015c4555d5",
    ]

    override func tearDown() {
        KernelPath.setActive(LinearConfig.default.path)
        Kernels.threads = LinearConfig.default.threads
        super.tearDown()
    }

    struct Outcome: Equatable {
        var logits: [UInt32]
        var kept: [[Int]]
        var generated: [Int]
    }

    private func runAll(family: String, model: String, path: KernelPath, threads: Int) throws -> [Outcome] {
        KernelPath.setActive(path)
        Kernels.threads = threads
        // A fresh pipeline per configuration: its feature memo must not carry another path's tower outputs.
        let pipeline = try LLaVAPipeline(modelDirectory: try Fixtures.require("fixtures/\(model)"))
        let cases = try Fixtures.jsonLines("fixtures/\(family)/cases.jsonl")
        var images: [String] = []
        var out: [Outcome] = []
        for c in cases {
            let image = c["image"] as! String
            if images.contains(image) { continue }
            images.append(image)
            if images.count > 2 { break }
            let url = try Fixtures.require("fixtures/\(family)/" + image)
            for pruning in [Pruning.unpruned,
                            .pruned(.vispruner, tokens: (c["tokens"] as! NSNumber).intValue, ratio: (c["ratio"] as! NSNumber).doubleValue),
                            .pruned(.divprune, tokens: 16, ratio: 0)] {
                let r = try pipeline.run(PipelineRequest(imageURL: url, question: c["question"] as! String,
                                                         settings: RunSettings(pruning: pruning, maxNewTokens: 6)))
                out.append(Outcome(logits: r.firstLogits.data.map(\.bitPattern), kept: r.selections.map(\.kept),
                                   generated: r.generatedIDs))
            }
        }
        return out
    }

    private func check(family: String, model: String) throws {
        let reference = try runAll(family: family, model: model, path: .portable, threads: 1)
        XCTAssertFalse(reference.isEmpty)
        for path in KernelPath.supported {
            for threads in [1, 2] where !(path == .portable && threads == 1) {
                let got = try runAll(family: family, model: model, path: path, threads: threads)
                XCTAssertEqual(got.count, reference.count)
                for (i, (g, r)) in zip(got, reference).enumerated() {
                    XCTAssertEqual(g.logits, r.logits, "\(model) run \(i): logits differ on \(path) at \(threads) threads")
                    XCTAssertEqual(g.kept, r.kept, "\(model) run \(i): kept tokens differ on \(path) at \(threads) threads")
                    XCTAssertEqual(g.generated, r.generated, "\(model) run \(i): tokens differ on \(path) at \(threads) threads")
                }
            }
        }
        let bytes = reference.flatMap(\.logits).withUnsafeBytes { Data($0) }
        let hash = SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
        if ProcessInfo.processInfo.environment["VISPRUNER_RECORD_NUMERICS"] == "1" { print("NUMERICS \(model): \(hash)") }
        else { XCTAssertEqual(hash, Self.expectedLogitsHash[model], "\(model): logits hash differs from the committed one") }
    }

    func testTinyLlava15ForwardIsBitIdenticalOnEveryPathAndThreadCount() throws {
        try check(family: "llava15", model: "llava15-tiny")
    }

    func testTinyLlava16ForwardIsBitIdenticalOnEveryPathAndThreadCount() throws {
        try check(family: "llava16", model: "llava16-tiny")
    }
}
