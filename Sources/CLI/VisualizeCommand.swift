import ArgumentParser
import Foundation
import Imaging
import Model
import Pruning
import Report
import Tensor

/// `vispruner visualize`: which patches a selection keeps, drawn over the image the model sees.
struct VisualizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "visualize",
        abstract: "Draw the image with the kept patches marked: important (red) and diverse (blue); pruned ones dimmed.",
        discussion: """
        The picture is the view the vision tower sees (LLaVA-1.5: padded to a square and resized to 336 px; \
        LLaVA-1.6: the base view), drawn at --scale, with the 24×24 patch grid.
        Example: vispruner visualize --model demo/models/llava15-tiny --image img.jpg --tokens 64 --ratio 0.5 --out kept.png
        """)

    @Option(help: "LLaVA checkpoint directory.") var model: String
    @Option(name: .customLong("vision-tower"), help: "CLIP vision tower directory.") var visionTower: String?
    @Option(help: "Image file (PNG or JPEG).") var image: String
    @Option(help: "Visual tokens to keep.") var tokens: Int
    @Option(help: "VisPruner important ratio.") var ratio = 0.5
    @Option(help: "Selection method.") var method = "vispruner"
    @Option(help: "Seed for --method random.") var seed: UInt64 = 0
    @Option(help: "Output PNG.") var out: String
    @Option(help: "Pixels per input pixel in the output.") var scale = 2

    func validate() throws {
        guard tokens > 0 else { throw ValidationError("--tokens must be positive") }
        guard ratio >= 0 && ratio <= 1 else { throw ValidationError("--ratio must be in [0, 1]") }
        guard (1...8).contains(scale) else { throw ValidationError("--scale must be 1…8") }
        guard SelectionMethod(rawValue: method) != nil else {
            throw ValidationError("unknown --method '\(method)' (known: \(SelectionMethod.names))")
        }
    }

    func run() throws {
        let pipeline = try LLaVAPipeline(modelDirectory: URL(fileURLWithPath: model),
                                         visionTower: visionTower.map { URL(fileURLWithPath: $0) })
        let result = try pipeline.run(PipelineRequest(imageURL: URL(fileURLWithPath: image), question: "Describe the image.",
                                                      method: SelectionMethod(rawValue: method), tokens: tokens,
                                                      ratio: ratio, seed: seed, maxNewTokens: 1))
        guard let selection = result.selections.first else { throw ValidationError("no selection was made") }
        let decoded = try ImageDecoder.decode(contentsOf: URL(fileURLWithPath: image))
        let side = 336
        let square = pipeline.isAnyres
            ? decoded
            : LLaVAImagePreprocessing.expandToSquare(decoded, background: LLaVAImagePreprocessing.meanColour(pipeline.preprocessor.config))
        let view = square.resized(width: side * scale, height: side * scale, filter: .bicubic)
        var canvas = Canvas(width: view.width, height: view.height, rgb: view.pixels)
        let grid = 24, cell = side * scale / grid
        let important = Set(selection.important), kept = Set(selection.kept)
        for p in 0..<(grid * grid) {
            let x = (p % grid) * cell, y = (p / grid) * cell
            if important.contains(p) {
                canvas.fillRect(x: x, y: y, width: cell, height: cell, Canvas.Color(230, 30, 30), alpha: 0.45)
                canvas.strokeRect(x: x, y: y, width: cell, height: cell, Canvas.Color(230, 30, 30))
            } else if kept.contains(p) {
                canvas.fillRect(x: x, y: y, width: cell, height: cell, Canvas.Color(30, 90, 240), alpha: 0.45)
                canvas.strokeRect(x: x, y: y, width: cell, height: cell, Canvas.Color(30, 90, 240))
            } else {
                canvas.fillRect(x: x, y: y, width: cell, height: cell, .black, alpha: 0.55)
            }
        }
        let url = URL(fileURLWithPath: out)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try PNGEncoder.encode(rgb: canvas.pixels, width: canvas.width, height: canvas.height).write(to: url)
        print("\(url.path): \(selection.kept.count) of \(grid * grid) patches kept (\(selection.important.count) important in red, "
              + "\(selection.diverse.count) diverse in blue)")
    }
}
