import Foundation

/// Bounds on what a `data.pkl` stream may make the unpickler do.
public struct UnpicklerLimits: Sendable {
    /// Opcodes executed before giving up (a 7B shard's pickle has about 15,000).
    public var maxOpcodes = 4_000_000
    /// Values on the stack at once.
    public var maxStackDepth = 1 << 20
    /// MARKs open at once (torch nests three).
    public var maxMarkDepth = 4096
    /// Distinct memo slots.
    public var maxMemoEntries = 1 << 22
    /// Longest string or bytes operand.
    public var maxStringBytes = 1 << 24
    /// Longest module or name operand of GLOBAL.
    public var maxGlobalNameBytes = 256
    /// The defaults.
    public init() {}
}

/// Interprets the subset of the pickle protocol that torch.save emits, without executing anything.
///
/// Python's unpickler imports and calls whatever a stream names; this one only recognises the
/// globals in `PickleGlobal.allowed` and builds inert values for them. A stream that names any other
/// global, or uses an opcode outside the subset, is refused with an error carrying the byte offset.
struct RestrictedUnpickler {
    typealias PersistentLoad = (PickleValue) throws -> PickleValue
    typealias TensorBuilder = (_ storage: TorchStorageRef, _ storageOffset: Int, _ size: [Int], _ stride: [Int]) throws -> TorchTensorRef

    let bytes: UnsafeRawBufferPointer
    let context: String
    let limits: UnpicklerLimits
    let persistentLoad: PersistentLoad
    let buildTensor: TensorBuilder

    private var pos = 0
    private var stack: [PickleValue] = []
    private var marks: [Int] = []
    private var memo: [Int: PickleValue] = [:]
    /// Every container created, so `releaseAll` can dismantle them without recursion.
    private var arena: [PickleContainer] = []

    init(bytes: UnsafeRawBufferPointer, context: String, limits: UnpicklerLimits = UnpicklerLimits(),
         persistentLoad: @escaping PersistentLoad, buildTensor: @escaping TensorBuilder)
    {
        self.bytes = bytes
        self.context = context
        self.limits = limits
        self.persistentLoad = persistentLoad
        self.buildTensor = buildTensor
    }

    private func fail(_ what: String, at offset: Int? = nil) -> CheckpointError {
        CheckpointError("\(context) offset \(offset ?? pos): \(what)")
    }

    // MARK: - Byte access

    private mutating func take(_ n: Int) throws -> UnsafeRawBufferPointer {
        guard n >= 0, n <= bytes.count - pos else {
            throw fail("needs \(n) more bytes but the pickle ends at \(bytes.count) (truncated?)")
        }
        defer { pos += n }
        return UnsafeRawBufferPointer(rebasing: bytes[pos..<(pos + n)])
    }

    private mutating func u8() throws -> UInt8 { try take(1)[0] }

    private mutating func uintLE(_ n: Int) throws -> UInt64 {
        let b = try take(n)
        var v: UInt64 = 0
        for i in stride(from: n - 1, through: 0, by: -1) { v = v << 8 | UInt64(b[i]) }
        return v
    }

    private mutating func length(_ n: Int, what: String) throws -> Int {
        let v = try uintLE(n)
        guard v <= UInt64(limits.maxStringBytes) else {
            throw fail("\(what) of \(v) bytes exceeds the limit of \(limits.maxStringBytes)")
        }
        return Int(v)
    }

    private mutating func utf8(_ n: Int, what: String) throws -> String {
        let start = pos
        guard let s = String(validatingUTF8Bytes: try take(n)) else { throw fail("\(what) is not valid UTF-8", at: start) }
        return s
    }

    /// A newline-terminated ASCII line (GLOBAL's operands), bounded in length.
    private mutating func line() throws -> String {
        let start = pos
        var end = pos
        while end < bytes.count, bytes[end] != 0x0A {
            end += 1
            guard end - start <= limits.maxGlobalNameBytes else { throw fail("GLOBAL name longer than \(limits.maxGlobalNameBytes) bytes", at: start) }
        }
        guard end < bytes.count else { throw fail("unterminated GLOBAL name (truncated?)", at: start) }
        let s = try utf8(end - start, what: "GLOBAL name")
        pos += 1
        return s
    }

    // MARK: - Stack

    private mutating func push(_ v: PickleValue) throws {
        guard stack.count < limits.maxStackDepth else { throw fail("stack deeper than \(limits.maxStackDepth)") }
        stack.append(v)
    }

