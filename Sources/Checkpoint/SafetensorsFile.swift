import Foundation

/// One memory-mapped `.safetensors` file.
///
/// Layout: an 8-byte little-endian header length, a JSON header mapping tensor names to
/// `{dtype, shape, data_offsets: [begin, end]}` (offsets relative to the data section that follows
/// the header) plus an optional `__metadata__` object, then the raw tensor bytes. Every number read
/// from the file is bounded before use, so a damaged file yields an error, never a crash.
public final class SafetensorsFile {
    /// Headers beyond this are refused; real ones are a few hundred kilobytes at most.
    public static let maxHeaderLength = 100 * 1024 * 1024
    /// Rank bound for a shape entry; real checkpoints use at most 4.
    static let maxRank = 8

    public let url: URL
    public let file: MappedFile
    /// Tensors stored as F16, BF16 or F32, by name.
    public let tensors: [String: StoredTensor]
    /// Tensors whose dtype this engine does not compute with (name → dtype string). Their byte
    /// ranges were still validated; asking a `WeightStore` for one gives an error naming it.
    public let unsupportedTensors: [String: String]
    /// The `__metadata__` string map, if present.
    public let metadata: [String: String]

    /// Byte sizes of the dtypes the safetensors format defines, used to validate ranges of
    /// tensors that are stored but not computed with (e.g. int64 position-id buffers).
    static let otherDTypeSizes: [String: Int] = [
        "F64": 8, "I64": 8, "U64": 8, "I32": 4, "U32": 4, "I16": 2, "U16": 2,
        "I8": 1, "U8": 1, "BOOL": 1, "F8_E4M3": 1, "F8_E5M2": 1,
    ]

    public init(url: URL) throws {
        self.url = url
        let file = try MappedFile(url: url)
        self.file = file
        let path = url.path
        guard file.size >= 8 else {
            throw CheckpointError("\(path): file is \(file.size) bytes, too short for a safetensors header")
        }
        var headerLength: UInt64 = 0
        for i in 0..<8 { headerLength |= UInt64(file.base.load(fromByteOffset: i, as: UInt8.self)) << (8 * UInt64(i)) }
        guard headerLength <= UInt64(Self.maxHeaderLength) else {
            throw CheckpointError("\(path): header length \(headerLength) exceeds the \(Self.maxHeaderLength)-byte limit")
        }
        guard headerLength <= UInt64(file.size - 8) else {
            throw CheckpointError("\(path): header length \(headerLength) runs past the end of the \(file.size)-byte file (truncated?)")
        }
        let dataStart = 8 + Int(headerLength)
        let dataSize = file.size - dataStart
        let headerData = Data(bytes: file.base + 8, count: Int(headerLength))
        let json: Any
        do { json = try JSONSerialization.jsonObject(with: headerData) } catch {
            throw CheckpointError("\(path): header is not valid JSON (\(error.localizedDescription))")
        }
        guard let header = json as? [String: Any] else {
            throw CheckpointError("\(path): header is not a JSON object")
        }

        var tensors: [String: StoredTensor] = [:]
        var unsupported: [String: String] = [:]
        var metadata: [String: String] = [:]
        for (name, value) in header {
            if name == "__metadata__" {
                if let m = value as? [String: Any] {
                    for (k, v) in m { if let s = v as? String { metadata[k] = s } }
                }
                continue
            }
            guard let entry = value as? [String: Any] else {
                throw CheckpointError("\(path): tensor \(name): header entry is not an object")
            }
            guard let dtypeName = entry["dtype"] as? String else {
                throw CheckpointError("\(path): tensor \(name): missing dtype")
            }
            guard let rawShape = entry["shape"] as? [Any], rawShape.count <= Self.maxRank else {
                throw CheckpointError("\(path): tensor \(name): missing or over-long shape")
            }
            var shape: [Int] = []
            for d in rawShape {
                guard let n = Self.integer(d), n >= 0 else {
                    throw CheckpointError("\(path): tensor \(name): bad shape entry \(d)")
                }
                shape.append(n)
            }
            guard let offsets = entry["data_offsets"] as? [Any], offsets.count == 2,
                  let begin = Self.integer(offsets[0]), let end = Self.integer(offsets[1]) else {
                throw CheckpointError("\(path): tensor \(name): data_offsets must be two integers")
            }
            guard begin >= 0, begin <= end, end <= dataSize else {
                throw CheckpointError("\(path): tensor \(name): data_offsets [\(begin), \(end)] lie outside the \(dataSize)-byte data section")
            }
            let elementSize: Int
            let dtype = StoredDType(rawValue: dtypeName)
            if let dtype {
                elementSize = dtype.byteSize
            } else if let size = Self.otherDTypeSizes[dtypeName] {
                elementSize = size
            } else {
                throw CheckpointError("\(path): tensor \(name): unknown dtype \(dtypeName)")
            }
            var expected = elementSize
            for d in shape {
                let (p, o) = expected.multipliedReportingOverflow(by: d)
                guard !o else { throw CheckpointError("\(path): tensor \(name): shape \(shape) overflows") }
                expected = p
            }
            guard expected == end - begin else {
                throw CheckpointError("\(path): tensor \(name): shape \(shape) of \(dtypeName) needs \(expected) bytes but data_offsets span \(end - begin)")
            }
            if let dtype {
                tensors[name] = try StoredTensor(name: name, dtype: dtype, shape: shape, file: file, offset: dataStart + begin)
            } else {
                unsupported[name] = dtypeName
            }
        }
        self.tensors = tensors
        self.unsupportedTensors = unsupported
        self.metadata = metadata
    }

    /// JSON numbers arrive as NSNumber; accept only exact non-fractional values.
    static func integer(_ value: Any) -> Int? {
        guard let n = value as? NSNumber else { return nil }
        let d = n.doubleValue
        guard d.rounded() == d, abs(d) < 9.0e15 else { return nil }
        return n.intValue
    }
}
