// Placeholder until the Model work lands; see the module's issue.
public enum ModelModule { public static let name = "Model" }
