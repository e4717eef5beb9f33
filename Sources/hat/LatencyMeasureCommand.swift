import ArgumentParser
import Compress
import Datasets
import Foundation
import Latency
import Logging
import Model
import TensorEngine
import Train

/// (source, target) vocabulary sizes of the commands that build a model without a checkpoint:
/// a prepared dataset's, else --src-vocab/--tgt-vocab, else --vocab (default 32,768, WMT's).
func resolveVocabularySizes(data: String?, vocab: Int?, source: Int?, target: Int?) throws -> (Int, Int) {
    if let data {
        let d = try PreparedDataset(directory: data)
        return (d.sourceVocabulary.size, d.targetVocabulary.size)
    }
    if let source, let target { return (source, target) }
    return (vocab ?? 32768, vocab ?? 32768)
}

/// The sentence and beam sizes a latency is measured or predicted for: HAT measures 23-30 tokens
/// and beams of 4-5; these bounds keep a typo (--length 30000000) from allocating without end.
enum MeasurementLimits {
    static let maxLength = 1024, maxBeam = 64, minVocabulary = 5, maxVocabulary = 10_000_000

    static func check(length: Int, beam: Int) throws {
        guard (1...maxLength).contains(length), (1...maxBeam).contains(beam) else {
            throw ValidationError("--length must be 1 to \(maxLength) tokens and --beam 1 to \(maxBeam) (got \(length) and \(beam))")
        }
    }

    static func check(vocabularies: [(option: String, size: Int?)]) throws {
        for (option, size) in vocabularies {
            if let size, !(minVocabulary...maxVocabulary).contains(size) {
                throw ValidationError("\(option) \(size): a vocabulary holds the 4 special tokens and at least one more, and at most \(maxVocabulary) pieces")
            }
        }
    }
}

/// Model-shape options shared by the measuring commands: vocabulary sizes and the SuperTransformer.
struct MeasurementOptions: ParsableArguments {
    @Option(help: "Search space the SubTransformer belongs to (default: the smallest SuperTransformer that holds it).")
    var space: String?
    @Option(help: "Joint vocabulary size (WMT: 32768).") var vocab: Int?
    @Option(name: .customLong("src-vocab"), help: "Source vocabulary size.") var sourceVocab: Int?
    @Option(name: .customLong("tgt-vocab"), help: "Target vocabulary size.") var targetVocab: Int?
    @Option(help: "Take the vocabulary sizes from this prepared dataset.") var data: String?
    @Option(help: "Sentence length in tokens (HAT: 30 for WMT, 23 for IWSLT).") var length: Int = 30
    @Option(help: "Beam size (hypotheses decoded in parallel).") var beam: Int = 5
    @Option(help: "Untimed warm-up runs.") var warmup: Int = 5
    @Option(help: "Timed runs (HAT: 300 for predictor data; the fastest and slowest 10 % are dropped).") var iterations: Int = 20
    @Option(
        help:
            "Compute threads (default: the cores available, \(ParallelSettings.availableCores) here). 1 is steadiest on a machine shared with other jobs; on an idle one more threads split the wide products (docs/PERFORMANCE.md)."
    )
    var threads: Int = ParallelSettings.availableCores
    @Option(
        help:
            "Clock of the built-in measurement: wall (elapsed time, HAT's method) or cpu (this process's CPU time: steadier on a machine shared with other jobs)."
    )
    var clock: String = "wall"
    @Option(
        help: ArgumentHelp(
            "Measure with this shell command instead of the built-in method.",
            discussion:
                "It receives a SubTransformer YAML path (HAT format) as its last argument, or in place of every {}, and prints milliseconds on stdout: the last number on its last non-empty line."
        ))
    var command: String?
    @Option(name: .customLong("command-timeout"), help: "Seconds before --command is killed and reported.") var commandTimeout: Double = 600
    @Option(
        name: .customLong("command-output"),
        help: ArgumentHelp(
            "What --command prints: total (one number, ms), encoder-decoder (the last two numbers: encoder and decoder ms) or encoder-decoder-memory (the last four: those, then the model's and the inference's peak memory in MB).",
            discussion: "The command gets it as HAT_COMMAND_OUTPUT (the measurers in measurers/ follow it)."))
    var commandOutput: LatencyCommandSource.Output = .total
    @Option(
        help: ArgumentHelp(
            "Measure the SubTransformer with its weight matrices K-means-quantized to this many bits (1 to 8), as hat quantize writes them.",
            discussion: "The engine runs the indices directly; the random weights get one Lloyd iteration (the speed does not depend on the centroids)."
        ))
    var bits: Int?

