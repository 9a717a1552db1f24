// Placeholder until the Tokenizer work lands; see the module's issue.
public enum TokenizerModule { public static let name = "Tokenizer" }
