import Foundation

/// Progress of a run (items done/total, rate, ETA, failures): on a terminal a line redrawn in place; in a
/// log (stderr not a TTY: Slurm, nohup) a plain line every `logInterval` seconds, so a long job shows it is
/// alive without flooding the file; and a one-line summary at the end.
public final class ProgressReporter {
    public let label: String
    /// Items in scope (this shard, after `--limit`), including those already done before this process.
    public let total: Int
    /// Items found done when the process started (resumed).
    public let alreadyDone: Int
    public private(set) var answered = 0
    public private(set) var failed = 0

    private let live: Bool
    private let write: (String) -> Void
    private let now: () -> Double
    private let started: Double
    private var lastDraw = -Double.infinity
    /// Redraws are throttled so a fast fake engine does not flood the terminal.
    private let minInterval: Double
    /// Seconds between plain log lines when not drawing live; nil writes none.
    private let logInterval: Double?
    private var lastLog: Double

    /// - Parameters:
    ///   - live: draw the in-place line (see `shouldDrawLive`).
    ///   - write: where text goes (stderr by default).
    ///   - now: a monotonic clock in seconds (injectable for tests).
    public init(label: String, total: Int, alreadyDone: Int, live: Bool,
                minInterval: Double = 0.2, logInterval: Double? = nil,
                write: @escaping (String) -> Void = ProgressReporter.writeStderr,
                now: @escaping () -> Double = ProgressReporter.monotonicSeconds) {
        self.label = label
        self.total = total
        self.alreadyDone = alreadyDone
        self.live = live
        self.minInterval = minInterval
        self.logInterval = live ? nil : logInterval
        self.write = write
        self.now = now
        self.started = now()
        self.lastLog = started
        draw(force: true)
    }

    /// Counts one item (answered or failed) and redraws if due.
    public func advance(failed didFail: Bool = false) {
        if didFail { failed += 1 } else { answered += 1 }
        draw(force: false)
    }

    /// Clears the live line and returns the summary (the caller decides whether to print it).
    public func finish() -> String {
        if live { write("\r\u{1B}[2K") }
        return Self.summary(label: label, total: total, answered: answered, resumed: alreadyDone,
                            failed: failed, elapsed: now() - started)
    }

    private func draw(force: Bool) {
        if let logInterval {
            let t = now()
            guard t - lastLog >= logInterval else { return }
            lastLog = t
            let processed = answered + failed
            let rate = processed > 0 && t > started ? Double(processed) / (t - started) : nil
            write(Self.line(label: label, done: alreadyDone + processed, total: total, rate: rate, failed: failed) + "\n")
            return
        }
        guard live else { return }
        let t = now()
        let processed = answered + failed
        guard force || t - lastDraw >= minInterval || alreadyDone + processed == total else { return }
        lastDraw = t
        let elapsed = t - started
        let rate = elapsed > 0 && answered + failed > 0 ? Double(processed) / elapsed : nil
        write("\r\u{1B}[2K" + Self.line(label: label, done: alreadyDone + processed, total: total, rate: rate, failed: failed))
    }

    // MARK: - Formatting (pure, tested)

    /// `gqa vispruner t64 r0.5  120/12578  1.0%  2.31 it/s  ETA 1h29m48s  3 errors`
    public static func line(label: String, done: Int, total: Int, rate: Double?, failed: Int = 0) -> String {
        let pct = total > 0 ? Double(done) / Double(total) * 100 : 100
        var parts = ["\(label)", "\(done)/\(total)", String(format: "%.1f%%", pct)]
        if let rate, rate > 0 {
            parts.append(rateText(rate))
            let remaining = max(0, total - done)
            parts.append("ETA " + duration(Double(remaining) / rate))
        } else {
            parts.append("-- it/s")
            parts.append("ETA --")
        }
        if failed > 0 { parts.append("\(failed) error\(failed == 1 ? "" : "s")") }
        return parts.joined(separator: "  ")
    }

    /// `gqa vispruner t64 r0.5: 12578 items (120 answered, 12458 resumed, 3 errors) in 52m10s, 2.31 it/s`
    public static func summary(label: String, total: Int, answered: Int, resumed: Int, failed: Int, elapsed: Double) -> String {
        var detail = ["\(answered) answered", "\(resumed) resumed"]
        if failed > 0 { detail.append("\(failed) error\(failed == 1 ? "" : "s")") }
        var text = "\(label): \(total) items (\(detail.joined(separator: ", "))) in \(duration(elapsed))"
        if answered + failed > 0 && elapsed > 0 { text += ", " + rateText(Double(answered + failed) / elapsed) }
        return text
    }

    /// Items per second above one, seconds per item below (CPU inference is often seconds per item).
    public static func rateText(_ rate: Double) -> String {
        rate >= 1 ? String(format: "%.2f it/s", rate) : String(format: "%.2f s/it", 1 / rate)
    }

    /// Compact duration: `45s`, `3m07s`, `1h29m48s`, `2d03h`.
    public static func duration(_ seconds: Double) -> String {
        guard seconds.isFinite else { return "--" }
        let s = Int(max(0, seconds).rounded())
        if s < 60 { return "\(s)s" }
        if s < 3600 { return String(format: "%dm%02ds", s / 60, s % 60) }
        if s < 86400 { return String(format: "%dh%02dm%02ds", s / 3600, (s % 3600) / 60, s % 60) }
        return String(format: "%dd%02dh", s / 86400, (s % 86400) / 3600)
    }

    // MARK: - Environment

    /// Draw the live line only on a terminal, and never when quiet.
    public static func shouldDrawLive(quiet: Bool) -> Bool { !quiet && isatty(STDERR_FILENO) != 0 }

    /// Seconds between progress lines in logs: `VISPRUNER_PROGRESS_INTERVAL` (0 turns them off), default 60;
    /// nil when quiet or when the live line is drawn.
    public static func logInterval(quiet: Bool, environment: [String: String] = ProcessInfo.processInfo.environment) -> Double? {
        guard !quiet, !shouldDrawLive(quiet: quiet) else { return nil }
        let value = environment["VISPRUNER_PROGRESS_INTERVAL"].flatMap(Double.init) ?? 60
        return value > 0 ? value : nil
    }

    public static func writeStderr(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }

    public static func monotonicSeconds() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
}