    func validate() throws {
        if iterations < 1 { throw ValidationError("--iterations must be positive") }
        try MeasurementLimits.check(length: length, beam: beam)
        try MeasurementLimits.check(vocabularies: [("--vocab", vocab), ("--src-vocab", sourceVocab), ("--tgt-vocab", targetVocab)])
        if warmup < 0 { throw ValidationError("--warmup must be 0 or more, got \(warmup)") }
        if threads < 1 { throw ValidationError("--threads must be at least 1, got \(threads)") }
        if (sourceVocab == nil) != (targetVocab == nil) { throw ValidationError("--src-vocab and --tgt-vocab go together") }
        if LatencyMeasurer.Clock(rawValue: clock) == nil { throw ValidationError("--clock must be wall or cpu") }
        if !(commandTimeout > 0) { throw ValidationError("--command-timeout must be a positive number of seconds") }
        if let command, command.trimmingCharacters(in: .whitespaces).isEmpty { throw ValidationError("--command is empty") }
        if let bits, !(1...8).contains(bits) { throw ValidationError("--bits \(bits): give 1 to 8 bits per weight") }
        if bits != nil && command != nil { throw ValidationError("--bits is for the built-in measurement; a --command measures the model it is given") }
    }

    /// The user's measuring command, when given.
    var commandSource: LatencyCommandSource? {
        command.map {
            LatencyCommandSource(
                command: $0, timeout: commandTimeout, output: commandOutput,
                environment: LatencyCommandSource.settingsEnvironment(
                    length: length, beam: beam, warmup: warmup, iterations: iterations, threads: threads, space: space,
                    sourceVocab: sourceVocab ?? vocab, targetVocab: targetVocab ?? vocab))
        }
    }

    /// (source, target) vocabulary sizes.
    func vocabularySizes() throws -> (Int, Int) {
        try resolveVocabularySizes(data: data, vocab: vocab, source: sourceVocab, target: targetVocab)
    }

    /// What a dataset or a measurement records about how it was measured.
    var provenance: MeasurementProvenance {
        var provenance = MeasurementProvenance(threads: threads, length: length, beam: beam, iterations: iterations, method: command ?? clock)
        provenance.weightBits = bits
        provenance.hatVersion = HAT.versionNumber
        return provenance
    }

    var measurer: LatencyMeasurer {
        BLAS.setComputeThreads(threads)
        return LatencyMeasurer(
            length: length, beam: beam, warmup: warmup, iterations: iterations,
            clock: LatencyMeasurer.Clock(rawValue: clock)!)
    }

    /// A SuperTransformer (random weights) that holds `sub`: the given space, or one just big
    /// enough (`MeasuringModel`), its matrices quantized with `--bits`. Huge pages give steadier
    /// latencies from process to process (TensorStorage).
    func model(for sub: SubTransformerConfig, space given: SearchSpace?) throws -> SuperTransformer {
        TensorStorage.useHugePages = true
        let (vs, vt) = try vocabularySizes()
        let model = try MeasuringModel.build(
            for: sub, space: given, layout: nil, sourceVocabSize: vs, targetVocabSize: vt, length: length)
        if let bits {
            let (parameters, _) = ModelQuantizer.quantize(model, config: sub, settings: QuantizationSettings(bits: bits, maxIterations: 1))
            QuantizedCheckpoint.install(parameters, into: model)
        }
        return model
    }

    /// Measures the memory of `sub`'s inference (and its latency on the same runs) in a model of
    /// its own, shaped by `layout` (its space; nil: HAT's attention width).
    func memoryMeter(layout: SearchSpace?, measurer: LatencyMeasurer, readsResidentMemory: Bool) throws -> InferenceMemoryMeter {
        let (vs, vt) = try vocabularySizes()
        return InferenceMemoryMeter(
            layout: layout, sourceVocabSize: vs, targetVocabSize: vt, measurer: measurer, readsResidentMemory: readsResidentMemory)
    }
}

