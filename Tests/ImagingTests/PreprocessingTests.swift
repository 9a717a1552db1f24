import Foundation
import Tensor
import XCTest
@testable import Imaging

/// Geometry and arithmetic of the preprocessing steps, derived from the LLaVA / transformers / Pillow
/// rules (the pixel-level parity lives in PreprocessingParityTests).
final class PreprocessingTests: XCTestCase {
    private func gradient(width: Int, height: Int) -> RGBImage {
        var px = [UInt8](repeating: 0, count: width * height * 3)
        for y in 0..<height {
            for x in 0..<width {
                let i = (y * width + x) * 3
                px[i] = UInt8((x * 255) / max(width - 1, 1))
                px[i + 1] = UInt8((y * 255) / max(height - 1, 1))
                px[i + 2] = UInt8((x + y) % 256)
            }
        }
        return RGBImage(width: width, height: height, pixels: px)
    }

    func testConstantImagesStayConstantUnderEveryFilter() {
        let img = RGBImage(width: 23, height: 41, fill: (200, 17, 99))
        for filter in ResampleFilter.allCases {
            for (w, h) in [(7, 5), (100, 80), (23, 90), (50, 41), (3, 200)] {
                let r = img.resized(width: w, height: h, filter: filter)
                XCTAssertEqual(r.width, w)
                XCTAssertEqual(r.height, h)
                XCTAssertEqual(r, RGBImage(width: w, height: h, fill: (200, 17, 99)), "\(filter) \(w)x\(h)")
            }
        }
    }

    func testResizeToSameSizeIsIdentityAndExtremesAreClipped() {
        let img = gradient(width: 9, height: 6)
        XCTAssertEqual(img.resized(width: 9, height: 6), img)
        // A hard black/white edge overshoots with bicubic; results must clip, not wrap.
        var edge = RGBImage(width: 8, height: 1, fill: (0, 0, 0))
        edge.paste(RGBImage(width: 4, height: 1, fill: (255, 255, 255)), x: 4, y: 0)
        let up = edge.resized(width: 32, height: 1)
        XCTAssertEqual(up.pixels.first, 0)
        XCTAssertEqual(up.pixels.last, 255)
    }

    func testShortestEdgeResizeSizeFollowsTransformers() {
        let p = CLIPPreprocessor(config: .clipVitL336)
        XCTAssertTrue(p.resizedSize(width: 640, height: 480) == (448, 336))
        XCTAssertTrue(p.resizedSize(width: 37, height: 501) == (336, 4549))  // int(336 * 501 / 37)
        XCTAssertTrue(p.resizedSize(width: 300, height: 300) == (336, 336))
    }

    func testCenterCropPadsSmallImagesWithZeroBytes() {
        var config = CLIPPreprocessorConfig.clipVitL336
        config.doResize = false
        config.cropHeight = 6
        config.cropWidth = 5
        let p = CLIPPreprocessor(config: config)
        let img = RGBImage(width: 2, height: 3, fill: (255, 255, 255))
        let t = p(img)
        XCTAssertEqual(t.shape, [3, 6, 5])
        // Zero byte normalised, and white normalised, per channel.
        for c in 0..<3 {
            let zero = (Float(0) - Float(config.imageMean[c])) / Float(config.imageStd[c])
            let white = (Float(Double(255) * config.rescaleFactor) - Float(config.imageMean[c])) / Float(config.imageStd[c])
            // transformers: pad top/left = ceil((crop - size) / 2) → rows 2..<5, columns 2..<4.
            for y in 0..<6 {
                for x in 0..<5 {
                    let inside = (2..<5).contains(y) && (2..<4).contains(x)
                    XCTAssertEqual(t[c, y, x], inside ? white : zero, "c\(c) y\(y) x\(x)")
                }
            }
        }
    }

    func testExpandToSquareUsesFloorOffsetAndMeanColour() {
        let bg = LLaVAImagePreprocessing.meanColour(.clipVitL336)
        XCTAssertTrue(bg == (122, 116, 104), "int(mean * 255) per channel")
        let img = RGBImage(width: 5, height: 2, fill: (1, 2, 3))
        let sq = LLaVAImagePreprocessing.expandToSquare(img, background: bg)
        XCTAssertEqual(sq.width, 5)
        XCTAssertEqual(sq.height, 5)
        for y in 0..<5 {
            XCTAssertTrue(sq.pixel(x: 0, y: y) == ((1...2).contains(y) ? (1, 2, 3) : bg), "row \(y)")
        }
        let tall = LLaVAImagePreprocessing.expandToSquare(RGBImage(width: 2, height: 5, fill: (9, 9, 9)), background: bg)
        XCTAssertTrue(tall.pixel(x: 0, y: 0) == bg && tall.pixel(x: 1, y: 0) == (9, 9, 9) && tall.pixel(x: 3, y: 4) == bg)
    }

