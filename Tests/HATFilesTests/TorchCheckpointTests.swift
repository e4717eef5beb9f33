import Foundation
import TensorEngine
import TestSupport
import Testing

@testable import HATFiles

/// The checkpoint reader against files that PyTorch itself wrote (Tests/Oracle/torch_checkpoint_oracle.py):
/// both layouts, float32 and float16, shaped like HAT's fairseq checkpoints.
@Suite("PyTorch checkpoints written by torch.save")
struct TorchCheckpointTests {
    /// The fixtures, written once for the suite.
    static let fixtures: Result<URL, Error> = Result {
        let dir = try Oracle.temporaryDirectory()
        try Oracle.run("torch_checkpoint_oracle.py", [dir.path])
        return dir
    }

    static func tensors(_ value: PickleValue?) -> [(name: String, tensor: TorchTensorReference)] {
        (value?.entries?.items ?? []).compactMap { item in
            guard case .string(let name) = item.key, case .tensor(let t) = item.value else { return nil }
            return (name, t)
        }
    }

    @Test(
        "every tensor of a HAT-shaped checkpoint equals PyTorch's, views and float16 included",
        arguments: ["super_zip_fp32.pt", "super_legacy_fp32.pt", "super_zip_fp16.pt", "super_legacy_fp16.pt"])
    func readsEveryTensor(_ name: String) throws {
        let dir = try Self.fixtures.get()
        let checkpoint = try TorchCheckpointFile(path: dir.appendingPathComponent(name).path)
        #expect(checkpoint.layout == (name.contains("zip") ? .zip : .legacy))
        let expected = try SafeTensorsFile.read(from: dir.appendingPathComponent(name.contains("fp16") ? "expected_fp16.safetensors" : "expected.safetensors"))
        let model = Self.tensors(checkpoint.object["model"]), views = Self.tensors(checkpoint.object["views"])
        #expect(model.count == 67)
        #expect(views.count == 4)
        for (group, list) in [("model", model), ("views", views)] {
            for (key, t) in list {
                let want = try expected.tensor("\(group)/\(key)")
                #expect(t.shape == want.shape, "\(group)/\(key)")
                let got = try checkpoint.floats(t), values = try want.floats()
                #expect(got.map(\.bitPattern) == values.map(\.bitPattern), "\(group)/\(key) differs from PyTorch's")
            }
        }
        #expect(views.first { $0.name == "transposed" }.map { !$0.tensor.isContiguous } == true, "the transposed view is strided")
    }

