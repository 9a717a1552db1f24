import Foundation
import XCTest
import Imaging
import Pruning
import Records
@testable import Report
import TestSupport

/// A paper-like grid: unpruned, VisPruner and FasterVLM at three budgets on GQA, MME and POPE.
enum FigureSamples {
    static let layout = [
        BenchmarkColumns(dataset: "gqa", columns: [TableColumn("GQA", metric: "headline", axisLabel: "Accuracy (%)")],
                         headline: TableColumn("GQA", metric: "headline", axisLabel: "Accuracy (%)")),
        BenchmarkColumns(dataset: "mme", columns: [TableColumn("MME-P", metric: "perception", axisLabel: "Perception score (sum)")],
                         headline: TableColumn("MME-P", metric: "perception", axisLabel: "Perception score (sum)")),
        BenchmarkColumns(dataset: "pope", columns: [TableColumn("POPE F1", metric: "f1.average", scale: 100, axisLabel: "F1 (%)")],
                         headline: TableColumn("POPE F1", metric: "f1.average", scale: 100, axisLabel: "F1 (%)")),
    ]

    static func row(_ dataset: String, _ method: String, _ tokens: Int?, _ value: Double) -> ResultRow {
        let metrics: [String: Double]
        switch dataset {
        case "mme": metrics = ["perception": value, "headline": value]
        case "pope": metrics = ["f1.average": value, "headline": value]
        default: metrics = ["headline": value]
        }
        let ratio: Double? = method == "vispruner" && tokens != nil ? 0.5 : nil
        return ResultRow(model: "llava-v1.5-7b", dataset: dataset, method: tokens == nil ? "unpruned" : method,
                         tokens: tokens, ratio: ratio, value: value, metrics: metrics)
    }

    static let results: [ResultRow] = [
        row("gqa", "", nil, 61.9), row("mme", "", nil, 1862), row("pope", "", nil, 0.859),
        row("gqa", "vispruner", 128, 58.8), row("gqa", "vispruner", 64, 55.4), row("gqa", "vispruner", 32, 52.2),
        row("gqa", "fastervlm", 128, 56.9), row("gqa", "fastervlm", 64, 51.5), row("gqa", "fastervlm", 32, 48.0),
        row("mme", "vispruner", 128, 1768), row("mme", "vispruner", 64, 1726), row("mme", "vispruner", 32, 1630),
        row("mme", "fastervlm", 128, 1701), row("mme", "fastervlm", 64, 1573), row("mme", "fastervlm", 32, 1475),
        row("pope", "vispruner", 128, 0.842), row("pope", "vispruner", 64, 0.806), row("pope", "vispruner", 32, 0.764),
        row("pope", "fastervlm", 128, 0.837), row("pope", "fastervlm", 64, 0.785), row("pope", "fastervlm", 32, 0.689),
    ]

    static func latency() -> [LatencySample] {
        var out: [LatencySample] = []
        for (method, tokens, prefill) in [("unpruned", nil, 400.0), ("vispruner", 64, 120.0), ("vispruner", 32, 90.0),
                                          ("fastervlm", 64, 118.0), ("fastervlm", 32, 88.0)] as [(String, Int?, Double)] {
            for i in 0..<4 {
                // Per item: 10 preprocess + 200 vision + 2 prune + 1 projector + prefill (+ i) + 300 decode.
                let p = prefill + Double(i)
                out.append(LatencySample(model: "m", method: method, tokens: tokens, ratio: method == "vispruner" ? 0.5 : nil,
                                         stages: ["preprocess": 10, "vision": 200, "prune": 2, "projector": 1, "prefill": p,
                                                  "decode": 300, "total": 513 + p],
                                         generatedTokens: 8))
            }
        }
        return out
    }

    static func temporaryDirectory() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("figures-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }
}

final class NiceTicksTests: XCTestCase {
    func testTicksAreRoundAndCoverTheData() {
        let t = NiceTicks(lo: 48.0, hi: 61.9)
        XCTAssertEqual(t.labels, ["45", "50", "55", "60", "65"])
        XCTAssertLessThanOrEqual(t.lower, 48); XCTAssertGreaterThanOrEqual(t.upper, 61.9)

        XCTAssertEqual(NiceTicks(lo: 1475, hi: 1862).labels, ["1400", "1500", "1600", "1700", "1800", "1900"])
        XCTAssertEqual(NiceTicks(lo: 0.2, hi: 0.9).labels, ["0.0", "0.2", "0.4", "0.6", "0.8", "1.0"])
        XCTAssertEqual(NiceTicks(lo: 80, hi: 100).step, 5)
        // Steps of 2.5 need a decimal: 0, 2.5, 5.0, ...
        let quarter = NiceTicks(lo: 0, hi: 11, target: 6)
        XCTAssertEqual(quarter.step, 2.5)
        XCTAssertEqual(quarter.labels.prefix(3), ["0.0", "2.5", "5.0"])
    }

