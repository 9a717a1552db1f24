import Benchmark
import Foundation
import Model
import Pruning
import RandomCheckpoints
import Tensor
import Tokenizer
import Imaging

// Full generate on a real-size LLaVA-1.5-7B with random fp16 weights (32 layers, ≈ 13 GB written
// once under VISPRUNER_BENCH_MODELS), VisPruner at 576 (unpruned), 192, 128, 64 and 32 visual
// tokens. Wall clock per generate (image decode → 8 new tokens), time to first token and the
// per-stage times as custom metrics, peak resident memory. Heavy: about 10 minutes on 2 cores.

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration.maxDuration = .seconds(1)
    Benchmark.defaultConfiguration.maxIterations = 1
    Benchmark.defaultConfiguration.warmupIterations = 0
    let stage = { (name: String) in BenchmarkMetric.custom(name, polarity: .prefersSmaller, useScalingFactor: false) }
    let metrics: [BenchmarkMetric] = [.wallClock, .peakMemoryResident, stage("ttft ms"), stage("vision ms"),
                                      stage("prefill ms"), stage("decode ms/token")]
    let precision = ComputePrecision(rawValue: ProcessInfo.processInfo.environment["VISPRUNER_PRECISION"] ?? "") ?? .float32
    let suffix = precision == .float32 ? "" : " [\(precision.rawValue)]"
    let model: LLaVAModel, ids: [Int], pixels: Tensor
    do {
        let paths = try BenchmarkModels.llava7B()
        model = try LLaVAModel(directory: paths.model, visionTower: paths.tower, precision: precision)
        let tok = try SentencePieceTokenizer(modelURL: paths.model.appendingPathComponent("tokenizer.model"))
        ids = ImageTokens.tokenize(prompt: ConversationTemplate.vicunaV1.prompt(imageQuestion: "Is there a dog in the image?"), with: tok)
        pixels = LLaVAImagePreprocessing.pad(try ImageDecoder.decode(contentsOf: BenchmarkModels.sampleImage))
        // Touch every mapped weight page once, so the measured runs see the steady state of a long
        // evaluation rather than the first item's page faults.
        _ = try Stages.answer(model: model, inputIDs: ids, image: PreparedImage(views: [pixels], layout: .single),
                              selector: .fixed([Array(0..<32)]), maxNewTokens: 2, eosID: -1)
    } catch {
        fatalError("cannot prepare the random 7B checkpoint: \(error)")
    }
    for tokens in [576, 192, 128, 64, 32] {
        Benchmark("generate 7B, \(tokens) visual tokens\(suffix)", configuration: .init(metrics: metrics)) { benchmark in
            for _ in benchmark.scaledIterations {
                let selector: PatchSelector = tokens >= model.vision.config.numPatches
                    ? .all : .method(.vispruner, tokens: tokens, ratio: 0.5, seed: 0)
                let out = try Stages.answer(model: model, inputIDs: ids, image: PreparedImage(views: [pixels], layout: .single),
                                            selector: selector, maxNewTokens: 8, eosID: -1).generation
                let t = out.timings
                benchmark.measurement(stage("ttft ms"), Int(t.vision + t.prune + t.projector + t.prefill))
                benchmark.measurement(stage("vision ms"), Int(t.vision))
                benchmark.measurement(stage("prefill ms"), Int(t.prefill))
                benchmark.measurement(stage("decode ms/token"), Int(t.decode / Double(max(1, out.tokens.count - 1))))
            }
        }
    }
}
