import Benchmark
import Foundation
import Model
import RandomCheckpoints
import Records

// Sweep throughput with and without reuse (issue 16, "Targets"): total wall time of benchmark-shaped
// sets on a LLaMA-7B-width model with one decoder layer and the full CLIP ViT-L/14-336 tower, once
// through `LLaVAPipeline.run` per (question, setting) (`--no-reuse`: tower, prefill and decode every
// time, the feature memo never touched) and once through `runGrid` per image. Random weights never
// emit EOS, so every answer is exactly `ReuseSets.answerTokens` tokens, a realistic short-answer
// length. Each benchmark also writes its totals, stage sums and generated ids under
// `$VISPRUNER_REUSE_OUT` (default /tmp/vispruner-reuse-bench); whichever of a reuse/no-reuse pair runs
// second compares the ids item by item (benchmarks run in separate processes, so the file is the
// only place both sides meet). `Tools/reuse_table.py` turns results.jsonl into the README table.

let benchmarks: @Sendable () -> Void = {
    // One iteration by default, no warm-up: a no-reuse set takes minutes, and a warm-up would leave
    // the measured reuse run with a hot feature memo. The duration bound would otherwise stop
    // REUSE_ITERATIONS > 1 after the first iteration.
    Benchmark.defaultConfiguration.maxDuration = .seconds(3600)
    Benchmark.defaultConfiguration.maxIterations = ReuseSets.iterations
    Benchmark.defaultConfiguration.warmupIterations = 0
    let metrics: [BenchmarkMetric] = [.wallClock, .peakMemoryResident]
    let config = Benchmark.Configuration(metrics: metrics, timeUnits: .milliseconds)
    let gqaSettings = ReuseSets.gridSettings

    Benchmark("gqa grid no-reuse (\(ReuseSets.gqaImages) img × 8 q × 3 settings)", configuration: config) { benchmark in
        let h = try ReuseHarness.shared(), work = try ReuseSets.gqa(h)
        h.startMeasurement(benchmark)
        for _ in benchmark.scaledIterations { try h.plain(set: "gqa", items: work, settings: gqaSettings) }
    }
    Benchmark("gqa grid reuse (\(ReuseSets.gqaImages) img × 8 q × 3 settings)", configuration: config) { benchmark in
        let h = try ReuseHarness.shared(), work = try ReuseSets.gqa(h)
        h.startMeasurement(benchmark)
        for _ in benchmark.scaledIterations { try h.grid(set: "gqa", variant: "grid", items: work, settings: gqaSettings) }
    }
    // Reuse of one setting alone: the no-reuse side of each is its share of the grid run above
    // (`run` keeps nothing between calls, so a setting's items cost the same inside the grid or alone).
    for setting in gqaSettings {
        Benchmark("gqa reuse \(ReuseSets.label(setting)) alone", configuration: config) { benchmark in
            let h = try ReuseHarness.shared(), work = try ReuseSets.gqa(h)
            h.startMeasurement(benchmark)
            for _ in benchmark.scaledIterations {
                try h.grid(set: "gqa", variant: ReuseSets.label(setting), items: work, settings: [setting])
            }
        }
    }

    let shapedSets: [(String, (ReuseHarness) throws -> [(image: URL, questions: [String])])] =
        [("pope", ReuseSets.pope), ("sqa", ReuseSets.scienceQA)]
    for (set, items) in shapedSets {
        let settings = [ReuseSets.vispruner64]
        Benchmark("\(set) no-reuse vispruner64", configuration: config) { benchmark in
            let h = try ReuseHarness.shared(), work = try items(h)
            h.startMeasurement(benchmark)
            for _ in benchmark.scaledIterations { try h.plain(set: set, items: work, settings: settings) }
        }
        Benchmark("\(set) reuse vispruner64", configuration: config) { benchmark in
            let h = try ReuseHarness.shared(), work = try items(h)
            h.startMeasurement(benchmark)
            for _ in benchmark.scaledIterations { try h.grid(set: set, variant: "vispruner64", items: work, settings: settings) }
        }
    }

    // Batched decode at 1 and 2 decoder layers: the difference is one layer's decode step, the rest
    // the LM head (and embedding, final norm, argmax), which is what the 32-layer estimate needs.
    for layers in [1, 2] {
        for b in [1, 4, 8] {
            Benchmark("decode B=\(b) (\(layers) layer\(layers == 1 ? "" : "s"))", configuration: config) { benchmark in
                let h = try ReuseHarness.shared(layers: layers)
                let image = try h.prepareDecode()
                h.startMeasurement(benchmark)
                for _ in benchmark.scaledIterations { try h.decode(image: image, batch: b) }
            }
        }
    }
}