    func testAFlatSeriesGetsAWindowAndScoresStayNonNegative() {
        let flat = NiceTicks(lo: 50, hi: 50)
        XCTAssertLessThan(flat.lower, 50); XCTAssertGreaterThan(flat.upper, 50)
        XCTAssertGreaterThanOrEqual(NiceTicks(lo: 0.5, hi: 40).lower, 0)
        XCTAssertLessThan(NiceTicks(lo: -3, hi: 4, floor: nil).lower, -3)
    }
}

final class AccuracyFigureTests: XCTestCase {
    func testPanelsInPaperUnitsWithTheUnprunedReferenceAndTheAverage() throws {
        let chart = AccuracyFigure.chart(FigureSamples.results, layout: FigureSamples.layout)
        XCTAssertEqual(chart.series.map(\.name), ["VisPruner", "FasterVLM"])
        XCTAssertEqual(chart.panels.map(\.title), ["GQA", "MME-P", "POPE F1", "Average"])
        XCTAssertEqual(chart.panels.map(\.yLabel), ["Accuracy (%)", "Perception score (sum)", "F1 (%)", "% of unpruned"])
        XCTAssertEqual(chart.xTicks, [32, 64, 128])
        XCTAssertEqual(chart.referenceName, "Unpruned (all tokens)")
        let refs = chart.panels.map { $0.reference ?? .nan }
        XCTAssertEqual(refs[0], 61.9); XCTAssertEqual(refs[1], 1862); XCTAssertEqual(refs[2], 85.9, accuracy: 1e-9); XCTAssertEqual(refs[3], 100)
        // POPE in percent, as the score table prints it.
        for (v, e) in zip(chart.panels[2].points[0].map(\.value), [76.4, 80.6, 84.2]) { XCTAssertEqual(v, e, accuracy: 1e-9) }
        XCTAssertEqual(chart.panels[2].points[0].count, 3)
        XCTAssertEqual(chart.panels[2].yTicks.labels, ["65", "70", "75", "80", "85", "90"])
        // Average: the score table's relative column, e.g. VisPruner 64 = (55.4/61.9 + 1726/1862 + 80.6/85.9) / 3.
        let table = ScoreTable(FigureSamples.results, layout: FigureSamples.layout)
        let v64 = try XCTUnwrap(table.rows.first { $0.method == "vispruner" && $0.tokens == 64 }?.relative)
        XCTAssertEqual(v64, 100 * (55.4 / 61.9 + 1726.0 / 1862 + 0.806 / 0.859) / 3, accuracy: 1e-9)
        XCTAssertEqual(chart.panels[3].points[0].first { $0.tokens == 64 }?.value ?? 0, v64, accuracy: 1e-12)
        for panel in chart.panels {
            let all = panel.points.flatMap { $0.map(\.value) } + [panel.reference].compactMap { $0 }
            XCTAssertLessThanOrEqual(panel.yTicks.lower, all.min()!, panel.title)
            XCTAssertGreaterThanOrEqual(panel.yTicks.upper, all.max()!, panel.title)
        }
    }

    func testEverySeriesHasItsOwnColourAndMarker() {
        let rows = ["vispruner", "fastervlm", "divprune", "uniform", "random"].flatMap { m in
            [FigureSamples.row("gqa", m, 64, 50), FigureSamples.row("gqa", m, 32, 45)]
        } + [FigureSamples.row("gqa", "", nil, 60)]
        let chart = AccuracyFigure.chart(rows)
        XCTAssertEqual(chart.series.map(\.name), ["VisPruner", "FasterVLM", "DivPrune", "Uniform", "Random"])
        XCTAssertEqual(Set(chart.series.map(\.color)).count, 5)
        XCTAssertEqual(Set(chart.series.map(\.marker)).count, 5)
    }