    private mutating func pop() throws -> PickleValue {
        guard let v = stack.popLast() else { throw fail("stack underflow") }
        if let m = marks.last, stack.count < m { throw fail("stack underflow across a MARK") }
        return v
    }

    private func top() throws -> PickleValue {
        guard let v = stack.last, stack.count > (marks.last ?? 0) else { throw fail("stack underflow") }
        return v
    }

    private mutating func popMark() throws -> [PickleValue] {
        guard let m = marks.popLast() else { throw fail("no MARK to pop to") }
        let items = Array(stack[m...])
        stack.removeSubrange(m...)
        return items
    }

    private mutating func memoize(_ index: Int, _ v: PickleValue) throws {
        guard memo[index] != nil || memo.count < limits.maxMemoEntries else {
            throw fail("memo larger than \(limits.maxMemoEntries) entries")
        }
        memo[index] = v
    }

    private mutating func recall(_ index: Int) throws -> PickleValue {
        guard let v = memo[index] else { throw fail("memo entry \(index) used before it was set") }
        return v
    }

    private func key(_ v: PickleValue) throws -> PickleKey {
        switch v {
        case .string(let s): return .string(s)
        case .int(let i): return .int(i)
        default: throw fail("unsupported dict key (\(v.kindName))")
        }
    }

    private func dictionary(_ v: PickleValue, for op: String) throws -> PickleDict {
        guard case .dict(let d) = v else { throw fail("\(op) on a \(v.kindName), expected a dict") }
        return d
    }

    private func list(_ v: PickleValue, for op: String) throws -> PickleList {
        guard case .list(let l) = v else { throw fail("\(op) on a \(v.kindName), expected a list") }
        return l
    }

    private func global(module: String, name: String) throws -> PickleValue {
        guard let g = PickleGlobal.allowed(module: module, name: name) else {
            throw fail("refused global \(module).\(name) (only torch tensor-rebuild functions, torch storage "
                + "types and collections.OrderedDict are allowed; nothing was executed)")
        }
        return .global(g)
    }

    // MARK: - Main loop

    /// Runs the stream to its STOP opcode and hands the unpickled value to `consume`; afterwards (and on
    /// any error) every container is dismantled, so values must not be kept beyond `consume`.
    mutating func run<T>(_ consume: (PickleValue) throws -> T) throws -> T {
        defer { releaseAll() }
        return try consume(try interpret())
    }

    /// Empties every container one level at a time. Letting Swift free a hostile million-deep nest of
    /// tuples or lists would recurse once per level and overflow the thread's stack.
    private mutating func releaseAll() {
        stack = []
        memo = [:]
        marks = []
        for c in arena { c.clear() }
        arena = []
    }

    private mutating func adopt<C: PickleContainer>(_ c: C) -> C {
        arena.append(c)
        return c
    }

    private mutating func tuple(_ items: [PickleValue]) -> PickleValue {
        .tuple(adopt(PickleTuple(items)))
    }

