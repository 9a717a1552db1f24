// Placeholder until the Report work lands; see the module's issue.
public enum ReportModule { public static let name = "Report" }
