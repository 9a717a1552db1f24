import Foundation
import Model
import Tensor
import TestSupport
import XCTest

/// The step-by-step decoder API (used by the benchmarks) agrees with the one-shot paths.
final class DecoderSessionTests: XCTestCase {
    func testIncrementalDecodingMatchesOneShotPrefill() throws {
        let dir = try Fixtures.require("fixtures/llava15-tiny")
        _ = try Fixtures.require("fixtures/clip-tiny")
        let model = try LLaVAModel(directory: dir)
        let ids = [1, 319, 13563, 1546, 263, 12758, 5199, 322, 385, 23116, 21082, 20255, 29889]
        let embeds = try model.splice(inputIDs: ids, imageEmbeddings: [])
        let oneShot = try model.nextTokenLogits(inputIDs: ids, imageEmbeddings: [])

        let session = try model.makeDecoderSession(capacity: ids.count)
        let whole = try XCTUnwrap(try model.runDecoder(embeddings: embeds, session: session))
        XCTAssertEqual(whole.maxAbsDifference(oneShot), 0, "same rows, same arithmetic")
        XCTAssertEqual(session.length, ids.count)

        // Prefix, then the remaining rows one at a time (the decode path, streaming kernels).
        session.truncate(to: 0)
        let D = model.config.hiddenSize
        XCTAssertNil(try model.runDecoder(embeddings: Tensor(shape: [8, D], data: Array(embeds.data[0..<(8 * D)])),
                                          session: session, logits: false))
        var last: Tensor?
        for r in 8..<ids.count {
            last = try model.runDecoder(embeddings: Tensor(shape: [1, D], data: Array(embeds.data[(r * D)..<((r + 1) * D)])),
                                        session: session)
        }
        let stepwise = try XCTUnwrap(last)
        let scale = oneShot.data.map { abs($0) }.max() ?? 1
        XCTAssertLessThan(stepwise.maxAbsDifference(oneShot) / scale, 1e-4)
        XCTAssertThrowsError(try model.runDecoder(embeddings: Tensor(shape: [1, D], data: Array(repeating: 0, count: D)),
                                                  session: session), "cache is full")
        XCTAssertThrowsError(try model.runDecoder(embeddings: Tensor(shape: [1, D + 1], data: Array(repeating: 0, count: D + 1)),
                                                  session: session))
        XCTAssertThrowsError(try model.makeDecoderSession(capacity: 0))
    }
}
