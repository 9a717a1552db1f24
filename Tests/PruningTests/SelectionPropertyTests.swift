import XCTest
import Tensor
@testable import Pruning
import Records

/// Invariants every method must satisfy, on synthetic inputs including budgets where the reference
/// implementation itself raises an error.
final class SelectionPropertyTests: XCTestCase {
    /// Deterministic clustered features [n, d] and attention [h, n] (no fixtures needed).
    private func synthetic(n: Int, d: Int, h: Int = 4, seed: UInt64 = 7) -> (Tensor, Tensor) {
        var state = seed
        func next() -> UInt64 { // SplitMix64
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        func unit() -> Float { Float(next() >> 40) / Float(1 << 24) - 0.5 }
        let centres = (0..<6).map { _ in (0..<d).map { _ in unit() } }
        var f = [Float](), a = [Float]()
        for i in 0..<n {
            let c = centres[i % centres.count]
            for k in 0..<d { f.append(c[k] + 0.3 * unit()) }
        }
        for _ in 0..<h { for _ in 0..<n { a.append(unit() + 0.5) } }
        return (Tensor(shape: [n, d], data: f), Tensor(shape: [h, n], data: a))
    }

    private func assertValid(_ s: Selection, n: Int, tokens: Int, _ label: String) {
        XCTAssertEqual(s.kept.count, min(tokens, n), "\(label): |kept|")
        XCTAssertEqual(s.kept, s.kept.sorted(), "\(label): kept sorted")
        XCTAssertEqual(Set(s.kept).count, s.kept.count, "\(label): kept unique")
        XCTAssert(s.kept.allSatisfy { (0..<n).contains($0) }, "\(label): kept in range")
        XCTAssertEqual(s.important, s.important.sorted(), "\(label): important sorted")
        XCTAssertEqual(s.diverse, s.diverse.sorted(), "\(label): diverse sorted")
        XCTAssert(Set(s.important).isDisjoint(with: s.diverse), "\(label): important and diverse overlap")
        XCTAssert(Set(s.important).union(s.diverse).isSubset(of: s.kept), "\(label): parts outside kept")
    }

    func testAllMethodsKeepExactBudgetUniqueSortedDeterministic() throws {
        let n = 96
        let (f, a) = synthetic(n: n, d: 16)
        for method in SelectionMethod.allCases {
            for tokens in [1, 2, 3, 7, 8, 9, 16, 31, 47, 95, 96, 200] {
                for ratio in [0.0, 0.25, 0.5, 0.75, 1.0] {
                    let label = "\(method) T=\(tokens) r=\(ratio)"
                    let s = try method.selector(seed: 3).select(features: f, attention: a, tokens: tokens, ratio: ratio)
                    assertValid(s, n: n, tokens: tokens, label)
                    let again = try method.selector(seed: 3).select(features: f, attention: a, tokens: tokens, ratio: ratio)
                    XCTAssertEqual(s, again, "\(label): not deterministic")
                    if tokens >= n { XCTAssertEqual(s.kept, Array(0..<n), "\(label): T ≥ N must keep all") }
                }
            }
        }
    }

    /// Budgets the reference cannot run (odd residual lengths, T < 8 with ratio 0) still give
    /// exactly T distinct tokens, split ⌊T·r⌋ important + the rest diverse.
    func testVisPrunerGeneralisesReferenceErrorBudgets() throws {
        let (f, a) = synthetic(n: 576, d: 32, seed: 11)
        let cases: [(Int, Double)] = [(575, 0.25), (575, 0.5), (575, 0.75), (4, 0.25), (4, 0.5), (8, 0.75),
                                      (16, 0.75), (1, 0), (2, 0), (3, 0), (5, 0), (7, 0), (13, 0.3)]
        for (tokens, ratio) in cases {
            let label = "T=\(tokens) r=\(ratio)"
            let s = try VisPrunerSelector().select(features: f, attention: a, tokens: tokens, ratio: ratio)
            assertValid(s, n: 576, tokens: tokens, label)
            XCTAssertEqual(s.important.count, Int(Double(tokens) * ratio), label)
            XCTAssertEqual(s.diverse.count, tokens - Int(Double(tokens) * ratio), label)
        }
    }

    func testRatioExtremes() throws {
        let (f, a) = synthetic(n: 64, d: 8)
        let all = try VisPrunerSelector().select(features: f, attention: a, tokens: 10, ratio: 1)
        let faster = try FasterVLMSelector().select(features: f, attention: a, tokens: 10, ratio: 0.3)
        XCTAssertEqual(all.kept, faster.kept, "ratio 1 is pure [CLS] attention ranking")
        XCTAssertEqual(all.diverse, [])
        let none = try VisPrunerSelector().select(features: f, attention: a, tokens: 10, ratio: 0)
        XCTAssertEqual(none.important, [])
        XCTAssertEqual(none.diverse, none.kept)
    }

    func testAveragedAttentionEqualsPerHead() throws {
        let (f, a) = synthetic(n: 50, d: 8, h: 3)
        var mean = [Float](repeating: 0, count: 50)
        for j in 0..<50 { mean[j] = (a[0, j] + a[1, j] + a[2, j]) / 3 }
        let s1 = try VisPrunerSelector().select(features: f, attention: a, tokens: 12, ratio: 0.5)
        let s2 = try VisPrunerSelector().select(features: f, attention: Tensor(shape: [50], data: mean), tokens: 12, ratio: 0.5)
        XCTAssertEqual(s1, s2)
    }

    func testRandomDependsOnSeedOnly() throws {
        let (f, a) = synthetic(n: 200, d: 4)
        let x = try RandomSelector(seed: 1).select(features: f, attention: a, tokens: 20, ratio: 0.5)
        let y = try RandomSelector(seed: 2).select(features: f, attention: a, tokens: 20, ratio: 0.5)
        XCTAssertNotEqual(x.kept, y.kept)
    }

    func testUniformSpacing() throws {
        let (f, a) = synthetic(n: 576, d: 4)
        let s = try UniformSelector().select(features: f, attention: a, tokens: 64, ratio: 0)
        XCTAssertEqual(s.kept.first, 4)
        XCTAssertEqual(Set(zip(s.kept, s.kept.dropFirst()).map { $1 - $0 }), [9])
    }

    func testDivPruneMaximisesMinimumDistanceGreedily() throws {
        // Three tight clusters: the first three picks must come from three different clusters.
        var data = [Float]()
        let dirs: [[Float]] = [[1, 0, 0], [0, 1, 0], [0, 0, 1]]
        for i in 0..<30 { let d = dirs[i % 3]; data += [d[0] + Float(i) * 1e-3, d[1], d[2]] }
        let f = Tensor(shape: [30, 3], data: data)
        let s = try DivPruneSelector().select(features: f, attention: Tensor(shape: [30], data: [Float](repeating: 1, count: 30)), tokens: 3, ratio: 0)
        XCTAssertEqual(Set(s.kept.map { $0 % 3 }), [0, 1, 2])
    }

    func testTorchArgsortTieOrder() {
        // Recorded from torch 2.13 CPU: argsort(descending=True) is not stable for long inputs.
        XCTAssertEqual(ReferenceSort.argsortDescending([1, 2, 2, 1, 2, 0, 2] as [Float]), [1, 2, 4, 6, 0, 3, 5])
        let values = (0..<300).map { $0 % 3 == 0 ? Float(1) : 0 }
        let order = ReferenceSort.argsortDescending(values)
        XCTAssertEqual(Array(order.prefix(20)), [237, 219, 120, 117, 222, 114, 225, 111, 108, 228, 105, 231, 102, 99, 234, 96, 123, 93, 240, 87])
        XCTAssertEqual(order.sorted(), Array(0..<300))
    }

    func testInvalidInputsAreRejected() {
        let (f, a) = synthetic(n: 10, d: 4)
        let sel = VisPrunerSelector()
        XCTAssertThrowsError(try sel.select(features: f, attention: a, tokens: 0, ratio: 0.5))
        XCTAssertThrowsError(try sel.select(features: f, attention: a, tokens: 4, ratio: 1.5))
        XCTAssertThrowsError(try sel.select(features: f, attention: Tensor(zeros: [4, 9]), tokens: 4, ratio: 0.5))
        XCTAssertThrowsError(try sel.select(features: f.reshaped([40]), attention: a, tokens: 4, ratio: 0.5))
        var bad = f; bad.data[5] = .nan
        XCTAssertThrowsError(try sel.select(features: bad, attention: a, tokens: 4, ratio: 0.5)) { e in
            XCTAssert("\(e)".contains("patch 1"), "\(e)")
        }
        var badA = a; badA.data[3] = .infinity
        XCTAssertThrowsError(try sel.select(features: f, attention: badA, tokens: 4, ratio: 0.5))
        XCTAssertThrowsError(try selectPerView(sel, features: f.reshaped([2, 5, 4]), attention: a, tokens: 2, ratio: 0.5))
    }
}
