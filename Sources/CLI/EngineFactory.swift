import ArgumentParser
import Foundation
import Harness
import Model
import Records

/// The native LLaVA engine for a checkpoint directory.
func makeEngine(model: URL, visionTower: URL?, anyres: AnyresMode = .fixed,
                precision: ComputePrecision = .float32) throws -> AnswerEngine {
    try LLaVAAnswerEngine(modelDirectory: model, visionTower: visionTower, anyresMode: anyres, precision: precision)
}

extension AnyresMode: ExpressibleByArgument {}
extension ComputePrecision: ExpressibleByArgument {}
extension SelectionMethod: ExpressibleByArgument {}

/// `--method` of eval: a selection method or `none` (the unpruned baseline); unknown names are refused
/// while the command line is parsed.
enum MethodArgument: String, CaseIterable, ExpressibleByArgument {
    case none, vispruner, fastervlm, divprune, uniform, random

    /// The run's pruning with its parameters (validated: budget positive, ratio in [0, 1]).
    func pruning(tokens: Int?, ratio: Double) throws -> Pruning {
        do { return try Pruning(method: rawValue, tokens: tokens, ratio: ratio) } catch let e as RecordError {
            throw ValidationError(e.message)
        }
    }
}
