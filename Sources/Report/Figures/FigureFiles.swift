import Foundation
import Records

/// Errors from building reports and figures, with a message fit to show the user as is.
public struct ReportError: Error, CustomStringConvertible, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Figures written to disk: every figure as PNG (2 pixels per point), SVG and PDF side by side, so one
/// command gives what a README, a web page and a paper each need.
public enum FigureFiles {
    public static let pixelScale = 2.0

    /// The three files for `url` (any of OUT.png, OUT.svg, OUT.pdf names the same three), in that order.
    public static func outputs(for url: URL) throws -> [URL] {
        let ext = url.pathExtension.lowercased()
        guard CairoRenderer.Format(rawValue: ext) != nil else {
            throw ReportError("\(url.lastPathComponent): a figure file must end in .png, .svg or .pdf")
        }
        let stem = url.deletingPathExtension()
        return CairoRenderer.Format.allCases.map { stem.appendingPathExtension($0.rawValue) }
    }

    /// Writes `figure` as the three files named by `url`; returns them.
    @discardableResult
    public static func write(_ figure: Figure, to url: URL, pixelScale: Double = pixelScale) throws -> [URL] {
        let urls = try outputs(for: url)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        for (format, file) in zip(CairoRenderer.Format.allCases, urls) {
            try CairoRenderer.write(figure, format: format, to: file, pixelScale: pixelScale)
        }
        return urls
    }

    /// Accuracy vs visual tokens (`AccuracyFigure`).
    public static func writeAccuracyPlot(_ results: [ResultRow], to url: URL, title: String = "Accuracy vs visual tokens",
                                         layout: [BenchmarkColumns] = [], bootstrap: Bootstrap? = nil) throws -> [URL] {
        guard !results.isEmpty else { throw ReportError("nothing to plot: no complete, scored runs") }
        return try write(AccuracyFigure.chart(results, title: title, layout: layout, bootstrap: bootstrap).figure(), to: url)
    }

    /// Time to first token and total latency vs visual tokens (`LatencyFigure`).
    public static func writeLatencyPlot(_ samples: [LatencySample], to url: URL,
                                        title: String = "Latency vs visual tokens (mean per item)") throws -> [URL] {
        guard !samples.isEmpty else { throw ReportError("nothing to plot: no stored timings") }
        return try write(LatencyFigure.chart(samples, title: title).figure(columns: 2), to: url)
    }
}