    private mutating func interpret() throws -> PickleValue {
        var executed = 0
        while true {
            executed += 1
            guard executed <= limits.maxOpcodes else { throw fail("more than \(limits.maxOpcodes) opcodes") }
            let opOffset = pos
            guard pos < bytes.count else { throw fail("pickle ends without a STOP opcode (truncated?)") }
            let op = try u8()
            switch op {
            case 0x80: // PROTO
                let proto = try u8()
                guard proto >= 2, proto <= 5 else { throw fail("unsupported pickle protocol \(proto)", at: opOffset) }
            case 0x95: // FRAME: a length hint only; the stream continues inline.
                _ = try take(8)
            case 0x2E: // STOP
                let result = try pop()
                guard stack.isEmpty, marks.isEmpty else { throw fail("values left on the stack at STOP", at: opOffset) }
                return result
            case 0x28: // MARK
                guard marks.count < limits.maxMarkDepth else { throw fail("MARKs nested deeper than \(limits.maxMarkDepth)") }
                marks.append(stack.count)
            case 0x30: // POP
                _ = try pop()
            case 0x31: // POP_MARK
                _ = try popMark()
            case 0x32: // DUP
                try push(try top())

            case 0x7D: try push(.dict(adopt(PickleDict())))  // EMPTY_DICT
            case 0x5D: try push(.list(adopt(PickleList())))  // EMPTY_LIST
            case 0x29: try push(tuple([]))                   // EMPTY_TUPLE
            case 0x4E: try push(.none)                       // NONE
            case 0x88: try push(.bool(true))                 // NEWTRUE
            case 0x89: try push(.bool(false))                // NEWFALSE
            case 0x4B: try push(.int(Int(try u8())))         // BININT1
            case 0x4D: try push(.int(Int(try uintLE(2))))    // BININT2
            case 0x4A: try push(.int(Int(Int32(truncatingIfNeeded: try uintLE(4))))) // BININT
            case 0x8A: // LONG1: little-endian two's complement, at most 8 bytes here.
                let n = Int(try u8())
                guard n <= 8 else { throw fail("LONG1 of \(n) bytes does not fit 64 bits", at: opOffset) }
                var v = try uintLE(n)
                if n > 0, n < 8, v & (1 << UInt64(8 * n - 1)) != 0 { v |= ~0 << UInt64(8 * n) }
                try push(.int(Int(Int64(bitPattern: v))))
            case 0x47: // BINFLOAT: big-endian IEEE double.
                let b = try take(8)
                var bits: UInt64 = 0
                for x in b { bits = bits << 8 | UInt64(x) }
                try push(.float(Double(bitPattern: bits)))

            case 0x58: // BINUNICODE
                let n = try length(4, what: "string")
                try push(.string(try utf8(n, what: "string")))
            case 0x8C: // SHORT_BINUNICODE
                let n = try length(1, what: "string")
                try push(.string(try utf8(n, what: "string")))
            case 0x8D: // BINUNICODE8
                let n = try length(8, what: "string")
                try push(.string(try utf8(n, what: "string")))
            case 0x43: // SHORT_BINBYTES
                let n = try length(1, what: "bytes")
                _ = try take(n)
                try push(.bytes(n))
            case 0x42: // BINBYTES
                let n = try length(4, what: "bytes")
                _ = try take(n)
                try push(.bytes(n))

            case 0x71: try memoize(Int(try u8()), try top())        // BINPUT
            case 0x72: try memoize(Int(try uintLE(4)), try top())   // LONG_BINPUT
            case 0x94: try memoize(memo.count, try top())           // MEMOIZE
            case 0x68: try push(try recall(Int(try u8())))          // BINGET
            case 0x6A: try push(try recall(Int(try uintLE(4))))     // LONG_BINGET

            case 0x74: try push(tuple(try popMark()))                // TUPLE
            case 0x85: try push(tuple([try pop()]))                  // TUPLE1
            case 0x86: // TUPLE2
                let b = try pop(), a = try pop()
                try push(tuple([a, b]))
            case 0x87: // TUPLE3
                let c = try pop(), b = try pop(), a = try pop()
                try push(tuple([a, b, c]))
            case 0x6C: // LIST
                let l = adopt(PickleList())
                l.items = try popMark()
                try push(.list(l))
            case 0x64: // DICT
                let items = try popMark()
                try push(.dict(try makeDict(items)))

            case 0x61: // APPEND
                let v = try pop()
                try list(try top(), for: "APPEND").items.append(v)
            case 0x65: // APPENDS
                let items = try popMark()
                try list(try top(), for: "APPENDS").items.append(contentsOf: items)
            case 0x73: // SETITEM
                let v = try pop(), k = try pop()
                try dictionary(try top(), for: "SETITEM").set(try key(k), v)
            case 0x75: // SETITEMS
                let items = try popMark()
                guard items.count % 2 == 0 else { throw fail("SETITEMS with an odd number of items", at: opOffset) }
                let d = try dictionary(try top(), for: "SETITEMS")
                for i in stride(from: 0, to: items.count, by: 2) { d.set(try key(items[i]), items[i + 1]) }

            case 0x63: // GLOBAL
                let module = try line(), name = try line()
                try push(try global(module: module, name: name))
            case 0x93: // STACK_GLOBAL
                let name = try pop(), module = try pop()
                guard case .string(let m) = module, case .string(let n) = name else {
                    throw fail("STACK_GLOBAL operands are not strings", at: opOffset)
                }
                try push(try global(module: m, name: n))
            case 0x51: // BINPERSID
                try push(try persistentLoad(try pop()))
            case 0x52: // REDUCE
                let args = try pop(), callable = try pop()
                try push(try reduce(callable, args, at: opOffset))
            case 0x62: // BUILD
                let state = try pop()
                try build(on: try top(), state: state, at: opOffset)

            default:
                throw fail(String(format: "unsupported pickle opcode 0x%02x (refused; torch.save does not write it)", op), at: opOffset)
            }
        }
    }

