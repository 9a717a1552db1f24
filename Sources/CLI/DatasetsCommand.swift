import ArgumentParser
import Foundation
import Benchmarks
import Harness
import Imaging
import Records

/// `vispruner datasets check --data-root DIR`.
struct DatasetsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "datasets",
        abstract: "Inspect the benchmarks declared in datasets.json.",
        discussion: """
        The registry is, in this order: --datasets FILE, $VISPRUNER_DATASETS, the data root's datasets.json, \
        else the copy built into the binary (the repository's datasets.json when it was built). `datasets list` \
        and `info` say which one is in use.
        """,
        subcommands: [DatasetsListCommand.self, DatasetsCheckCommand.self])
}

/// `vispruner datasets list`: the registry in use and its benchmarks.
struct DatasetsListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "Say which datasets.json is in use and list its benchmarks.")

    @Option(name: .customLong("data-root"), help: "Data root (default: $VISPRUNER_DATA; its datasets.json is used when present).")
    var dataRoot: String?

    @Option(help: "datasets.json to use (default: $VISPRUNER_DATASETS, else the data root's datasets.json, else the built-in copy).")
    var datasets: String?

    func run() throws {
        let root = dataRoot != nil || ProcessInfo.processInfo.environment[DatasetRegistry.dataRootVariable].map({ !$0.isEmpty }) == true
            ? try DatasetRegistry.dataRoot(option: dataRoot) : nil
        let registry = try DatasetRegistry.load(explicit: datasets, dataRoot: root)
        print("registry: \(DataRootCheck.printable(registry.origin.description))")
        for s in registry.specs {
            print("\(s.name)\t\(s.title)\tsplit \(s.split)\tscorer \(s.scorer)\tquestions \(DataRootCheck.printable(s.questionFile))")
        }
    }
}

struct DatasetsCheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Preflight a data root: question files, every image's header, the annotation and label files scoring needs.",
        discussion: """
        For each benchmark: the question file parses (malformed lines listed), every image is inside the image \
        folder, readable and its PNG/JPEG header decodes, and the files its scorer needs are present and parse \
        (POPE: a label file for every split the questions use; VQAv2 test-dev: the test2015 list its submission \
        needs); with --decode every image is decoded in full and each failing file listed. Paths are printed with control characters escaped. Without --dataset, benchmarks whose question \
        file is absent are skipped with a line saying so; with it, they are problems. Exits 1 when anything is wrong. \
        eval and sweep run the same checks for their benchmarks before generating the first answer.
        """)

    @Option(name: .customLong("data-root"), help: "Data root in LLaVA's playground/data/eval layout (default: $VISPRUNER_DATA).")
    var dataRoot: String?

    @Option(help: "datasets.json to use (default: $VISPRUNER_DATASETS, else the data root's datasets.json, else the built-in copy).")
    var datasets: String?

    @Option(name: .customLong("dataset"), help: "Check only this benchmark (repeatable); its question file must be present.")
    var only: [String] = []

    @Flag(help: "Decode every image fully (not only its header), one at a time within the decoder's size limits, listing each file that fails with its reason: finds a damaged JPEG/PNG body before a run. Slower.")
    var decode = false

    func run() throws {
        let root = try DatasetRegistry.dataRoot(option: dataRoot)
        let registry = try DatasetRegistry.load(explicit: datasets, dataRoot: root)
        print("data root: \(DataRootCheck.printable(root.path))")
        print("registry: \(DataRootCheck.printable(registry.origin.description))")
        var problems = 0, checked = 0
        let names = only.isEmpty ? registry.names : only
        for name in names {
            let benchmark = try registry.benchmark(named: name, dataRoot: root)
            let report = DataRootCheck.check(benchmark, requireQuestions: !only.isEmpty, listLimit: decode ? Int.max : 5,
                                             imageProblem: decode ? Preflight.imageDecodeProblem : Preflight.imageProblem)
            print(report.lines.joined(separator: "\n"))
            if let line = unconvertedImageCounts(benchmark) { print(line) }
            problems += report.problems
            if report.checked { checked += 1 }
        }
        print("")
        print("\(checked) benchmark(s) checked, \(problems) problem(s)")
        if problems > 0 { throw ExitCode(1) }
    }

    /// For a benchmark whose reference opens images unconverted (ScienceQA): how many of its items take the
    /// reference's quirk path and how many the RGB fallback with LLaVA-1.5's padding (EVAL.md, "Image handling").
    func unconvertedImageCounts(_ benchmark: any Benchmark) -> String? {
        guard type(of: benchmark).opensImagesUnconverted, let items = try? benchmark.items() else { return nil }
        var counts: [ImagePath: Int] = [:]
        var unknown = 0
        for item in items {
            guard let url = try? benchmark.imageURL(for: item) else { continue }
            if let path = (try? ImageHeader.read(contentsOf: url))?.unconvertedPadPath { counts[path, default: 0] += 1 } else { unknown += 1 }
        }
        return "  images as the reference opens them (LLaVA-1.5 pad): \(counts[.quirk] ?? 0) items padded in their own mode "
            + "(palette black-out, CMYK ink), \(counts[.fallback] ?? 0) converted to RGB because the reference cannot pad them "
            + "(fallback), \(counts[.plain] ?? 0) unchanged" + (unknown > 0 ? ", \(unknown) unreadable" : "")
    }
}
