import ArgumentParser
import Foundation
import Pruning
import Tensor
import Records

/// `vispruner prune`: token selection on saved arrays, for checking against other implementations.
struct PruneCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prune",
        abstract: "Select visual tokens from saved features and [CLS] attention (.npy).",
        discussion: """
        --features is float32 [N, D] (select-layer patch features) and --attention [H, N] (per-head [CLS] \
        attention) or [N] (already averaged). Prints {"kept": [...], "important": [...], "diverse": [...]} with \
        ascending patch indices. With --crops K (LLaVA-1.6: base view + crops) the arrays are [K, N, D] and \
        [K, H, N] or [K, N], each view gets the budget T, and the output is {"views": [{"kept": ...}, ...]}.
        Methods: vispruner (default), fastervlm, divprune, uniform, random (--seed).
        """)

    @Option(help: "Patch features (.npy, float32 or float16).") var features: String
    @Option(help: "[CLS] attention (.npy).") var attention: String
    @Option(parsing: .unconditional, help: "Visual tokens to keep (per view).") var tokens: Int
    @Option(parsing: .unconditional, help: "VisPruner important ratio in [0, 1].") var ratio = 0.5
    @Option(help: "Selection method.") var method: SelectionMethod = .vispruner
    @Option(parsing: .unconditional, help: "Number of views stacked in the arrays (LLaVA-1.6: 5).") var crops: Int?
    @Option(parsing: .unconditional, help: "Seed for --method random.") var seed: UInt64 = 0

    func validate() throws {
        guard tokens > 0 else { throw ValidationError("--tokens must be positive") }
        guard ratio >= 0 && ratio <= 1 else { throw ValidationError("--ratio must be in [0, 1]") }
        if let crops, crops <= 0 { throw ValidationError("--crops must be positive") }
    }

    func run() throws {
        let f = try Npy.readTensor(contentsOf: URL(fileURLWithPath: features))
        let a = try Npy.readTensor(contentsOf: URL(fileURLWithPath: attention))
        let selector = method.selector(seed: seed)
        do {
            if let crops {
                guard f.rank == 3, f.shape[0] == crops else {
                    throw PruningError("--crops \(crops): features must be [\(crops), N, D], got \(f.shape)")
                }
                let views = try selectPerView(selector, features: f, attention: a, tokens: tokens, ratio: ratio)
                print("{\"views\": [" + views.map(Self.json).joined(separator: ", ") + "]}")
            } else {
                print(Self.json(try selector.select(features: f, attention: a, tokens: tokens, ratio: ratio)))
            }
        } catch let e as PruningError {
            throw ValidationError(e.message)
        }
    }

    static func json(_ s: Selection) -> String {
        func list(_ v: [Int]) -> String { "[" + v.map(String.init).joined(separator: ", ") + "]" }
        return "{\"kept\": \(list(s.kept)), \"important\": \(list(s.important)), \"diverse\": \(list(s.diverse))}"
    }
}