/// `hat latency measure`: HAT's latency measurement of one SubTransformer on this machine.
struct LatencyMeasureCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "measure",
        abstract: "Measure a SubTransformer's encoder and decoder latency on this machine (HAT's method)."
    )

    @Argument(help: "SubTransformer YAML (HAT format).") var subtransformer: String
    @OptionGroup var options: MeasurementOptions
    @Flag(
        help: ArgumentHelp(
            "Also measure the memory of the inference: resident bytes of the weights and the most resident above them while it runs (Linux).",
            discussion:
                "The model holds only the SubTransformer (with --space: its attention width and embeddings, not the whole SuperTransformer); huge pages are off so that bytes count as the model uses them. Printed beside hat profile's estimate."
        ))
    var memory = false
    @Flag(help: "Print JSON.") var json = false

    func validate() throws {
        if memory && options.command != nil {
            throw ValidationError("--memory is for the built-in measurement; a --command reports its own with --command-output encoder-decoder-memory")
        }
        if memory && options.bits != nil {
            throw ValidationError(
                "--memory measures float32 models: a quantized one is made from float32 weights whose freed memory stays with the process; measure hat translate's process instead"
            )
        }
    }

    /// What `--memory` measured, and the profiler's estimate of the same.
    struct MemoryMeasurement: Encodable {
        /// Bytes of tensor data the model holds (weights, positional tables), counted by the engine.
        var tensorWeightsMB: Double
        /// The most tensor data the inference held above that (activations, caches), counted by the engine.
        var tensorAboveWeightsMB: Double
        /// Resident memory the model added and the most the inference added above it (the
        /// operating system's view: with the C library's free lists and the runtime's own pages).
        var residentWeightsMB: Double
        var residentAboveWeightsMB: Double
        /// The SubTransformer's weights as the profiler counts them (the measuring model may hold
        /// more: every layer as wide as its widest FFN).
        var estimatedWeightsMB: Double
        /// The profiler's peak of one inference (`hat profile`'s peak memory) and its part above the weights.
        var estimatedPeakMB: Double
        var estimatedAboveWeightsMB: Double
    }

    struct Result: Encodable {
        var latency: LatencyMeasurement
        var memory: MemoryMeasurement?
    }

    func run() throws {
        warnAboutUnknownKeys(in: [subtransformer, options.space])
        let space = try options.space.map { try SearchSpace(contentsOf: $0) }
        let sub = try SubTransformerConfig(
            contentsOf: subtransformer,
            superLayers: space.map { ($0.encoderLayers, $0.decoderLayers) }, qkvDim: space?.qkvDim ?? 512)
        let m: LatencyMeasurement
        if let source = options.commandSource {
            let r = try source.measure(yamlPath: subtransformer)
            m = LatencyMeasurement(
                encoderMeanMs: r.encoderMs, decoderMeanMs: r.decoderMs, encoderStdMs: 0, decoderStdMs: 0, iterations: 1,
                length: options.length, beam: options.beam, memory: r.memory)
            if !json {
                let parts = source.output == .total ? "" : String(format: " (encoder %.2f ms, decoder %.2f ms)", r.encoderMs, r.decoderMs)
                let memory = r.memory.map { String(format: "; memory: the model %.2f MB, the inference's peak %.2f MB", $0.modelMB, $0.peakMB) } ?? ""
                print(
                    String(
                        format: "%@: %.2f ms%@ from the command%@", URL(fileURLWithPath: subtransformer).lastPathComponent,
                        m.totalMs, parts, memory))
                return
            }
        } else if memory {
            let meter = try options.memoryMeter(layout: space, measurer: options.measurer, readsResidentMemory: true)
            let run = try meter.measure(sub)
            m = run.latency
            let inference = run.memory
            let (vs, vt) = try options.vocabularySizes()
            let profiler =
                space.map { Profiler(space: $0, sourceVocabSize: vs, targetVocabSize: vt) }
                ?? Profiler(sourceVocabSize: vs, targetVocabSize: vt, sharedEmbeddings: vs == vt)
            let estimatedPeak = Double(profiler.peakInferenceBytes(sub, length: options.length, beam: options.beam)) / 1e6
            let estimatedWeights = Double(profiler.weightBytes(sub)) / 1e6
            let measured = MemoryMeasurement(
                tensorWeightsMB: Double(inference.modelTensorBytes) / 1e6,
                tensorAboveWeightsMB: Double(inference.peakTensorBytes - inference.modelTensorBytes) / 1e6,
                residentWeightsMB: Double(inference.residentModelBytes ?? 0) / 1e6,
                residentAboveWeightsMB: Double(inference.residentAboveModelBytes ?? 0) / 1e6,
                estimatedWeightsMB: estimatedWeights, estimatedPeakMB: estimatedPeak, estimatedAboveWeightsMB: estimatedPeak - estimatedWeights)
            if json {
                try ResultOutput(json: true).emit(Result(latency: m, memory: measured))
                return
            }
            print(
                String(
                    format:
                        "memory: the model's tensors %.2f MB (%.2f MB resident; the profiler's SubTransformer weights %.2f MB); the inference's tensors %.2f MB above them at most (%.2f MB resident; the profiler: %.2f MB, peak %.2f MB)",
                    measured.tensorWeightsMB, measured.residentWeightsMB, estimatedWeights, measured.tensorAboveWeightsMB,
                    measured.residentAboveWeightsMB, measured.estimatedAboveWeightsMB, estimatedPeak))
        } else {
            let model = try options.model(for: sub, space: space)
            m = options.measurer.measure(model: model, config: sub)
        }
        if json {
            try ResultOutput(json: true).emit(m)
        } else {
            print(
                String(
                    format: "%@: encoder %.2f ± %.2f ms, decoder %.2f ± %.2f ms, total %.2f ms (length %d, beam %d, %d runs, %d threads, %@ weights; %@)",
                    URL(fileURLWithPath: subtransformer).lastPathComponent, m.encoderMeanMs, m.encoderStdMs,
                    m.decoderMeanMs, m.decoderStdMs, m.totalMs, m.length, m.beam, m.iterations, options.threads,
                    options.bits.map { "\($0)-bit" } ?? "float32",
                    BLAS.kernelDescription + (options.bits == nil ? "" : ", \(QuantizedMatrix.kernelDescription)")))
        }
    }
}

