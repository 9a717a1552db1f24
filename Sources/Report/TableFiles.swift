import Foundation

/// The score and latency tables written to a folder.
public enum TableFiles {
    /// Writes scores.md, scores.csv, latency.md and latency.csv into `dir` (created); returns them.
    @discardableResult
    public static func write(scores: ScoreTable, latency: LatencyTable, to dir: URL) throws -> [URL] {
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let files = [("scores.md", scores.fullMarkdown()), ("scores.csv", scores.csv()),
                     ("latency.md", latency.markdown()), ("latency.csv", latency.csv())]
        return try files.map { name, text in
            let url = dir.appendingPathComponent(name)
            try Data(text.utf8).write(to: url)
            return url
        }
    }
}
