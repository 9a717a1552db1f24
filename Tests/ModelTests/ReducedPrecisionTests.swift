import Foundation
import Model
import Tensor
import TestSupport
import XCTest

/// The bfloat16 compute mode against the float32 reference recordings: it must really change the
/// arithmetic (a mode that silently ran float32 would pass any parity test) and stay close enough
/// that greedy answers rarely move. The printed summary is the drift figure quoted in EVAL.md.
final class ReducedPrecisionTests: XCTestCase {
    func testBFloat16DriftFromReferenceIsSmall() throws {
        let dir = try Fixtures.require("fixtures/llava15-tiny")
        _ = try Fixtures.require("fixtures/clip-tiny")
        let root = try Fixtures.require("fixtures/llava15")
        let reduced = try LLaVAModel(directory: dir, precision: .bfloat16)
        let exact = try LLaVAModel(directory: dir)
        XCTAssertEqual(reduced.precision, .bfloat16)
        var features: [String: Tensor] = [:]
        var worstRelative: Float = 0, worstExactRelative: Float = 0
        var sameFirstToken = 0, sameTokens = 0, tokenCases = 0
        let cases = try ReferenceCase.all()
        for c in cases {
            if features[c.featuresPath] == nil {
                features[c.featuresPath] = try Npy.readTensor(contentsOf: root.appendingPathComponent(c.featuresPath))
            }
            let kept = try LLaVAModel.select(features[c.featuresPath]!, rows: c.kept)
            let expected = try Npy.readTensor(contentsOf: root.appendingPathComponent(c.logitsPath))
            let scale = expected.data.map { abs($0) }.max() ?? 1
            let outR = try reduced.generate(inputIDs: c.inputIDs, imageEmbeddings: [try reduced.project(kept)],
                                            maxNewTokens: c.generated.count - 1, eosID: reduced.config.eosTokenID)
            let outE = try exact.generate(inputIDs: c.inputIDs, imageEmbeddings: [try exact.project(kept)],
                                          maxNewTokens: 1, eosID: exact.config.eosTokenID)
            worstRelative = max(worstRelative, outR.firstLogits.maxAbsDifference(expected) / scale)
            worstExactRelative = max(worstExactRelative, outE.firstLogits.maxAbsDifference(expected) / scale)
            if outR.tokens.first == c.generated.dropFirst().first { sameFirstToken += 1 }
            if !c.fragile {
                tokenCases += 1
                if [1] + outR.tokens == c.generated { sameTokens += 1 }
            }
        }
        print("bfloat16 vs float32 reference on \(cases.count) llava15 cases: worst relative logit drift \(worstRelative) "
              + "(float32: \(worstExactRelative)); first token equal in \(sameFirstToken)/\(cases.count), "
              + "all tokens equal in \(sameTokens)/\(tokenCases) non-fragile cases")
        XCTAssertGreaterThan(worstRelative, 10 * worstExactRelative, "bfloat16 mode did not change the arithmetic")
        XCTAssertLessThan(worstRelative, 0.05)
        XCTAssertGreaterThanOrEqual(Double(sameFirstToken) / Double(cases.count), 0.9)
    }
}
