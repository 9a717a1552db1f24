import Foundation
import XCTest
import Store
@testable import Harness
import Records

final class SweepPlanTests: XCTestCase {
    let json = """
        {"models": ["ckpt/llava-v1.5-7b", "ckpt/llava-v1.5-13b"], "datasets": ["gqa", "pope"],
         "methods": ["vispruner", "fastervlm"], "tokens": [64, 128, 192], "ratios": [0.5], "limit": 100}
        """
    let yaml = """
        # same sweep as the JSON one
        models:
          - ckpt/llava-v1.5-7b
          - ckpt/llava-v1.5-13b
        datasets: [gqa, pope]
        methods: [vispruner, fastervlm]
        tokens: [64, 128, 192]
        ratios: [0.5]
        limit: 100
        """

    func testJSONAndYAMLExpandToTheSameGrid() throws {
        let a = try SweepSpec.parse(Data(json.utf8), yaml: false)
        let b = try SweepSpec.parse(Data(yaml.utf8), yaml: true)
        XCTAssertEqual(a, b)
        XCTAssertTrue(a.baseline)
        XCTAssertEqual(a.limit, 100)
        let plan = try SweepPlan(a)
        // 2 models × 2 datasets × (1 baseline + 2 methods × 3 budgets × 1 ratio)
        XCTAssertEqual(plan.jobs.count, 2 * 2 * (1 + 2 * 3 * 1))
        XCTAssertEqual(plan.jobs.filter { $0.settings.pruning.tokens == nil }.count, 4, "one baseline per model × dataset")
        XCTAssertEqual(plan.jobs[0].description, "llava-v1.5-7b gqa none")
        XCTAssertEqual(plan.jobs[1].description, "llava-v1.5-7b gqa vispruner t64 r0.5")
        XCTAssertEqual(Set(plan.jobs).count, plan.jobs.count)
        XCTAssertEqual(try SweepPlan(b).jobs, plan.jobs)
    }

    func testLoadPicksTheFormatByExtension() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sweep-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try json.write(to: dir.appendingPathComponent("s.json"), atomically: true, encoding: .utf8)
        try yaml.write(to: dir.appendingPathComponent("s.yaml"), atomically: true, encoding: .utf8)
        XCTAssertEqual(try SweepSpec.load(dir.appendingPathComponent("s.json")),
                       try SweepSpec.load(dir.appendingPathComponent("s.yaml")))
        XCTAssertThrowsError(try SweepSpec.load(dir.appendingPathComponent("absent.yaml"))) {
            XCTAssertTrue("\($0)".contains("absent.yaml"))
        }
    }

    func testBaselineListedAsAMethodIsNotDuplicatedAndCanBeTurnedOff() throws {
        let spec = SweepSpec(models: ["m"], datasets: ["mme"], methods: ["none", "vispruner"], tokens: [32], ratios: [0.25, 0.5])
        XCTAssertEqual(try SweepPlan(spec).jobs.count, 1 + 2)
        var off = spec
        off.baseline = false
        off.methods = ["vispruner"]
        XCTAssertEqual(try SweepPlan(off).jobs.count, 2)
    }

    func testInvalidSweepsAreRejectedWithTheFieldNamed() {
        let cases: [(String, String)] = [
            ("{\"datasets\": [\"gqa\"]}", "models"),
            ("{\"models\": [\"m\"], \"datasets\": [\"gqa\"], \"tokens\": [0]}", "token budget"),
            ("{\"models\": [\"m\"], \"datasets\": [\"gqa\"], \"tokens\": [64], \"ratios\": [1.5]}", "ratio"),
            ("{\"models\": [\"m\"], \"datasets\": [\"gqa\"]}", "token budget in 'tokens'"),
            ("{\"models\": \"m\", \"datasets\": [\"gqa\"]}", "models"),
            ("not json", "JSON"),
        ]
        for (text, needle) in cases {
            XCTAssertThrowsError(try SweepSpec.parse(Data(text.utf8), yaml: false, file: "s.json"), text) {
                XCTAssertTrue("\($0)".contains(needle) && "\($0)".contains("s.json"), "\(text): \($0)")
            }
        }
        XCTAssertThrowsError(try SweepSpec.parse(Data("models: [m\n".utf8), yaml: true, file: "s.yaml"))
    }

    func testStatesAgainstAStoreSkipFinishedRuns() throws {
        let store = try ResultsStore(path: tempPath("sweep.sqlite"))
        func config(_ t: Int?) -> RunConfig {
            RunConfig(modelID: "m", checkpointFingerprint: "f", dataset: "gqa", split: "s",
                      pruning: t.map { .pruned(.vispruner, tokens: $0, ratio: 0.5) } ?? .unpruned, maxNewTokens: 16)
        }
        let finished = try store.beginRun(config(64), metadata: harnessMetadata, expectedItems: 0)
        try store.finishRun(finished)
        let partial = try store.beginRun(config(128), metadata: harnessMetadata, expectedItems: 3)
        try store.finishRun(partial)
        let states = try SweepPlan.states(of: [config(nil), config(64), config(128)], in: store)
        XCTAssertEqual(states, [.todo, .finished(finished), .partial(done: 0, expected: 3)])
    }
}

