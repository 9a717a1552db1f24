import Records
import XCTest

/// The resampling units a scorer stores (for the report's intervals) must give back every metric they have a
/// formula for: the interval is then about the very number the table prints.
func assertUnitsReproduce(_ report: ScoreReport, _ metrics: [String], _ context: String, file: StaticString = #filePath, line: UInt = #line) {
    guard let units = report.units else { return XCTFail("\(context): no units", file: file, line: line) }
    for m in metrics {
        guard let stored = report[m] else { continue }
        guard let v = units.value(m) else { return XCTFail("\(context): no formula for \(m)", file: file, line: line) }
        XCTAssertEqual(v, stored, accuracy: 1e-9 * max(1, abs(stored)), "\(context) \(m)", file: file, line: line)
    }
}
