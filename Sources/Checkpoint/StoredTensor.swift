import Foundation
import Tensor

/// Storage precision of a tensor inside a checkpoint file.
public enum StoredDType: String, Sendable, Equatable {
    case float16 = "F16"
    case bfloat16 = "BF16"
    case float32 = "F32"

    public var byteSize: Int { self == .float32 ? 4 : 2 }
}

/// Errors from reading checkpoints; every message names the file and, where known, the tensor.
public struct CheckpointError: Error, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// A read-only memory mapping of a whole file. Weights stay in the page cache, not on the heap.
public final class MappedFile: @unchecked Sendable {
    public let url: URL
    public let base: UnsafeRawPointer
    public let size: Int

    public init(url: URL) throws {
        self.url = url
        let fd = open(url.path, O_RDONLY)
        guard fd >= 0 else { throw CheckpointError("\(url.path): cannot open (\(String(cString: strerror(errno))))") }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw CheckpointError("\(url.path): cannot stat") }
        size = Int(st.st_size)
        if size == 0 {
            base = UnsafeRawPointer(UnsafeMutableRawPointer.allocate(byteCount: 1, alignment: 16))
            return
        }
        guard let p = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), p != MAP_FAILED else {
            throw CheckpointError("\(url.path): mmap failed (\(String(cString: strerror(errno))))")
        }
        base = UnsafeRawPointer(p)
    }

    deinit {
        if size == 0 { UnsafeMutableRawPointer(mutating: base).deallocate() } else { munmap(UnsafeMutableRawPointer(mutating: base), size) }
    }
}

/// A tensor as it lies in a checkpoint: dtype, shape and a validated byte range of a mapped file.
/// Nothing is copied until `floats()` / `convert(into:)` is called.
public struct StoredTensor: @unchecked Sendable {
    public let name: String
    public let dtype: StoredDType
    public let shape: [Int]
    public let file: MappedFile
    public let offset: Int

    public init(name: String, dtype: StoredDType, shape: [Int], file: MappedFile, offset: Int) throws {
        var count = 1
        for d in shape {
            guard d >= 0 else { throw CheckpointError("\(file.url.path): tensor \(name) has negative dimension") }
            let (p, o) = count.multipliedReportingOverflow(by: d)
            guard !o else { throw CheckpointError("\(file.url.path): tensor \(name) shape \(shape) overflows") }
            count = p
        }
        let (bytes, o) = count.multipliedReportingOverflow(by: dtype.byteSize)
        guard !o, offset >= 0, offset <= file.size, bytes <= file.size - offset else {
            throw CheckpointError("\(file.url.path): tensor \(name) (\(shape), \(dtype.rawValue)) lies outside the file (truncated?)")
        }
        self.name = name
        self.dtype = dtype
        self.shape = shape
        self.file = file
        self.offset = offset
    }

    public var count: Int { shape.reduce(1, *) }
    public var byteCount: Int { count * dtype.byteSize }
    public var pointer: UnsafeRawPointer { file.base + offset }

    /// Widens elements `range` (flat, row-major) into `dst` as float32.
    public func convert(_ range: Range<Int>, into dst: UnsafeMutablePointer<Float>) {
        precondition(range.lowerBound >= 0 && range.upperBound <= count)
        let n = range.count
        switch dtype {
        case .float32:
            UnsafeMutableRawPointer(dst).copyMemory(from: pointer + range.lowerBound * 4, byteCount: n * 4)
        case .float16:
            let p = (pointer + range.lowerBound * 2).assumingMemoryBound(to: UInt16.self)
            HalfPrecision.convertHalf(p, to: dst, count: n)
        case .bfloat16:
            let p = (pointer + range.lowerBound * 2).assumingMemoryBound(to: UInt16.self)
            HalfPrecision.convertBFloat16(p, to: dst, count: n)
        }
    }

    /// The whole tensor widened to float32.
    public func floats() -> Tensor {
        var out = [Float](repeating: 0, count: count)
        if count > 0 { out.withUnsafeMutableBufferPointer { convert(0..<count, into: $0.baseAddress!) } }
        return Tensor(shape: shape, data: out)
    }
}
