import Foundation
import TestSupport
import Testing

@testable import Latency

/// `--command`: a user's shell command as the latency measurement.
// Serialized: a test that starts a process while another writes its script would let the child
// inherit the open script and fail to execute it (ETXTBSY, exit 126).
@Suite("Latency from a user's command", .serialized)
struct LatencyCommandTests {
    /// A fresh folder with a measuring script and a YAML file whose path has a space and a quote.
    struct Fixture {
        let folder: URL
        let yaml: String
        let script: String

        init(script body: String) throws {
            folder = FileManager.default.temporaryDirectory.appendingPathComponent("hat-latency-command-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            let sub = folder.appendingPathComponent("sub dir")
            try FileManager.default.createDirectory(at: sub, withIntermediateDirectories: true)
            yaml = sub.appendingPathComponent("it's 7.yml").path
            try "encoder-embed-dim-subtransformer: 512\n".write(toFile: yaml, atomically: true, encoding: .utf8)
            script = folder.appendingPathComponent("measure.sh").path
            // Written through a close-on-exec descriptor: a process another suite starts meanwhile
            // (MeasurerTests runs `hat`) must not inherit it open for writing, or executing the
            // script fails with ETXTBSY (exit 126).
            let fd = open(script, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o755)
            guard fd >= 0 else { throw CocoaError(.fileWriteUnknown) }
            let bytes = Array(("#!/bin/sh\n" + body).utf8)
            let written = bytes.withUnsafeBytes { Foundation.write(fd, $0.baseAddress, $0.count) }
            close(fd)
            guard written == bytes.count else { throw CocoaError(.fileWriteUnknown) }
        }

        func remove() { try? FileManager.default.removeItem(at: folder) }
    }

    func expectError(_ fragments: [String], sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void) {
        do {
            try body()
            Issue.record("expected an error containing \(fragments)", sourceLocation: sourceLocation)
        } catch let error as LatencyCommandError {
            for f in fragments {
                #expect(error.description.contains(f), "'\(error.description)' lacks '\(f)'", sourceLocation: sourceLocation)
            }
        } catch {
            Issue.record("unexpected error \(error)", sourceLocation: sourceLocation)
        }
    }

    @Test("the YAML path is appended as the last argument; the last number of the last non-empty line is the latency")
    func appendedPath() throws {
        // Fails unless it gets exactly one argument naming the YAML file.
        let f = try Fixture(
            script: """
                [ "$#" -eq 1 ] && [ -f "$1" ] || { echo "bad arguments: $*" >&2; exit 9; }
                echo "measuring $1 (300 runs)"
                echo "latency: 12.5 ms"
                echo "   "
                """)
        defer { f.remove() }
        let m = try LatencyCommandSource(command: f.script).measure(yamlPath: f.yaml)
        #expect(m.encoderMs == 0 && m.decoderMs == 12.5)
        let m2 = try LatencyCommandSource(command: "sh \(LatencyCommandSource.shellQuoted(f.script))").measure(yamlPath: f.yaml)
        #expect(m2.decoderMs == 12.5)
    }

    @Test(
        "hat latency dataset --command: one row per SubTransformer from the command, resumed after the rows already written",
        .enabled(if: HATBinary.isAvailable, "needs the hat binary"))
    func datasetFromCommand() throws {
        // Prints a latency derived from the YAML it is given (its decoder layer count), so the rows
        // show that every SubTransformer reached the command; counts its calls in a file.
        let f = try Fixture(
            script: """
                n=$(grep '^decoder-layer-num-subtransformer' "$1" | tr -dc 0-9)
                echo x >> "$(dirname "$0")/calls"
                echo "$n.25"
                """)
        defer { f.remove() }
        let space = Oracle.repoRoot.appendingPathComponent("configs/builtin_tiny_space.yml").path
        let csv = f.folder.appendingPathComponent("lat.csv").path
        @discardableResult
        func dataset(_ count: Int, threads: Int, seed: Int = 4, extra: [String] = [], succeeds: Bool = true) throws -> String {
            let r = try HATBinary.runMerged(
                [
                    "latency", "dataset", "--space", space, "--vocab", "300", "--count", "\(count)",
                    "--seed", "\(seed)", "--command", f.script, "--out", csv, "--threads", "\(threads)",
                ] + extra)
            #expect((r.status == 0) == succeeds, "\(r.output)")
            return r.output
        }
        try dataset(3, threads: 1)
        // How the rows were measured is written beside HAT's CSV; a resumed run under other
        // settings (threads, or another sampling seed) adds nothing unless told to.
        let provenance = try #require(MeasurementProvenance.read(besideDataset: csv))
        #expect(provenance.threads == 1 && provenance.method == f.script && provenance.iterations == 20)
        #expect(provenance.sampling?.contains("seed 4, vocabularies 300/300") == true, "\(String(describing: provenance.sampling))")
        let csvBefore = try Data(contentsOf: URL(fileURLWithPath: csv))
        let refused = try dataset(5, threads: 2, succeeds: false)
        #expect(refused.contains("holds rows measured with other settings (threads 1 → 2)") && refused.contains("--allow-mixed-settings"), "\(refused)")
        let reseeded = try dataset(5, threads: 1, seed: 9, succeeds: false)
        #expect(reseeded.contains("seed 4") && reseeded.contains("seed 9"), "\(reseeded)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: csv)) == csvBefore, "a refused run adds no rows")
        let resumed = try dataset(5, threads: 2, extra: ["--allow-mixed-settings"])
        #expect(resumed.contains("holds rows measured with other settings (threads 1 → 2)"), "\(resumed)")
        #expect(MeasurementProvenance.read(besideDataset: csv) == provenance, "the first rows' provenance is kept")
        let rows = try LatencyDataset(contentsOf: csv).rows
        #expect(rows.count == 5)
        for row in rows {
            #expect(row.encoderMean == 0)
            #expect(row.decoderMean == row.features[5] + 0.25, "row \(row)")  // features[5]: decoder_layer_num
        }
        let calls = try String(contentsOfFile: f.folder.appendingPathComponent("calls").path, encoding: .utf8)
        #expect(calls.split(separator: "\n").count == 5, "the resumed run must measure only the 2 missing rows")
    }

