import Foundation

/// Folders that exported files go into: refused with a plain message when the path is a file, and
/// protected against silently replacing different files written there before.
public enum OutputFolder {
    /// Creates `url` as a folder (with its parents); a plain error when it is a file or cannot be made.
    public static func prepare(_ url: URL) throws {
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: url.path, isDirectory: &isDir) {
            guard isDir.boolValue else { throw DatasetError("\(url.path) is a file, not a folder: give a folder for the output") }
            return
        }
        do { try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true) } catch {
            let reason = (error as NSError).localizedFailureReason ?? (error as NSError).localizedDescription
            throw DatasetError("cannot create the output folder \(url.path): \(reason)")
        }
    }

    /// Runs `write` into a fresh staging folder inside `folder`, then moves what it wrote into `folder`.
    /// When a file of the same name already exists there with different content, nothing is moved and the
    /// call fails naming those files, unless `force`. Identical files are left as they are. Returns the
    /// final URLs of what `write` returned.
    public static func write(into folder: URL, force: Bool, _ write: (URL) throws -> [URL]) throws -> [URL] {
        try prepare(folder)
        let fm = FileManager.default
        let staging = folder.appendingPathComponent(".vispruner-staging-\(UUID().uuidString)")
        try fm.createDirectory(at: staging, withIntermediateDirectories: true)
        defer { try? fm.removeItem(at: staging) }
        let written = try write(staging)
        let stagingPath = staging.standardizedFileURL.path + "/"
        let relative = try written.map { url -> String in
            let p = url.standardizedFileURL.path
            guard p.hasPrefix(stagingPath) else { throw DatasetError("exporter wrote outside its folder: \(p)") }
            return String(p.dropFirst(stagingPath.count))
        }
        // Every file under the staging folder (an exporter may write a folder tree, as MME's does).
        var files: [String] = []
        if let walker = fm.enumerator(atPath: staging.path) {
            while let rel = walker.nextObject() as? String {
                var isDir: ObjCBool = false
                if fm.fileExists(atPath: staging.appendingPathComponent(rel).path, isDirectory: &isDir), !isDir.boolValue {
                    files.append(rel)
                }
            }
        }
        let differing = files.filter { rel in
            let target = folder.appendingPathComponent(rel)
            guard fm.fileExists(atPath: target.path) else { return false }
            return !fm.contentsEqual(atPath: target.path, andPath: staging.appendingPathComponent(rel).path)
        }.sorted()
        if !differing.isEmpty && !force {
            let shown = differing.prefix(5).joined(separator: ", ") + (differing.count > 5 ? ", ..." : "")
            throw DatasetError("\(folder.path) already holds different \(differing.count == 1 ? "file" : "files") of the same name "
                               + "(\(shown)); choose another --out folder or pass --force to replace them")
        }
        for rel in files {
            let target = folder.appendingPathComponent(rel)
            try fm.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
            if fm.fileExists(atPath: target.path) { try fm.removeItem(at: target) }
            try fm.moveItem(at: staging.appendingPathComponent(rel), to: target)
        }
        return relative.map { folder.appendingPathComponent($0) }
    }
}
