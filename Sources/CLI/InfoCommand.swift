import ArgumentParser
import Tensor

/// Prints what the engine will use on this machine: CPU features and BLAS threads.
struct InfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info",
        abstract: "Show the CPU features and BLAS threading the engine detects on this machine.")

    func run() throws {
        print("vispruner \(ToolVersion.string)")
        print("cpu: \(CPUFeatures.summary)")
        print("openblas threads: \(BLASThreads.count)")
    }
}
