import Crypto
import Foundation

/// SHA-256 as run keys and answer ids use it (swift-crypto's implementation).
public enum SHA256Digest {
    /// The 32-byte digest of `bytes`.
    public static func hash(_ bytes: [UInt8]) -> [UInt8] { Array(SHA256.hash(data: bytes)) }

    /// Lower-case hex digest of `data` (an image file's bytes, a tensor's).
    public static func hex(data: Data) -> String {
        SHA256.hash(data: data).map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    }

    /// Lower-case hex digest of the UTF-8 bytes of `text`.
    public static func hex(_ text: String) -> String {
        SHA256.hash(data: Array(text.utf8)).map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    }
}

/// Incremental SHA-256, for inputs too large to hold at once (image files, cached feature files).
public struct SHA256Stream {
    private var hasher = SHA256()

    public init() {}

    public mutating func update(_ bytes: UnsafeRawBufferPointer) { hasher.update(bufferPointer: bytes) }

    public mutating func update(_ bytes: [UInt8]) { bytes.withUnsafeBytes { hasher.update(bufferPointer: $0) } }

    /// The 32-byte digest of everything passed to `update`.
    public func finalize() -> [UInt8] { Array(hasher.finalize()) }
}

extension SHA256Digest {
    /// Lower-case hex of a digest (or any bytes).
    public static func hex(bytes: [UInt8]) -> String {
        bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    }
}
