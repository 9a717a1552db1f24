// Placeholder until the Imaging work lands; see the module's issue.
public enum ImagingModule { public static let name = "Imaging" }