/// The sets, shaped like the benchmarks they stand for.
enum ReuseSets {
    static let iterations = Int(ProcessInfo.processInfo.environment["REUSE_ITERATIONS"] ?? "") ?? 1
    /// Images of the GQA-shaped set; sized so the whole target runs in about a quarter of an hour on 2 cores.
    static let gqaImages = Int(ProcessInfo.processInfo.environment["REUSE_GQA_IMAGES"] ?? "") ?? 2
    /// Tokens per answer (random weights never stop earlier): a short answer plus EOS.
    static let answerTokens = 4
    /// Decode steps per sequence in the batched-decode benchmarks: enough steps to time, one prefill.
    static let decodeTokens = 16

    static let unpruned = RunSettings(pruning: .unpruned, maxNewTokens: answerTokens)
    static let vispruner128 = RunSettings(pruning: .pruned(.vispruner, tokens: 128, ratio: 0.5), maxNewTokens: answerTokens)
    static let vispruner64 = RunSettings(pruning: .pruned(.vispruner, tokens: 64, ratio: 0.5), maxNewTokens: answerTokens)
    static let gridSettings = [unpruned, vispruner128, vispruner64]

    static func label(_ s: RunSettings) -> String {
        switch s.pruning {
        case .unpruned: return "unpruned"
        case .pruned(let m, let tokens, _): return "\(m.rawValue)\(tokens)"
        }
    }

    static let gqaQuestions = [
        "What color is the car?", "Is the man to the left or to the right of the bus?", "What is the animal on the grass?",
        "Are there both cups and plates in the picture?", "Which side is the lamp on?", "What is the woman holding?",
        "Is the sky cloudy or clear?", "What kind of furniture is in front of the window?",
    ].map { $0 + "\nAnswer the question using a single word or phrase." }

    static let popeObjects = [
        "dog", "car", "person", "chair", "bottle", "cup", "bicycle", "bird", "cat", "truck", "bench", "umbrella",
        "book", "clock", "laptop", "horse", "boat", "traffic light",
    ]

    static func gqa(_ h: ReuseHarness) throws -> [(image: URL, questions: [String])] {
        try (0..<gqaImages).map { (image: try h.image("gqa-\($0)"), questions: gqaQuestions) }
    }

    static func pope(_ h: ReuseHarness) throws -> [(image: URL, questions: [String])] {
        [(image: try h.image("pope-0"),
          questions: popeObjects.map { "Is there a \($0) in the image?\nAnswer the question using a single word or phrase." })]
    }

    /// LLaVA's ScienceQA prompt: question, context, lettered options, the letter instruction.
    static func scienceQA(_ h: ReuseHarness) throws -> [(image: URL, questions: [String])] {
        let questions = [
            "Which of these states is farthest north?\nContext: N/A\nA. West Virginia\nB. Louisiana\nC. Arizona\nD. Oklahoma",
            "Which animal's feet are also adapted for swimming?\nContext: Ducks live near ponds and lakes.\nA. sea otter\nB. African lion",
            "What is the probability that a goat produced by this cross will have white fur?\nContext: N/A\nA. 0/4\nB. 1/4\nC. 2/4\nD. 4/4",
        ].map { $0 + "\nAnswer with the option's letter from the given choices directly." }
        return try questions.enumerated().map { (image: try h.image("sqa-\($0.offset)"), questions: [$0.element]) }
    }
}
