import Foundation
import Model
import Tensor
import XCTest

/// Opt-in check on a real-size (or real-width) checkpoint: set `VISPRUNER_REAL_MODEL` to a LLaVA
/// folder (and `VISPRUNER_REAL_TOWER` to its vision tower if `mm_vision_tower` does not resolve).
/// Runs a 600-token prefill and a few decode steps with the panel weight path, prints per-stage
/// timings and the peak RSS, and fails if the peak exceeds 16 GiB.
final class RealSizeTests: XCTestCase {
    func testRealSizeModelRunsWithinMemoryBudget() throws {
        let env = ProcessInfo.processInfo.environment
        guard let dir = env["VISPRUNER_REAL_MODEL"], !dir.isEmpty else {
            throw XCTSkip("set VISPRUNER_REAL_MODEL to a LLaVA-1.5 folder to run the real-size check")
        }
        let tower = env["VISPRUNER_REAL_TOWER"].map { URL(fileURLWithPath: $0) }
        let model = try LLaVAModel(directory: URL(fileURLWithPath: dir), visionTower: tower)
        let side = model.vision.config.imageSize
        let pixels = Tensor(shape: [3, side, side], data: (0..<(3 * side * side)).map { Float(($0 * 7919) % 255) / 128 - 1 })
        let prompt = [1] + Array(repeating: 450, count: 20) + [LLaVAModel.imageTokenIndex] + Array(repeating: 1724, count: 10)
        let out = try Stages.answer(model: model, inputIDs: prompt, image: PreparedImage(views: [pixels], layout: .single),
                                    selector: .all, maxNewTokens: 4, eosID: -1).generation
        let peak = Self.peakRSSKiB()
        print(String(format: "real-size: L=%d vision %.0f ms, projector %.0f ms, prefill %.0f ms, decode %.0f ms for %d tokens, peak RSS %.2f GiB",
                     out.inputsEmbedsLength, out.timings.vision, out.timings.projector, out.timings.prefill, out.timings.decode,
                     out.tokens.count, Double(peak) / 1048576))
        XCTAssertEqual(out.tokens.count, 4)
        XCTAssertLessThan(peak, 16 * 1048576)
    }

    static func peakRSSKiB() -> Int {
        guard let s = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
        for line in s.split(separator: "\n") where line.hasPrefix("VmHWM:") {
            return Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0
        }
        return 0
    }
}
