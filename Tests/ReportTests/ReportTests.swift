import XCTest
@testable import Report

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

    func testPlotDrawsEverySeriesInBothBackends() {
        let scene = AccuracyPlot.scene(rows)
        let svg = scene.svg()
        XCTAssertTrue(svg.hasPrefix("<svg"))
        XCTAssertTrue(svg.contains(">gqa<") && svg.contains(">mme<"))
        XCTAssertTrue(svg.contains("vispruner r=0.5") && svg.contains("fastervlm"))
        XCTAssertTrue(svg.contains("stroke-dasharray"), "unpruned reference line is dashed")
        let canvas = scene.canvas()
        XCTAssertEqual(canvas.width, Int(scene.width.rounded()))
        // The first palette colour (vispruner series) must appear in the raster.
        let c = Canvas.Color.palette[0]
        var found = false
        for i in stride(from: 0, to: canvas.pixels.count, by: 3)
        where canvas.pixels[i] == c.r && canvas.pixels[i + 1] == c.g && canvas.pixels[i + 2] == c.b { found = true; break }
        XCTAssertTrue(found)
    }

    func testBitmapTextIsDrawn() {
        var c = Canvas(width: 40, height: 10)
        let w = c.text("A1", x: 1, y: 1, .black)
        XCTAssertEqual(w, 12)
        XCTAssertTrue(c.pixels.contains(0))
    }
}
