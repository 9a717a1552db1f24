// Placeholder until the Checkpoint work lands; see the module's issue.
public enum CheckpointModule { public static let name = "Checkpoint" }
