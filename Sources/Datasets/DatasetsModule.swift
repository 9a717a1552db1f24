// Placeholder until the Datasets work lands; see the module's issue.
public enum DatasetsModule { public static let name = "Datasets" }
