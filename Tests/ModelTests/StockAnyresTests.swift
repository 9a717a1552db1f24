import XCTest
import TestSupport
import Tensor
@testable import Model

/// Stock LLaVA-1.6 feeding (`--anyres stock`): LLaVA's unpad_image arithmetic and the feed order.
final class StockAnyresTests: XCTestCase {
    func testUnpadArithmeticMatchesLLaVAsFormula() {
        // Worked by hand from llava_arch.unpad_image (float division, int(), floor division for padding).
        var r = StockAnyresLayout.unpaddedRange(height: 48, width: 48, imageWidth: 640, imageHeight: 480)
        XCTAssertEqual(r.rows, 6..<42); XCTAssertEqual(r.cols, 0..<48)       // new_h = int(480·0.075) = 36
        r = StockAnyresLayout.unpaddedRange(height: 48, width: 48, imageWidth: 37, imageHeight: 501)
        XCTAssertEqual(r.rows, 0..<48); XCTAssertEqual(r.cols, 22..<26)      // new_w = int(3.54) = 3, pad 22
        r = StockAnyresLayout.unpaddedRange(height: 48, width: 48, imageWidth: 300, imageHeight: 300)
        XCTAssertEqual(r.rows, 0..<48); XCTAssertEqual(r.cols, 0..<48)       // equal aspect: nothing removed
        r = StockAnyresLayout.unpaddedRange(height: 24, width: 72, imageWidth: 1000, imageHeight: 90)
        XCTAssertEqual(r.rows, 9..<15); XCTAssertEqual(r.cols, 0..<72)       // new_h = int(6.48) = 6, pad 9
        r = StockAnyresLayout.unpaddedRange(height: 72, width: 24, imageWidth: 90, imageHeight: 1000)
        XCTAssertEqual(r.rows, 0..<72); XCTAssertEqual(r.cols, 9..<15)
    }

    func testFeedOrderBaseFirstThenRowsWithNewlines() throws {
        // 2×2 crops of 2×2 patches (merged grid 4×4), landscape image: rows 1..<3 survive unpadding.
        let all = Array(0..<4)
        let order = try StockAnyresLayout.feedOrder(keptPerView: [[1, 2], all, [0], all, all], gridRows: 2, gridCols: 2,
                                                    patchesPerSide: 2, imageWidth: 200, imageHeight: 100)
        typealias E = StockAnyresLayout.Entry
        let want: [E] = [.patch(view: 0, index: 1), .patch(view: 0, index: 2),
                         // merged row 1 = patch row 1 of crops (0,0) and (0,1); crop 2 keeps only patch 0
                         .patch(view: 1, index: 2), .patch(view: 1, index: 3), .newline,
                         // merged row 2 = patch row 0 of crops (1,0) and (1,1)
                         .patch(view: 3, index: 0), .patch(view: 3, index: 1), .patch(view: 4, index: 0), .patch(view: 4, index: 1),
                         .newline]
        XCTAssertEqual(order, want)
    }

    func testTinyLlava16RunsStockWithNewlines() throws {
        let model = try Fixtures.require("fixtures/llava16-tiny")
        let image = try Fixtures.require("fixtures/llava16/images/scene-640x480.jpg")
        let stock = try LLaVAPipeline(modelDirectory: model, anyresMode: .stock)
        let r = try stock.run(PipelineRequest(imageURL: image, question: "Is there a dog?", settings: .unpruned(maxNewTokens: 2)))
        // 640×480 fits the 672×672 pinpoint: 2×2 crops, merged 48×48, rows 6..<42 kept, one newline per row.
        XCTAssertEqual(r.visualTokensFed, 576 + 36 * 48 + 36)
        let fixed = try LLaVAPipeline(modelDirectory: model)
        let f = try fixed.run(PipelineRequest(imageURL: image, question: "Is there a dog?", settings: .unpruned(maxNewTokens: 2)))
        XCTAssertEqual(f.visualTokensFed, 5 * 576)
    }
}
