/// Version reported by `--version` and stored with every run.
enum ToolVersion {
    static let string = "0.1.0"
}
