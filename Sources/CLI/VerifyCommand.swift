import ArgumentParser
import Foundation
import Store

/// `vispruner verify --db FILE`: checks every stored answer against its checksum.
struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check that no stored answer changed since it was written, and the file's integrity.",
        discussion: """
        Every answer is stored with a checksum of its content (output, parsed answer, kept indices, run key, \
        question id and the other fields). One line per answer whose content no longer matches, then a summary. \
        Answers written before checksums existed are counted but cannot be checked. Opens the file read-only \
        (also on read-only storage). Exit status 1 if an answer changed or SQLite's integrity check fails.
        """)

    @Option(name: .customLong("db"), help: "Results database (.sqlite).")
    var database: String

    func run() throws {
        guard FileManager.default.fileExists(atPath: database) else {
            throw ValidationError("\(database): no such results database")
        }
        let report = try ResultsStore(path: database, readonly: true).verify()
        for c in report.changed {
            print("CHANGED \(c.runLabel) (run \(c.runKey.prefix(12))) question \(c.questionID) occurrence \(c.occurrence) "
                  + "(item \(c.itemIndex)): \(c.reason)")
        }
        if report.integrity != ["ok"] {
            for line in report.integrity { print("INTEGRITY \(line)") }
        }
        print("\(database): \(report.checked) answers checked, \(report.withoutChecksum) without checksum "
              + "(written before checksums), \(report.changed.count) changed; integrity check: "
              + (report.integrity == ["ok"] ? "ok" : "FAILED"))
        if !report.isClean { throw ExitCode(1) }
    }
}
