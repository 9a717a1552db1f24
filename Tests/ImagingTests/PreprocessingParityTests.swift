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
        let images = try distinctImages("fixtures/llava16/cases.jsonl")
        var tensorsCompared = 0
        for (image, c) in images {
            let img = try ImageDecoder.decode(contentsOf: try Fixtures.require("fixtures/llava16/\(image)"))
            if let size = c["image_size"] as? [Int] { XCTAssertEqual(size, [img.width, img.height], image) }
            let (views, grid) = LLaVAImagePreprocessing.anyres(img, grid: .fixed672, processor: proc)
            XCTAssertEqual(views.shape, [5, 3, 336, 336], image)
            XCTAssertEqual(grid.columns, 2)
            XCTAssertEqual(grid.rows, 2)
            guard views.shape == [5, 3, 336, 336] else { continue }
            if let pixels = c["pixels"] as? String {
                let expected = try Npy.readTensor(contentsOf: try Fixtures.require("fixtures/llava16/\(pixels)"))
                XCTAssertEqual(expected.shape, views.shape, image)
                if expected.shape == views.shape {
                    let diff = views.maxAbsDifference(expected)
                    XCTAssertLessThanOrEqual(diff, 1e-5, "\(image): max abs difference \(diff)")
                    tensorsCompared += 1
                }
            }
            guard let stats = c["crop_pixel_stats"] as? [[String: Any]] else { XCTFail("\(image): no crop_pixel_stats"); continue }
            XCTAssertEqual(stats.count, 5, image)
            let per = 3 * 336 * 336
            for (v, s) in stats.enumerated() where v < 5 {
                guard let sum = s["sum"] as? Double, let absmax = s["absmax"] as? Double else {
                    XCTFail("\(image) view \(v): stats lack sum/absmax"); continue
                }
                var total = 0.0, peak: Float = 0
                for i in (v * per)..<((v + 1) * per) {
                    total += Double(views.data[i])
                    peak = max(peak, abs(views.data[i]))
                }
                XCTAssertEqual(total, sum, accuracy: max(1e-5 * abs(sum), 1e-2), "\(image) view \(v): sum")
                XCTAssertEqual(Double(peak), absmax, accuracy: 1e-6, "\(image) view \(v): absmax")
                if let mean = s["mean"] as? Double {
                    XCTAssertEqual(total / Double(per), mean, accuracy: 1e-7 + 1e-5 * abs(mean), "\(image) view \(v): mean")
                }
            }
        }
        XCTAssertGreaterThan(tensorsCompared, 0, "some llava16 images have stored pixel tensors")
    }
}
