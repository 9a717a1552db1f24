import Foundation

/// Element types this project exchanges with NumPy. Anything else is refused with a clear error.
public enum NpyDType: String, Sendable, CaseIterable {
    case float32 = "<f4"
    case float16 = "<f2"
    case int64 = "<i8"
    case bool = "|b1"

    public var byteSize: Int {
        switch self {
        case .float32: return 4
        case .float16: return 2
        case .int64: return 8
        case .bool: return 1
        }
    }
}

public struct NpyError: Error, CustomStringConvertible, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// A NumPy `.npy` array: dtype, C-order shape and the raw little-endian element bytes.
public struct NpyArray: Equatable, Sendable {
    public var dtype: NpyDType
    public var shape: [Int]
    public var bytes: [UInt8]

    public init(dtype: NpyDType, shape: [Int], bytes: [UInt8]) {
        precondition(shape.reduce(1, *) * dtype.byteSize == bytes.count, "byte count does not match shape")
        self.dtype = dtype
        self.shape = shape
        self.bytes = bytes
    }

    public init(_ tensor: Tensor) {
        let bytes = tensor.data.withUnsafeBytes { Array($0) }
        self.init(dtype: .float32, shape: tensor.shape, bytes: bytes)
    }

    public init(float16 values: [Float], shape: [Int]) {
        var out = [UInt8](); out.reserveCapacity(values.count * 2)
        for v in values { let h = HalfPrecision.half(from: v); out.append(UInt8(h & 0xff)); out.append(UInt8(h >> 8)) }
        self.init(dtype: .float16, shape: shape, bytes: out)
    }

    public init(int64 values: [Int64], shape: [Int]) {
        self.init(dtype: .int64, shape: shape, bytes: values.withUnsafeBytes { Array($0) })
    }

    public init(bool values: [Bool], shape: [Int]) {
        self.init(dtype: .bool, shape: shape, bytes: values.map { $0 ? 1 : 0 })
    }

    public var count: Int { shape.reduce(1, *) }

    /// Elements as float32 (float16 widened exactly). Integer and bool arrays are refused.
    public func floats() throws -> [Float] {
        switch dtype {
        case .float32:
            return bytes.withUnsafeBytes { raw in (0..<count).map { raw.loadUnaligned(fromByteOffset: $0 * 4, as: Float.self) } }
        case .float16:
            return bytes.withUnsafeBytes { raw in
                (0..<count).map { HalfPrecision.float(fromHalf: raw.loadUnaligned(fromByteOffset: $0 * 2, as: UInt16.self)) }
            }
        default:
            throw NpyError("expected a float32 or float16 array, found dtype \(dtype.rawValue)")
        }
    }

    public func int64s() throws -> [Int64] {
        guard dtype == .int64 else { throw NpyError("expected an int64 array, found dtype \(dtype.rawValue)") }
        return bytes.withUnsafeBytes { raw in (0..<count).map { raw.loadUnaligned(fromByteOffset: $0 * 8, as: Int64.self) } }
    }

    public func bools() throws -> [Bool] {
        guard dtype == .bool else { throw NpyError("expected a bool array, found dtype \(dtype.rawValue)") }
        return bytes.map { $0 != 0 }
    }

    public func tensor() throws -> Tensor { Tensor(shape: shape, data: try floats()) }
}

/// `.npy` reading and writing (format versions 1.0–3.0, C order, little-endian).
public enum Npy {
    /// Headers larger than this are refused: real headers are ~100 bytes.
    static let maxHeaderLength = 1 << 16
    static let maxRank = 32

    public static func read(contentsOf url: URL) throws -> NpyArray {
        let data: Data
        do { data = try Data(contentsOf: url, options: .mappedIfSafe) } catch {
            throw NpyError("\(url.path): cannot read: \(error.localizedDescription)")
        }
        do { return try parse(data) } catch let e as NpyError {
            throw NpyError("\(url.path): \(e.message)")
        }
    }

    public static func readTensor(contentsOf url: URL) throws -> Tensor {
        let a = try read(contentsOf: url)
        do { return try a.tensor() } catch let e as NpyError { throw NpyError("\(url.path): \(e.message)") }
    }

