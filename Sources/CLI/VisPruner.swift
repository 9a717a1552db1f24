import ArgumentParser

/// Root command. Each subcommand lives in its own file named after it.
struct VisPruner: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vispruner",
        abstract: "Evaluate VisPruner visual-token pruning on LLaVA with a native Swift engine.",
        discussion: """
        Typical use: `vispruner demo` runs the bundled trained tiny model over held-out synthetic benchmark items; \
        `vispruner eval --model DIR --dataset NAME --tokens 64 --ratio 0.5` evaluates a real checkpoint.
        """,
        version: ToolVersion.string,
        subcommands: [
            DemoCommand.self,
            GenerateCommand.self,
            PruneCommand.self,
            VisualizeCommand.self,
            InfoCommand.self,
            EvalCommand.self,
            SweepCommand.self,
            MergeCommand.self,
            ReportCommand.self,
            ScoreCommand.self,
            ExportCommand.self,
            VerifyCommand.self,
            DatasetsCommand.self,
        ]
    )
}