    @Test("{} is replaced by the path, every time it appears")
    func substitutedPath() throws {
        let f = try Fixture(
            script: """
                [ "$1" = "$3" ] && [ "$2" = "--flag" ] && [ -f "$1" ] || { echo "bad arguments: $*" >&2; exit 9; }
                echo "$1: 1e2"
                """)
        defer { f.remove() }
        let m = try LatencyCommandSource(command: "\(f.script) {} --flag {}").measure(yamlPath: f.yaml)
        #expect(m.decoderMs == 100)
    }

    @Test("the path is an argument, never shell text: quoted placeholders, spaces, quotes and $(…) in a file name")
    func pathIsNeverShellText() throws {
        let f = try Fixture(
            script: """
                [ "$#" = 1 ] && [ -f "$1" ] || { echo "bad arguments ($#): $*" >&2; exit 9; }
                echo 5
                """)
        defer { f.remove() }
        // A file name that would run a command (in the working folder) if it were spliced into the shell line.
        let markerName = "hat-pwned-\(UUID().uuidString)"
        let marker = URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent(markerName).path
        let hostile = f.folder.appendingPathComponent("a \"b\" $(touch \(markerName)) `touch \(markerName)`.yml").path
        try "encoder-embed-dim-subtransformer: 512\n".write(toFile: hostile, atomically: true, encoding: .utf8)
        for command in ["\(f.script) {}", "\(f.script) '{}'", "\(f.script) \"{}\"", f.script] {
            for path in [f.yaml, hostile] {
                let m = try LatencyCommandSource(command: command).measure(yamlPath: path)
                #expect(m.decoderMs == 5, "\(command)")
            }
        }
        #expect(!FileManager.default.fileExists(atPath: marker), "a file name was run as a command")
    }

    @Test("SIGTERM to hat ends the running latency command and its children")
    func signalEndsTheCommand() throws {
        guard HATBinary.isAvailable else {
            Issue.record("the hat binary is not built")
            return
        }
        let f = try Fixture(
            script: """
                sleep 300 &
                echo $! > "$(dirname "$0")/child.pid"
                wait
                """)
        defer { f.remove() }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: HATBinary.path)
        let sub = Oracle.repoRoot.appendingPathComponent("configs/hat/iwslt14.de-en/subtransformer/HAT_iwslt14deen_titanxp@109.0ms_bleu@34.5.yml").path
        p.arguments = ["latency", "measure", sub, "--command", f.script, "--command-timeout", "600"]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        let pidFile = f.folder.appendingPathComponent("child.pid").path
        let deadline = Date().addingTimeInterval(60)
        while !FileManager.default.fileExists(atPath: pidFile) && p.isRunning && Date() < deadline { usleep(50_000) }
        try #require(p.isRunning, "hat latency measure ended before its command started (exit \(p.terminationStatus))")
        usleep(200_000)
        let text = try String(contentsOfFile: pidFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        let child = try #require(pid_t(text), "child pid: \(text)")
        #expect(kill(child, 0) == 0, "the command's child runs")
        kill(p.processIdentifier, SIGTERM)
        p.waitUntilExit()
        #expect(p.terminationReason == .uncaughtSignal && p.terminationStatus == SIGTERM)
        // Gone, or a zombie waiting for a reaper (killed, never reaped in some containers).
        func ended() -> Bool {
            kill(child, 0) != 0 || ((try? String(contentsOfFile: "/proc/\(child)/stat", encoding: .utf8))?.contains(") Z ") ?? false)
        }
        var gone = false
        for _ in 0..<100 where !gone {
            gone = ended()
            if !gone { usleep(50_000) }
        }
        #expect(gone, "the command's child \(child) outlived hat")
        if !gone { kill(child, SIGKILL) }
    }

