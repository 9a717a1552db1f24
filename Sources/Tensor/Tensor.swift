/// A dense float32 tensor in row-major (C) order.
///
/// Deliberately small: the engine works on 2-D matrices almost everywhere, so this type
/// carries a shape and a flat buffer, and `MatrixView` gives strided 2-D access for BLAS.
public struct Tensor: Equatable, Sendable {
    public private(set) var shape: [Int]
    public var data: [Float]

    public init(shape: [Int], data: [Float]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in \(shape)")
        precondition(shape.reduce(1, *) == data.count,
                     "shape \(shape) needs \(shape.reduce(1, *)) elements, got \(data.count)")
        self.shape = shape
        self.data = data
    }

    public init(zeros shape: [Int]) {
        self.init(shape: shape, data: [Float](repeating: 0, count: shape.reduce(1, *)))
    }

    public var count: Int { data.count }
    public var rank: Int { shape.count }

    /// Row-major strides in elements.
    public var strides: [Int] {
        var s = [Int](repeating: 1, count: shape.count)
        var acc = 1
        for i in stride(from: shape.count - 1, through: 0, by: -1) {
            s[i] = acc
            acc *= shape[i]
        }
        return s
    }

    public subscript(indices: Int...) -> Float {
        get { data[offset(indices)] }
        set { data[offset(indices)] = newValue }
    }

    @inline(__always)
    func offset(_ indices: [Int]) -> Int {
        precondition(indices.count == shape.count, "expected \(shape.count) indices, got \(indices.count)")
        var off = 0
        for (i, (idx, dim)) in zip(indices, shape).enumerated() {
            precondition(idx >= 0 && idx < dim, "index \(idx) out of range for dimension \(i) of size \(dim)")
            off = off * dim + idx
        }
        return off
    }

    /// Same data, new shape (element count must agree; one dimension may be -1).
    public func reshaped(_ newShape: [Int]) -> Tensor {
        var dims = newShape
        if let wild = dims.firstIndex(of: -1) {
            let known = dims.enumerated().filter { $0.offset != wild }.map(\.element).reduce(1, *)
            precondition(known > 0 && count % known == 0, "cannot reshape \(shape) to \(newShape)")
            dims[wild] = count / known
        }
        return Tensor(shape: dims, data: data)
    }

    /// Rows `range` of a tensor viewed as [shape[0], rest...].
    public func rows(_ range: Range<Int>) -> Tensor {
        precondition(rank >= 1 && range.lowerBound >= 0 && range.upperBound <= shape[0])
        let inner = shape.dropFirst().reduce(1, *)
        return Tensor(shape: [range.count] + shape.dropFirst(),
                      data: Array(data[(range.lowerBound * inner)..<(range.upperBound * inner)]))
    }

    /// Largest absolute element-wise difference (shapes must match).
    public func maxAbsDifference(_ other: Tensor) -> Float {
        precondition(shape == other.shape, "shape mismatch \(shape) vs \(other.shape)")
        var m: Float = 0
        for i in 0..<data.count {
            let d = abs(data[i] - other.data[i])
            if d > m || d.isNaN { m = d.isNaN ? .nan : d }
        }
        return m
    }
}