    func testSeveralRatiosAndModelsAreNamedApart() {
        var rows = FigureSamples.results
        rows.append(ResultRow(model: "llava-v1.5-7b", dataset: "gqa", method: "vispruner", tokens: 64, ratio: 0.25, value: 54))
        XCTAssertEqual(AccuracyFigure.chart(rows, layout: FigureSamples.layout).series.map(\.name),
                       ["VisPruner (r=0.25)", "VisPruner (r=0.5)", "FasterVLM"])
        rows.append(ResultRow(model: "llava-v1.5-13b", dataset: "gqa", method: "fastervlm", tokens: 64, ratio: nil, value: 54))
        XCTAssertTrue(AccuracyFigure.chart(rows).series.map(\.name).contains("llava-v1.5-13b: FasterVLM"))
    }

    func testTheDrawingSaysWhatTheChartHolds() {
        let chart = AccuracyFigure.chart(FigureSamples.results, layout: FigureSamples.layout)
        let fig = chart.figure()
        XCTAssertEqual(fig.texts(.title), ["Accuracy vs visual tokens"])
        // One legend for the whole figure.
        XCTAssertEqual(fig.texts(.legend), ["VisPruner", "FasterVLM", "Unpruned (all tokens)"])
        XCTAssertEqual(fig.texts(.panelTitle), chart.panels.map(\.title))
        XCTAssertEqual(fig.texts(.yLabel), chart.panels.map(\.yLabel))
        XCTAssertEqual(fig.texts(.xLabel), Array(repeating: "Visual tokens", count: 4))
        XCTAssertEqual(fig.texts(.xTick), Array(repeating: ["32", "64", "128"], count: 4).flatMap { $0 })
        XCTAssertEqual(fig.texts(.yTick), chart.panels.flatMap(\.yTicks.labels))
        XCTAssertTrue(fig.texts(.yTick).contains("1800"))
        // The reference is dashed; each panel draws both series' markers.
        let dashed = fig.items.filter { if case .path(_, _, _, let s?) = $0 { return !s.dash.isEmpty } else { return false } }
        XCTAssertEqual(dashed.count, 4 + 1, "one reference per panel plus the legend sample")
        let markers = fig.items.compactMap { if case .marker(let shape, _, _, _) = $0 { return shape } else { return nil } }
        XCTAssertEqual(markers.filter { $0 == chart.series[0].marker }.count, 4 * 3 + 1)
        XCTAssertEqual(markers.filter { $0 == chart.series[1].marker }.count, 4 * 3 + 1)
    }
}

final class LatencyFigureTests: XCTestCase {
    func testTimeToFirstTokenAndTotalFromTheStoredStages() {
        let chart = LatencyFigure.chart(FigureSamples.latency())
        XCTAssertEqual(chart.panels.map(\.yLabel), ["Time to first token (ms)", "Total latency (ms)"])
        XCTAssertEqual(chart.series.map(\.name), ["VisPruner", "FasterVLM"])
        // VisPruner 32: 10 + 200 + 2 + 1 + mean(90, 91, 92, 93) = 304.5; total adds the 300 ms decode.
        XCTAssertEqual(chart.panels[0].points[0].map(\.tokens), [32, 64])
        XCTAssertEqual(chart.panels[0].points[0][0].value, 304.5, accuracy: 1e-9)
        XCTAssertEqual(chart.panels[1].points[0][0].value, 604.5, accuracy: 1e-9)
        XCTAssertEqual(chart.panels[0].reference ?? 0, 614.5, accuracy: 1e-9)
        XCTAssertEqual(chart.panels[1].reference ?? 0, 914.5, accuracy: 1e-9)
        XCTAssertEqual(chart.figure(columns: 2).texts(.yLabel), ["Time to first token (ms)", "Total latency (ms)"])
    }
}

final class SelectionFigureTests: XCTestCase {
    /// 4×4 patches of 8 px on a gradient.
    static func view(_ shift: Int = 0) -> RGBImage {
        var px: [UInt8] = []
        for y in 0..<32 { for x in 0..<32 { px += [UInt8(x * 8), UInt8(y * 8), UInt8((shift * 60) % 256)] } }
        return RGBImage(width: 32, height: 32, pixels: px)
    }