    public static func parse(_ data: Data) throws -> NpyArray {
        let bytes = [UInt8](data)
        let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]
        guard bytes.count >= 10, Array(bytes[0..<6]) == magic else { throw NpyError("not a .npy file (bad magic)") }
        let major = bytes[6]
        let headerLen: Int
        let headerStart: Int
        switch major {
        case 1:
            headerLen = Int(bytes[8]) | Int(bytes[9]) << 8
            headerStart = 10
        case 2, 3:
            guard bytes.count >= 12 else { throw NpyError("truncated header") }
            headerLen = Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24
            headerStart = 12
        default:
            throw NpyError("unsupported .npy format version \(major).\(bytes[7])")
        }
        guard headerLen <= maxHeaderLength else { throw NpyError("header length \(headerLen) exceeds \(maxHeaderLength)") }
        guard headerStart + headerLen <= bytes.count else { throw NpyError("truncated header") }
        guard let header = String(bytes: bytes[headerStart..<(headerStart + headerLen)], encoding: major == 3 ? .utf8 : .isoLatin1)
        else { throw NpyError("header is not text") }
        let (descr, fortran, shape) = try parseHeader(header)
        guard let dtype = NpyDType(rawValue: descr) ?? (descr == "<b1" ? .bool : nil) else {
            throw NpyError("unsupported dtype '\(descr)' (supported: float32 <f4, float16 <f2, int64 <i8, bool |b1)")
        }
        if fortran && shape.filter({ $0 > 1 }).count > 1 {
            throw NpyError("Fortran-order arrays are not supported; save with C order")
        }
        var count = 1
        for d in shape {
            let (p, overflow) = count.multipliedReportingOverflow(by: d)
            guard !overflow else { throw NpyError("shape \(shape) is too large") }
            count = p
        }
        let (nbytes, overflow) = count.multipliedReportingOverflow(by: dtype.byteSize)
        guard !overflow else { throw NpyError("shape \(shape) is too large") }
        let dataStart = headerStart + headerLen
        guard bytes.count - dataStart >= nbytes else {
            throw NpyError("truncated data: shape \(shape) of \(descr) needs \(nbytes) bytes, file has \(bytes.count - dataStart)")
        }
        return NpyArray(dtype: dtype, shape: shape, bytes: Array(bytes[dataStart..<(dataStart + nbytes)]))
    }

    /// Parses the Python-literal header dict: {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }
    static func parseHeader(_ header: String) throws -> (String, Bool, [Int]) {
        func value(of key: String) throws -> Substring {
            guard let r = header.range(of: "'\(key)':") else { throw NpyError("header lacks '\(key)'") }
            return header[r.upperBound...].drop(while: { $0 == " " })
        }
        let d = try value(of: "descr")
        guard let q = d.first, q == "'" || q == "\"", let end = d.dropFirst().firstIndex(of: q) else {
            throw NpyError("unsupported dtype description (structured arrays are not supported)")
        }
        let descr = String(d[d.index(after: d.startIndex)..<end])
        let f = try value(of: "fortran_order")
        let fortran: Bool
        if f.hasPrefix("True") { fortran = true } else if f.hasPrefix("False") { fortran = false } else {
            throw NpyError("bad fortran_order value")
        }
        let s = try value(of: "shape")
        guard s.first == "(", let close = s.firstIndex(of: ")") else { throw NpyError("bad shape") }
        let inner = s[s.index(after: s.startIndex)..<close]
        var shape: [Int] = []
        for part in inner.split(separator: ",") {
            let t = part.trimmingCharacters(in: .whitespaces)
            if t.isEmpty { continue }
            guard let v = Int(t.hasSuffix("L") ? String(t.dropLast()) : t), v >= 0 else { throw NpyError("bad shape entry '\(t)'") }
            shape.append(v)
        }
        guard shape.count <= maxRank else { throw NpyError("rank \(shape.count) exceeds \(maxRank)") }
        return (descr, fortran, shape)
    }

    /// Encodes as format 1.0 exactly as numpy.save lays it out (header padded to 64 bytes).
    public static func encode(_ array: NpyArray) -> Data {
        let shapeText: String
        switch array.shape.count {
        case 0: shapeText = "()"
        case 1: shapeText = "(\(array.shape[0]),)"
        default: shapeText = "(" + array.shape.map(String.init).joined(separator: ", ") + ")"
        }
        var header = "{'descr': '\(array.dtype.rawValue)', 'fortran_order': False, 'shape': \(shapeText), }"
        let unpadded = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        var out = Data([0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0])
        let len = header.utf8.count
        out.append(UInt8(len & 0xff)); out.append(UInt8(len >> 8))
        out.append(contentsOf: Array(header.utf8))
        out.append(contentsOf: array.bytes)
        return out
    }

    public static func write(_ array: NpyArray, to url: URL) throws {
        try encode(array).write(to: url, options: .atomic)
    }

    public static func write(_ tensor: Tensor, to url: URL) throws {
        try write(NpyArray(tensor), to: url)
    }
}
