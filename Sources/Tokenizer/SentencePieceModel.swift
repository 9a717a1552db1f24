import Foundation

/// The parts of a SentencePiece `ModelProto` (sentencepiece_model.proto) that BPE encoding and decoding use.
struct SentencePieceModel: Sendable {
    /// `ModelProto.SentencePiece.Type`.
    enum PieceType: UInt64, Sendable {
        case normal = 1, unknown = 2, control = 3, userDefined = 4, unused = 5, byte = 6
    }

    /// `TrainerSpec.ModelType`; only BPE is supported here.
    static let bpeModelType: UInt64 = 2

    /// The text of each piece, as UTF-8 bytes, indexed by id.
    var pieces: [[UInt8]] = []
    /// The merge score of each piece (higher merges first).
    var scores: [Float] = []
    var types: [PieceType] = []

    var modelType: UInt64 = 1  // proto default: UNIGRAM
    var byteFallback = false
    var treatWhitespaceAsSuffix = false
    var unkPiece = "<unk>"
    var bosPiece = "<s>"
    var eosPiece = "</s>"
    var unkSurface = " \u{2047} "

    var addDummyPrefix = true
    var removeExtraWhitespaces = true
    var escapeWhitespaces = true
    var normalizerName = ""
    var precompiledCharsmapSize = 0

    /// Refuses files larger than this before reading them: real models are under 10 MB.
    static let maximumFileSize = 256 << 20
    /// Refuses vocabularies beyond this many pieces.
    static let maximumPieceCount = 1 << 21
    /// Refuses single pieces longer than this many bytes (real pieces are at most a few dozen).
    static let maximumPieceLength = 4096

    /// Parses a serialized `ModelProto`.
    init(data: Data) throws {
        guard data.count <= Self.maximumFileSize else {
            throw TokenizerError("model is \(data.count) bytes, more than the \(Self.maximumFileSize)-byte limit")
        }
        guard !data.isEmpty else { throw TokenizerError("model file is empty") }
        let bytes = [UInt8](data)
        var reader = ProtobufReader(bytes: bytes, range: 0..<bytes.count, context: "ModelProto")
        var sawTrainerSpec = false
        while let field = try reader.nextField() {
            switch field.number {
            case 1:
                guard pieces.count < Self.maximumPieceCount else {
                    throw TokenizerError("model has more than \(Self.maximumPieceCount) pieces")
                }
                try readPiece(reader.nested(field, context: "ModelProto.pieces[\(pieces.count)]"))
            case 2:
                sawTrainerSpec = true
                try readTrainerSpec(reader.nested(field, context: "ModelProto.trainer_spec"))
            case 3:
                try readNormalizerSpec(reader.nested(field, context: "ModelProto.normalizer_spec"))
            default:
                continue  // self_test_data, denormalizer_spec and future fields do not affect encoding
            }
        }
        guard !pieces.isEmpty else { throw TokenizerError("model has no pieces (not a SentencePiece model?)") }
        guard sawTrainerSpec else { throw TokenizerError("model has no trainer_spec (not a SentencePiece model?)") }
        guard modelType == Self.bpeModelType else {
            throw TokenizerError("trainer_spec.model_type is \(modelType); only BPE (2) models are supported")
        }
        guard !treatWhitespaceAsSuffix else {
            throw TokenizerError("trainer_spec.treat_whitespace_as_suffix is set; not supported")
        }
        guard precompiledCharsmapSize == 0 else {
            throw TokenizerError("normalizer_spec '\(normalizerName)' has a precompiled charsmap; "
                                 + "only identity normalization is supported")
        }
    }

    private mutating func readPiece(_ message: ProtobufReader) throws {
        var reader = message
        let index = pieces.count
        var text: [UInt8]?
        var score: Float = 0
        var type = PieceType.normal
        while let field = try reader.nextField() {
            switch field.number {
            case 1:
                let range = try reader.byteRange(field)
                guard range.count <= Self.maximumPieceLength else {
                    throw TokenizerError("piece \(index) is \(range.count) bytes long, over the "
                                         + "\(Self.maximumPieceLength)-byte limit")
                }
                // Validate as UTF-8: decoding must give the pieces back as Swift strings.
                _ = try reader.string(field)
                text = Array(reader.bytes[range])
            case 2:
                score = try reader.float(field)
            case 3:
                let raw = try reader.varint(field)
                guard let t = PieceType(rawValue: raw) else {
                    throw TokenizerError("piece \(index) has unknown type \(raw)")
                }
                type = t
            default:
                continue
            }
        }
        guard let text, !text.isEmpty else { throw TokenizerError("piece \(index) has an empty or missing text") }
        guard score.isFinite else { throw TokenizerError("piece \(index) has a non-finite score \(score)") }
        pieces.append(text)
        scores.append(score)
        types.append(type)
    }

    private mutating func readTrainerSpec(_ message: ProtobufReader) throws {
        var reader = message
        while let field = try reader.nextField() {
            switch field.number {
            case 3: modelType = try reader.varint(field)
            case 24: treatWhitespaceAsSuffix = try reader.varint(field) != 0
            case 35: byteFallback = try reader.varint(field) != 0
            case 44: unkSurface = try reader.string(field)
            case 45: unkPiece = try reader.string(field)
            case 46: bosPiece = try reader.string(field)
            case 47: eosPiece = try reader.string(field)
            default: continue
            }
        }
    }

    private mutating func readNormalizerSpec(_ message: ProtobufReader) throws {
        var reader = message
        while let field = try reader.nextField() {
            switch field.number {
            case 1: normalizerName = try reader.string(field)
            case 2: precompiledCharsmapSize = try reader.byteRange(field).count
            case 3: addDummyPrefix = try reader.varint(field) != 0
            case 4: removeExtraWhitespaces = try reader.varint(field) != 0
            case 5: escapeWhitespaces = try reader.varint(field) != 0
            default: continue
            }
        }
    }
}
