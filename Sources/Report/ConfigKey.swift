/// One table row's configuration: model × method × budget × ratio. The unpruned model is the method
/// "unpruned" with no budget and no ratio.
struct ConfigKey: Hashable, Comparable {
    let model: String
    let method: String
    let tokens: Int?
    let ratio: Double?

    init(model: String, method: String, tokens: Int?, ratio: Double?) {
        self.model = model
        self.method = tokens == nil ? "unpruned" : method
        self.tokens = tokens
        self.ratio = tokens == nil ? nil : ratio
    }

    /// Paper order: per model, the unpruned row first, then decreasing budget, method name, ratio.
    static func < (a: ConfigKey, b: ConfigKey) -> Bool {
        if a.model != b.model { return a.model < b.model }
        if (a.tokens == nil) != (b.tokens == nil) { return a.tokens == nil }
        if a.tokens != b.tokens { return (a.tokens ?? 0) > (b.tokens ?? 0) }
        if a.method != b.method { return a.method < b.method }
        return (a.ratio ?? -1) < (b.ratio ?? -1)
    }
}
