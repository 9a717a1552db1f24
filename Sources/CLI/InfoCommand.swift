import ArgumentParser
import Foundation
import Tensor
import Benchmarks

/// Prints what the engine will use on this machine: CPU features, kernel paths and threads.
struct InfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info",
        abstract: "Show the CPU features, kernel paths and threading the engine uses on this machine.",
        discussion: """
            VISPRUNER_KERNELS=portable|avx2|avx512bf16 forces a kernel path (refused if this CPU cannot run it); \
            VISPRUNER_KERNEL_THREADS=N sets the engine's threads; OPENBLAS_NUM_THREADS sets OpenBLAS's; \
            VISPRUNER_PREFILL=packed|openblas picks the kernel for many rows with fp16/bf16 weights.
            """)

    @Option(name: .customLong("data-root"), help: "Data root (default: $VISPRUNER_DATA), for the registry line.")
    var dataRoot: String?

    @Option(help: "datasets.json to use (default: $VISPRUNER_DATASETS, else the data root's datasets.json, else the built-in copy).")
    var datasets: String?

    func run() throws {
        let config = try LinearConfig.fromEnvironment()
        print("vispruner \(ToolVersion.string)")
        let root = try? DatasetRegistry.dataRoot(option: dataRoot)
        do {
            print("registry: \(try DatasetRegistry.load(explicit: datasets, dataRoot: root).origin.description)")
        } catch {
            print("registry: unusable: \(error)")
        }
        print("cpu: \(CPUFeatures.summary)")
        print("kernel path: \(config.path.effective.rawValue) (supported: \(KernelPath.supported.map(\.rawValue).joined(separator: ", ")))")
        print("bf16 dot products (reduced precision): \(KernelPath.avx512bf16.isSupported ? "yes" : "no, emulated in float32")")
        print("prefill kernel (fp16/bf16 weights, many rows): \(config.effectivePrefill.rawValue)")
        print("engine threads: \(config.threads)")
        print("openblas threads: \(BLASThreads.count)")
    }
}
