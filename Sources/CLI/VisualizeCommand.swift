import ArgumentParser
import Foundation
import Imaging
import Model
import Records
import Report

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
    @Option(parsing: .unconditional, help: "Visual tokens to keep.") var tokens: Int
    @Option(parsing: .unconditional, help: "VisPruner important ratio.") var ratio = 0.5
    @Option(help: "Selection method.") var method: SelectionMethod = .vispruner
    @Option(parsing: .unconditional, help: "Seed for --method random.") var seed: UInt64 = 0
    @Option(help: "Output PNG.") var out: String
    @Option(parsing: .unconditional, help: "Pixels per input pixel in the output.") var scale = 2

    func validate() throws {
        guard tokens > 0 else { throw ValidationError("--tokens must be positive") }
        guard ratio >= 0 && ratio <= 1 else { throw ValidationError("--ratio must be in [0, 1]") }
        guard (1...8).contains(scale) else { throw ValidationError("--scale must be 1…8") }
    }

    func run() throws {
        let pipeline = try LLaVAPipeline(modelDirectory: URL(fileURLWithPath: model),
                                         visionTower: visionTower.map { URL(fileURLWithPath: $0) })
        let settings = RunSettings(pruning: .pruned(method, tokens: tokens, ratio: ratio), seed: seed, maxNewTokens: 1)
        let result = try pipeline.run(PipelineRequest(imageURL: URL(fileURLWithPath: image), question: "Describe the image.",
                                                      settings: settings))
        guard let selection = result.selections.first else { throw ValidationError("no selection was made") }
        let picture = pipeline.firstViewPicture(try ImageDecoder.decode(contentsOf: URL(fileURLWithPath: image)))
        let tower = pipeline.model.vision.config
        let url = URL(fileURLWithPath: out)
        try FigureFiles.writeSelectionOverlay(picture: picture, selection: selection, viewSide: tower.imageSize,
                                              patchesPerSide: tower.patchesPerSide, scale: scale, to: url)
        print("\(url.path): \(selection.kept.count) of \(tower.numPatches) patches kept (\(selection.important.count) important in red, "
              + "\(selection.diverse.count) diverse in blue)")
    }
}
