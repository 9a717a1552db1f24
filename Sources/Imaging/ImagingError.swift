import Foundation

/// A failure to read, decode, encode or preprocess an image, naming the file when there is one.
public struct ImagingError: Error, CustomStringConvertible, Equatable, Sendable {
    /// What went wrong, for callers that branch on the cause.
    public enum Kind: String, Sendable {
        /// The bytes are neither PNG nor JPEG.
        case notAnImage
        /// Malformed or truncated image data.
        case corrupt
        /// Declared dimensions exceed the decoder's limits (refused before allocating).
        case tooLarge
        /// A valid file in a layout this module does not handle.
        case unsupported
        /// The file could not be read.
        case unreadable
        /// A bad argument or configuration value.
        case invalidArgument
    }

    public let kind: Kind
    public let message: String
    /// The file involved, when the image came from one.
    public let path: String?

    public init(_ kind: Kind, _ message: String, path: String? = nil) {
        self.kind = kind
        self.message = message
        self.path = path
    }

    /// The same error attributed to `path`.
    public func at(_ path: String) -> ImagingError { ImagingError(kind, message, path: path) }

    public var description: String { path.map { "\($0): \(message)" } ?? message }
}