    @Test("args, optimizer history and fairseq's meters read as plain data", arguments: ["super_zip_fp32.pt", "super_legacy_fp16.pt"])
    func readsArguments(_ name: String) throws {
        let dir = try Self.fixtures.get()
        let object = try TorchCheckpointFile(path: dir.appendingPathComponent(name).path).object
        guard case .object(let args) = object["args"] else {
            Issue.record("args is not an object: \(String(describing: object["args"]))")
            return
        }
        #expect(args.type == PickleGlobal(module: "argparse", name: "Namespace"))
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("args.json"))) as! [String: Any]
        #expect(args.attributes.count == json.count)
        for (key, value) in json {
            let read = args.attributes[key]
            if let text = value as? String { #expect(read?.string == text, "\(key)") }
            if let list = value as? [Any] { #expect(read?.elements?.count == list.count, "\(key)") }
        }
        for key in ["encoder_embed_dim", "qkv_dim", "encoder_layers", "max_tokens", "distributed_world_size"] {
            #expect(read(args, key)?.int == (json[key] as? NSNumber)?.intValue, "\(key)")
        }
        for key in ["dropout", "attention_dropout", "label_smoothing"] {
            #expect(read(args, key)?.double == (json[key] as? NSNumber)?.doubleValue, "\(key)")
        }
        for key in ["share_all_embeddings", "share_decoder_input_output_embed", "encoder_normalize_before", "fp16"] {
            #expect(read(args, key)?.bool == false, "\(key)")
            if case .bool = args.attributes[key]! {} else { Issue.record("\(key) is not read as a boolean") }
        }
        #expect(args.attributes["encoder_embed_choice"]?.elements?.compactMap(\.int) == [16, 12])
        #expect(args.attributes["lr"]?.elements?.first?.double == 0.0005)
        #expect(object["optimizer_history"]?.elements?.first?["num_updates"]?.int == 2)
        guard case .object(let meter) = object["extra_state"]?["train_meters"]?["train_loss"] else {
            Issue.record("the AverageMeter is not read as an object")
            return
        }
        #expect(meter.type.description == "fairseq.meters.AverageMeter")
        #expect(meter.attributes["avg"]?.double == 0.25)
        #expect(object["last_optimizer_state"]?["param_groups"]?.elements?.first?["betas"]?.elements?.compactMap(\.double) == [0.9, 0.98])
    }

    func read(_ o: PickleObject, _ key: String) -> PickleValue? { o.attributes[key] }

    /// (Protocol 2, which torch.save writes, names Python 3's builtins by their Python 2 module, `__builtin__`.)
    @Test(
        "files that would run code are refused, naming the global, and nothing runs",
        arguments: [
            ("hostile_zip_system.pt", "posix.system"), ("hostile_legacy_system.pt", "posix.system"),
            ("hostile_zip_eval.pt", "__builtin__.eval"), ("hostile_legacy_eval.pt", "__builtin__.eval"),
        ])
    func refusesCode(_ name: String, _ global: String) throws {
        let dir = try Self.fixtures.get()
        let error = #expect(throws: TorchCheckpointError.self) { try TorchCheckpointFile(path: dir.appendingPathComponent(name).path) }
        #expect(error?.description.contains("refusing the global \(global)") == true, "\(String(describing: error))")
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("PWNED").path))
    }

    @Test("a zip archive with compressed records is refused")
    func refusesCompressedRecords() throws {
        let dir = try Self.fixtures.get()
        let error = #expect(throws: TorchCheckpointError.self) { try TorchCheckpointFile(path: dir.appendingPathComponent("compressed_zip.pt").path) }
        #expect(error?.description.contains("compressed") == true, "\(String(describing: error))")
    }

    @Test("truncated and bit-flipped copies of real checkpoints: an error or a result, never a crash or a hang")
    func fuzzedCopies() throws {
        let dir = try Self.fixtures.get()
        var rng = RandomGenerator(seed: 42)
        var refused = 0, read = 0
        for name in ["super_zip_fp16.pt", "super_legacy_fp16.pt"] {
            let original = try Data(contentsOf: dir.appendingPathComponent(name))
            for trial in 0..<150 {
                var bytes = [UInt8](original)
                if trial % 3 == 0 {
                    bytes.removeLast(1 + rng.nextInt(bytes.count - 1))  // truncated anywhere
                } else {
                    // A few random bytes changed, mostly in the pickle (the first bytes of a legacy
                    // file, the last of a zip's central directory and its data.pkl).
                    for _ in 0..<(1 + rng.nextInt(4)) {
                        let region = rng.nextInt(2) == 0 ? min(30_000, bytes.count) : bytes.count
                        bytes[rng.nextInt(region)] = UInt8(rng.nextInt(256))
                    }
                }
                let path = dir.appendingPathComponent("fuzz.pt").path
                try Data(bytes).write(to: URL(fileURLWithPath: path))
                do {
                    let checkpoint = try TorchCheckpointFile(path: path)
                    for (_, t) in Self.tensors(checkpoint.object["model"]) { _ = try checkpoint.floats(t) }
                    read += 1
                } catch is TorchCheckpointError {
                    refused += 1
                }
            }
        }
        #expect(refused > 50, "most damaged files are refused (\(refused) refused, \(read) read)")
    }
}
