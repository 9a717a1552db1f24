import Foundation

/// Reads a small JSON config file with a size bound and a clear error.
enum ConfigJSON {
    static let maxBytes = 16 * 1024 * 1024

    static func load<T: Decodable>(_ type: T.Type, from url: URL) throws -> T {
        let fm = FileManager.default
        guard fm.fileExists(atPath: url.path) else { throw CheckpointError("\(url.path): config file not found") }
        if let size = (try? fm.attributesOfItem(atPath: url.path))?[.size] as? NSNumber, size.intValue > maxBytes {
            throw CheckpointError("\(url.path): config file is larger than \(maxBytes) bytes")
        }
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw CheckpointError("\(url.path): cannot read (\(error.localizedDescription))")
        }
        do { return try JSONDecoder().decode(T.self, from: data) } catch let e as CheckpointError {
            throw CheckpointError("\(url.path): \(e.message)")
        } catch let DecodingError.typeMismatch(_, ctx), let DecodingError.valueNotFound(_, ctx) {
            throw CheckpointError("\(url.path): field \(ctx.codingPath.map(\.stringValue).joined(separator: ".")): \(ctx.debugDescription)")
        } catch let DecodingError.keyNotFound(key, ctx) {
            let path = (ctx.codingPath + [key]).map(\.stringValue).joined(separator: ".")
            throw CheckpointError("\(url.path): required field \(path) is missing")
        } catch {
            throw CheckpointError("\(url.path): cannot parse (\(error))")
        }
    }
}

/// Dynamic coding key so configs can read snake_case names with defaults.
struct AnyKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(_ s: String) { stringValue = s }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { return nil }
}

extension KeyedDecodingContainer where Key == AnyKey {
    func value<T: Decodable>(_ key: String, default def: T) throws -> T {
        let k = AnyKey(key)
        guard contains(k), try !decodeNil(forKey: k) else { return def }
        return try decode(T.self, forKey: k)
    }

    func optional<T: Decodable>(_ key: String) throws -> T? {
        let k = AnyKey(key)
        guard contains(k), try !decodeNil(forKey: k) else { return nil }
        return try decode(T.self, forKey: k)
    }

    func required<T: Decodable>(_ key: String) throws -> T {
        try decode(T.self, forKey: AnyKey(key))
    }

    /// An integer that configs sometimes write as a list (e.g. several EOS ids): the first entry.
    func intOrFirst(_ key: String) throws -> Int? {
        let k = AnyKey(key)
        guard contains(k), try !decodeNil(forKey: k) else { return nil }
        if let v = try? decode(Int.self, forKey: k) { return v }
        return try decode([Int].self, forKey: k).first
    }
}
