import ArgumentParser
import Foundation
import Imaging
import Model
import Records
import Report

/// `vispruner visualize`: which patches each selection keeps, drawn over the views the model sees.
struct VisualizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "visualize",
        abstract: "Draw the image with each method's kept patches marked: important (red) and diverse (blue); pruned ones dimmed.",
        discussion: """
        One figure with a column per method × budget (--method and --tokens may be repeated), each showing the \
        views the vision tower sees (LLaVA-1.5: padded to a square and resized to 336 px; LLaVA-1.6: the base \
        view beside its crops, tiled as they lie in the image) with the 24×24 patch grid and a legend. The \
        vision tower runs once; every column selects from the same features and attention. Written as PNG \
        (--scale pixels per view pixel), SVG and PDF side by side: --out kept.png writes kept.png, kept.svg and kept.pdf.
        Example: vispruner visualize --model demo/models/llava15-synth --image img.jpg --method vispruner --method fastervlm \
        --tokens 64 --tokens 32 --ratio 0.5 --out kept.png
        """)

    @Option(help: "LLaVA checkpoint directory.") var model: String
    @Option(name: .customLong("vision-tower"), help: "CLIP vision tower directory.") var visionTower: String?
    @Option(help: "Image file (PNG or JPEG).") var image: String
    @Option(parsing: .unconditionalSingleValue, help: "Visual tokens to keep per view (repeatable: a column each).")
    var tokens: [Int]
    @Option(parsing: .unconditional, help: "VisPruner important ratio.") var ratio = 0.5
    @Option(parsing: .singleValue, help: "Selection method (repeatable: a column each; default vispruner).")
    var method: [SelectionMethod] = []
    @Option(parsing: .unconditional, help: "Seed for --method random.") var seed: UInt64 = 0
    @Option(help: ArgumentHelp("Output figure: OUT.png, OUT.svg and OUT.pdf are written.", valueName: "OUT.png")) var out: String
    @Option(parsing: .unconditional, help: "PNG pixels per view pixel.") var scale = 2

    func validate() throws {
        guard !tokens.isEmpty, tokens.allSatisfy({ $0 > 0 }) else { throw ValidationError("--tokens must be positive") }
        guard ratio >= 0 && ratio <= 1 else { throw ValidationError("--ratio must be in [0, 1]") }
        guard (1...8).contains(scale) else { throw ValidationError("--scale must be 1…8") }
        do { _ = try FigureFiles.outputs(for: URL(fileURLWithPath: out)) } catch { throw ValidationError("\(error)") }
    }

    func run() throws {
        let pipeline = try LLaVAPipeline(modelDirectory: URL(fileURLWithPath: model),
                                         visionTower: visionTower.map { URL(fileURLWithPath: $0) })
        let prepared = try pipeline.prepare(try ImageDecoder.decode(contentsOf: URL(fileURLWithPath: image)))
        let vision = try Stages.vision(pipeline.model, views: prepared.views)
        let tower = pipeline.model.vision.config
        var columns: [SelectionFigure.Column] = []
        for m in method.isEmpty ? [.vispruner] : method {
            for t in tokens {
                let selections = try Stages.select(vision, selector: .method(m, tokens: t, ratio: ratio, seed: seed))
                let column = SelectionFigure.Column(title: SelectionFigure.columnTitle(method: m.rawValue, tokens: t),
                                                    selections: selections)
                let kept = selections.map(\.kept.count).reduce(0, +)
                let important = selections.map(\.important.count).reduce(0, +)
                let diverse = selections.map(\.diverse.count).reduce(0, +)
                print("\(column.title): \(kept) of \(tower.numPatches * selections.count) patches kept (\(important) important in red, "
                      + "\(diverse) diverse in blue)")
                columns.append(column)
            }
        }
        let cropGrid: (rows: Int, columns: Int)?
        switch prepared.layout {
        case .single: cropGrid = nil
        case .fixedGrid(let r, let c), .stockGrid(let r, let c, _, _): cropGrid = (r, c)
        }
        let figure = SelectionFigure(views: prepared.views.map(pipeline.preprocessor.picture(of:)), cropGrid: cropGrid,
                                     patchesPerSide: tower.patchesPerSide, columns: columns,
                                     title: "Kept visual tokens: \(URL(fileURLWithPath: image).lastPathComponent)")
        for url in try FigureFiles.write(figure.figure(), to: URL(fileURLWithPath: out), pixelScale: Double(scale)) {
            print("wrote \(url.path)")
        }
    }
}
