import Records
@testable import Report
import XCTest

/// Intervals, paired differences, near-tie shares and RGB-image columns as the score table shows them.
final class IntervalTableTests: XCTestCase {
    func units(_ correct: [Int]) -> UnitScores {
        UnitScores(units: correct.enumerated().map { ScoreUnit(id: "q\($0.offset)", stats: [Double($0.element), 1]) },
                   formulas: ["headline": .ratio(numerator: 0, denominator: 1, scale: 100)])
    }

    func row(_ method: String, _ tokens: Int?, _ correct: [Int], dataset: String = "gqa") -> ResultRow {
        let u = units(correct)
        return ResultRow(model: "m", dataset: dataset, method: method, tokens: tokens, ratio: nil, value: u.value("headline")!,
                         items: correct.count, units: u)
    }

    func testIntervalsDifferencesAndNearTies() throws {
        let base = [1, 1, 0, 1, 1, 0, 1, 1, 1, 0, 1, 1]
        var pruned = row("fastervlm", 64, [1, 0, 0, 1, 1, 0, 1, 0, 1, 0, 1, 1])
        pruned.nearTies = (count: 3, of: 12)
        let t = ScoreTable([row("unpruned", nil, base), pruned], columnOrder: ["gqa"], bootstrap: Bootstrap(replicates: 200))
        let unprunedRow = try XCTUnwrap(t.rows.first { $0.tokens == nil })
        let interval = try XCTUnwrap(unprunedRow.intervals[0])
        XCTAssertLessThanOrEqual(interval.lower, 75)
        XCTAssertGreaterThanOrEqual(interval.upper, 75)
        XCTAssertNil(unprunedRow.differences[0], "the unpruned row is the reference of the differences")
        let prunedRow = try XCTUnwrap(t.rows.first { $0.tokens == 64 })
        let d = try XCTUnwrap(prunedRow.differences[0])
        XCTAssertEqual(d.difference, 100.0 * (7 - 9) / 12, accuracy: 1e-9)
        XCTAssertEqual(d.units, 12)
        let md = t.fullMarkdown()
        XCTAssertTrue(md.contains("75.0 ± "), md)
        XCTAssertTrue(md.contains("Δ gqa"), md)
        XCTAssertTrue(md.contains("25.0% (3/12)"), md)
        let header = try XCTUnwrap(t.csv().split(separator: "\n").first)
        XCTAssertTrue(header.contains("gqa lower,gqa upper"), String(header))
        XCTAssertTrue(header.contains("gqa diff,gqa diff lower,gqa diff upper"), String(header))
        XCTAssertTrue(header.contains("gqa_near_ties,gqa_ranked"), String(header))
        // Without a bootstrap nothing is added.
        XCTAssertFalse(ScoreTable([row("unpruned", nil, base)], columnOrder: ["gqa"]).markdown().contains("±"))
    }

    func testRGBImageRunsOfABenchmarkThatOpensImagesUnconvertedGetTheirOwnColumns() {
        var layout = BenchmarkColumns.plain("scienceqa")
        layout.opensImagesUnconverted = true
        var reference = row("unpruned", nil, [1, 1, 0], dataset: "scienceqa")
        reference.imagesUnconverted = true
        let converted = row("unpruned", nil, [1, 1, 1], dataset: "scienceqa")
        let t = ScoreTable([reference, converted], layout: [layout])
        XCTAssertEqual(t.benchmarks, ["scienceqa", "scienceqa+rgb"])
        XCTAssertEqual(t.rows.count, 1)
        XCTAssertEqual(t.rows[0].values.compactMap { $0 }.map { ($0 * 10).rounded() / 10 }, [66.7, 100])
        XCTAssertTrue(t.markdown().contains("scienceqa (RGB images)"), t.markdown())
    }

    func testAColumnWithoutValuesCountsNoItems() {
        let gqa = BenchmarkColumns.plain("gqa")
        var twoColumns = gqa
        twoColumns.columns.append(TableColumn("other", metric: "absent"))
        let md = ScoreTable([row("unpruned", nil, [1, 0])], layout: [twoColumns]).markdown()
        XCTAssertTrue(md.contains("| gqa (n=2) | other |"), md)
    }
}