    @Test("encoder-decoder output takes the last two numbers")
    func encoderDecoder() throws {
        let f = try Fixture(script: "echo 'encoder 3.5 ms, decoder 10.25 ms'\n")
        defer { f.remove() }
        let m = try LatencyCommandSource(command: f.script, output: .encoderDecoder).measure(yamlPath: f.yaml)
        #expect(m.encoderMs == 3.5 && m.decoderMs == 10.25)
        let one = try Fixture(script: "echo 'total 7'\n")
        defer { one.remove() }
        expectError(["no two numbers", "total 7"]) { _ = try LatencyCommandSource(command: one.script, output: .encoderDecoder).measure(yamlPath: one.yaml) }
    }

    @Test("encoder-decoder-memory output takes the last four numbers: encoder and decoder ms, model and peak MB")
    func encoderDecoderMemory() throws {
        let f = try Fixture(script: "echo 'encoder 3.5 ms, decoder 10.25 ms, model 12.5 MB, peak 20 MB'\n")
        defer { f.remove() }
        let m = try LatencyCommandSource(command: f.script, output: .encoderDecoderMemory).measure(yamlPath: f.yaml)
        #expect(m == LatencyCommandSource.Reading(encoderMs: 3.5, decoderMs: 10.25, memory: LatencyRow.Memory(modelMB: 12.5, peakMB: 20)))
        // Without memory output the same line gives no memory.
        #expect(try LatencyCommandSource(command: f.script, output: .encoderDecoder).measure(yamlPath: f.yaml).memory == nil)
        let three = try Fixture(script: "echo '3.5 10.25 12.5'\n")
        defer { three.remove() }
        expectError(["no four numbers", "model MB, peak MB", "3.5 10.25 12.5"]) {
            _ = try LatencyCommandSource(command: three.script, output: .encoderDecoderMemory).measure(yamlPath: three.yaml)
        }
        let negative = try Fixture(script: "echo '3.5 10.25 12.5 nan'\necho '3.5 10.25 12.5 -2'\n")
        defer { negative.remove() }
        expectError(["-2", "not a memory size in MB"]) {
            _ = try LatencyCommandSource(command: negative.script, output: .encoderDecoderMemory).measure(yamlPath: negative.yaml)
        }
        // The command learns which output is wanted.
        let asks = try Fixture(script: "echo \"$HAT_COMMAND_OUTPUT\" | grep -q encoder-decoder-memory && echo '1 2 3 4' || echo '1 2'\n")
        defer { asks.remove() }
        let r = try LatencyCommandSource(command: asks.script, output: .encoderDecoderMemory).measure(yamlPath: asks.yaml)
        #expect(r.memory == LatencyRow.Memory(modelMB: 3, peakMB: 4))
        // Asked for two numbers, the same command prints two.
        #expect(try LatencyCommandSource(command: asks.script, output: .encoderDecoder).measure(yamlPath: asks.yaml).decoderMs == 2)
    }

    @Test("the command gets hat's measurement settings as HAT_* variables, replacing inherited ones; the rest of the environment stays")
    func settingsEnvironment() throws {
        setenv("HAT_BEAM", "99", 1)  // inherited, and replaced by hat's setting
        setenv("HAT_TEST_INHERITED", "kept", 1)
        defer {
            unsetenv("HAT_BEAM")
            unsetenv("HAT_TEST_INHERITED")
        }
        let settings = LatencyCommandSource.settingsEnvironment(
            length: 23, beam: 4, warmup: 2, iterations: 7, threads: 3, space: "s.yml", sourceVocab: 8848, targetVocab: 6632)
        let all = try Fixture(
            script: "echo \"$HAT_LENGTH $HAT_BEAM $HAT_ITERATIONS $HAT_WARMUP $HAT_THREADS $HAT_SPACE $HAT_SRC_VOCAB $HAT_TGT_VOCAB $HAT_TEST_INHERITED\"\n")
        defer { all.remove() }
        let result = try LatencyCommandSource.run(all.script, arguments: [all.yaml], environment: settings, timeout: 60)
        #expect(result.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "23 4 7 2 3 s.yml 8848 6632 kept")
        // measure() hands them over too: a measurer that prints its length and beam.
        let echo = try Fixture(script: "echo \"$HAT_LENGTH $HAT_BEAM\"\n")
        defer { echo.remove() }
        let m = try LatencyCommandSource(command: echo.script, output: .encoderDecoder, environment: settings).measure(yamlPath: echo.yaml)
        #expect(m.encoderMs == 23 && m.decoderMs == 4)
    }

