import Benchmarks
import Checkpoint
import Foundation
import Imaging
import Records

/// Everything that can be known wrong about a plan before any answer is generated: benchmark names, model
/// folders, budgets larger than a view has patches, and the data each benchmark needs (`DataRootCheck`).
/// `eval` and `sweep` refuse to start with any of them; `sweep --dry-run` lists them all.
public enum Preflight {
    /// Why an image file cannot be used (missing, unreadable, or its header does not decode), or nil.
    public static func imageProblem(_ url: URL) -> DataRootCheck.ImageIssue? {
        guard FileManager.default.isReadableFile(atPath: url.path) else { return .missing }
        do { _ = try ImageHeader.read(contentsOf: url) } catch { return .undecodable("\(error)") }
        return nil
    }

    /// As `imageProblem`, then the whole file decoded (`datasets check --decode`): a damaged JPEG or PNG body
    /// whose header reads is found before a run. One image at a time, within the decoder's size limits
    /// (`ImageDecoder.maxPixels`), the pixels dropped at once.
    public static func imageDecodeProblem(_ url: URL) -> DataRootCheck.ImageIssue? {
        if let p = imageProblem(url) { return p }
        do { _ = try ImageDecoder.decode(contentsOf: url) } catch { return .undecodable("\(error)") }
        return nil
    }

    /// The patches per view of a checkpoint's vision tower, or a problem with the model folder.
    public static func patchesPerView(model: String, visionTower: URL? = nil) -> Result<Int, HarnessError> {
        let dir = URL(fileURLWithPath: model)
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: dir.path, isDirectory: &isDir), isDir.boolValue else {
            return .failure(HarnessError("model \(model): no such folder"))
        }
        do {
            let config = try LLaVAConfig.load(directory: dir)
            guard let towerName = config.mmVisionTower ?? visionTower?.path else {
                return .failure(HarnessError("model \(model): config.json names no vision tower (mm_vision_tower) and none was given"))
            }
            let tower = try VisionTowerLocator.resolve(towerName, modelDirectory: dir, override: visionTower)
            return .success(try CLIPVisionConfig.load(directory: tower).numPatches)
        } catch {
            return .failure(HarnessError("model \(model): \(error)"))
        }
    }

    /// Every problem of a plan, each a line for the user; empty when the plan can run.
    /// - Parameters:
    ///   - budgets: the visual-token budgets the plan uses (checked against each model's patches per view).
    ///   - limit: benchmarks are checked over the items a `--limit` run will answer.
    public static func problems(models: [String], visionTower: URL?, datasets: [String], budgets: [Int], limit: Int?,
                                registry: DatasetRegistry, dataRoot: URL?) -> [String] {
        var problems: [String] = []
        for model in models {
            switch patchesPerView(model: model, visionTower: visionTower) {
            case .failure(let e): problems.append(e.message)
            case .success(let patches):
                for t in Set(budgets).sorted() where t > patches {
                    problems.append("--tokens \(t) is more than the \(patches) patches a view of \(model) has")
                }
            }
        }
        for name in datasets {
            do {
                _ = try registry.spec(named: name)
                guard let dataRoot else { continue }
                let benchmark = try registry.benchmark(named: name, dataRoot: dataRoot)
                let report = DataRootCheck.check(benchmark, limit: limit, requireQuestions: true, imageProblem: imageProblem)
                guard report.problems > 0 else { continue }
                // Each problem once, named by its benchmark: the check's summary line counts the same problems
                // again (a bad image was "2 problem(s)": the summary and the image).
                let detail = report.lines.filter { $0.hasPrefix("  problem: ") || $0.hasPrefix("  ... and ") }
                if detail.isEmpty {
                    problems += report.lines  // a one-line problem: the question file is missing or unreadable
                } else {
                    problems += detail.map { line in
                        "\(name): " + (line.hasPrefix("  problem: ") ? String(line.dropFirst(11)) : String(line.dropFirst(2)))
                    }
                }
            } catch {
                problems.append("\(error)")
            }
        }
        return problems
    }
}
