import Pruning
import Records
import Tensor
import XCTest

/// Selection margins: the smallest relative gap at any cut a selector made, computed by hand here.
final class SelectionMarginTests: XCTestCase {
    func testFasterVLMMarginIsTheGapAtItsBudget() throws {
        // Attention (one head) 0.4, 0.3, 0.2, 0.1 over four patches: keeping 2 cuts between 0.3 and 0.2.
        let attention = Tensor(shape: [1, 4], data: [0.1, 0.4, 0.2, 0.3])
        let features = Tensor(shape: [4, 2], data: [1, 0, 0, 1, 1, 1, 1, -1])
        let s = try FasterVLMSelector().select(features: features, attention: attention, tokens: 2, ratio: 0)
        XCTAssertEqual(s.kept, [1, 3])
        XCTAssertEqual(try XCTUnwrap(s.margin), (0.3 - 0.2) / 0.3, accuracy: 1e-6)
        // An exact tie at the cut is margin 0 (broken by the reference's rule, but fragile).
        let tied = Tensor(shape: [1, 4], data: [0.1, 0.4, 0.3, 0.3])
        XCTAssertEqual(try FasterVLMSelector().select(features: features, attention: tied, tokens: 2, ratio: 0).margin, 0)
        // Keeping everything cuts nothing.
        XCTAssertNil(try FasterVLMSelector().select(features: features, attention: attention, tokens: 4, ratio: 0).margin)
    }

    func testVisPrunerMarginIsTheSmallestOfItsCuts() throws {
        // 6 patches; budget 4 at ratio 0.5: 2 important (cut between the 2nd and 3rd attention), then one
        // de-duplication round over the 4 residual patches dropping 2 of them... with R=4, T_div=2: A = 2 tokens,
        // B = 2 tokens, remove = min(8, 2) = 2 = |A|, so the round drops all of A and cuts nothing.
        let attention = Tensor(shape: [1, 6], data: [0.30, 0.25, 0.20, 0.12, 0.08, 0.05])
        let features = Tensor(shape: [6, 2], data: [1, 0, 0, 1, 1, 0.1, 0.9, 0.2, -1, 0, 0, -1])
        let s = try VisPrunerSelector().select(features: features, attention: attention, tokens: 4, ratio: 0.5)
        XCTAssertEqual(s.important, [0, 1])
        XCTAssertEqual(try XCTUnwrap(s.margin), SelectionMargin.gap(0.25, 0.20), accuracy: 1e-9)
        // Budget 3 at ratio 0.34: 1 important (cut 0.30 | 0.25), residual of 5, T_div = 2: remove min(8, 3) = 3 of
        // |A| = 3 (positions 0, 2, 4), so again no cut inside the round; the margin is the importance cut.
        let t = try VisPrunerSelector().select(features: features, attention: attention, tokens: 3, ratio: 0.34)
        XCTAssertEqual(try XCTUnwrap(t.margin), SelectionMargin.gap(0.30, 0.25), accuracy: 1e-9)
    }

    func testMethodsThatRankNothingHaveNoMargin() throws {
        let attention = Tensor(shape: [1, 4], data: [0.1, 0.4, 0.2, 0.3])
        let features = Tensor(shape: [4, 2], data: [1, 0, 0, 1, 1, 1, 1, -1])
        XCTAssertNil(try UniformSelector().select(features: features, attention: attention, tokens: 2, ratio: 0).margin)
        XCTAssertNil(try RandomSelector(seed: 1).select(features: features, attention: attention, tokens: 2, ratio: 0).margin)
        // DivPrune ranks distances: its greedy picks are cuts.
        XCTAssertNotNil(try DivPruneSelector().select(features: features, attention: attention, tokens: 2, ratio: 0).margin)
    }

    func testGapIsRelativeAndSymmetric() {
        XCTAssertEqual(SelectionMargin.gap(2, 1), 0.5)
        XCTAssertEqual(SelectionMargin.gap(1, 2), 0.5)
        XCTAssertEqual(SelectionMargin.gap(0, 0), 0)
    }
}
