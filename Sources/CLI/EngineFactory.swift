import ArgumentParser
import Foundation
import Harness
import Model
import Records

/// The native LLaVA engine for a checkpoint directory.
func makeEngine(model: URL, visionTower: URL?, anyres: AnyresMode = .fixed,
                precision: ComputePrecision = .float32, reuse: ReuseOptions = ReuseOptions()) throws -> AnswerEngine {
    let engine = try LLaVAAnswerEngine(modelDirectory: model, visionTower: visionTower, anyresMode: anyres, precision: precision)
    engine.reuse = !reuse.noReuse
    engine.batch = reuse.decodeBatch
    if let dir = reuse.featureCache {
        engine.pipeline.featureStore = try DiskFeatureCache(directory: URL(fileURLWithPath: dir),
                                                            maxBytes: Int64(reuse.featureCacheMaxGB * 1e9))
    }
    return engine
}

/// How eval, sweep and demo share work between items (see EVAL.md, "Reuse").
struct ReuseOptions: ParsableArguments {
    @Flag(name: .customLong("no-reuse"), help: "Answer every item on its own (tower, prefill and decoding per question), for A/B timing; answers are identical either way.")
    var noReuse = false
    @Option(name: .customLong("decode-batch"), parsing: .unconditional, help: "Questions of one image decoded together (1-64).")
    var decodeBatch = ImageGridRequest.defaultBatch
    @Option(name: .customLong("feature-cache"), help: "Keep the vision tower's output per image in this folder, shared by later runs and concurrent shards (content-addressed; damaged entries are recomputed).")
    var featureCache: String?
    @Option(name: .customLong("feature-cache-max-gb"), parsing: .unconditional, help: "Size bound of --feature-cache; least recently used entries go first.")
    var featureCacheMaxGB = 20.0

    func validate() throws {
        guard (1...64).contains(decodeBatch) else { throw ValidationError("--decode-batch must be between 1 and 64 (got \(decodeBatch))") }
        guard featureCacheMaxGB > 0, featureCacheMaxGB.isFinite else {
            throw ValidationError("--feature-cache-max-gb must be positive (got \(featureCacheMaxGB))")
        }
        if let dir = featureCache {
            var isDir: ObjCBool = false
            if FileManager.default.fileExists(atPath: dir, isDirectory: &isDir), !isDir.boolValue {
                throw ValidationError("--feature-cache \(dir) is a file, not a folder")
            }
        }
    }
}

extension AnyresMode: ExpressibleByArgument {}
extension ComputePrecision: ExpressibleByArgument {}
extension SelectionMethod: ExpressibleByArgument {}
extension ImageOpening: ExpressibleByArgument {}

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