    func testColumnsLegendAndPatchMarks() {
        let a = Selection(important: [0, 5], diverse: [10, 15]), b = Selection(important: [], diverse: [3])
        let fig = SelectionFigure(views: [Self.view()], cropGrid: nil, patchesPerSide: 4,
                                  columns: [.init(title: SelectionFigure.columnTitle(method: "vispruner", tokens: 4), selections: [a]),
                                            .init(title: SelectionFigure.columnTitle(method: "divprune", tokens: 1), selections: [b])])
            .figure()
        XCTAssertEqual(fig.texts(.panelTitle), ["VisPruner 4", "DivPrune 1"])
        XCTAssertEqual(fig.texts(.legend), SelectionFigure.legendNames)
        XCTAssertEqual(fig.texts(.note), ["2 important, 2 diverse", "0 important, 1 diverse"])
        func strokes(_ c: Color) -> Int {
            fig.items.filter { if case .path(_, true, _, let s?) = $0 { return s.color == c } else { return false } }.count
        }
        XCTAssertEqual(strokes(SelectionFigure.importantColor), 2 + 1, "two kept cells plus the legend swatch")
        XCTAssertEqual(strokes(SelectionFigure.diverseColor), 3 + 1)
        // 4×4 grid: 5 lines each way per view.
        let gridLines = fig.items.filter { if case .path(let p, false, _, let s?) = $0 { return p.count == 2 && s.color.a < 1 } else { return false } }
        XCTAssertEqual(gridLines.count, 2 * 10)
        XCTAssertEqual(fig.items.filter { if case .image = $0 { return true } else { return false } }.count, 2)
    }

    func testLLaVA16ShowsTheBaseViewBesideItsCrops() throws {
        let s = Selection(important: [1], diverse: [2])
        let fig = SelectionFigure(views: (0..<5).map(Self.view), cropGrid: (2, 2), patchesPerSide: 4,
                                  columns: [.init(title: "VisPruner 2", selections: Array(repeating: s, count: 5))]).figure()
        let frames = fig.items.compactMap { if case .image(_, let f) = $0 { return f } else { return nil } }
        XCTAssertEqual(frames.count, 5)
        // Crops at half size in a 2×2 block to the right of the base view, as high as it.
        XCTAssertEqual(frames[1].width, frames[0].width / 2)
        XCTAssertGreaterThan(frames[1].x, frames[0].maxX)
        XCTAssertEqual(frames[1].y, frames[0].y); XCTAssertEqual(frames[4].maxY, frames[0].maxY)
        XCTAssertEqual(frames[2].x, frames[1].maxX); XCTAssertEqual(frames[3].y, frames[1].maxY)
        XCTAssertEqual(fig.texts(.xLabel), ["base view", "crops (2×2)"])
        XCTAssertEqual(fig.texts(.note), ["5 important, 5 diverse over 5 views"])
    }
}

/// The files: what Cairo writes for each format, at the promised size, holding the drawing.
final class FigureFileTests: XCTestCase {
    func testTheFontIsDejaVuSans() {
        XCTAssertEqual(CairoRenderer.resolvedFontFamily(), CairoRenderer.fontFamily,
                       "fontconfig substitutes another face: install fonts-dejavu-core (scripts/ensure-deps.sh)")
    }

    func testPNGAtTwiceTheSizeSVGAndPDFBeside() throws {
        let dir = try FigureSamples.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let fig = AccuracyFigure.chart(FigureSamples.results, layout: FigureSamples.layout).figure()
        let urls = try FigureFiles.write(fig, to: dir.appendingPathComponent("accuracy.svg"))
        XCTAssertEqual(urls.map(\.lastPathComponent), ["accuracy.png", "accuracy.svg", "accuracy.pdf"])

        let png = try ImageDecoder.decode(contentsOf: urls[0])
        XCTAssertEqual(png.width, Int((2 * fig.width).rounded(.up)))
        XCTAssertEqual(png.height, Int((2 * fig.height).rounded(.up)))
        // Not blank: the series colours are in the raster.
        let vispruner = Color.series[0]
        let target = (UInt8(vispruner.r * 255), UInt8(vispruner.g * 255), UInt8(vispruner.b * 255))
        var hits = 0
        for i in stride(from: 0, to: png.pixels.count, by: 3) where png.pixels[i] == target.0 && png.pixels[i + 1] == target.1
            && png.pixels[i + 2] == target.2 { hits += 1 }
        XCTAssertGreaterThan(hits, 200)

        let svg = try String(contentsOf: urls[1], encoding: .utf8)
        XCTAssertTrue(svg.contains("<svg"), String(svg.prefix(200)))
        XCTAssertTrue(svg.contains("width=\"\(fmt(fig.width))px\""), String(svg.prefix(300)))
        // Cairo draws text as glyph outlines, one <use> per glyph (spaces too): every character of every label is drawn.
        let glyphs = svg.components(separatedBy: "xlink:href=\"#glyph").count - 1
        let characters = fig.texts.map(\.string.count).reduce(0, +)
        XCTAssertEqual(glyphs, characters)
        XCTAssertTrue(svg.contains("stroke-dasharray"), "the dashed reference line")

        let pdf = try Data(contentsOf: urls[2])
        let head = String(decoding: pdf, as: UTF8.self)
        XCTAssertTrue(head.hasPrefix("%PDF-"))
        XCTAssertTrue(head.contains("/MediaBox [ 0 0 \(fmt(fig.width)) \(fmt(fig.height)) ]"), "page is the figure's size in points")
        XCTAssertTrue(head.contains("/Title (Accuracy vs visual tokens)"))
        XCTAssertTrue(head.contains("DejaVuSans"), "the embedded font")
    }

