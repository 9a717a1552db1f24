import Foundation

/// A failure to load or interpret a SentencePiece model.
///
/// The message names the file (when known), the protobuf field or piece involved and what was wrong, so a
/// corrupt or unsupported `tokenizer.model` can be diagnosed from the error alone.
public struct TokenizerError: Error, CustomStringConvertible, Equatable {
    /// What went wrong, in words.
    public let message: String

    /// Creates an error carrying `message`.
    public init(_ message: String) {
        self.message = message
    }

    /// The message, prefixed so it is recognisable in logs.
    public var description: String { "tokenizer: \(message)" }

    /// The same error with the source file's path in front of the message.
    func located(at url: URL) -> TokenizerError {
        TokenizerError("\(url.path): \(message)")
    }
}