    func testSelectBestResolutionFollowsLLaVA() throws {
        let pinpoints = try AnyresResolution.pinpoints([[336, 672], [672, 336], [672, 672], [1008, 336], [336, 1008]])
        let pick = { (w: Int, h: Int) in LLaVAImagePreprocessing.selectBestResolution(width: w, height: h, candidates: pinpoints) }
        XCTAssertEqual(pick(640, 480), AnyresResolution(width: 672, height: 672))
        XCTAssertEqual(pick(1000, 90), AnyresResolution(width: 1008, height: 336))
        XCTAssertEqual(pick(90, 1000), AnyresResolution(width: 336, height: 1008))
        XCTAssertEqual(AnyresGrid.fixed672.resolution(forWidth: 1000, height: 90), AnyresResolution(width: 672, height: 672))
        XCTAssertThrowsError(try AnyresResolution.pinpoints([[336]]))
        XCTAssertThrowsError(try AnyresResolution.pinpoints([]))
    }

    func testBestFitAnyresProducesGridOfTilesPlusBase() throws {
        let pinpoints = try AnyresResolution.pinpoints([[336, 672], [672, 336], [672, 672], [1008, 336], [336, 1008]])
        let img = gradient(width: 1000, height: 90)
        let (views, grid) = LLaVAImagePreprocessing.anyres(img, grid: .bestFit(pinpoints))
        XCTAssertEqual(views.shape, [4, 3, 336, 336])
        XCTAssertEqual(grid.columns, 3)
        XCTAssertEqual(grid.rows, 1)
        // The first view is the base (whole image squashed to 336x336) through the CLIP processor.
        let base = CLIPPreprocessor(config: .clipVitL336)(img.resized(width: 336, height: 336))
        XCTAssertEqual(views.rows(0..<1).reshaped([3, 336, 336]), base)
    }

    func testResizeAndPadCentresOnBlack() {
        let img = RGBImage(width: 100, height: 10, fill: (255, 255, 255))
        let out = LLaVAImagePreprocessing.resizeAndPad(img, to: AnyresResolution(width: 672, height: 672))
        // scale 6.72: height ceil(67.2) = 68, pasted at (672 - 68) / 2 = 302.
        XCTAssertTrue(out.pixel(x: 300, y: 301) == (0, 0, 0))
        XCTAssertTrue(out.pixel(x: 300, y: 302) == (255, 255, 255))
        XCTAssertTrue(out.pixel(x: 300, y: 369) == (255, 255, 255))
        XCTAssertTrue(out.pixel(x: 300, y: 370) == (0, 0, 0))
    }

