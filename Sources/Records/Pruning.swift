/// The visual-token selection methods this tool knows, by the name used on the command line and in
/// result databases. The selectors themselves live in the Pruning module.
public enum SelectionMethod: String, CaseIterable, Sendable, Codable {
    case vispruner, fastervlm, divprune, uniform, random

    public static var names: String { allCases.map(\.rawValue).joined(separator: ", ") }

    /// Whether the important ratio changes this method's selection (only VisPruner splits its budget).
    public var usesRatio: Bool { self == .vispruner }
}

/// How a run feeds visual tokens: all of them, or a method with its budget and ratio. The one place
/// a method name from a flag or a file becomes a value is `Pruning(method:tokens:ratio:)`, so nothing
/// downstream handles names it cannot run.
public enum Pruning: Hashable, Sendable {
    /// Every visual token fed (the unpruned baseline).
    case unpruned
    /// `tokens` visual tokens per view chosen by `method`; `ratio` is VisPruner's important ratio.
    case pruned(SelectionMethod, tokens: Int, ratio: Double)

    /// The method name of the unpruned baseline, as stored in run keys.
    public static let unprunedName = "none"

    /// Every accepted method name.
    public static var names: String { unprunedName + ", " + SelectionMethod.names }

    /// Parses and validates a method name with its parameters: `none` (tokens ignored) or a known
    /// method with a positive budget and a ratio in [0, 1]. Methods the ratio does not affect get ratio 0,
    /// so they make one run whatever ratio a flag or a sweep grid gives.
    public init(method: String, tokens: Int?, ratio: Double) throws {
        try self.init(stored: method, tokens: tokens, ratio: ratio)
        if case .pruned(let m, let t, _) = self, !m.usesRatio { self = .pruned(m, tokens: t, ratio: 0) }
    }

    /// As `init(method:tokens:ratio:)` but keeping the ratio as given: stored run configs must re-encode to
    /// the text their key was derived from (runs recorded before ratios were normalised keep theirs).
    public init(stored method: String, tokens: Int?, ratio: Double) throws {
        if method == Self.unprunedName {
            self = .unpruned
            return
        }
        guard let m = SelectionMethod(rawValue: method) else {
            throw RecordError("unknown pruning method '\(method)' (known: \(Self.names))")
        }
        guard let tokens else {
            throw RecordError("method \(method) needs a visual-token budget (use method \(Self.unprunedName) for the unpruned baseline)")
        }
        guard tokens > 0 else { throw RecordError("the visual-token budget must be positive (got \(tokens))") }
        guard ratio >= 0 && ratio <= 1 else { throw RecordError("the important ratio must be in [0, 1] (got \(ratio))") }
        self = .pruned(m, tokens: tokens, ratio: ratio)
    }

    /// The method name stored in run keys ("none" for the baseline).
    public var methodName: String {
        switch self {
        case .unpruned: return Self.unprunedName
        case .pruned(let m, _, _): return m.rawValue
        }
    }

    public var method: SelectionMethod? {
        if case .pruned(let m, _, _) = self { return m }
        return nil
    }

    /// The visual-token budget per view; nil when every token is fed.
    public var tokens: Int? {
        if case .pruned(_, let t, _) = self { return t }
        return nil
    }

    /// The important ratio as stored in run keys (0 for the baseline).
    public var ratio: Double {
        if case .pruned(_, _, let r) = self { return r }
        return 0
    }
}

/// Invalid settings or records, with a message fit to show the user as is.
public struct RecordError: Error, CustomStringConvertible, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
