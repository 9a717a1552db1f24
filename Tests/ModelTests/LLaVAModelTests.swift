import Checkpoint
import Foundation
import Model
import Tensor
import TestSupport
import XCTest

/// One recorded llava15 case, decoded from cases.jsonl.
struct ReferenceCase {
    let index: Int
    let inputIDs: [Int]
    let kept: [Int]
    let inputsEmbedsLength: Int
    let logitsPath: String
    let generated: [Int]
    let fragile: Bool
    let pixelsPath: String?
    let featuresPath: String

    init(_ c: [String: Any], index: Int) throws {
        func field<T>(_ k: String) throws -> T {
            guard let v = c[k] as? T else { throw NSError(domain: "case \(index)", code: 1, userInfo: [NSLocalizedDescriptionKey: "case \(index): field \(k) missing"]) }
            return v
        }
        self.index = index
        inputIDs = try field("input_ids")
        kept = try field("kept")
        inputsEmbedsLength = try field("inputs_embeds_length")
        logitsPath = try field("logits")
        generated = try field("generated_ids")
        fragile = try field("fragile")
        pixelsPath = c["pixels"] as? String
        featuresPath = try field("features")
    }

    static func all() throws -> [ReferenceCase] {
        try Fixtures.jsonLines("fixtures/llava15/cases.jsonl").enumerated().map { try ReferenceCase($0.element, index: $0.offset) }
    }
}

final class LLaVAModelTests: XCTestCase {
    static var shared: LLaVAModel?

    func model(mode: WeightMode = .default) throws -> LLaVAModel {
        let dir = try Fixtures.require("fixtures/llava15-tiny")
        _ = try Fixtures.require("fixtures/clip-tiny")
        if mode == .default, let m = Self.shared { return m }
        let m = try LLaVAModel(directory: dir, mode: mode)
        if mode == .default { Self.shared = m }
        return m
    }

    /// For every case: recorded features → kept rows → projector → splice → prefill logits match the
    /// recorded logits (≤ 1e-3), the spliced length matches, and greedy decoding reproduces the
    /// recorded tokens for every non-fragile case (the default panel weight path is used).
    func testLogitsAndGreedyTokensMatchReferenceForAllCases() throws {
        let model = try model()
        XCTAssertEqual(model.mode, .default)
        let root = try Fixtures.require("fixtures/llava15")
        let cases = try ReferenceCase.all()
        XCTAssertEqual(cases.count, 114)
        var features: [String: Tensor] = [:]
        var tokenCases = 0, logitCases = 0
        var worst: Float = 0
        for c in cases {
            if features[c.featuresPath] == nil {
                features[c.featuresPath] = try Npy.readTensor(contentsOf: root.appendingPathComponent(c.featuresPath))
            }
            let visual = try model.project(try LLaVAModel.select(features[c.featuresPath]!, rows: c.kept))
            let out = try model.generate(inputIDs: c.inputIDs, imageEmbeddings: [visual], maxNewTokens: c.generated.count - 1,
                                         eosID: model.config.eosTokenID)
            XCTAssertEqual(out.inputsEmbedsLength, c.inputsEmbedsLength, "case \(c.index)")
            let expected = try Npy.readTensor(contentsOf: root.appendingPathComponent(c.logitsPath))
            let d = out.firstLogits.maxAbsDifference(expected)
            worst = max(worst, d)
            XCTAssertLessThanOrEqual(d, 1e-3, "case \(c.index) logits")
            logitCases += 1
            if !c.fragile {
                XCTAssertEqual([1] + out.tokens, c.generated, "case \(c.index) tokens")
                tokenCases += 1
            }
        }
        XCTAssertEqual(logitCases, 114)
        XCTAssertEqual(tokenCases, 87)
        print("llava15: \(logitCases) logit cases (worst max-abs \(worst)), \(tokenCases) token cases")
    }

    /// The full path from stored pixels (tower → select → projector → generation) on one case per image.
    func testPixelsToTokensEndToEnd() throws {
        let model = try model()
        let root = try Fixtures.require("fixtures/llava15")
        var seen = Set<String>()
        for c in try ReferenceCase.all() where !c.fragile {
            guard let p = c.pixelsPath, !seen.contains(p) else { continue }
            seen.insert(p)
            let pixels = try Npy.readTensor(contentsOf: root.appendingPathComponent(p))
            let out = try Stages.answer(model: model, inputIDs: c.inputIDs, image: PreparedImage(views: [pixels], layout: .single),
                                        selector: .fixed([c.kept]), maxNewTokens: c.generated.count - 1,
                                        eosID: model.config.eosTokenID).generation
            XCTAssertEqual([1] + out.tokens, c.generated, "case \(c.index)")
            XCTAssertEqual(out.visualTokens, c.kept.count)
            XCTAssertGreaterThan(out.timings.vision, 0)
            XCTAssertGreaterThan(out.timings.prefill, 0)
        }
        XCTAssertGreaterThanOrEqual(seen.count, 5)
    }