    func testAFileNameMustSayWhichFigureFormats() {
        XCTAssertThrowsError(try FigureFiles.outputs(for: URL(fileURLWithPath: "/tmp/plot.jpg")))
        XCTAssertEqual(try FigureFiles.outputs(for: URL(fileURLWithPath: "/tmp/a.b.PDF")).map(\.lastPathComponent),
                       ["a.b.png", "a.b.svg", "a.b.pdf"])
    }

    /// The accuracy figure rasterised at 2× against the committed golden; a mean absolute difference
    /// under the tolerance allows anti-aliasing and hinting differences between Cairo and FreeType builds,
    /// while a moved series or a missing label exceeds it (checked below with a perturbed chart).
    /// Re-record with VISPRUNER_RECORD_GOLDEN=1 after an intended change, and look at the file.
    func testGoldenImage() throws {
        let golden = Fixtures.repoRoot.appendingPathComponent("Tests/ReportTests/Resources/accuracy-golden.png")
        let fig = Self.goldenFigure(FigureSamples.results)
        let image = try CairoRenderer.raster(fig, pixelScale: 2)
        if ProcessInfo.processInfo.environment["VISPRUNER_RECORD_GOLDEN"] == "1" {
            try PNGEncoder.encode(image).write(to: golden)
            throw XCTSkip("recorded \(golden.path)")
        }
        let expected = try ImageDecoder.decode(contentsOf: golden)
        XCTAssertEqual([expected.width, expected.height], [image.width, image.height])
        let difference = Self.meanAbsoluteDifference(image, expected)
        XCTAssertLessThan(difference, Self.tolerance, "mean |Δ| \(difference) per channel against \(golden.path)")

        var moved = FigureSamples.results
        moved[moved.firstIndex { $0.dataset == "gqa" && $0.method == "fastervlm" && $0.tokens == 64 }!] =
            FigureSamples.row("gqa", "fastervlm", 64, 53.5)
        let perturbed = try CairoRenderer.raster(Self.goldenFigure(moved), pixelScale: 2)
        let movedDifference = Self.meanAbsoluteDifference(perturbed, expected)
        XCTAssertGreaterThan(movedDifference, Self.tolerance, "one point moved by 2 points of accuracy must be visible to the comparison")
    }

    // Rendering the same figure on another FreeType/Cairo build moves glyph edges by a fraction of this; moving
    // one GQA point by 2 points of accuracy costs about 1.35.
    static let tolerance = 0.5

    /// The GQA panel alone (small enough that one point matters to the mean).
    static func goldenFigure(_ rows: [ResultRow]) -> Figure {
        AccuracyFigure.chart(rows.filter { $0.dataset == "gqa" }, title: "GQA", layout: FigureSamples.layout).figure(columns: 1)
    }

    static func meanAbsoluteDifference(_ a: RGBImage, _ b: RGBImage) -> Double {
        guard a.width == b.width, a.height == b.height else { return .infinity }
        var sum = 0
        for i in 0..<a.pixels.count { sum += abs(Int(a.pixels[i]) - Int(b.pixels[i])) }
        return Double(sum) / Double(a.pixels.count)
    }

    private func fmt(_ v: Double) -> String { v == v.rounded() ? String(Int(v)) : String(v) }
}
