import Foundation
import Imaging
import Pruning
import Records

/// Errors from building reports and figures, with a message fit to show the user as is.
public struct ReportError: Error, CustomStringConvertible, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Figures written to disk.
public enum FigureFiles {
    /// The accuracy-vs-visual-tokens plot: PNG (plus the SVG beside it) or SVG, by the extension of `url`.
    /// Returns the files written.
    public static func writeAccuracyPlot(_ results: [ResultRow], to url: URL,
                                         title: String = "Accuracy vs visual tokens", layout: [BenchmarkColumns] = []) throws -> [URL] {
        guard !results.isEmpty else { throw ReportError("nothing to plot: no complete, scored runs") }
        let ext = url.pathExtension.lowercased()
        guard ext == "svg" || ext == "png" else { throw ReportError("--plot must end in .png or .svg") }
        let scene = AccuracyPlot.scene(results, title: title, layout: layout)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        if ext == "svg" {
            try Data(scene.svg().utf8).write(to: url)
            return [url]
        }
        let canvas = scene.canvas()
        try PNGEncoder.encode(rgb: canvas.pixels, width: canvas.width, height: canvas.height).write(to: url)
        let svg = url.deletingPathExtension().appendingPathExtension("svg")
        try Data(scene.svg().utf8).write(to: svg)
        return [url, svg]
    }

    /// The image a view's tower sees with the selection drawn over its patch grid: important patches red,
    /// diverse ones blue, pruned ones dimmed. `picture` is the view before resizing (square for LLaVA-1.5);
    /// it is drawn at `viewSide` × `scale` pixels with `patchesPerSide`² cells. Writes a PNG to `url`.
    public static func writeSelectionOverlay(picture: RGBImage, selection: Selection, viewSide: Int, patchesPerSide grid: Int,
                                             scale: Int, to url: URL) throws {
        let view = picture.resized(width: viewSide * scale, height: viewSide * scale, filter: .bicubic)
        var canvas = Canvas(width: view.width, height: view.height, rgb: view.pixels)
        let cell = viewSide * scale / grid
        let important = Set(selection.important), kept = Set(selection.kept)
        let red = Canvas.Color(230, 30, 30), blue = Canvas.Color(30, 90, 240)
        for p in 0..<(grid * grid) {
            let x = (p % grid) * cell, y = (p / grid) * cell
            if important.contains(p) || kept.contains(p) {
                let colour = important.contains(p) ? red : blue
                canvas.fillRect(x: x, y: y, width: cell, height: cell, colour, alpha: 0.45)
                canvas.strokeRect(x: x, y: y, width: cell, height: cell, colour)
            } else {
                canvas.fillRect(x: x, y: y, width: cell, height: cell, .black, alpha: 0.55)
            }
        }
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try PNGEncoder.encode(rgb: canvas.pixels, width: canvas.width, height: canvas.height).write(to: url)
    }
}