    /// nextTokenLogits agrees with generation's first step, and widened weights agree with panels
    /// (including a panel size that does not divide the row counts).
    func testWeightModesAgree() throws {
        let root = try Fixtures.require("fixtures/llava15")
        let c = try ReferenceCase.all()[3]
        let features = try Npy.readTensor(contentsOf: root.appendingPathComponent(c.featuresPath))
        var results: [Tensor] = []
        for mode in [WeightMode.default, .widened, .panels(rows: 7)] {
            let m = try model(mode: mode)
            let visual = try m.project(try LLaVAModel.select(features, rows: c.kept))
            results.append(try m.nextTokenLogits(inputIDs: c.inputIDs, imageEmbeddings: [visual]))
        }
        XCTAssertLessThanOrEqual(results[0].maxAbsDifference(results[1]), 1e-4)
        XCTAssertLessThanOrEqual(results[0].maxAbsDifference(results[2]), 1e-4)
    }

    func testBadInputsAreErrors() throws {
        let m = try model()
        let visual = Tensor(zeros: [4, 64])
        XCTAssertThrowsError(try m.nextTokenLogits(inputIDs: [1, 5, -200, 7], imageEmbeddings: []))
        XCTAssertThrowsError(try m.nextTokenLogits(inputIDs: [1, 32000], imageEmbeddings: []))
        XCTAssertThrowsError(try m.nextTokenLogits(inputIDs: [1, -5], imageEmbeddings: []))
        XCTAssertThrowsError(try m.nextTokenLogits(inputIDs: [1, -200], imageEmbeddings: [Tensor(zeros: [4, 32])]))
        XCTAssertThrowsError(try m.project(Tensor(zeros: [3, 10])))
        XCTAssertThrowsError(try LLaVAModel.select(Tensor(zeros: [576, 64]), rows: [576]))
        XCTAssertNoThrow(try m.nextTokenLogits(inputIDs: [1, -200, 5], imageEmbeddings: [visual]))
        XCTAssertThrowsError(try m.nextTokenLogits(inputIDs: [], imageEmbeddings: []))
        // A budget that keeps no visual token still runs (the image contributes nothing).
        let none = try m.project(try LLaVAModel.select(Tensor(zeros: [576, 64]), rows: []))
        XCTAssertEqual(none.shape, [0, 64])
        XCTAssertEqual(try m.splice(inputIDs: [1, -200, 5], imageEmbeddings: [none]).shape, [2, 64])
        XCTAssertThrowsError(try m.splice(inputIDs: [-200], imageEmbeddings: [none]))
    }

    func testSpliceTruncatesToTokenizerMaxLength() throws {
        let m = try model()
        let visual = Tensor(zeros: [3000, 64])
        let e = try m.splice(inputIDs: [1, 2, -200, 3], imageEmbeddings: [visual])
        XCTAssertEqual(e.shape, [2048, 64])
    }
}

final class ModelConfigMismatchTests: XCTestCase {
    /// A config whose sizes disagree with the weights must fail at load with the tensor named.
    func testConfigShapeMismatchNamesTensor() throws {
        let src = try Fixtures.require("fixtures/llava15-tiny")
        let clip = try Fixtures.require("fixtures/clip-tiny")
        let fm = FileManager.default
        let dir = fm.temporaryDirectory.appendingPathComponent("mismatch-\(UUID().uuidString)")
        try fm.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? fm.removeItem(at: dir) }
        try fm.createSymbolicLink(at: dir.appendingPathComponent("model.safetensors"),
                                  withDestinationURL: src.appendingPathComponent("model.safetensors"))
        var config = try JSONSerialization.jsonObject(with: Data(contentsOf: src.appendingPathComponent("config.json"))) as! [String: Any]
        config["intermediate_size"] = 100
        config["mm_vision_tower"] = clip.path
        try JSONSerialization.data(withJSONObject: config).write(to: dir.appendingPathComponent("config.json"))
        XCTAssertThrowsError(try LLaVAModel(directory: dir)) { e in
            XCTAssertTrue("\(e)".contains("model.layers.0.mlp.gate_proj.weight has shape [172, 64]"), "\(e)")
        }
        config["intermediate_size"] = 172
        config["mm_hidden_size"] = 32
        try JSONSerialization.data(withJSONObject: config).write(to: dir.appendingPathComponent("config.json"))
        XCTAssertThrowsError(try LLaVAModel(directory: dir)) { e in
            XCTAssertTrue("\(e)".contains("mm_hidden_size"), "\(e)")
        }
    }
}
