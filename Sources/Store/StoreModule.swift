// Placeholder until the Store work lands; see the module's issue.
public enum StoreModule { public static let name = "Store" }
