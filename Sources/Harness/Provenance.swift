import Foundation
import Store

/// Where a run came from: tool version, source commit, host.
public enum Provenance {
    /// Metadata for runs started by this process. The commit comes from `VISPRUNER_GIT_COMMIT`
    /// when set (e.g. by a job script), else from `git rev-parse HEAD` in `sourceDirectory`,
    /// else is empty: provenance must never stop an evaluation.
    public static func current(toolVersion: String, sourceDirectory: URL? = nil,
                               environment: [String: String] = ProcessInfo.processInfo.environment) -> RunMetadata {
        var commit = environment["VISPRUNER_GIT_COMMIT"] ?? ""
        if commit.isEmpty, let dir = sourceDirectory { commit = gitHead(in: dir) ?? "" }
        return RunMetadata(toolVersion: toolVersion, gitCommit: commit, host: ProcessInfo.processInfo.hostName)
    }

    /// `git rev-parse HEAD` in `dir`, or nil when git or the repository is unavailable.
    public static func gitHead(in dir: URL) -> String? {
        guard FileManager.default.fileExists(atPath: dir.appendingPathComponent(".git").path) else { return nil }
        let candidates = ["/usr/bin/git", "/usr/local/bin/git"]
        guard let git = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else { return nil }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: git)
        p.arguments = ["-C", dir.path, "rev-parse", "HEAD"]
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        do { try p.run() } catch { return nil }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { return nil }
        let text = String(decoding: data.prefix(100), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return text.count == 40 && text.allSatisfy(\.isHexDigit) ? text : nil
    }
}
