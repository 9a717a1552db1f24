/// Scores for a run that has none stored: computed (and stored where the database is writable), or why not.
public enum RunScoreLookup: Sendable {
    case metrics([Metric])
    /// The benchmark's split has no labels here (e.g. VQAv2 test-dev, scored by the EvalAI server).
    case notScoredLocally(String)
    case unavailable(String)
}