    private mutating func makeDict(_ items: [PickleValue]) throws -> PickleDict {
        guard items.count % 2 == 0 else { throw fail("DICT with an odd number of items") }
        let d = adopt(PickleDict())
        for i in stride(from: 0, to: items.count, by: 2) { d.set(try key(items[i]), items[i + 1]) }
        return d
    }

    // MARK: - Calls

    private mutating func reduce(_ callable: PickleValue, _ argsValue: PickleValue, at offset: Int) throws -> PickleValue {
        guard case .global(let g) = callable else {
            throw fail("REDUCE on a \(callable.kindName), which is not callable", at: offset)
        }
        guard case .tuple(let argsTuple) = argsValue else {
            throw fail("REDUCE of \(g.qualifiedName) with \(argsValue.kindName) arguments", at: offset)
        }
        let args = argsTuple.items
        switch g {
        case .orderedDict:
            guard args.isEmpty else { throw fail("collections.OrderedDict called with arguments (unsupported)", at: offset) }
            return .dict(adopt(PickleDict()))
        case .rebuildTensorV2:
            return .tensor(try rebuildTensor(args, at: offset))
        case .rebuildParameter:
            // _rebuild_parameter(data, requires_grad, backward_hooks): the parameter is its data.
            guard args.count == 3, case .tensor(let t) = args[0], case .bool = args[1] else {
                throw fail("torch._utils._rebuild_parameter expects (tensor, bool, hooks)", at: offset)
            }
            try requireNoHooks(args[2], at: offset)
            return .tensor(t)
        case .storageType(let k):
            throw fail("torch.\(k.rawValue) is only accepted inside a persistent id, not called", at: offset)
        }
    }

    /// `_rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])`.
    private func rebuildTensor(_ args: [PickleValue], at offset: Int) throws -> TorchTensorRef {
        guard args.count == 6 || args.count == 7 else {
            throw fail("torch._utils._rebuild_tensor_v2 expects 6 or 7 arguments, got \(args.count)", at: offset)
        }
        guard case .storage(let storage) = args[0] else {
            throw fail("_rebuild_tensor_v2 storage argument is a \(args[0].kindName)", at: offset)
        }
        guard case .int(let storageOffset) = args[1] else {
            throw fail("_rebuild_tensor_v2 storage_offset is a \(args[1].kindName)", at: offset)
        }
        let size = try intTuple(args[2], "size", at: offset)
        let stride = try intTuple(args[3], "stride", at: offset)
        guard case .bool = args[4] else { throw fail("_rebuild_tensor_v2 requires_grad is a \(args[4].kindName)", at: offset) }
        try requireNoHooks(args[5], at: offset)
        if args.count == 7 {
            switch args[6] {
            case .none, .dict: break  // Python-side tensor metadata (e.g. a subclass's attributes): irrelevant to the data.
            default: throw fail("_rebuild_tensor_v2 metadata is a \(args[6].kindName)", at: offset)
            }
        }
        do {
            return try buildTensor(storage, storageOffset, size, stride)
        } catch let e as CheckpointError {
            throw fail(e.message, at: offset)
        }
    }

    private func intTuple(_ v: PickleValue, _ what: String, at offset: Int) throws -> [Int] {
        guard case .tuple(let t) = v, t.items.count <= 64 else {
            throw fail("_rebuild_tensor_v2 \(what) is a \(v.kindName), expected a tuple of ints", at: offset)
        }
        return try t.items.map {
            guard case .int(let i) = $0 else { throw fail("_rebuild_tensor_v2 \(what) holds a \($0.kindName)", at: offset) }
            return i
        }
    }

    /// torch never serialises hooks (it writes an empty OrderedDict); anything else would need code to run.
    private func requireNoHooks(_ v: PickleValue, at offset: Int) throws {
        switch v {
        case .none: return
        case .dict(let d) where d.count == 0: return
        default: throw fail("tensor backward_hooks must be empty, got \(v.kindName)", at: offset)
        }
    }

    /// BUILD sets instance state. The only state torch.save writes on a dict is a state_dict's
    /// `_metadata` attribute (module versions), which carries no tensor data, so it is checked and dropped.
    private func build(on target: PickleValue, state: PickleValue, at offset: Int) throws {
        guard case .dict = target else { throw fail("BUILD on a \(target.kindName) (refused)", at: offset) }
        switch state {
        case .none, .dict: return
        default: throw fail("BUILD of a dict with \(state.kindName) state (refused)", at: offset)
        }
    }
}
