import Foundation
import RandomCheckpoints

// make-random-llava OUT [--size 7b|13b] [--layers N] [--tokenizer DIR]
// Writes OUT/llava-v1.5-<size>-random[-<N>l] and OUT/clip-vit-large-patch14-336-random.
var args = Array(CommandLine.arguments.dropFirst())
func take(_ flag: String) -> String? {
    guard let i = args.firstIndex(of: flag), i + 1 < args.count else { return nil }
    let v = args[i + 1]
    args.removeSubrange(i...(i + 1))
    return v
}
let size = take("--size") ?? "7b"
let layers = take("--layers").flatMap(Int.init)
let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent()
let tokenizer = take("--tokenizer").map { URL(fileURLWithPath: $0) }
    ?? repoRoot.appendingPathComponent("demo/models/llava15-tiny")
guard args.count == 1, var geometry = ["7b": RandomLLaVA.Geometry.llama7B, "13b": .llama13B][size] else {
    FileHandle.standardError.write(Data("usage: make-random-llava OUT [--size 7b|13b] [--layers N] [--tokenizer DIR]\n".utf8))
    exit(2)
}
if let layers { geometry.layers = max(1, layers) }
let name = "llava-v1.5-\(size)-random" + (layers.map { "-\($0)l" } ?? "")
do {
    let paths = try RandomLLaVA.write(to: URL(fileURLWithPath: args[0]), geometry: geometry, name: name, tokenizerFrom: tokenizer)
    print(paths.model.path)
} catch {
    FileHandle.standardError.write(Data("make-random-llava: \(error)\n".utf8))
    exit(1)
}
