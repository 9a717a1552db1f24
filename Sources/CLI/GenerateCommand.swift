import ArgumentParser
import Foundation
import Model
import Pruning
import Records

/// `vispruner generate`: one question about one image, as the reference evaluation asks it.
struct GenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Answer one question about one image with a LLaVA checkpoint (optionally pruned).",
        discussion: """
        The prompt is wrapped in the vicuna_v1 template with "<image>\\n" before it, exactly as LLaVA's \
        evaluation does; greedy decoding. Without --tokens every visual token is fed. --json prints \
        generated_ids, text, kept / important / diverse (one list per view), visual_tokens_fed, \
        inputs_embeds_length, input_ids and per-stage timings in ms.
        Example: vispruner generate --model demo/models/llava15-synth --image img.jpg \\
                 --prompt "What color is the star?" --tokens 64 --ratio 0.5 --json
        """)

    @Option(help: "LLaVA checkpoint directory.") var model: String
    @Option(name: .customLong("vision-tower"), help: "CLIP vision tower directory (default: from the checkpoint config).")
    var visionTower: String?
    @Option(help: "Image file (PNG or JPEG); omit for a text-only question.") var image: String?
    @Option(help: "The question (the user message after the image).") var prompt: String
    @Option(parsing: .unconditional, help: "Visual tokens to keep per view (default: all, no pruning).") var tokens: Int?
    @Option(parsing: .unconditional, help: "VisPruner important ratio.") var ratio = 0.5
    @Option(help: "Selection method (with --tokens).") var method: SelectionMethod = .vispruner
    @Option(parsing: .unconditional, help: "Seed for --method random.") var seed: UInt64 = 0
    @Option(name: .customLong("max-new-tokens"), parsing: .unconditional, help: "Maximum new tokens.") var maxNewTokens = 128
    @Option(help: "LLaVA-1.6 image feeding: fixed (VisPruner's 2×2 grid, default) or stock (best-fit grid, spatial_unpad, image_newline).")
    var anyres: AnyresMode = .fixed
    @Option(help: "Language-model arithmetic: float32 (default; what parity is measured in) or bfloat16 (activations rounded to bf16, float32 sums; fast on CPUs with AVX512_BF16).")
    var precision: ComputePrecision = .float32
    @Flag(help: "Print a JSON object.") var json = false

    func validate() throws {
        if let tokens, tokens <= 0 { throw ValidationError("--tokens must be positive") }
        guard ratio >= 0 && ratio <= 1 else { throw ValidationError("--ratio must be in [0, 1]") }
        guard maxNewTokens > 0 else { throw ValidationError("--max-new-tokens must be positive") }
    }

    func run() throws {
        let pipeline = try LLaVAPipeline(modelDirectory: URL(fileURLWithPath: model),
                                         visionTower: visionTower.map { URL(fileURLWithPath: $0) },
                                         anyresMode: anyres, precision: precision)
        let pruning: Pruning = tokens.map { .pruned(method, tokens: $0, ratio: ratio) } ?? .unpruned
        let request = PipelineRequest(imageURL: image.map { URL(fileURLWithPath: $0) }, question: prompt,
                                      settings: RunSettings(pruning: pruning, seed: seed, maxNewTokens: maxNewTokens))
        let r = try pipeline.run(request)
        guard json else {
            print(r.text)
            return
        }
        let t = r.timings
        let object: [String: Any] = [
            "generated_ids": r.generatedIDs,
            "text": r.text,
            "kept": r.selections.map(\.kept),
            "important": r.selections.map(\.important),
            "diverse": r.selections.map(\.diverse),
            "visual_tokens_fed": r.visualTokensFed,
            "inputs_embeds_length": r.inputsEmbedsLength,
            "input_ids": r.inputIDs,
            "timings_ms": { var d = t.dictionary; d["load"] = pipeline.loadMilliseconds; return d }(),
        ]
        let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
        print(String(decoding: data, as: UTF8.self))
    }
}