    @Test("a non-zero exit is an error with the command's output")
    func nonZeroExit() throws {
        let f = try Fixture(script: "echo 'partial 3'\necho 'CUDA out of memory' >&2\nexit 3\n")
        defer { f.remove() }
        expectError(["exited with status 3", "CUDA out of memory", "partial 3", "measure.sh"]) {
            _ = try LatencyCommandSource(command: f.script).measure(yamlPath: f.yaml)
        }
    }

    @Test("no number, nothing printed, or a negative number is an error")
    func noNumber() throws {
        let words = try Fixture(script: "echo 12\necho done\n")
        defer { words.remove() }
        expectError(["no number", "\"done\""]) { _ = try LatencyCommandSource(command: words.script).measure(yamlPath: words.yaml) }
        let silent = try Fixture(script: "echo 'only stderr' >&2\n")
        defer { silent.remove() }
        expectError(["printed nothing", "only stderr"]) { _ = try LatencyCommandSource(command: silent.script).measure(yamlPath: silent.yaml) }
        let negative = try Fixture(script: "echo 'latency -4'\n")
        defer { negative.remove() }
        expectError(["-4", "not a latency"]) { _ = try LatencyCommandSource(command: negative.script).measure(yamlPath: negative.yaml) }
    }

    @Test("a command running past the timeout is killed and reported")
    func timeout() throws {
        let f = try Fixture(script: "echo started\nsleep 30\necho 5\n")
        defer { f.remove() }
        let start = Date()
        expectError(["did not finish within 0.5 s", "started"]) {
            _ = try LatencyCommandSource(command: f.script, timeout: 0.5).measure(yamlPath: f.yaml)
        }
        #expect(Date().timeIntervalSince(start) < 10)
    }

    @Test("hat latency predict: a ridge trained on HAT's Xeon and Raspberry Pi CSVs predicts HAT's published latencies of its searched models")
    func predictPublishedModels() throws {
        guard HATBinary.isAvailable else { return }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("hat-latency-predict-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let configs = sharedDataDirectory.appendingPathComponent("hat-configs")
        let space = configs.appendingPathComponent("wmt14.en-de__space0.yml").path
        // HAT's paper (Table 2 / its model names): the latency each model measured on its device.
        for (device, model, published) in [
            ("xeon", "HAT_wmt14ende_xeon@137.9ms_bleu@25.8", 137.9),
            ("raspberrypi", "HAT_wmt14ende_raspberrypi@3.5s_bleu@25.8", 3500.0),
        ] {
            let csv = sharedDataDirectory.appendingPathComponent("hat-latency/wmt14ende_cpu_\(device)_all.csv").path
            let predictor = folder.appendingPathComponent("\(device).json").path
            let trained = try HATBinary.run(["latency", "train-predictor", "--data", csv, "--out", predictor])
            #expect(trained.status == 0, "\(trained.err)")
            let yaml = configs.appendingPathComponent("wmt14.en-de__\(model).yml").path
            let r = try HATBinary.run(["latency", "predict", "--predictor", predictor, "--space", space, yaml])
            #expect(r.status == 0, "\(r.err)")
            let ms = try #require(Double(r.out.components(separatedBy: "predicted ").last?.components(separatedBy: " ms").first ?? ""), "\(r.out)")
            #expect(abs(ms - published) / published < 0.15, "\(model): predicted \(ms) ms, HAT measured \(published)")
        }
        let missing = try HATBinary.run(["latency", "predict", "--predictor", folder.appendingPathComponent("none.json").path, "x.yml"])
        #expect(missing.status != 0 && missing.err.contains("none.json") && missing.err.contains("not found"), "\(missing.err)")
    }

    @Test("numbers on a line")
    func numbers() {
        #expect(LatencyCommandSource.numbers(in: "a -3.5 b 1e3 .5 run-2 x") == [-3.5, 1000, 0.5, 2])
        #expect(LatencyCommandSource.numbers(in: "12.5ms") == [12.5])
        #expect(LatencyCommandSource.numbers(in: "no digits. - e") == [])
        #expect(LatencyCommandSource.commandLine(LatencyCommandSource(command: "m"))("/a b/it's.yml") == "m '/a b/it'\\''s.yml'")
    }
}

extension LatencyCommandSource {
    /// `commandLine(for:)` as a function value (keeps the expectation above on one line).
    static func commandLine(_ s: LatencyCommandSource) -> (String) -> String { { s.commandLine(for: $0) } }
}
