// Placeholder until the Pruning work lands; see the module's issue.
public enum PruningModule { public static let name = "Pruning" }
