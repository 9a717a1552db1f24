// Placeholder until the Harness work lands; see the module's issue.
public enum HarnessModule { public static let name = "Harness" }
