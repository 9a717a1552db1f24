import Foundation
import Records

/// The benchmarks declared in `datasets.json`, validated, and the implementation for each.
public struct DatasetRegistry: Sendable {
    public static let fileName = "datasets.json"
    /// Environment variables: data root, and an explicit registry file.
    public static let dataRootVariable = "VISPRUNER_DATA"
    public static let registryVariable = "VISPRUNER_DATASETS"

    public let specs: [DatasetSpec]
    /// Where the registry was read from (nil when built in memory).
    public let source: URL?
    /// How `load` found it (for `datasets list` and `info`); `.builtIn` for the copy inside the binary.
    public var origin: Origin = .builtIn

    /// Validates names (non-empty, unique) and paths (relative, not escaping the data root).
    public init(specs: [DatasetSpec], source: URL? = nil) throws {
        let file = source?.path ?? "datasets registry"
        var seen = Set<String>()
        for (i, s) in specs.enumerated() {
            let entry = "datasets[\(i)]"
            guard !s.name.isEmpty else { throw DatasetError(file: file, field: "\(entry).name", "empty") }
            guard seen.insert(s.name).inserted else {
                throw DatasetError(file: file, field: "\(entry).name", "duplicate benchmark name '\(s.name)'")
            }
            var paths = [("questionFile", s.questionFile), ("imageFolder", s.imageFolder)]
            paths += s.annotationFiles.sorted { $0.key < $1.key }.map { ("annotationFiles.\($0.key)", $0.value) }
            for (field, p) in paths {
                if let problem = Self.pathProblem(p) {
                    throw DatasetError(file: file, field: "\(entry) (\(s.name)).\(field)", problem)
                }
            }
            guard (1...8192).contains(s.maxNewTokens) else {
                throw DatasetError(file: file, field: "\(entry) (\(s.name)).maxNewTokens", "must be between 1 and 8192, got \(s.maxNewTokens)")
            }
        }
        self.specs = specs
        self.source = source
    }

    /// Lexical check that a path stays inside the data root.
    static func pathProblem(_ p: String) -> String? {
        if p.isEmpty { return "empty path" }
        if p.hasPrefix("/") { return "'\(p)' is absolute; paths are relative to the data root" }
        var depth = 0
        for c in p.split(separator: "/") {
            if c == ".." { depth -= 1 } else if c != "." { depth += 1 }
            if depth < 0 { return "'\(p)' escapes the data root" }
        }
        return nil
    }

    /// Reads and validates a registry file.
    public static func load(from url: URL) throws -> DatasetRegistry {
        try parse(try readBounded(url, limit: 16 << 20), source: url)
    }

    static let requiredKeys = ["name", "title", "split", "questionFile", "annotationFiles", "imageFolder",
                               "promptSuffix", "scorer", "submissionFormat", "maxNewTokens"]

