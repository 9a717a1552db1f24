import XCTest
@testable import Report
import Records

final class ReportTests: XCTestCase {
    let rows: [ResultRow] = [
        ResultRow(model: "m", dataset: "gqa", method: "vispruner", tokens: nil, ratio: nil, value: 60),
        ResultRow(model: "m", dataset: "mme", method: "vispruner", tokens: nil, ratio: nil, value: 1500),
        ResultRow(model: "m", dataset: "gqa", method: "vispruner", tokens: 64, ratio: 0.5, value: 54),
        ResultRow(model: "m", dataset: "mme", method: "vispruner", tokens: 64, ratio: 0.5, value: 1350),
        ResultRow(model: "m", dataset: "gqa", method: "fastervlm", tokens: 64, ratio: 1, value: 48),
        ResultRow(model: "m", dataset: "gqa", method: "vispruner", tokens: 128, ratio: 0.5, value: 57),
    ]

    func testScoreTableLayoutAndRelativeColumn() {
        let t = ScoreTable(rows)
        XCTAssertEqual(t.benchmarks, ["gqa", "mme"])
        XCTAssertEqual(t.rows.map(\.method), ["unpruned", "vispruner", "fastervlm", "vispruner"])
        XCTAssertEqual(t.rows.map(\.tokens), [nil, 128, 64, 64])
        XCTAssertEqual(t.rows[0].relative!, 100, accuracy: 1e-12)
        // (54/60 + 1350/1500) / 2 = 0.9
        XCTAssertEqual(t.rows[3].relative!, 90, accuracy: 1e-9)
        // fastervlm has only gqa: 48/60
        XCTAssertEqual(t.rows[2].relative!, 80, accuracy: 1e-9)
        XCTAssertNil(t.rows[2].values[1])
        let md = t.markdown()
        XCTAssertTrue(md.contains("| m | vispruner | 64 | 0.5 | 54.0 | 1350.0 | 90.0% |"), md)
        XCTAssertTrue(md.contains("| m | fastervlm | 64 | 1 | 48.0 | – | 80.0% |"), md)
        let csv = t.csv().split(separator: "\n")
        XCTAssertEqual(csv[0], "model,method,tokens,ratio,gqa,mme,relative_percent")
        XCTAssertEqual(csv.count, 5)
    }

    func testNoUnprunedReferenceLeavesRelativeEmpty() {
        let t = ScoreTable(Array(rows.dropFirst(2)))
        XCTAssertTrue(t.rows.allSatisfy { $0.relative == nil })
    }

    func testCSVQuoting() {
        XCTAssertEqual(CSV.field("a,b"), "\"a,b\"")
        XCTAssertEqual(CSV.field("say \"hi\""), "\"say \"\"hi\"\"\"")
        XCTAssertEqual(CSV.field("plain"), "plain")
    }

    func testLatencyPercentilesAndThroughput() {
        let samples = (1...10).map { i in
            LatencySample(model: "m", method: "vispruner", tokens: 64, ratio: 0.5,
                          stages: ["prefill": Double(i), "decode": 100], generatedTokens: 10)
        }
        let t = LatencyTable(samples)
        XCTAssertEqual(t.stages, ["prefill", "decode"])
        let s = t.rows[0].stages["prefill"]!
        XCTAssertEqual(s.mean, 5.5, accuracy: 1e-12)
        XCTAssertEqual(s.p50, 5.5, accuracy: 1e-12)
        XCTAssertEqual(s.p90, 9.1, accuracy: 1e-12)
        XCTAssertEqual(t.rows[0].decodeTokensPerSecond!, 100, accuracy: 1e-9) // 100 tokens in 1 s
        XCTAssertTrue(t.markdown().contains("5.5 / 5.5 / 9.1"))
    }
}

/// Tables in paper units, with subset runs marked.
final class PaperUnitTableTests: XCTestCase {
    let layout = [
        BenchmarkColumns(dataset: "pope", columns: [TableColumn("POPE F1", metric: "f1.average", scale: 100),
                                                    TableColumn("POPE Acc", metric: "accuracy.average", scale: 100)],
                         headline: TableColumn("POPE F1", metric: "f1.average", scale: 100)),
        BenchmarkColumns(dataset: "mme", columns: [TableColumn("MME-P", metric: "perception"), TableColumn("MME-C", metric: "cognition"),
                                                   TableColumn("MME", metric: "total", sumOf: ["perception", "cognition"])],
                         headline: TableColumn("MME-P", metric: "perception")),
    ]