final class SweepRunnerTests: XCTestCase {
    func testSecondSweepSkipsFinishedRunsAndEnginesAreBuiltOncePerModel() throws {
        let bench = try FakeBenchmark(count: 4)
        defer { bench.remove() }
        let store = try ResultsStore(path: tempPath("sweep.sqlite"))
        var enginesBuilt: [String] = []
        var adaptersBuilt = 0
        let runner = SweepRunner(store: store, makeEngine: { model in
            enginesBuilt.append(model)
            return FakeEngine()
        }, makeBenchmark: { _ in
            adaptersBuilt += 1
            return bench.adapter
        })
        let plan = try SweepPlan(SweepSpec(models: ["m1"], datasets: ["fakebench"], methods: ["vispruner"],
                                       tokens: [16, 32], ratios: [0.5], limit: 3))
        let first = try runner.run(plan, options: EvalOptions(metadata: harnessMetadata))
        XCTAssertEqual(first.count, 3)
        var evaluated = 0
        for case .evaluated(_, let s) in first {
            evaluated += 1
            XCTAssertEqual(s.answered, 3, "the plan's limit applies")
            XCTAssertEqual(s.run.status, .complete)
        }
        XCTAssertEqual(evaluated, 3)
        XCTAssertEqual(enginesBuilt, ["m1"])
        XCTAssertEqual(adaptersBuilt, 1)

        var seen: [String] = []
        let second = try runner.run(plan, options: EvalOptions(metadata: harnessMetadata)) { outcome in
            if case .skipped(let job, _) = outcome { seen.append(job.description) }
        }
        XCTAssertEqual(second.filter { if case .skipped = $0 { return true } else { return false } }.count, 3)
        XCTAssertEqual(seen, ["m1 fakebench none", "m1 fakebench vispruner t16 r0.5", "m1 fakebench vispruner t32 r0.5"])
        XCTAssertEqual(try store.runs().count, 3)
    }
}

extension SweepPlanTests {
    func testUnknownKeysAndEveryBadValueAreReportedTogether() throws {
        XCTAssertThrowsError(try SweepSpec.parse(Data("models: [m]\ndatasets: [gqa]\nlimt: 5\n".utf8), yaml: true, file: "s.yaml")) {
            XCTAssertTrue("\($0)".contains("s.yaml: unknown key 'limt' (did you mean 'limit'?)"), "\($0)")
        }
        XCTAssertThrowsError(try SweepSpec.parse(Data(#"{"models": ["m"], "datasets": ["gqa"], "ratio": [0.5]}"#.utf8), yaml: false)) {
            XCTAssertTrue("\($0)".contains("unknown key 'ratio' (did you mean 'ratios'?)"), "\($0)")
        }
        let bad = SweepSpec(models: [], datasets: ["gqa"], methods: ["fastv", "vispruner"], tokens: [0, 64], ratios: [-1, 0.5])
        let problems = bad.problems(file: "cli")
        XCTAssertEqual(problems.count, 4, "\(problems)")
        XCTAssertTrue(problems.contains { $0.contains("'models' is empty") })
        XCTAssertTrue(problems.contains { $0.contains("token budget 0") })
        XCTAssertTrue(problems.contains { $0.contains("ratio -1.0") })
        XCTAssertTrue(problems.contains { $0.contains("unknown method 'fastv' (did you mean 'fastervlm'?") })
        XCTAssertThrowsError(try SweepPlan(bad))
    }

    func testRatioFreeMethodsAreOneRunPerBudget() throws {
        let spec = SweepSpec(models: ["m"], datasets: ["gqa"], methods: ["vispruner", "fastervlm", "random"], tokens: [64],
                             ratios: [0.25, 0.5, 0.75], baseline: false)
        let plan = try SweepPlan(spec)
        XCTAssertEqual(plan.jobs.map(\.description), ["m gqa vispruner t64 r0.25", "m gqa vispruner t64 r0.5", "m gqa vispruner t64 r0.75",
                                                      "m gqa fastervlm t64", "m gqa random t64"])
    }
}