    func testConfigLoadingAndValidation() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("imaging-config-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let legacy = dir.appendingPathComponent("legacy.json")
        try Data(#"{"size": 224, "crop_size": 224, "resample": 2, "image_mean": [0.5,0.5,0.5], "image_std": [0.5,0.5,0.5]}"#.utf8).write(to: legacy)
        let c = try CLIPPreprocessorConfig.load(legacy)
        XCTAssertEqual(c.size, .shortestEdge(224))
        XCTAssertEqual(c.cropHeight, 224)
        XCTAssertEqual(c.resample, 2)
        let bad = dir.appendingPathComponent("bad.json")
        try Data(#"{"size": {"shortest_edge": 336}, "resample": 0}"#.utf8).write(to: bad)
        XCTAssertThrowsError(try CLIPPreprocessorConfig.load(bad)) { e in
            XCTAssertTrue("\(e)".contains("resample 0") && "\(e)".contains(bad.path), "\(e)")
        }
        let garbage = dir.appendingPathComponent("garbage.json")
        try Data("{".utf8).write(to: garbage)
        XCTAssertThrowsError(try CLIPPreprocessorConfig.load(garbage))
    }
}

final class UnconvertedPaddingTests: XCTestCase {
    func testPaletteQuirkKeepsOnlyIndexZeroAsBackground() throws {
        let palette: [UInt8] = [10, 20, 30, 200, 100, 50]
        let png = SyntheticPNG.make(width: 4, height: 2, depth: 8, colorType: 3, rows: [[0, 1, 1, 0], [1, 0, 0, 1]], palette: palette)
        let decoded = try ImageDecoder.decodeDetailed(data: png)
        XCTAssertEqual(decoded.paletteIndices ?? [], [0, 1, 1, 0, 1, 0, 0, 1])
        let got = try LLaVAImagePreprocessing.padUnconverted(decoded)
        let bg = LLaVAImagePreprocessing.meanColour(.clipVitL336)
        var expected = RGBImage(width: 4, height: 2, fill: bg)
        for (i, idx) in [0, 1, 1, 0, 1, 0, 0, 1].enumerated() where idx != 0 {
            expected.pixels[3 * i] = 0; expected.pixels[3 * i + 1] = 0; expected.pixels[3 * i + 2] = 0
        }
        XCTAssertEqual(got, LLaVAImagePreprocessing.pad(expected))
        XCTAssertNotEqual(got, LLaVAImagePreprocessing.pad(decoded.image))
    }

    func testRGBAndSquareImagesMatchPad() throws {
        let rgb = try ImageDecoder.decodeDetailed(data: PNGEncoder.encode(rgba: [1, 2, 3, 4, 5, 6, 7, 8], width: 2, height: 1))
        XCTAssertEqual(try LLaVAImagePreprocessing.padUnconverted(rgb), LLaVAImagePreprocessing.pad(rgb.image))
        let gray = try ImageDecoder.decodeDetailed(data: SyntheticPNG.make(width: 2, height: 2, depth: 8, colorType: 0, rows: [[1, 2], [3, 4]]))
        XCTAssertEqual(try LLaVAImagePreprocessing.padUnconverted(gray), LLaVAImagePreprocessing.pad(gray.image))
        let wideGray = try ImageDecoder.decodeDetailed(data: SyntheticPNG.make(width: 2, height: 1, depth: 8, colorType: 0, rows: [[1, 2]]))
        XCTAssertThrowsError(try LLaVAImagePreprocessing.padUnconverted(wideGray))
    }
}

final class ModeDependentResizeTests: XCTestCase {
    func testNearestPicksPILSamplePositions() {
        let row = RGBImage(width: 4, height: 1, pixels: [0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3])
        // Downscale by 2 samples at 1.0 and 3.0; upscale by 2 at 0.25, 0.75, 1.25, 1.75.
        XCTAssertEqual(row.resizedNearest(width: 2, height: 1).pixels, [1, 1, 1, 3, 3, 3])
        XCTAssertEqual(row.resizedNearest(width: 8, height: 1).pixels.enumerated().filter { $0.offset % 3 == 0 }.map(\.element),
                       [0, 0, 1, 1, 2, 2, 3, 3])
    }

    func testPremultipliedResizeAgreesWhenOpaqueAndZeroesWhenTransparent() {
        var rng = SplitMix(seed: 3)
        let w = 11, h = 9
        let img = RGBImage(width: w, height: h, pixels: (0..<(w * h * 3)).map { _ in UInt8(truncatingIfNeeded: rng.next()) })
        XCTAssertEqual(img.resizedPremultiplied(alpha: [UInt8](repeating: 255, count: w * h), width: 5, height: 20),
                       img.resized(width: 5, height: 20))
        XCTAssertEqual(img.resizedPremultiplied(alpha: [UInt8](repeating: 0, count: w * h), width: 5, height: 20),
                       RGBImage(width: 5, height: 20))
    }

    func testUnconvertedAnyresDependsOnSourceMode() throws {
        let proc = CLIPPreprocessor(config: .clipVitL336)
        let rgb = try ImageDecoder.decodeDetailed(data: PNGEncoder.encode(rgb: [UInt8](repeating: 90, count: 30 * 20 * 3), width: 30, height: 20))
        XCTAssertEqual(LLaVAImagePreprocessing.anyresUnconverted(rgb, processor: proc).views,
                       LLaVAImagePreprocessing.anyres(rgb.image, processor: proc).views)
        // Half-transparent stripes: premultiplication changes colours near alpha edges.
        var rgba = [UInt8]()
        for y in 0..<20 { for x in 0..<30 { rgba += [UInt8(x * 8), UInt8(y * 12), 200, (x / 3) % 2 == 0 ? 255 : 40] } }
        let translucent = try ImageDecoder.decodeDetailed(data: PNGEncoder.encode(rgba: rgba, width: 30, height: 20))
        XCTAssertEqual(translucent.alpha?.count, 600)
        let emulated = LLaVAImagePreprocessing.anyresUnconverted(translucent, processor: proc)
        XCTAssertEqual(emulated.views.shape, [5, 3, 336, 336])
        XCTAssertNotEqual(emulated.views, LLaVAImagePreprocessing.anyres(translucent.image, processor: proc).views)
        // Palette: nearest instead of bicubic.
        let palette: [UInt8] = [0, 0, 0, 255, 255, 255]
        let rows = (0..<20).map { y in (0..<30).map { x in UInt8((x + y) % 2) } }
        let p = try ImageDecoder.decodeDetailed(data: SyntheticPNG.make(width: 30, height: 20, depth: 8, colorType: 3, rows: rows, palette: palette))
        let nearest = LLaVAImagePreprocessing.anyresUnconverted(p, processor: proc).views
        let black = (Float(0) - Float(0.48145466)) / Float(0.26862954)
        let white = (Float(Double(255) * 0.00392156862745098) - Float(0.48145466)) / Float(0.26862954)
        XCTAssertTrue(nearest.data[0..<(336 * 336)].allSatisfy { $0 == black || $0 == white }, "nearest keeps pure palette colours")
    }
}
