import Foundation
import XCTest
@testable import Harness

final class ProgressReporterTests: XCTestCase {
    func testDurationFormatting() {
        XCTAssertEqual(ProgressReporter.duration(0), "0s")
        XCTAssertEqual(ProgressReporter.duration(59.4), "59s")
        XCTAssertEqual(ProgressReporter.duration(187), "3m07s")
        XCTAssertEqual(ProgressReporter.duration(5388), "1h29m48s")
        XCTAssertEqual(ProgressReporter.duration(183_600), "2d03h")
        XCTAssertEqual(ProgressReporter.duration(.infinity), "--")
    }

    func testRateSwitchesToSecondsPerItemBelowOne() {
        XCTAssertEqual(ProgressReporter.rateText(2.3125), "2.31 it/s")
        XCTAssertEqual(ProgressReporter.rateText(0.2), "5.00 s/it")
    }

    func testLiveLineContents() {
        let line = ProgressReporter.line(label: "gqa vispruner t64 r0.5", done: 120, total: 12578, rate: 2.0, failed: 3)
        XCTAssertEqual(line, "gqa vispruner t64 r0.5  120/12578  1.0%  2.00 it/s  ETA 1h43m49s  3 errors")
        XCTAssertEqual(ProgressReporter.line(label: "x", done: 0, total: 5, rate: nil), "x  0/5  0.0%  -- it/s  ETA --")
    }

    func testSummaryLine() {
        let s = ProgressReporter.summary(label: "pope none", total: 10, answered: 6, resumed: 4, failed: 1, elapsed: 14)
        XCTAssertEqual(s, "pope none: 10 items (6 answered, 4 resumed, 1 error) in 14s, 2.00 s/it")
    }

    func testLiveDrawingUsesCarriageReturnAndIsThrottled() {
        var out: [String] = []
        var clock = 0.0
        let p = ProgressReporter(label: "t", total: 4, alreadyDone: 1, live: true, minInterval: 1,
                                 write: { out.append($0) }, now: { clock })
        XCTAssertEqual(out.count, 1, "drawn once at start")
        clock = 0.5; p.advance()        // throttled
        XCTAssertEqual(out.count, 1)
        clock = 2.0; p.advance(failed: true)
        XCTAssertEqual(out.count, 2)
        XCTAssertTrue(out[1].hasPrefix("\r\u{1B}[2K"))
        XCTAssertTrue(out[1].contains("3/4"), out[1])
        XCTAssertTrue(out[1].contains("1 error"), out[1])
        clock = 2.1; p.advance()        // last item always drawn
        XCTAssertTrue(out.last?.contains("4/4") ?? false)
        let summary = p.finish()
        XCTAssertEqual(out.last, "\r\u{1B}[2K", "the live line is cleared before the summary")
        XCTAssertEqual(summary, "t: 4 items (2 answered, 1 resumed, 1 error) in 2s, 1.43 it/s")
    }

    func testNothingIsDrawnWhenNotLive() {
        var out: [String] = []
        let p = ProgressReporter(label: "t", total: 2, alreadyDone: 0, live: false, write: { out.append($0) }, now: { 0 })
        p.advance(); p.advance()
        _ = p.finish()
        XCTAssertEqual(out, [])
    }
}

extension ProgressReporterTests {
    /// In a log (no TTY) a plain line every interval: no carriage returns or escapes, nothing between.
    func testLogLinesAtAFixedInterval() {
        var out: [String] = []
        var clock = 0.0
        let p = ProgressReporter(label: "gqa none", total: 10, alreadyDone: 2, live: false, logInterval: 60,
                                 write: { out.append($0) }, now: { clock })
        XCTAssertEqual(out, [])
        clock = 30; p.advance()
        XCTAssertEqual(out, [], "not yet a minute")
        clock = 61; p.advance(failed: true)
        XCTAssertEqual(out.count, 1)
        XCTAssertEqual(out[0], "gqa none  4/10  40.0%  30.50 s/it  ETA 3m03s  1 error\n")
        clock = 100; p.advance()
        XCTAssertEqual(out.count, 1)
        clock = 122; p.advance()
        XCTAssertEqual(out.count, 2)
        XCTAssertFalse(out.joined().contains("\r") || out.joined().contains("\u{1B}"))
        XCTAssertFalse(p.finish().isEmpty)
    }

    func testLogIntervalFromTheEnvironment() {
        // This test process's stderr is not a terminal.
        guard isatty(STDERR_FILENO) == 0 else { return }
        XCTAssertEqual(ProgressReporter.logInterval(quiet: false, environment: [:]), 60)
        XCTAssertEqual(ProgressReporter.logInterval(quiet: false, environment: ["VISPRUNER_PROGRESS_INTERVAL": "5"]), 5)
        XCTAssertNil(ProgressReporter.logInterval(quiet: false, environment: ["VISPRUNER_PROGRESS_INTERVAL": "0"]))
        XCTAssertNil(ProgressReporter.logInterval(quiet: true, environment: [:]))
    }
}