    func row(_ dataset: String, tokens: Int?, _ metrics: [String: Double], subset: Bool = false) -> ResultRow {
        ResultRow(model: "m", dataset: dataset, method: "vispruner", tokens: tokens, ratio: tokens == nil ? nil : 0.5,
                  value: metrics["f1.average"] ?? metrics["perception"] ?? 0, metrics: metrics, subset: subset)
    }

    func testColumnsValuesAndTheRelativeAverage() {
        let t = ScoreTable([
            row("pope", tokens: nil, ["f1.average": 0.859, "accuracy.average": 0.870]),
            row("mme", tokens: nil, ["perception": 1500, "cognition": 300]),
            row("pope", tokens: 64, ["f1.average": 0.8161, "accuracy.average": 0.80]),
            row("mme", tokens: 64, ["perception": 1350, "cognition": 330]),
        ], layout: layout)
        XCTAssertEqual(t.columns.map(\.column.title), ["POPE F1", "POPE Acc", "MME-P", "MME-C", "MME"])
        let md = t.markdown()
        XCTAssertTrue(md.contains("| Model | Method | Tokens | Ratio | POPE F1 | POPE Acc | MME-P | MME-C | MME | Avg (% of unpruned) |"), md)
        XCTAssertTrue(md.contains("| m | unpruned | all | – | 85.9 | 87.0 | 1500.0 | 300.0 | 1800.0 | 100.0% |"), md)
        // (0.8161/0.859 + 1350/1500) / 2 = (0.95006 + 0.9) / 2 = 92.5%: headlines only, cognition not averaged.
        XCTAssertTrue(md.contains("| m | vispruner | 64 | 0.5 | 81.6 | 80.0 | 1350.0 | 330.0 | 1680.0 | 92.5% |"), md)
        XCTAssertFalse(md.contains("†"))
        XCTAssertTrue(t.csv().hasPrefix("model,method,tokens,ratio,POPE F1,POPE Acc,MME-P,MME-C,MME,relative_percent\n"), t.csv())
    }

    func testSubsetRunsAreMarkedInTablesAndPlots() {
        let rows = [row("pope", tokens: nil, ["f1.average": 0.9, "accuracy.average": 0.9]),
                    row("pope", tokens: 64, ["f1.average": 0.8, "accuracy.average": 0.8], subset: true)]
        let t = ScoreTable(rows, layout: layout)
        let md = t.markdown()
        XCTAssertTrue(md.contains("| 80.0† | 80.0† |"), md)
        XCTAssertTrue(md.contains("† subset run (`--limit`)"), md)
        XCTAssertTrue(t.csv().contains(",pope\n"), t.csv())
        let chart = AccuracyFigure.chart(rows, layout: layout)
        XCTAssertEqual(chart.panels.first?.title, "POPE F1 †")
        XCTAssertEqual(chart.panels.first?.points.first?.first?.value ?? 0, 80, accuracy: 1e-9, "values in percent")
        XCTAssertTrue(chart.notes.contains { $0.hasPrefix("† subset run") }, "\(chart.notes)")
        XCTAssertTrue(chart.figure().texts(.note).contains { $0.hasPrefix("† subset run") })
    }

    func testItemCountsGoInTheHeaderWhenRowsAgreeAndBesideTheValueWhenNot() {
        let agree = [ResultRow(model: "m", dataset: "gqa", method: "unpruned", tokens: nil, ratio: nil, value: 60, items: 203),
                     ResultRow(model: "m", dataset: "gqa", method: "random", tokens: 16, ratio: nil, value: 50, items: 203),
                     ResultRow(model: "m", dataset: "mme", method: "unpruned", tokens: nil, ratio: nil, value: 1500)]
        var md = ScoreTable(agree).markdown()
        XCTAssertTrue(md.contains("| gqa (n=203) | mme |"), md)
        XCTAssertTrue(md.contains("| m | random | 16 | – | 50.0 | – |"), md)
        var csv = ScoreTable(agree).csv().split(separator: "\n").map(String.init)
        XCTAssertEqual(csv[0], "model,method,tokens,ratio,gqa,mme,relative_percent,gqa_items")
        XCTAssertEqual(csv[2], "m,random,16,,50.0,,83.33333333333334,203")

        var differ = agree
        differ[1].items = 100
        md = ScoreTable(differ).markdown()
        XCTAssertTrue(md.contains("| gqa | mme |"), md)
        XCTAssertTrue(md.contains("| 50.0 (n=100) |"), md)
        XCTAssertTrue(md.contains("| 60.0 (n=203) |"), md)
        csv = ScoreTable(differ).csv().split(separator: "\n").map(String.init)
        XCTAssertTrue(csv[2].hasSuffix(",100"), csv[2])
    }
}
