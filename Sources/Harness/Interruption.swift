import Dispatch
import Foundation
import Store

/// Ctrl-C, Slurm preemption and `scancel` (SIGINT, SIGTERM) during eval or sweep: the item in flight is
/// dropped (its answer is not committed yet, so nothing stored is lost or half-written), the run is marked
/// interrupted, the user is told how many answers are saved and how to resume, and the process exits with
/// 128 + the signal number (130, 143), as shells expect.
public final class Interruption: @unchecked Sendable {
    public static let shared = Interruption()

    /// A run being evaluated: where to mark the interruption and count what is saved.
    struct Current {
        var store: ResultsStore
        var run: RunID
        var label: String
    }

    private let lock = NSLock()
    /// Every run in flight (an image-major grid evaluates several at once).
    private var current: [Current] = []
    private var sources: [DispatchSourceSignal] = []
    /// Where the notice goes (tests capture it).
    var write: (String) -> Void = { FileHandle.standardError.write(Data($0.utf8)) }

    /// Routes SIGINT and SIGTERM here for the rest of the process (idempotent).
    public func install() {
        lock.lock()
        defer { lock.unlock() }
        guard sources.isEmpty else { return }
        for sig in [SIGINT, SIGTERM] {
            signal(sig, SIG_IGN)  // the dispatch source sees the signal; the default action must not kill first
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler { [weak self] in self?.handle(sig) }
            source.resume()
            sources.append(source)
        }
    }

    func begin(store: ResultsStore, run: RunID, label: String) {
        begin(store: store, runs: [(run, label)])
    }

    func begin(store: ResultsStore, runs: [(RunID, String)]) {
        lock.lock(); current = runs.map { Current(store: store, run: $0.0, label: $0.1) }; lock.unlock()
    }

    func end() {
        lock.lock(); current = []; lock.unlock()
    }

    /// Runs `body` (committing one answer) so that an interruption happens wholly before or after it.
    func critical<T>(_ body: () throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body()
    }

    private func handle(_ sig: Int32) {
        // Holding the lock for good: the evaluating thread can no longer commit, so the count printed is final.
        lock.lock()
        let name = sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : "signal \(sig)"
        var text = "\ninterrupted (\(name))"
        var lines: [String] = []
        for c in current {
            var saved = "?"
            if let info = try? c.store.markInterrupted(c.run, reason: "interrupted by \(name)") {
                saved = String(info.doneItems)
                let expected = info.expectedItems.map { " of \($0)" } ?? ""
                saved += expected
            }
            lines.append("\(c.label): \(saved) answers saved in \(c.store.path)")
        }
        if lines.count == 1 {
            text += ": \(lines[0]); rerun the same command to resume"
        } else if !lines.isEmpty {
            text += "\n" + lines.map { "  " + $0 + "\n" }.joined() + "rerun the same command to resume"
        }
        write(text + "\n")
        fflush(stdout)
        exit(128 + sig)
    }
}