/// `hat latency dataset`: sample SubTransformers of a space, measure each on this machine, and
/// append HAT-format CSV rows one by one, so an interrupted run resumes where it stopped (the
/// sampling order is fixed by the seed; rows already in the file are skipped).
struct LatencyDatasetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dataset",
        abstract: "Measure N random SubTransformers of a space on this machine into a HAT-format latency CSV (resumable)."
    )

    @Option(help: "How many SubTransformers the CSV should hold.") var count: Int
    @Option(help: "Output CSV (appended to; an existing file's rows count as done).") var out: String
    @Option(help: "Seed of the SubTransformer sampling.") var seed: UInt64 = 1
    @Flag(
        name: .customLong("allow-mixed-settings"),
        help: "Add rows to an --out measured under other settings (CPU, kernels, threads, length, beam, method, space, seed) anyway.")
    var allowMixedSettings = false
    @Flag(
        help: ArgumentHelp(
            "Also record the memory of each SubTransformer's inference: two more CSV columns after HAT's 14, memory_model_mb and memory_peak_mb.",
            discussion:
                "The engine's tensor bytes (deterministic) of one inference in a model that holds only the SubTransformer, as hat latency measure --memory --space SPACE reports them: the model's, and the most held with the model included (what hat latency train-predictor --target memory learns). HAT's readers ignore the extra columns. With --command, give --command-output encoder-decoder-memory instead: the columns then hold what the command reports."
        ))
    var memory = false
    @Flag(help: "Print the result as JSON on standard output (progress goes to standard error).") var json = false
    @OptionGroup var options: MeasurementOptions

    func validate() throws {
        if count < 1 { throw ValidationError("--count must be at least 1") }
        if memory && options.command != nil && options.commandOutput != .encoderDecoderMemory {
            throw ValidationError(
                "--memory with --command needs --command-output encoder-decoder-memory: the command reports the memory of the model it runs")
        }
        if memory && options.bits != nil { throw ValidationError("--memory measures float32 models; leave out --bits") }
    }

    func run() throws {
        warnAboutUnknownKeys(in: [options.space])
        try OutputPath.checkFile(out, option: "--out")
        guard let spacePath = options.space else { throw ValidationError("--space is required: the SubTransformers are sampled from it") }
        let space = try SearchSpace(contentsOf: spacePath)
        let lock = try OutputLock(file: URL(fileURLWithPath: out), job: "latency dataset")  // one writer per CSV
        defer { lock.release() }
        let measurer = options.measurer
        // HAT's CSV has no room for how its rows were measured: that goes beside it. Rows added
        // under other settings than the file's first ones are allowed (the user may mean it) but said.
        var provenance = options.provenance
        let (vs, vt) = try options.vocabularySizes()
        let spaceDigest = SHA256.hex(try Data(contentsOf: URL(fileURLWithPath: spacePath)))
        provenance.sampling = "space sha256 \(spaceDigest.prefix(16)), seed \(seed), vocabularies \(vs)/\(vt)"
        if !FileManager.default.fileExists(atPath: out) {
            try provenance.write(besideDataset: out)
        } else if let earlier = MeasurementProvenance.read(besideDataset: out) {
            let changes = provenance.differences(from: earlier)
            if !changes.isEmpty {
                let what = "\(out) holds rows measured with other settings (\(changes.joined(separator: "; ")))"
                guard allowMixedSettings else {
                    throw CommandError(
                        "\(what): rows measured now would not be comparable to them, so nothing was added. "
                            + "Use a new --out, or --allow-mixed-settings to add them anyway")
                }
                diagnostics.warning("\(what); adding rows anyway (--allow-mixed-settings)")
            }
        }  // else a dataset from before provenance files: its rows' settings are unknown, none is claimed
        var builder = LatencyDatasetBuilder(space: space, count: count, seed: seed, measurer: measurer)
        if let source = options.commandSource, source.output == .encoderDecoderMemory {
            builder.memory = .measurement
        } else if memory {
            // The tensor bytes of one inference are those of every inference, so one run is enough.
            let once = LatencyMeasurer(length: measurer.length, beam: measurer.beam, warmup: 0, iterations: 1, clock: measurer.clock)
            builder.memory = .meter(try options.memoryMeter(layout: space, measurer: once, readsResidentMemory: false))
        }
        let progress = ProgressPrinter(toStandardError: json)
        builder.log = { progress.log($0) }
        builder.progress = { progress.update($0) }
        if let source = options.commandSource {
            // The user's command reads each SubTransformer from a YAML file in a folder of our own.
            let yamlFolder = FileManager.default.temporaryDirectory
                .appendingPathComponent("hat-latency-\(ProcessInfo.processInfo.processIdentifier)-\(UInt32.random(in: 0...UInt32.max))")
            try FileManager.default.createDirectory(at: yamlFolder, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: yamlFolder) }
            try builder.run(csv: out) { i, config in
                let yaml = yamlFolder.appendingPathComponent("subtransformer-\(i + 1).yml")
                try config.hatYAML(comment: "SubTransformer \(i + 1) of \(out) (seed \(seed))").write(to: yaml, atomically: true, encoding: .utf8)
                defer { try? FileManager.default.removeItem(at: yaml) }
                let r = try source.measure(yamlPath: yaml.path)
                return LatencyMeasurement(
                    encoderMeanMs: r.encoderMs, decoderMeanMs: r.decoderMs, encoderStdMs: 0, decoderStdMs: 0, iterations: 1,
                    length: measurer.length, beam: measurer.beam, memory: r.memory)
            }
        } else {
            var model: SuperTransformer?  // built on the first row to measure, not when all are done
            try builder.run(csv: out) { _, config in
                if model == nil { model = try options.model(for: space.largest, space: space) }
                return measurer.measure(model: model!, config: config)
            }
        }
        progress.log("wrote \(count) rows to \(out)")
        try ResultOutput(json: json).emit(DatasetOutput(csv: out, rows: count, provenance: provenance))
    }

    /// `--json`: the CSV and how its rows were measured (the provenance file beside it).
    struct DatasetOutput: Encodable {
        var csv: String
        var rows: Int
        var provenance: MeasurementProvenance
    }
}

/// `--command-output total|encoder-decoder|encoder-decoder-memory`.
extension LatencyCommandSource.Output: ExpressibleByArgument {}
