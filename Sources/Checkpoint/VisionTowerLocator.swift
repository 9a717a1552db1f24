import Foundation

/// Finds the local folder of the vision tower a LLaVA config names in `mm_vision_tower`.
public enum VisionTowerLocator {
    /// Resolution order: `override` (if given), an absolute path, a path relative to the model
    /// folder (the fixtures use `../clip-tiny`), then a Hugging Face id (`org/name`) looked up in
    /// the hub cache (`$HF_HUB_CACHE`, `$HF_HOME/hub`, `~/.cache/huggingface/hub`), preferring the
    /// snapshot `refs/main` points at. The result must hold a `config.json`.
    public static func resolve(_ name: String, modelDirectory: URL, override: URL?,
                               environment: [String: String] = ProcessInfo.processInfo.environment) throws -> URL {
        let fm = FileManager.default
        func isTower(_ url: URL) -> Bool { fm.fileExists(atPath: url.appendingPathComponent("config.json").path) }
        if let override {
            guard isTower(override) else {
                throw CheckpointError("vision tower override \(override.path) has no config.json")
            }
            return override
        }
        var tried: [String] = []
        if name.hasPrefix("/") {
            let url = URL(fileURLWithPath: name)
            if isTower(url) { return url }
            throw CheckpointError("vision tower \(name) (absolute path) has no config.json")
        }
        let relative = modelDirectory.appendingPathComponent(name).standardizedFileURL
        if isTower(relative) { return relative }
        tried.append(relative.path)

        let parts = name.split(separator: "/", omittingEmptySubsequences: false)
        if parts.count == 2, parts.allSatisfy({ !$0.isEmpty && $0 != ".." && $0 != "." }) {
            for hub in hubRoots(environment) {
                let repo = hub.appendingPathComponent("models--\(parts[0])--\(parts[1])")
                let snapshots = repo.appendingPathComponent("snapshots")
                tried.append(snapshots.path)
                if let ref = try? String(contentsOf: repo.appendingPathComponent("refs/main"), encoding: .utf8) {
                    let commit = ref.trimmingCharacters(in: .whitespacesAndNewlines)
                    if !commit.isEmpty, !commit.contains("/") {
                        let snap = snapshots.appendingPathComponent(commit)
                        if isTower(snap) { return snap }
                    }
                }
                let entries = ((try? fm.contentsOfDirectory(atPath: snapshots.path)) ?? []).sorted()
                for e in entries where isTower(snapshots.appendingPathComponent(e)) {
                    return snapshots.appendingPathComponent(e)
                }
            }
        }
        throw CheckpointError("vision tower '\(name)' not found; looked in: \(tried.joined(separator: ", ")). Pass the tower folder explicitly.")
    }

    static func hubRoots(_ env: [String: String]) -> [URL] {
        var roots: [URL] = []
        if let c = env["HF_HUB_CACHE"], !c.isEmpty { roots.append(URL(fileURLWithPath: c)) }
        if let h = env["HF_HOME"], !h.isEmpty { roots.append(URL(fileURLWithPath: h).appendingPathComponent("hub")) }
        let home = env["HOME"].map { URL(fileURLWithPath: $0) } ?? FileManager.default.homeDirectoryForCurrentUser
        roots.append(home.appendingPathComponent(".cache/huggingface/hub"))
        return roots
    }
}
