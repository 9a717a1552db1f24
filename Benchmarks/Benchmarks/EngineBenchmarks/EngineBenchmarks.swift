import Benchmark
import Foundation
import Imaging
import Model
import RandomCheckpoints
import Tensor
import Tokenizer

// The engine's phases at LLaVA-1.5-7B size, with the same shapes as peers/torch_peer.py so
// run-all.sh can put them side by side: CLIP ViT-L/14-336 forward (the 23 layers LLaVA uses),
// one LLaMA-7B decoder layer (prefill of 640 and 128 positions, one decode step after 640 cached
// positions), the projector, tokenizer and image preprocessing. Weights are random fp16 in a
// one-layer 7B checkpoint written once (see RandomCheckpoints). The `VISPRUNER_PRECISION`
// environment variable (float32 | bfloat16) picks the language model's arithmetic.

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration.maxDuration = .seconds(20)
    Benchmark.defaultConfiguration.maxIterations = 5
    Benchmark.defaultConfiguration.warmupIterations = 1
    let metrics: [BenchmarkMetric] = [.wallClock, .throughput, .peakMemoryResident]
    let precision = ComputePrecision(rawValue: ProcessInfo.processInfo.environment["VISPRUNER_PRECISION"] ?? "") ?? .float32
    let suffix = precision == .float32 ? "" : " [\(precision.rawValue)]"

    let model: LLaVAModel
    do {
        let paths = try BenchmarkModels.llava7B(layers: 1)
        model = try LLaVAModel(directory: paths.model, visionTower: paths.tower, precision: precision)
    } catch {
        fatalError("cannot prepare the random 7B checkpoint: \(error)")
    }

    Benchmark("clip forward (23 layers, 577 tokens)", configuration: .init(metrics: metrics)) { benchmark in
        let pixels = LLaVAImagePreprocessing.pad(try ImageDecoder.decode(contentsOf: BenchmarkModels.sampleImage))
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations { blackHole(try model.vision.encode(pixels: pixels)) }
    }

    Benchmark("projector 576 tokens\(suffix)", configuration: .init(metrics: metrics)) { benchmark in
        let features = Tensor(shape: [576, model.config.mmHiddenSize], data: BenchmarkModels.noise(576 * model.config.mmHiddenSize))
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations { blackHole(try model.project(features)) }
    }

    decoderLayerBenchmarks(model, label: "llama", prefillRows: [640, 128], suffix: suffix, metrics: metrics)

    // LLaVA-1.5/1.6-13B width (5120 hidden, 40 heads, 13824 MLP): one layer, as above.
    do {
        let paths = try BenchmarkModels.llava13B(layers: 1)
        let model13B = try LLaVAModel(directory: paths.model, visionTower: paths.tower, precision: precision)
        decoderLayerBenchmarks(model13B, label: "llama-13b", prefillRows: [640], suffix: suffix, metrics: metrics)
    } catch {
        fatalError("cannot prepare the random 13B checkpoint: \(error)")
    }

    Benchmark("tokenizer (LLaVA prompt)", configuration: .init(metrics: metrics, maxDuration: .seconds(3), maxIterations: 2000)) { benchmark in
        let tok = try SentencePieceTokenizer(modelURL: BenchmarkModels.tokenizerSource.appendingPathComponent("tokenizer.model"))
        let prompt = ConversationTemplate.vicunaV1.prompt(imageQuestion:
            "What is the color of the bus parked next to the red-brick building?\nAnswer the question using a single word or phrase.")
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations { blackHole(ImageTokens.tokenize(prompt: prompt, with: tok)) }
    }

    Benchmark("image decode + preprocess (JPEG 640x480 → 3x336x336)",
              configuration: .init(metrics: metrics, maxDuration: .seconds(3), maxIterations: 200)) { benchmark in
        let data = try Data(contentsOf: BenchmarkModels.sampleImage)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            blackHole(LLaVAImagePreprocessing.pad(try ImageDecoder.decode(data: data)))
        }
    }
}

/// Prefill of `prefillRows` positions and one decode step after 640 cached positions through the
/// one decoder layer of `model` (no LM head).
private func decoderLayerBenchmarks(_ model: LLaVAModel, label: String, prefillRows: [Int], suffix: String,
                                    metrics: [BenchmarkMetric]) {
    let D = model.config.hiddenSize
    for rows in prefillRows {
        Benchmark("\(label) layer prefill \(rows) tokens\(suffix)", configuration: .init(metrics: metrics)) { benchmark in
            let input = BenchmarkModels.embeddings(rows: rows, width: D)
            let session = try model.makeDecoderSession(capacity: rows)
            benchmark.startMeasurement()
            for _ in benchmark.scaledIterations {
                session.truncate(to: 0)
                try model.runDecoder(embeddings: input, session: session, logits: false)
            }
        }
    }
    Benchmark("\(label) layer decode step (640 cached)\(suffix)",
              configuration: .init(metrics: metrics, maxDuration: .seconds(10), maxIterations: 50)) { benchmark in
        let session = try model.makeDecoderSession(capacity: 641)
        try model.runDecoder(embeddings: BenchmarkModels.embeddings(rows: 640, width: D), session: session, logits: false)
        let step = BenchmarkModels.embeddings(rows: 1, width: D, seed: 2)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            session.truncate(to: 640)
            try model.runDecoder(embeddings: step, session: session, logits: false)
        }
    }
}
