import XCTest
import TestSupport
import Tensor
@testable import Pruning

/// Parity with the reference selection recorded in ../shared/fixtures.
final class VisPrunerFixtureTests: XCTestCase {
    private var cache: [String: Tensor] = [:]

    private func load(_ relative: String) throws -> Tensor {
        if let t = cache[relative] { return t }
        let t = try Npy.readTensor(contentsOf: try Fixtures.require(relative))
        cache[relative] = t
        return t
    }

    private func ints(_ any: Any?) -> [Int] { (any as? [Any] ?? []).compactMap { ($0 as? NSNumber)?.intValue } }

    /// Every recorded case, index for index: kept, important and diverse.
    func testAllPruningCases() throws {
        let cases = try Fixtures.jsonLines("fixtures/pruning/cases.jsonl")
        // The recording was re-cut to 239 float32/float64-stable cases (2026-12-01); a smaller count means cases were lost.
        XCTAssertEqual(cases.count, 239)
        var failures = 0
        for (i, c) in cases.enumerated() {
            let f = try load("fixtures/pruning/" + (c["features"] as! String))
            let a = try load("fixtures/pruning/" + (c["attention"] as! String))
            let t = (c["tokens"] as! NSNumber).intValue, r = (c["ratio"] as! NSNumber).doubleValue
            let s = try VisPrunerSelector().select(features: f, attention: a, tokens: t, ratio: r)
            if s.kept != ints(c["kept"]) || s.important != ints(c["important"]) || s.diverse != ints(c["diverse"]) {
                failures += 1
                XCTFail("case \(i) (\(c["features"]!), T=\(t), ratio=\(r)) differs from the reference")
            }
        }
        XCTAssertEqual(failures, 0)
    }

    /// The end-to-end LLaVA-1.5 cases record the selection on the tiny CLIP's real features.
    func testLlava15CasesKeepTheRecordedIndices() throws {
        let cases = try Fixtures.jsonLines("fixtures/llava15/cases.jsonl")
        var checked = 0
        for c in cases {
            let t = (c["tokens"] as! NSNumber).intValue, r = (c["ratio"] as! NSNumber).doubleValue
            let f = try load("fixtures/llava15/" + (c["features"] as! String))
            let a = try load("fixtures/llava15/" + (c["cls_attention"] as! String))
            let s = try VisPrunerSelector().select(features: f, attention: a, tokens: t, ratio: r)
            XCTAssertEqual(s.kept, ints(c["kept"]), "\(c["image"]!) T=\(t) ratio=\(r)")
            checked += 1
        }
        XCTAssertEqual(checked, cases.count)
    }

    /// LLaVA-1.6: each of the 5 views (base first, then crops) pruned independently with budget T.
    func testLlava16PerViewSelection() throws {
        let cases = try Fixtures.jsonLines("fixtures/llava16/cases.jsonl")
        for c in cases {
            let t = (c["tokens"] as! NSNumber).intValue, r = (c["ratio"] as! NSNumber).doubleValue
            let f = try load("fixtures/llava16/" + (c["features"] as! String))
            let a = try load("fixtures/llava16/" + (c["cls_attention"] as! String))
            let views = try selectPerView(VisPrunerSelector(), features: f, attention: a, tokens: t, ratio: r)
            let want = (c["kept_per_crop"] as! [Any]).map(ints)
            XCTAssertEqual(views.map(\.kept), want, "\(c["image"]!) T=\(t) ratio=\(r)")
        }
    }
}
