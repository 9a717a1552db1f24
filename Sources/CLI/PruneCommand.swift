import ArgumentParser

// Filled in by the pruning work (issue 4).
struct PruneCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prune",
        abstract: "Select visual tokens from saved features and [CLS] attention (.npy).")
    func run() throws { throw ValidationError("prune is not implemented yet") }
}
