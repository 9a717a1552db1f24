/// A bounded reader of the protobuf wire format, enough for SentencePiece's `ModelProto`.
///
/// The model file is untrusted input, so every length is checked against the bytes that remain and every
/// failure is reported with the byte offset instead of trapping.
struct ProtobufReader {
    /// Protobuf wire types that can occur in proto2 messages we read.
    enum WireType: UInt8 {
        case varint = 0, fixed64 = 1, lengthDelimited = 2, startGroup = 3, endGroup = 4, fixed32 = 5
    }

    /// One decoded field value; nested messages and strings stay as byte ranges into the buffer.
    enum Value {
        case varint(UInt64)
        case fixed64(UInt64)
        case fixed32(UInt32)
        case bytes(Range<Int>)
    }

    /// One field: its number, and its value.
    struct Field {
        let number: Int
        let value: Value
        /// Offset of the field's key, for error messages.
        let offset: Int
    }

    let bytes: [UInt8]
    /// Next byte to read.
    private(set) var position: Int
    /// One past the last byte this reader may touch (the end of the enclosing message).
    let end: Int
    /// Which message is being read, for error messages ("ModelProto.pieces[3]").
    let context: String

    /// A reader over `bytes[range]`.
    init(bytes: [UInt8], range: Range<Int>, context: String) {
        self.bytes = bytes
        self.position = range.lowerBound
        self.end = range.upperBound
        self.context = context
    }

    var isAtEnd: Bool { position >= end }

    private func failure(_ what: String, at offset: Int) -> TokenizerError {
        TokenizerError("malformed protobuf in \(context) at byte \(offset): \(what)")
    }

    /// Reads a base-128 varint of at most 10 bytes.
    mutating func readVarint() throws -> UInt64 {
        let start = position
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard position < end else { throw failure("varint runs past the end of the data", at: start) }
            guard shift < 64 else { throw failure("varint longer than 10 bytes", at: start) }
            let byte = bytes[position]
            position += 1
            result |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return result }
            shift += 7
        }
    }

    private mutating func readLittleEndian(byteCount: Int) throws -> UInt64 {
        guard end - position >= byteCount else {
            throw failure("\(byteCount)-byte fixed value runs past the end of the data", at: position)
        }
        var value: UInt64 = 0
        for k in 0..<byteCount {
            value |= UInt64(bytes[position + k]) << UInt64(8 * k)
        }
        position += byteCount
        return value
    }

    /// Reads the next field, or returns nil at the end of the message.
    mutating func nextField() throws -> Field? {
        guard !isAtEnd else { return nil }
        let offset = position
        let key = try readVarint()
        let number = key >> 3
        guard number >= 1, number <= 536_870_911 else {
            throw failure("invalid field number \(number)", at: offset)
        }
        guard let wire = WireType(rawValue: UInt8(key & 7)) else {
            throw failure("invalid wire type \(key & 7) for field \(number)", at: offset)
        }
        let value: Value
        switch wire {
        case .varint:
            value = .varint(try readVarint())
        case .fixed64:
            value = .fixed64(try readLittleEndian(byteCount: 8))
        case .fixed32:
            value = .fixed32(UInt32(truncatingIfNeeded: try readLittleEndian(byteCount: 4)))
        case .lengthDelimited:
            let lengthOffset = position
            let length = try readVarint()
            guard length <= UInt64(end - position) else {
                throw failure("field \(number) declares \(length) bytes but only \(end - position) remain",
                              at: lengthOffset)
            }
            let start = position
            position += Int(length)
            value = .bytes(start..<position)
        case .startGroup, .endGroup:
            // Groups are deprecated and SentencePiece never writes them.
            throw failure("unsupported group wire type for field \(number)", at: offset)
        }
        return Field(number: Int(number), value: value, offset: offset)
    }

    /// A reader for a nested message held in a length-delimited field.
    func nested(_ field: Field, context: String) throws -> ProtobufReader {
        guard case .bytes(let range) = field.value else {
            throw failure("field \(field.number) should be a nested message (wire type 2)", at: field.offset)
        }
        return ProtobufReader(bytes: bytes, range: range, context: context)
    }

    /// The byte range of a length-delimited field.
    func byteRange(_ field: Field) throws -> Range<Int> {
        guard case .bytes(let range) = field.value else {
            throw failure("field \(field.number) should be length-delimited (wire type 2)", at: field.offset)
        }
        return range
    }

    /// A UTF-8 string field.
    func string(_ field: Field) throws -> String {
        let range = try byteRange(field)
        let slice = bytes[range]
        // Decoding replaces invalid sequences, so a round-trip mismatch means the bytes were not UTF-8.
        let text = String(decoding: slice, as: UTF8.self)
        guard text.utf8.elementsEqual(slice) else {
            throw failure("field \(field.number) is not valid UTF-8", at: field.offset)
        }
        return text
    }

    /// A varint field (bool, enum or integer).
    func varint(_ field: Field) throws -> UInt64 {
        guard case .varint(let v) = field.value else {
            throw failure("field \(field.number) should be a varint (wire type 0)", at: field.offset)
        }
        return v
    }

    /// A proto2 `int32` field (negative values are sign-extended to 10-byte varints).
    func int32(_ field: Field) throws -> Int32 {
        Int32(truncatingIfNeeded: Int64(bitPattern: try varint(field)))
    }

    /// A `float` field.
    func float(_ field: Field) throws -> Float {
        guard case .fixed32(let bits) = field.value else {
            throw failure("field \(field.number) should be a float (wire type 5)", at: field.offset)
        }
        return Float(bitPattern: bits)
    }
}
