/// Errors from benchmark files. The message always names the file, and the line and field when known.
public struct DatasetError: Error, CustomStringConvertible, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public init(file: String, line: Int? = nil, field: String? = nil, _ problem: String) {
        var where_ = file
        if let line { where_ += ":\(line)" }
        if let field { where_ += " field '\(field)'" }
        self.message = "\(where_): \(problem)"
    }
    public var description: String { message }
}