    /// Parses registry JSON, naming the entry and key of any unknown, missing or mistyped field.
    public static func parse(_ data: Data, source: URL? = nil) throws -> DatasetRegistry {
        let file = source?.path ?? "datasets registry"
        let any: Any
        do { any = try JSONSerialization.jsonObject(with: data) } catch {
            throw DatasetError(file: file, "not valid JSON (\(error.localizedDescription))")
        }
        guard let top = any as? [String: Any] else { throw DatasetError(file: file, "expected an object {\"datasets\": [...]}") }
        if let extra = top.keys.sorted().first(where: { $0 != "datasets" }) {
            throw DatasetError(file: file, field: extra, "unknown key (only \"datasets\" is allowed)")
        }
        guard let list = top["datasets"] as? [Any] else { throw DatasetError(file: file, field: "datasets", "missing or not an array") }
        var specs: [DatasetSpec] = []
        for (i, el) in list.enumerated() {
            guard let o = el as? [String: Any] else { throw DatasetError(file: file, field: "datasets[\(i)]", "not an object") }
            let entry = "datasets[\(i)]" + ((o["name"] as? String).map { " (\($0))" } ?? "")
            if let unknown = o.keys.sorted().first(where: { !requiredKeys.contains($0) }) {
                throw DatasetError(file: file, field: "\(entry).\(unknown)", "unknown key (allowed: \(requiredKeys.joined(separator: ", ")))")
            }
            if let missing = requiredKeys.first(where: { o[$0] == nil }) {
                throw DatasetError(file: file, field: "\(entry).\(missing)", "missing")
            }
            func str(_ k: String) throws -> String {
                guard let s = o[k] as? String else { throw DatasetError(file: file, field: "\(entry).\(k)", "not a string") }
                return s
            }
            guard let ann = o["annotationFiles"] as? [String: Any] else {
                throw DatasetError(file: file, field: "\(entry).annotationFiles", "not an object of name -> path")
            }
            var annotations: [String: String] = [:]
            for (k, v) in ann {
                guard let s = v as? String else { throw DatasetError(file: file, field: "\(entry).annotationFiles.\(k)", "not a string") }
                annotations[k] = s
            }
            guard let n = o["maxNewTokens"] as? NSNumber, String(cString: n.objCType) != "c",
                  String(cString: n.objCType) != "d" else {
                throw DatasetError(file: file, field: "\(entry).maxNewTokens", "not an integer")
            }
            specs.append(DatasetSpec(name: try str("name"), title: try str("title"), split: try str("split"),
                                     questionFile: try str("questionFile"), annotationFiles: annotations,
                                     imageFolder: try str("imageFolder"), promptSuffix: try str("promptSuffix"),
                                     scorer: try str("scorer"), submissionFormat: try str("submissionFormat"),
                                     maxNewTokens: n.intValue))
        }
        return try DatasetRegistry(specs: specs, source: source)
    }

    /// Where a registry came from, in the order they are tried: `--datasets FILE`, `$VISPRUNER_DATASETS`,
    /// the data root's `datasets.json`, else the copy built into the binary.
    public enum Origin: Equatable, Sendable {
        case option(URL), environment(URL), dataRoot(URL), builtIn

        public var description: String {
            switch self {
            case .option(let u): return "\(u.path) (--datasets)"
            case .environment(let u): return "\(u.path) ($\(DatasetRegistry.registryVariable))"
            case .dataRoot(let u): return "\(u.path) (the data root's \(DatasetRegistry.fileName))"
            case .builtIn: return "built-in (the repository's \(DatasetRegistry.fileName) this binary was built with)"
            }
        }
    }

    /// The registry file to read, in the order of `Origin`. A file named by --datasets or the variable must exist.
    public static func locate(explicit: String? = nil, dataRoot: URL? = nil,
                              environment: [String: String] = ProcessInfo.processInfo.environment) throws -> Origin {
        let fm = FileManager.default
        if let p = explicit, !p.isEmpty {
            let url = URL(fileURLWithPath: p)
            guard fm.fileExists(atPath: url.path) else { throw DatasetError(file: url.path, "registry file not found (--datasets)") }
            return .option(url)
        }
        if let p = environment[registryVariable], !p.isEmpty {
            let url = URL(fileURLWithPath: p)
            guard fm.fileExists(atPath: url.path) else { throw DatasetError(file: url.path, "registry file not found ($\(registryVariable))") }
            return .environment(url)
        }
        if let dataRoot {
            let url = dataRoot.appendingPathComponent(fileName)
            if fm.fileExists(atPath: url.path) { return .dataRoot(url) }
        }
        return .builtIn
    }

    /// The registry of `locate`'s order. `dataRoot` nil skips the data-root step (commands without one).
    public static func load(explicit: String? = nil, dataRoot: URL? = nil,
                            environment: [String: String] = ProcessInfo.processInfo.environment) throws -> DatasetRegistry {
        let origin = try locate(explicit: explicit, dataRoot: dataRoot, environment: environment)
        var registry: DatasetRegistry
        switch origin {
        case .option(let u), .environment(let u), .dataRoot(let u): registry = try load(from: u)
        case .builtIn: registry = try parse(Data(BuiltInRegistry.json.utf8))
        }
        registry.origin = origin
        return registry
    }

