import Foundation
import Records
@testable import Report
import TestSupport
import XCTest

/// The report's intervals against an independent recomputation (`scripts/fixtures/record_bootstrap.py`, numpy) and
/// against cases small enough to check by hand.
final class BootstrapTests: XCTestCase {
    func formula(_ o: [String: Any]) throws -> UnitFormula {
        switch o["kind"] as? String {
        case "ratio": return .ratio(numerator: o["numerator"] as! Int, denominator: o["denominator"] as! Int, scale: o["scale"] as! Double)
        case "meanF1": return .meanF1
        case "meanAccuracy": return .meanAccuracy
        case "accPlusSum": return .accPlusSum(strata: o["strata"] as! [String])
        default: throw XCTSkip("unknown formula \(o)")
        }
    }

    func units(_ list: [[String: Any]]) -> [ScoreUnit] {
        list.map { ScoreUnit(id: $0["id"] as! String, stratum: $0["stratum"] as! String, stats: $0["stats"] as! [Double]) }
    }

    func testIntervalsEqualTheIndependentRecomputation() throws {
        let url = Fixtures.repoRoot.appendingPathComponent("Tests/Fixtures/bootstrap/cases.json")
        let root = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        let cases = try XCTUnwrap(root["cases"] as? [[String: Any]])
        XCTAssertEqual(cases.count, 4)
        for c in cases {
            let name = c["name"] as! String
            let f = try formula(c["formula"] as! [String: Any])
            let scores = UnitScores(units: units(c["units"] as! [[String: Any]]), formulas: ["m": f])
            let b = Bootstrap(replicates: c["replicates"] as! Int, seed: UInt64(c["seed"] as! Int))
            XCTAssertEqual(try XCTUnwrap(scores.value("m")), c["value"] as! Double, accuracy: 1e-9, name)
            let expected = c["interval"] as! [Double]
            let got = try XCTUnwrap(b.interval(scores, metric: "m"), name)
            XCTAssertEqual(got.lower, expected[0], accuracy: 1e-9, name)
            XCTAssertEqual(got.upper, expected[1], accuracy: 1e-9, name)
            if let other = c["other"] as? [[String: Any]] {
                let o = UnitScores(units: units(other), formulas: ["m": f])
                let d = try XCTUnwrap(b.pairedDifference(scores, o, metric: "m"), name)
                let e = c["difference_interval"] as! [Double]
                XCTAssertEqual(d.difference, c["difference"] as! Double, accuracy: 1e-9, name)
                XCTAssertEqual(d.interval.lower, e[0], accuracy: 1e-9, name)
                XCTAssertEqual(d.interval.upper, e[1], accuracy: 1e-9, name)
            }
        }
    }

    func testHandCheckableCases() throws {
        // Every item right: every replicate is 100, so is the interval; the same seed gives the same numbers.
        let all = UnitScores(units: (0..<5).map { ScoreUnit(id: "\($0)", stats: [1, 1]) },
                             formulas: ["acc": .ratio(numerator: 0, denominator: 1, scale: 100)])
        XCTAssertEqual(Bootstrap().interval(all, metric: "acc"), Interval(lower: 100, upper: 100))
        // numpy's linear percentile of [1, 2, 3, 4] at 2.5% and 97.5%.
        XCTAssertEqual(Bootstrap.percentile([1, 2, 3, 4], 0.025), 1.075, accuracy: 1e-12)
        XCTAssertEqual(Bootstrap.percentile([1, 2, 3, 4], 0.975), 3.925, accuracy: 1e-12)
        // Two units, one right: replicates are 0, 50 or 100 (probabilities 1/4, 1/2, 1/4), so the interval spans them.
        let half = UnitScores(units: [ScoreUnit(id: "a", stats: [1, 1]), ScoreUnit(id: "b", stats: [0, 1])],
                              formulas: ["acc": .ratio(numerator: 0, denominator: 1, scale: 100)])
        XCTAssertEqual(Bootstrap(replicates: 2000).interval(half, metric: "acc"), Interval(lower: 0, upper: 100))
        // Paired with itself: every difference is exactly 0.
        let d = try XCTUnwrap(Bootstrap().pairedDifference(half, half, metric: "acc"))
        XCTAssertEqual(d.difference, 0)
        XCTAssertEqual(d.interval, Interval(lower: 0, upper: 0))
        XCTAssertEqual(Bootstrap(seed: 5).interval(half, metric: "acc"), Bootstrap(seed: 5).interval(half, metric: "acc"))
        // Units are resampled within their stratum: a stratum of one unit always contributes that unit.
        let strata = UnitScores(units: [ScoreUnit(id: "x", stratum: "s1", stats: [1, 1, 1, 1]), ScoreUnit(id: "y", stratum: "s2", stats: [2, 2, 1, 1])],
                                formulas: ["mme": .accPlusSum(strata: ["s1", "s2"])])
        XCTAssertEqual(Bootstrap().interval(strata, metric: "mme"), Interval(lower: 400, upper: 400))
    }
}
