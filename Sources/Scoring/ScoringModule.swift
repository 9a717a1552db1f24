// Placeholder until the Scoring work lands; see the module's issue.
public enum ScoringModule { public static let name = "Scoring" }
