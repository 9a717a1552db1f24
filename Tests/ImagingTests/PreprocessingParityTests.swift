import Foundation
import Tensor
import TestSupport
import XCTest
@testable import Imaging

/// Parity with the reference preprocessing recorded in ../shared/fixtures/llava15 and llava16.
final class PreprocessingParityTests: XCTestCase {
    private func processor() throws -> CLIPPreprocessor {
        let url = try Fixtures.require("fixtures/clip-tiny/preprocessor_config.json")
        return CLIPPreprocessor(config: try CLIPPreprocessorConfig.load(url))
    }

    /// Distinct images of a cases file, in first-seen order, with their first case.
    private func distinctImages(_ file: String) throws -> [(String, [String: Any])] {
        var seen = Set<String>()
        var out: [(String, [String: Any])] = []
        for c in try Fixtures.jsonLines(file) {
            guard let image = c["image"] as? String else { XCTFail("\(file): case without image"); continue }
            if seen.insert(image).inserted { out.append((image, c)) }
        }
        return out
    }

    func testConfigMatchesBuiltInCLIPL336() throws {
        XCTAssertEqual(try processor().config, CLIPPreprocessorConfig.clipVitL336)
    }

    func testLLaVA15PadPixelsMatchReferenceForEveryImage() throws {
        let proc = try processor()
        let images = try distinctImages("fixtures/llava15/cases.jsonl")
        var compared = 0
        for (image, c) in images {
            guard let pixels = c["pixels"] as? String else { continue }
            let expectedURL = try Fixtures.require("fixtures/llava15/\(pixels)")
            let expected = try Npy.readTensor(contentsOf: expectedURL)
            let img = try ImageDecoder.decode(contentsOf: try Fixtures.require("fixtures/llava15/\(image)"))
            let got = LLaVAImagePreprocessing.pad(img, processor: proc)
            XCTAssertEqual(got.shape, [3, 336, 336], image)
            guard got.shape == expected.shape else { XCTFail("\(image): shape \(got.shape) vs \(expected.shape)"); continue }
            let diff = got.maxAbsDifference(expected)
            XCTAssertLessThanOrEqual(diff, 1e-5, "\(image): max abs difference \(diff)")
            compared += 1
        }
        XCTAssertEqual(compared, images.count, "every llava15 image has a stored pixels tensor")
        XCTAssertGreaterThan(compared, 0)
    }

    func testLLaVA16AnyresViewsMatchReferenceForEveryImage() throws {
        let proc = try processor()
        let cases = try Fixtures.jsonLines("fixtures/llava16/cases.jsonl")
        var computed: [String: (views: Tensor, sums: [Double], absmax: [Float], size: [Int])] = [:]
        var tensorsCompared = 0
        let per = 3 * 336 * 336
        for (n, c) in cases.enumerated() {
            guard let image = c["image"] as? String else { XCTFail("case \(n): no image"); continue }
            if computed[image] == nil {
                let img = try ImageDecoder.decode(contentsOf: try Fixtures.require("fixtures/llava16/\(image)"))
                let (views, grid) = LLaVAImagePreprocessing.anyres(img, grid: .fixed672, processor: proc)
                XCTAssertEqual(views.shape, [5, 3, 336, 336], image)
                XCTAssertEqual(grid.columns, 2)
                XCTAssertEqual(grid.rows, 2)
                guard views.shape == [5, 3, 336, 336] else { continue }
                var sums: [Double] = [], peaks: [Float] = []
                for v in 0..<5 {
                    var total = 0.0, peak: Float = 0
                    for i in (v * per)..<((v + 1) * per) {
                        total += Double(views.data[i])
                        peak = max(peak, abs(views.data[i]))
                    }
                    sums.append(total)
                    peaks.append(peak)
                }
                computed[image] = (views, sums, peaks, [img.width, img.height])
                if let pixels = c["pixels"] as? String {
                    let expected = try Npy.readTensor(contentsOf: try Fixtures.require("fixtures/llava16/\(pixels)"))
                    XCTAssertEqual(expected.shape, views.shape, image)
                    if expected.shape == views.shape {
                        let diff = views.maxAbsDifference(expected)
                        XCTAssertLessThanOrEqual(diff, 1e-5, "\(image): max abs difference \(diff)")
                        tensorsCompared += 1
                    }
                }
            }
            guard let mine = computed[image] else { continue }
            if let size = c["image_size"] as? [Int] { XCTAssertEqual(size, mine.size, "case \(n) \(image)") }
            guard let stats = c["crop_pixel_stats"] as? [[String: Any]], stats.count == 5 else {
                XCTFail("case \(n) \(image): crop_pixel_stats missing or not 5 views"); continue
            }
            for (v, s) in stats.enumerated() {
                guard let sum = s["sum"] as? Double, let absmax = s["absmax"] as? Double else {
                    XCTFail("case \(n) \(image) view \(v): stats lack sum/absmax"); continue
                }
                XCTAssertEqual(mine.sums[v], sum, accuracy: max(1e-5 * abs(sum), 1e-2), "case \(n) \(image) view \(v): sum")
                XCTAssertEqual(Double(mine.absmax[v]), absmax, accuracy: 1e-6, "case \(n) \(image) view \(v): absmax")
                if let mean = s["mean"] as? Double {
                    XCTAssertEqual(mine.sums[v] / Double(per), mean, accuracy: 1e-7 + 1e-5 * abs(mean), "case \(n) \(image) view \(v): mean")
                }
            }
        }
        XCTAssertGreaterThan(cases.count, 0)
        XCTAssertGreaterThan(tensorsCompared, 0, "some llava16 images have stored pixel tensors")
    }
}
