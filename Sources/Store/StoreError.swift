/// Errors from the results store. Messages name the database file and, where relevant, the run and item.
public struct StoreError: Error, CustomStringConvertible, Equatable {
    public enum Kind: Equatable, Sendable {
        /// The item already has a stored prediction (UNIQUE(run, question_id)).
        case duplicate
        /// A run id, key or row that should exist does not.
        case notFound
        /// A stored value cannot be decoded (corrupt or foreign database).
        case corrupt
        /// The caller asked for something the store refuses (e.g. merging a file into itself).
        case refused
        /// SQLite or the file system failed.
        case io
    }

    public let kind: Kind
    public let message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }
}
