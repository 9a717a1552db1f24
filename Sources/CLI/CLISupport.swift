import ArgumentParser
import Foundation
import Benchmarks
import Harness
import Store

/// Where benchmark data lives; shared by eval, sweep and merge.
struct DataRootOption: ParsableArguments {
    @Option(name: .customLong("data-root"), help: "Benchmark data root in LLaVA's playground/data/eval layout (default: $VISPRUNER_DATA).")
    var dataRoot: String?

    @Option(help: "datasets.json to use (default: $VISPRUNER_DATASETS, else the data root's datasets.json, else the built-in copy).")
    var datasets: String?

    /// The registry in the documented order (--datasets, $VISPRUNER_DATASETS, data root, built-in).
    func registry(dataRoot root: URL?) throws -> DatasetRegistry {
        try DatasetRegistry.load(explicit: datasets, dataRoot: root)
    }

    var url: URL {
        get throws { try DatasetRegistry.dataRoot(option: dataRoot) }
    }
}

enum CLIRuns {
    /// Provenance for runs started by this binary (source checkout derived from this file's path).
    static var metadata: RunMetadata {
        let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return Provenance.current(toolVersion: ToolVersion.string, sourceDirectory: source)
    }

    /// Score and file writing for stored runs, with the data root of `data`.
    static func outputs(_ data: DataRootOption) throws -> RunOutputs {
        let root = try data.url
        return RunOutputs(registry: try data.registry(dataRoot: root), dataRoot: root)
    }

    /// Prints what `RunOutputs.finish` did: files (unless quiet) and problems to stderr, scores to stdout,
    /// each data note only the first time it appears in `seenNotes` (they repeat for every setting).
    static func show(_ result: RunOutputs.Finished, quiet: Bool, seenNotes: inout Set<String>) {
        if !quiet { for url in result.written { printErr("wrote \(url.path)") } }
        for p in result.problems { printErr(p) }
        for line in result.scores { print(line) }
        for note in result.notes where seenNotes.insert(note).inserted { print("  note: \(note)") }
    }

    /// The shard to run: `--shard`, else the Slurm job array task (announced), else none.
    static func shard(flag: String?, ignoreSlurm: Bool, quiet: Bool) throws -> ShardSpec? {
        let env = ignoreSlurm ? [:] : ProcessInfo.processInfo.environment
        let spec = try ShardSpec.resolve(flag: flag, environment: env)
        if flag == nil, let spec, !quiet {
            printErr("shard \(spec) taken from the Slurm job array (SLURM_ARRAY_TASK_ID=\(env["SLURM_ARRAY_TASK_ID"] ?? "?"))")
        }
        return spec
    }

    static func printErr(_ text: String) {
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }
}
