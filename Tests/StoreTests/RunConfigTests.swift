import Foundation
import XCTest
@testable import Store
import Records

final class RunConfigTests: XCTestCase {
    func testSHA256MatchesStandardVectors() {
        // FIPS 180-4 example messages.
        XCTAssertEqual(SHA256Digest.hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(SHA256Digest.hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        XCTAssertEqual(SHA256Digest.hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
                       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    }

    func testCanonicalJSONHasSortedKeysAndExplicitNull() throws {
        let json = sampleConfig(tokens: nil).canonicalJSON
        XCTAssertTrue(json.contains("\"tokens\":null"), json)
        let keys = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any]).keys.sorted()
        // The text lists keys in sorted order.
        var lastPos = json.startIndex
        for k in keys {
            let r = try XCTUnwrap(json.range(of: "\"\(k)\":"), k)
            XCTAssertGreaterThanOrEqual(r.lowerBound, lastPos, "key \(k) out of order in \(json)")
            lastPos = r.lowerBound
        }
    }

    func testKeyIsStableAndSensitiveToEveryOutputChangingField() throws {
        let base = sampleConfig()
        XCTAssertEqual(base.key, sampleConfig().key)
        XCTAssertEqual(base.key.count, 64)
        let decoded = try RunConfig.decode(json: base.canonicalJSON)
        XCTAssertEqual(decoded, base)
        XCTAssertEqual(decoded.key, base.key)
        var variants: [RunConfig] = []
        var c = base; c.pruning = .pruned(.vispruner, tokens: 128, ratio: 0.5); variants.append(c)
        c = base; c.pruning = .pruned(.vispruner, tokens: 64, ratio: 0.25); variants.append(c)
        c = base; c.pruning = .pruned(.fastervlm, tokens: 64, ratio: 0.5); variants.append(c)
        c = base; c.checkpointFingerprint = "other"; variants.append(c)
        c = base; c.modelID = "llava-v1.5-13b"; variants.append(c)
        c = base; c.seed = 1; variants.append(c)
        c = base; c.maxNewTokens = 1024; variants.append(c)
        c = base; c.split = "val"; variants.append(c)
        c = base; c.extra = ["conv_mode": "vicuna_v1"]; variants.append(c)
        XCTAssertEqual(Set(variants.map(\.key) + [base.key]).count, variants.count + 1)
    }

    func testAnswerIDIsShortUUIDShapedAndDeterministic() {
        let key = sampleConfig().key
        let a = AnswerID.derive(runKey: key, questionID: .int(7))
        XCTAssertEqual(a.count, 22)
        XCTAssertTrue(a.allSatisfy { AnswerID.alphabet.contains($0) })
        XCTAssertEqual(a, AnswerID.derive(runKey: key, questionID: .int(7)))
        XCTAssertNotEqual(a, AnswerID.derive(runKey: key, questionID: .string("7")))
        XCTAssertNotEqual(a, AnswerID.derive(runKey: sampleConfig(tokens: 128).key, questionID: .int(7)))
    }
}

/// The typed pruning value is the only way a method name enters a run.
final class PruningSettingTests: XCTestCase {
    func testMethodNamesAreParsedAndValidatedOnce() throws {
        XCTAssertEqual(try Pruning(method: "none", tokens: 64, ratio: 0.3), .unpruned, "the baseline ignores budget and ratio")
        XCTAssertEqual(try Pruning(method: "vispruner", tokens: 32, ratio: 0.25), .pruned(.vispruner, tokens: 32, ratio: 0.25))
        // Ratio-free methods make one run whatever ratio is given.
        XCTAssertEqual(try Pruning(method: "fastervlm", tokens: 32, ratio: 0.5), .pruned(.fastervlm, tokens: 32, ratio: 0))
        XCTAssertEqual(try Pruning(method: "random", tokens: 32, ratio: 0.75), try Pruning(method: "random", tokens: 32, ratio: 0.1))
        // A stored config keeps the ratio its key was derived from.
        XCTAssertEqual(try Pruning(stored: "fastervlm", tokens: 32, ratio: 0.5), .pruned(.fastervlm, tokens: 32, ratio: 0.5))
        XCTAssertThrowsError(try Pruning(method: "fastv", tokens: 64, ratio: 0.5)) {
            XCTAssertTrue("\($0)".contains("unknown pruning method 'fastv'"), "\($0)")
        }
        XCTAssertThrowsError(try Pruning(method: "vispruner", tokens: nil, ratio: 0.5))
        XCTAssertThrowsError(try Pruning(method: "vispruner", tokens: 0, ratio: 0.5))
        XCTAssertThrowsError(try Pruning(method: "vispruner", tokens: 64, ratio: 1.5))
        XCTAssertThrowsError(try Pruning(method: "vispruner", tokens: 64, ratio: .nan))
    }

    func testStoredConfigsWithAnUnknownMethodOrAnInconsistentBaselineAreRefused() throws {
        let good = sampleConfig().canonicalJSON
        XCTAssertThrowsError(try RunConfig.decode(json: good.replacingOccurrences(of: "\"vispruner\"", with: "\"magic\"")))
        let baseline = sampleConfig(tokens: nil).canonicalJSON
        XCTAssertNoThrow(try RunConfig.decode(json: baseline))
        XCTAssertThrowsError(try RunConfig.decode(json: baseline.replacingOccurrences(of: "\"tokens\":null", with: "\"tokens\":64")))
    }

    func testTheRunKeyTextIsUnchangedByTheTypedSettings() throws {
        // The canonical JSON is what existing databases' run keys were derived from: its spelling must not move.
        XCTAssertEqual(sampleConfig().canonicalJSON, """
            {"checkpoint_fingerprint":"abc123","dataset":"gqa","extra":{},"important_ratio":0.5,"max_new_tokens":128,\
            "method":"vispruner","model_id":"llava-v1.5-7b","seed":0,"split":"testdev_balanced","tokens":64}
            """)
        XCTAssertEqual(sampleConfig(tokens: nil).canonicalJSON, """
            {"checkpoint_fingerprint":"abc123","dataset":"gqa","extra":{},"important_ratio":0,"max_new_tokens":128,\
            "method":"none","model_id":"llava-v1.5-7b","seed":0,"split":"testdev_balanced","tokens":null}
            """)
    }
}
