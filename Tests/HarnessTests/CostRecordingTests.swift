import Foundation
import XCTest
import Store
@testable import Harness
import Records

/// The evaluator stores each answer's cost and the process's peak memory with its run.
final class CostRecordingTests: XCTestCase {
    func testTheEngineCostAndThePeakMemoryAreStored() throws {
        let bench = try FakeBenchmark(count: 3)
        defer { bench.remove() }
        let store = try ResultsStore(path: tempPath("cost.sqlite"))
        let engine = FakeEngine()
        engine.cost = ItemCost(visionFLOPs: 10, projectorFLOPs: 2, prefillFLOPs: 300, decodeFLOPs: 40, kvCacheBytes: 1 << 20)
        let summary = try Evaluator(engine: engine, store: store)
            .run(benchmark: bench.adapter, settings: RunSettings(pruning: .unpruned), options: EvalOptions(metadata: harnessMetadata))
        XCTAssertEqual(try store.predictions(summary.run.id).map(\.cost), Array(repeating: engine.cost, count: 3))
        let peak = try XCTUnwrap(summary.run.peakRSSBytes)
        XCTAssertGreaterThan(peak, 1 << 20)
        XCTAssertTrue(try store.verify().isClean)
    }

    /// Bytes, not kilobytes, and this program's own peak: it agrees with the kernel's high-water mark.
    func testPeakMemoryIsInBytes() throws {
        let peak = try XCTUnwrap(PeakMemory.residentBytes())
        #if os(Linux)
        let status = try String(contentsOfFile: "/proc/self/status", encoding: .utf8)
        let line = try XCTUnwrap(status.split(separator: "\n").first { $0.hasPrefix("VmHWM:") })
        let kb = try XCTUnwrap(line.split(separator: " ").dropFirst().first.flatMap { Int64($0.trimmingCharacters(in: .whitespaces)) })
        let again = try XCTUnwrap(PeakMemory.residentBytes())
        XCTAssertLessThanOrEqual(peak, kb * 1024)
        XCTAssertGreaterThanOrEqual(again, kb * 1024)
        #endif
        XCTAssertGreaterThan(peak, 1 << 20)
        XCTAssertLessThan(peak, 1 << 40)
    }
}
