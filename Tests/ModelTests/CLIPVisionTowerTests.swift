import Checkpoint
import Foundation
import Model
import Tensor
import TestSupport
import XCTest

final class CLIPVisionTowerTests: XCTestCase {
    /// Every llava15 case's image: features and [CLS] attention from the stored pixels match the
    /// recorded select-layer tensors (each distinct pixels file is encoded once).
    func testFeaturesAndCLSAttentionMatchReferenceForAllCases() throws {
        let cases = try Fixtures.jsonLines("fixtures/llava15/cases.jsonl")
        let root = try Fixtures.require("fixtures/llava15")
        let tower = try CLIPVisionTower(directory: try Fixtures.require("fixtures/clip-tiny"))
        XCTAssertEqual(tower.hiddenStateIndex, 2)
        XCTAssertEqual(tower.attentionLayerIndex, 1)
        var checked: [String: Bool] = [:]
        var fromPixels = 0
        for (i, c) in cases.enumerated() {
            guard let featuresPath = c["features"] as? String, let attentionPath = c["cls_attention"] as? String else {
                XCTFail("case \(i) lacks features/cls_attention"); continue
            }
            guard let pixelsPath = c["pixels"] as? String else { continue }
            let key = pixelsPath + "|" + featuresPath
            if checked[key] != nil { fromPixels += 1; continue }
            let pixels = try Npy.readTensor(contentsOf: root.appendingPathComponent(pixelsPath))
            let expectedF = try Npy.readTensor(contentsOf: root.appendingPathComponent(featuresPath))
            let expectedA = try Npy.readTensor(contentsOf: root.appendingPathComponent(attentionPath))
            let (features, attention) = try tower.encode(pixels: pixels)
            XCTAssertEqual(features.shape, [576, 64])
            XCTAssertEqual(attention.shape, [4, 576])
            let df = features.maxAbsDifference(expectedF), da = attention.maxAbsDifference(expectedA)
            XCTAssertLessThanOrEqual(df, 1e-4, "case \(i) \(featuresPath)")
            XCTAssertLessThanOrEqual(da, 1e-4, "case \(i) \(attentionPath)")
            checked[key] = df <= 1e-4 && da <= 1e-4
            fromPixels += 1
        }
        XCTAssertEqual(fromPixels, cases.count, "every case should have stored pixels")
        XCTAssertGreaterThanOrEqual(checked.count, 7)
    }

    /// llava16: each of the 5 views (base + 4 crops) of the images whose pixels are stored.
    func testLLaVA16ViewsMatchReference() throws {
        let cases = try Fixtures.jsonLines("fixtures/llava16/cases.jsonl")
        let root = try Fixtures.require("fixtures/llava16")
        let tower = try CLIPVisionTower(directory: try Fixtures.require("fixtures/clip-tiny"))
        var done = Set<String>()
        for c in cases {
            guard let p = c["pixels"] as? String, let f = c["features"] as? String, let a = c["cls_attention"] as? String,
                  !done.contains(p) else { continue }
            done.insert(p)
            let pixels = try Npy.readTensor(contentsOf: root.appendingPathComponent(p))
            let features = try Npy.readTensor(contentsOf: root.appendingPathComponent(f))
            let attention = try Npy.readTensor(contentsOf: root.appendingPathComponent(a))
            XCTAssertEqual(pixels.shape, [5, 3, 336, 336])
            for v in 0..<5 {
                let (fv, av) = try tower.encode(pixels: pixels.rows(v..<(v + 1)).reshaped([3, 336, 336]))
                XCTAssertLessThanOrEqual(fv.maxAbsDifference(features.rows(v..<(v + 1)).reshaped([576, 64])), 1e-4, "\(p) view \(v)")
                XCTAssertLessThanOrEqual(av.maxAbsDifference(attention.rows(v..<(v + 1)).reshaped([4, 576])), 1e-4, "\(p) view \(v)")
            }
        }
        XCTAssertEqual(done.count, 2)
    }

    func testRejectsWrongPixelShape() throws {
        let tower = try CLIPVisionTower(directory: try Fixtures.require("fixtures/clip-tiny"))
        XCTAssertThrowsError(try tower.encode(pixels: Tensor(zeros: [3, 224, 224]))) { e in
            XCTAssertTrue("\(e)".contains("[3, 336, 336]"), "\(e)")
        }
    }

    func testSelectLayerOutOfRangeIsAnError() throws {
        XCTAssertThrowsError(try CLIPVisionTower(directory: try Fixtures.require("fixtures/clip-tiny"), selectLayer: -5))
    }
}
