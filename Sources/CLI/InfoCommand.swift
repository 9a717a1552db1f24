import ArgumentParser
import Foundation
import Tensor
import Benchmarks

/// Prints what the engine will use on this machine: CPU features, kernel paths, numerics and threads.
struct InfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info",
        abstract: "Show the CPU features, kernel paths, numerics and threading the engine uses on this machine.",
        discussion: """
            Every kernel path computes the same bits (numerics \(Numerics.version), defined in \
            Sources/System/CKernels/include/CKernels.h); they differ only in speed. \
            VISPRUNER_KERNELS=portable|avx2|avx512bf16 forces a kernel path (refused if this CPU cannot run it); \
            VISPRUNER_KERNEL_THREADS=N sets the engine's threads (results do not depend on it); \
            VISPRUNER_PREFILL=openblas opts into OpenBLAS sgemm for many-row products of the tower and \
            projector (faster on some machines, but machine-dependent answers); OPENBLAS_NUM_THREADS sets its threads.
            """)

    @Option(name: .customLong("data-root"), help: "Data root (default: $VISPRUNER_DATA), for the registry line.")
    var dataRoot: String?

    @Option(help: "datasets.json to use (default: $VISPRUNER_DATASETS, else the data root's datasets.json, else the built-in copy).")
    var datasets: String?

    func run() throws {
        let config = try LinearConfig.fromEnvironment()
        KernelPath.setActive(config.path)
        let active = KernelPath.active
        print("vispruner \(ToolVersion.string)")
        let root = try? DatasetRegistry.dataRoot(option: dataRoot)
        do {
            print("registry: \(try DatasetRegistry.load(explicit: datasets, dataRoot: root).origin.description)")
        } catch {
            print("registry: unusable: \(error)")
        }
        print("cpu: \(CPUFeatures.summary)")
        print("numerics: \(Numerics.version) (this configuration: \(Numerics.arithmetic(prefill: config.prefill, path: active)))")
        print("kernel path: \(active.rawValue) (supported: \(KernelPath.supported.map(\.rawValue).joined(separator: ", ")))")
        print("kernels:")
        for (kernel, implementation) in kernelTable(active) { print("  \(kernel): \(implementation)") }
        print("bf16 dot products (reduced precision): \(KernelPath.avx512bf16.isSupported ? "yes (vdpbf16ps, machine-dependent)" : "no, bf16-rounded activations through the float32 kernels")")
        print("prefill kernel (many rows of the tower and projector): \(config.prefill.rawValue)")
        print("engine threads: \(config.threads)")
        print("openblas threads: \(BLASThreads.count)\(config.prefill == .openblas ? "" : " (not used)")")
    }

    /// Which implementation each kernel of the forward path runs on `path`.
    private func kernelTable(_ path: KernelPath) -> [(String, String)] {
        let simd = path >= .avx2
        let product = simd ? "AVX2 packed GEMM (6x16 tiles, F16C widening)" : "portable C (fmaf chains)"
        return [
            ("linear f32/f16/bf16 (prefill and decode)", product),
            ("tower attention Q·Kᵀ, P·V", product),
            ("decoder attention", simd ? "AVX2 (keys transposed, lanes across keys / head dimension)" : "portable C"),
            ("layernorm, rmsnorm, softmax", simd ? "AVX2 build of the portable C (R16 sums)" : "portable C (R16 sums)"),
            ("silu, quick_gelu, gelu(erf), exp", simd ? "AVX2 build of the portable C (own exp, erf)" : "portable C (own exp, erf)"),
            ("RoPE tables (pow, sin, cos)", "portable C, double precision"),
            ("VisPruner similarity (norm, Gram)", simd ? "AVX2, reference order" : "portable C, reference order"),
        ]
    }
}
