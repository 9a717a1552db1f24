import Foundation

/// The element types torch.save names through its legacy typed-storage classes (`torch.HalfStorage`, ...).
/// torch ≥ 2 still writes these names for every ordinary dtype, so they are the whole vocabulary needed.
public enum TorchStorageKind: String, Sendable, CaseIterable {
    // Raw values are the class names after `torch.`; element types follow torch's naming.
    case half = "HalfStorage"
    case float = "FloatStorage"
    case bfloat16 = "BFloat16Storage"
    case double = "DoubleStorage"
    case long = "LongStorage"
    case int = "IntStorage"
    case short = "ShortStorage"
    case char = "CharStorage"
    case byte = "ByteStorage"
    case bool = "BoolStorage"

    /// Bytes per element.
    public var elementSize: Int {
        switch self {
        case .double, .long: return 8
        case .float, .int: return 4
        case .half, .bfloat16, .short: return 2
        case .char, .byte, .bool: return 1
        }
    }

    /// The checkpoint dtype for the floating-point kinds the engine loads; nil for the rest.
    public var storedDType: StoredDType? {
        switch self {
        case .half: return .float16
        case .float: return .float32
        case .bfloat16: return .bfloat16
        default: return nil
        }
    }
}

/// The only Python globals the restricted unpickler will name. Nothing is ever imported or called:
/// each case is interpreted by the unpickler itself.
enum PickleGlobal: Equatable {
    case orderedDict
    case rebuildTensorV2
    case rebuildParameter
    case storageType(TorchStorageKind)

    /// Maps `module.name` to an allowed global, or nil when it must be refused.
    static func allowed(module: String, name: String) -> PickleGlobal? {
        switch (module, name) {
        case ("collections", "OrderedDict"): return .orderedDict
        case ("torch._utils", "_rebuild_tensor_v2"): return .rebuildTensorV2
        case ("torch._utils", "_rebuild_parameter"): return .rebuildParameter
        case ("torch", _): return TorchStorageKind(rawValue: name).map { .storageType($0) }
        default: return nil
        }
    }

    var qualifiedName: String {
        switch self {
        case .orderedDict: return "collections.OrderedDict"
        case .rebuildTensorV2: return "torch._utils._rebuild_tensor_v2"
        case .rebuildParameter: return "torch._utils._rebuild_parameter"
        case .storageType(let k): return "torch.\(k.rawValue)"
        }
    }
}

/// A storage referenced by a persistent id, resolved to a zip member.
struct TorchStorageRef {
    let key: String
    let kind: TorchStorageKind
    /// Elements the storage holds (from the persistent id; validated against the member's size).
    let elementCount: Int
    let entry: ZipEntry
}

/// A tensor rebuilt by `_rebuild_tensor_v2`: a contiguous run of a storage.
struct TorchTensorRef {
    let kind: TorchStorageKind
    let shape: [Int]
    /// Absolute offset of the first element in the mapped file.
    let fileOffset: Int
    let storageKey: String
}

/// Dictionary keys the unpickler accepts (state dicts use strings; ints appear in metadata).
enum PickleKey: Hashable {
    case string(String)
    case int(Int)
}

/// Composite values are objects owned by the unpickler's arena, so that tearing down an arbitrarily
/// deep structure from a hostile stream is flat (see `RestrictedUnpickler.releaseAll`), not recursive.
class PickleContainer {
    /// Drops this container's references to its items.
    func clear() {}
}

/// An immutable tuple.
final class PickleTuple: PickleContainer {
    private(set) var items: [PickleValue]
    init(_ items: [PickleValue]) { self.items = items }
    override func clear() { items = [] }
}

/// A mutable dict (plain or OrderedDict); an object because pickle mutates it after memoizing it.
final class PickleDict: PickleContainer {
    private(set) var keys: [PickleKey] = []
    private(set) var values: [PickleKey: PickleValue] = [:]

    func set(_ key: PickleKey, _ value: PickleValue) {
        if values.updateValue(value, forKey: key) == nil { keys.append(key) }
    }

    var count: Int { keys.count }
    override func clear() { keys = []; values = [:] }
}

/// A mutable list; an object for the same reason as `PickleDict`.
final class PickleList: PickleContainer {
    var items: [PickleValue] = []
    override func clear() { items = [] }
}

/// A value on the unpickler's stack.
enum PickleValue {
    case none
    case bool(Bool)
    case int(Int)
    case float(Double)
    case string(String)
    case bytes(Int)
    case tuple(PickleTuple)
    case list(PickleList)
    case dict(PickleDict)
    case global(PickleGlobal)
    case storage(TorchStorageRef)
    case tensor(TorchTensorRef)

    /// A short description for error messages (never recursive, so cyclic values cannot hang it).
    var kindName: String {
        switch self {
        case .none: return "None"
        case .bool: return "bool"
        case .int(let v): return "int \(v)"
        case .float: return "float"
        case .string(let s): return "str '\(s.prefix(60))'"
        case .bytes: return "bytes"
        case .tuple(let t): return "tuple of \(t.items.count)"
        case .list: return "list"
        case .dict: return "dict"
        case .global(let g): return "global \(g.qualifiedName)"
        case .storage: return "storage"
        case .tensor: return "tensor"
        }
    }
}