    /// The built-in registry (what an installed binary uses without a registry file).
    public static var builtIn: DatasetRegistry {
        get throws { try load(explicit: nil, dataRoot: nil, environment: [:]) }
    }

    /// The data root: `option` (e.g. `--data-root`), else `$VISPRUNER_DATA`; it must be a directory.
    public static func dataRoot(option: String?,
                                environment: [String: String] = ProcessInfo.processInfo.environment) throws -> URL {
        guard let p = [option, environment[dataRootVariable]].compactMap({ $0 }).first(where: { !$0.isEmpty }) else {
            throw DatasetError("no data root: pass --data-root DIR or set \(dataRootVariable)")
        }
        var isDir: ObjCBool = false
        let url = URL(fileURLWithPath: p).standardizedFileURL
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDir), isDir.boolValue else {
            throw DatasetError(file: url.path, "data root is not a directory")
        }
        return url
    }

    public var names: [String] { specs.map(\.name) }

    /// The known name a mistyped one most likely means: same letters in order (`sqa` → `scienceqa`), a
    /// common prefix, or at most two edits away; nil when nothing is close.
    public static func suggestion(for name: String, among known: [String]) -> String? {
        let n = Array(name.lowercased())
        guard !n.isEmpty else { return nil }
        func isSubsequence(_ a: [Character], of b: [Character]) -> Bool {
            var i = 0
            for c in b where i < a.count && c == a[i] { i += 1 }
            return i == a.count
        }
        func distance(_ a: [Character], _ b: [Character]) -> Int {
            var row = Array(0...b.count)
            for i in 1...max(a.count, 1) where !a.isEmpty {
                var prev = row[0]
                row[0] = i
                for j in stride(from: 1, through: b.count, by: 1) {
                    let keep = row[j]
                    row[j] = min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] == b[j - 1] ? 0 : 1))
                    prev = keep
                }
            }
            return row[b.count]
        }
        let scored = known.map { k -> (String, Int) in
            let kk = Array(k.lowercased())
            let d = distance(n, kk)
            if d <= 2 { return (k, d) }
            if kk.starts(with: n) || n.starts(with: kk) { return (k, 3) }
            if n.count >= 2 && n.first == kk.first && isSubsequence(n, of: kk) { return (k, 4) }
            return (k, Int.max)
        }
        // Abbreviations keep the first letter (sqa → scienceqa): a candidate that shares it wins over a closer one.
        func rank(_ c: (String, Int)) -> (Int, Int) { (c.0.lowercased().first == n.first ? 0 : 1, c.1) }
        return scored.filter { $0.1 != Int.max }.min { rank($0) < rank($1) }?.0
    }

    public func spec(named name: String) throws -> DatasetSpec {
        guard let s = specs.first(where: { $0.name == name }) else {
            let hint = Self.suggestion(for: name, among: names).map { "did you mean '\($0)'? " } ?? ""
            throw DatasetError(file: source?.path ?? "datasets registry",
                               "unknown benchmark '\(name)' (\(hint)declared: \(names.joined(separator: ", ")))")
        }
        return s
    }

    /// Report-table columns of every declared benchmark, in declaration order (the tables' column order).
    public var tableLayout: [BenchmarkColumns] {
        specs.map { spec in
            guard let type = BenchmarkCatalog.implementation(for: spec) else { return .plain(spec.name) }
            var columns = type.tableColumns(spec)
            columns.opensImagesUnconverted = type.opensImagesUnconverted
            return columns
        }
    }

    /// The benchmark a declared name stands for, with paths resolved under `dataRoot`.
    public func benchmark(named name: String, dataRoot: URL) throws -> any Benchmark {
        let spec = try spec(named: name)
        guard let type = BenchmarkCatalog.implementation(for: spec) else {
            throw DatasetError("no implementation '\(spec.scorer)' (benchmark '\(spec.name)') in this build "
                               + "(known: \(BenchmarkCatalog.all.map { $0.implementation }.joined(separator: ", ")))")
        }
        return type.init(spec: spec, dataRoot: dataRoot)
    }
}
