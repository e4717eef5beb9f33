import ArgumentParser
import Foundation
import Latency
import Logging
import Model
import TensorEngine

/// `hat latency`: measuring on this machine (HAT's method), latency datasets, predictors trained
/// on HAT-format latency CSVs, and few-shot adaptation to a new device.
struct LatencyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "latency",
        abstract: "Measure latency on this machine, build latency datasets, train, evaluate and adapt predictors.",
        subcommands: [LatencyMeasureCommand.self, LatencyDatasetCommand.self, TrainPredictor.self, Evaluate.self, Predict.self, Adapt.self]
    )
}

private func readDataset(_ path: String) throws -> LatencyDataset {
    let d = try LatencyDataset(contentsOf: path)
    for w in d.warnings { diagnostics.warning("\(w)") }
    return d
}

/// Says how a dataset's rows were measured (its provenance file), or that it is not recorded.
private func sayMeasurement(of d: LatencyDataset, _ output: ResultOutput) {
    output.say(
        "\(d.source): "
            + (d.measurement.map { "measured on \($0.summary)" } ?? "no provenance file beside it, so how its rows were measured is not recorded"))
}

private func seconds(since start: Date) -> String { String(format: "%.1f s", Date().timeIntervalSince(start)) }

/// `PATH.svg` beside the predictor: `out.json` → `out.test.svg`.
private func plotPath(beside path: String, suffix: String) -> String {
    let url = URL(fileURLWithPath: path)
    return url.deletingPathExtension().path + ".\(suffix).svg"
}

/// A predictor scored on some rows (`--json` of evaluate and adapt).
struct ScoredRows: Encodable {
    var name: String
    var metrics: PredictionMetrics
    var plot: String?
}

@discardableResult
private func scoreAndPlot(
    _ predictor: any LatencyPredictor, on data: LatencyDataset, name: String, plot: String?, title: String,
    output: ResultOutput
) throws -> ScoredRows {
    let predicted = predictor.predict(data)
    let measured = try data.requireValues(of: predictor.target)
    let metrics = PredictionMetrics(predicted: predicted, measured: measured)
    output.say(name.padding(toLength: max(7, name.count + 1), withPad: " ", startingAt: 0) + metrics.summary(unit: predictor.target.unit))
    if let plot {
        try ScatterPlot(title: title, measured: measured, predicted: predicted, metrics: metrics, target: predictor.target).write(to: plot)
        output.say("        scatter plot: \(plot)")
    }
    return ScoredRows(name: name, metrics: metrics, plot: plot)
}

extension LatencyCommand {
    /// `hat latency train-predictor`.
    struct TrainPredictor: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "train-predictor",
            abstract: "Train a latency predictor on a HAT-format latency CSV.",
            discussion: """
                Kinds: ridge (default; our predictor: ridge regression per encoder/decoder part on \
                FLOPs-like products of the features, penalty by 5-fold cross-validation), cost-model \
                (non-negative least squares on physical cost components), hat-mlp (HAT's MLP: \
                10-400-400-400-400-1, 5000 steps of 128 rows, Adam lr 1e-5), ensemble (the mean of \
                ridge and HAT's MLP trained on the same rows: our most accurate on HAT's datasets, \
                at the MLP's training time). Without --valid/--test \
                the rows are shuffled with --seed and split 8:1:1 like HAT's; with either, --data is \
                all training data. Reports RMSE, MAPE, ±10 %, Spearman and Kendall on each split and \
                writes a scatter plot of the test split (or of valid when there is no test split). \
                --target memory learns memory_peak_mb of a dataset measured with hat latency dataset \
                --memory instead: a memory predictor for hat search --memory-predictor.
                """
        )

        @Option(help: "Latency CSV (HAT's format).") var data: String
        @Option(help: "Predictor file to write (.json for ridge/cost-model, .safetensors for hat-mlp/ensemble).") var out: String
        @Option(help: "ridge, cost-model, hat-mlp or ensemble.") var kind: PredictorKind = .ridge
        @Option(
            help:
                "What to learn: latency (encoder + decoder mean, ms) or memory (memory_peak_mb, MB: the CSV must have the memory columns of hat latency dataset --memory)."
        )
        var target: PredictorTarget = .latency
        @Option(help: "Validation CSV (then --data is all training rows).") var valid: String?
        @Flag(
            name: .customLong("allow-mixed-settings"),
            help: "Accept --valid/--test CSVs whose provenance files say they were measured under other settings than --data.")
        var allowMixedSettings = false
        @Option(help: "Test CSV (then --data is all training rows).") var test: String?
        @Option(help: "Seed of the 8:1:1 shuffle, the MLP's initialisation and batches, and the CV folds.") var seed: UInt64 = 0
        @Option(help: "hat-mlp, ensemble: the MLP's training steps.") var steps: Int = 5000
        @Option(help: "hat-mlp, ensemble: the MLP's rows per step.") var batchSize: Int = 128
        @Option(help: "hat-mlp, ensemble: the MLP's Adam learning rate.") var lr: Float = 1e-5
        @Option(help: "hat-mlp, ensemble: the MLP's latency divisor in ms (HAT's lat-norm, e.g. 5000 for the Raspberry Pi); default: largest training latency.")
        var latNorm: Double?
        @Option(help: "Scatter plot SVG (default: beside --out, NAME.test.svg).") var plot: String?
        @Flag(help: "Print the result as JSON on standard output (progress goes to standard error).") var json = false

        func validate() throws {
            if steps < 1 || batchSize < 1 || !(lr > 0) { throw ValidationError("--steps, --batch-size and --lr must be positive") }
            if let latNorm, !(latNorm > 0) { throw ValidationError("--lat-norm must be positive") }
        }

        func run() throws {
            try OutputPath.checkFile(out, option: "--out")
            let output = ResultOutput(json: json)
            let all = try readDataset(data)
            _ = try all.requireValues(of: target)
            sayMeasurement(of: all, output)
            var train = all, validSet: LatencyDataset?, testSet: LatencyDataset?
            if valid == nil && test == nil {
                let s = all.split(seed: seed)
                (train, validSet, testSet) = (s.train, s.valid, s.test)
                output.say("split: \(train.count) train, \(s.valid.count) valid, \(s.test.count) test rows of \(data) (HAT's 8:1:1, seed \(seed))")
            } else {
                validSet = try valid.map(readDataset)
                testSet = try test.map(readDataset)
                for set in [validSet, testSet].compactMap({ $0 }) {
                    _ = try set.requireValues(of: target)
                    sayMeasurement(of: set, output)
                    // Scores on rows measured another way say nothing about this predictor.
                    if let trained = all.measurement, let other = set.measurement {
                        let changes = other.differences(from: trained, comparingSampling: false)
                        if !changes.isEmpty && !allowMixedSettings {
                            throw CommandError(
                                "\(set.source) was measured under other settings than \(data) (\(changes.joined(separator: "; "))): "
                                    + "its scores would not describe the predictor. Measure it like \(data), or add --allow-mixed-settings")
                        }
                    }
                }
                output.say("training on all \(train.count) rows of \(data)")
            }
            guard !train.isEmpty else {
                throw CommandError(
                    "\(data) has \(all.count) row\(all.count == 1 ? "" : "s"): too few to split 8:1:1 and train on; "
                        + "measure more SubTransformers (hat latency dataset --count N, 10 at the very least)")
            }
            let start = Date()
            if kind == .hatMLP || kind == .ensemble {
                // 128×400 GEMMs gain nothing from a second BLAS thread, and on a busy machine
                // OpenBLAS's waiting threads cost more than they compute.
                BLAS.setThreads(1)
            }
            var settings = HATMLPPredictor.Settings()
            settings.steps = steps
            settings.batchSize = batchSize
            settings.learningRate = lr
            settings.latencyNorm = latNorm
            let predictor = PredictorFile.train(kind: kind, on: train, seed: seed, target: target, mlpSettings: settings) { step, loss in
                if step % 1000 == 0 { output.say(String(format: "  step %5d  loss %.6f", step, loss)) }
            }
            if let mlp = (predictor as? HATMLPPredictor) ?? (predictor as? EnsembleLatencyPredictor)?.mlp {
                output.say(String(format: "HAT MLP: lat-norm %.6g %@", mlp.latencyNorm, target.unit))
            }
            output.say("trained \(kind) (\(target)) in \(seconds(since: start))")
            try PredictorFile.checkTrained(predictor, on: train, path: out)
            try predictor.save(to: out)
            output.say("predictor: \(out)")
            let device = URL(fileURLWithPath: data).deletingPathExtension().lastPathComponent
            var scored = [try scoreAndPlot(predictor, on: train, name: "train", plot: nil, title: "", output: output)]
            if let v = validSet, !v.isEmpty {
                scored.append(
                    try scoreAndPlot(
                        predictor, on: v, name: "valid",
                        plot: testSet == nil ? (plot ?? plotPath(beside: out, suffix: "valid")) : nil,
                        title: "\(kind) on \(device) (valid)", output: output))
            }
            if let t = testSet, !t.isEmpty {
                scored.append(
                    try scoreAndPlot(
                        predictor, on: t, name: "test", plot: plot ?? plotPath(beside: out, suffix: "test"),
                        title: "\(kind) on \(device) (test)", output: output))
            }
            try output.emit(TrainedOutput(predictor: out, kind: kind, target: target, data: data, trainRows: train.count, scored: scored))
        }

        struct TrainedOutput: Encodable {
            var predictor: String
            var kind: PredictorKind
            var target: PredictorTarget
            var data: String
            var trainRows: Int
            var scored: [ScoredRows]
        }
    }

    /// `hat latency evaluate`.
    struct Evaluate: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "evaluate",
            abstract: "Score a latency predictor on every row of a latency CSV (e.g. measured later on the device).",
            discussion: """
                Prints RMSE (ms), MAPE, the share within ±10 %, Spearman and Kendall τ-b, and writes a \
                scatter plot of predicted against measured latency. --split scores one split of HAT's \
                8:1:1 instead (the rows a predictor trained with the same --seed did not see).
                """
        )

        @Option(help: "Predictor file (from train-predictor or adapt).") var predictor: String
        @Option(help: "Latency CSV (HAT's format).") var data: String
        @Option(help: "all, train, valid or test (HAT's 8:1:1 split with --seed).") var split: String = "all"
        @Option(help: "Seed of the split (with --split).") var seed: UInt64 = 0
        @Option(help: "Scatter plot SVG (default: beside the predictor, NAME.DATA.svg).") var plot: String?
        @Option(help: "Plot title.") var title: String?
        @Flag(help: "Print the result as JSON on standard output (progress goes to standard error).") var json = false

        func validate() throws {
            guard ["all", "train", "valid", "test"].contains(split) else {
                throw ValidationError("--split must be all, train, valid or test, not \(split)")
            }
        }

        func run() throws {
            let model = try PredictorFile.load(predictor)
            var rows = try readDataset(data)
            if split != "all" {
                let s = rows.split(seed: seed)
                rows = split == "train" ? s.train : split == "valid" ? s.valid : s.test
            }
            guard !rows.isEmpty else { throw CommandError("no rows to score in \(data)") }
            let p = model.provenance
            let output = ResultOutput(json: json)
            output.say("predictor: \(predictor) (\(model.kind), \(p.method), predicts \(model.target); trained on \(p.trainingDescription))")
            sayMeasurement(of: rows, output)
            let stem = URL(fileURLWithPath: data).deletingPathExtension().lastPathComponent
            let scored = try scoreAndPlot(
                model, on: rows, name: split,
                plot: plot ?? plotPath(beside: predictor, suffix: stem + (split == "all" ? "" : "-\(split)")),
                title: title ?? "\(p.method) \(model.target) on \(stem)\(split == "all" ? "" : " (\(split))")", output: output)
            try output.emit(
                EvaluateOutput(
                    predictor: predictor, kind: model.kind, method: p.method, data: data, split: split,
                    rows: rows.count, metrics: scored.metrics, plot: scored.plot))
        }

        struct EvaluateOutput: Encodable {
            var predictor: String
            var kind: String
            var method: String
            var data: String
            var split: String
            var rows: Int
            var metrics: PredictionMetrics
            var plot: String?
        }
    }

    /// `hat latency predict`.
    struct Predict: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "predict",
            abstract: "A predictor's latency for SubTransformer YAML files.",
            discussion: """
                E.g. a hand-designed model's predicted latency, to set a search's constraint on the \
                predictor's own scale, so that a bias of the predictor applies to both sides.
                """
        )

        @Option(help: "Predictor file (from train-predictor or adapt).") var predictor: String
        @Option(help: "Search space of the SubTransformers (needed for HAT files with an entry per super layer).") var space: String?
        @Argument(help: "SubTransformer YAML files.") var subtransformers: [String]
        @Flag(help: "Print the result as JSON on standard output (progress goes to standard error).") var json = false

        func validate() throws {
            if subtransformers.isEmpty { throw ValidationError("give at least one SubTransformer YAML file") }
        }

        func run() throws {
            warnAboutUnknownKeys(in: [space] + subtransformers)
            let model = try PredictorFile.load(predictor)
            let space = try space.map { try SearchSpace(contentsOf: $0) }
            let output = ResultOutput(json: json)
            var predictions: [Prediction] = []
            for path in subtransformers {
                let sub = try SubTransformerConfig(
                    contentsOf: path, superLayers: space.map { ($0.encoderLayers, $0.decoderLayers) },
                    qkvDim: space?.qkvDim ?? 512)
                let value = model.predict(sub)
                output.say(String(format: "%@: predicted %.3f %@", path, value, model.target.unit))
                predictions.append(
                    Prediction(
                        subtransformer: path, target: model.target, predictedMs: model.target == .latency ? value : nil,
                        predictedMB: model.target == .memory ? value : nil))
            }
            try output.emit(predictions)
        }

        /// One SubTransformer's prediction: `predicted_ms` from a latency predictor, `predicted_mb` from a memory one.
        struct Prediction: Encodable {
            var subtransformer: String
            var target: PredictorTarget
            var predictedMs: Double?
            var predictedMB: Double?
        }
    }

    /// `hat latency adapt`.
    struct Adapt: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "adapt",
            abstract: "A latency predictor for a new device from a few measured SubTransformers and other devices' datasets.",
            discussion: """
                With --target-samples (as few as 10 rows measured on the new device): fits a cost model \
                per source device and writes the adapted predictor to --out (a JSON predictor that \
                `hat latency evaluate` reads). With --target (a full CSV of the new device) instead: \
                runs the few-shot protocol: split the target 8:1:1 (--seed), draw --samples rows of \
                its training split --draws times, adapt, and score on its whole test split, next to \
                HAT's MLP trained on the same samples and a rescaled pooled source predictor.
                """
        )

        @Option(parsing: .upToNextOption, help: "Latency CSVs of other devices.") var sources: [String]
        @Option(help: "CSV of the few SubTransformers measured on the new device.") var targetSamples: String?
        @Option(help: "Predictor file to write (with --target-samples).") var out: String?
        @Option(help: "Also score the adapted predictor on this CSV (with --target-samples).") var evaluate: String?
        @Option(help: "Full CSV of the target device: run the few-shot protocol instead.") var target: String?
        @Option(help: "Protocol: samples per draw.") var samples: Int = 10
        @Option(help: "Protocol: number of random draws.") var draws: Int = 10
        @Option(help: "Protocol: seed of the target's 8:1:1 split.") var seed: UInt64 = 0
        @Option(help: "Protocol: steps of the HAT-MLP baseline (0 skips it).") var baselineSteps: Int = 5000
        @Flag(help: "Print the result as JSON on standard output (progress goes to standard error).") var json = false

        func validate() throws {
            guard !sources.isEmpty else { throw ValidationError("give at least one --sources CSV") }
            guard (targetSamples == nil) != (target == nil) else {
                throw ValidationError("give either --target-samples FEW.csv (adapt and write --out) or --target FULL.csv (run the protocol)")
            }
            if targetSamples != nil && out == nil { throw ValidationError("--target-samples needs --out PREDICTOR") }
            if samples < 3 || draws < 1 || baselineSteps < 0 { throw ValidationError("--samples must be ≥ 3, --draws ≥ 1, --baseline-steps ≥ 0") }
        }

        func run() throws {
            if let out { try OutputPath.checkFile(out, option: "--out") }
            let sourceData = try sources.map(readDataset)
            let output = ResultOutput(json: json)
            for d in sourceData { sayMeasurement(of: d, output) }
            if let targetSamples, let out {
                let few = try readDataset(targetSamples)
                sayMeasurement(of: few, output)
                let predictor = try FewShotAdapter(sources: sourceData).adapt(to: few)
                try predictor.save(to: out)
                output.say("adapted from \(sources.joined(separator: ", ")) with \(few.count) samples of \(targetSamples)")
                output.say("predictor: \(out)")
                var scored = [try scoreAndPlot(predictor, on: few, name: "samples", plot: nil, title: "", output: output)]
                if let evaluate {
                    let rows = try readDataset(evaluate)
                    let stem = URL(fileURLWithPath: evaluate).deletingPathExtension().lastPathComponent
                    scored.append(
                        try scoreAndPlot(
                            predictor, on: rows, name: "eval", plot: plotPath(beside: out, suffix: stem),
                            title: "few-shot (\(few.count) samples) on \(stem)", output: output))
                }
                try output.emit(AdaptOutput(predictor: out, sources: sources, samples: few.count, scored: scored))
                return
            }
            let targetData = try readDataset(target!)
            sayMeasurement(of: targetData, output)
            BLAS.setThreads(1)  // the HAT-MLP baseline's small GEMMs (see train-predictor)
            var experiment = FewShotExperiment()
            experiment.samples = samples
            experiment.draws = draws
            experiment.splitSeed = seed
            experiment.baselineSteps = baselineSteps
            let start = Date()
            let report = try experiment.run(sources: sourceData, target: targetData) { output.say("  " + $0) }
            output.say(
                "target \(target!): \(samples) samples × \(draws) draws from its training split; scored on its \(report.testRows)-row test split (seed \(seed)); \(seconds(since: start))"
            )
            var methods: [String: ProtocolOutput.Method] = [:]
            func line(_ name: String, _ key: String, _ pick: (FewShotExperiment.Draw) -> PredictionMetrics?) {
                guard let s = report.summary(pick) else { return }
                output.say(
                    "  " + name.padding(toLength: 30, withPad: " ", startingAt: 0)
                        + String(
                            format: "Spearman %.4f ± %.4f  ±10%% %5.1f ± %4.1f %%  Kendall %.4f  RMSE %.4g ms",
                            s.spearman.mean, s.spearman.std, s.within10.mean, s.within10.std, s.kendall.mean, s.rmse.mean))
                methods[key] = .init(spearman: s.spearman, within10: s.within10, kendall: s.kendall, rmse: s.rmse)
            }
            line("few-shot (ours)", "fewShot", { $0.adapted })
            line("HAT MLP on the samples", "hatMLP", { $0.hatMLP })
            line("rescaled pooled sources", "rescaledSources", { $0.rescaled })
            let f = report.fullData
            output.say(
                "  " + "ridge on all \(report.trainRows) train rows".padding(toLength: 30, withPad: " ", startingAt: 0)
                    + String(
                        format: "Spearman %.4f           ±10%% %5.1f %%         Kendall %.4f  RMSE %.4g ms",
                        f.spearman, f.within10, f.kendall, f.rmse))
            try output.emit(
                ProtocolOutput(
                    target: target!, samples: samples, draws: draws, seed: seed, testRows: report.testRows,
                    methods: methods, ridgeOnAllTrainRows: f))
        }

        struct AdaptOutput: Encodable {
            var predictor: String
            var sources: [String]
            var samples: Int
            var scored: [ScoredRows]
        }

        /// The few-shot protocol: each method's mean ± std over the draws, on the target's test split.
        struct ProtocolOutput: Encodable {
            struct Method: Encodable {
                var spearman, within10, kendall, rmse: FewShotExperiment.MeanStd
            }
            var target: String
            var samples: Int
            var draws: Int
            var seed: UInt64
            var testRows: Int
            var methods: [String: Method]
            var ridgeOnAllTrainRows: PredictionMetrics
        }
    }
}

extension PredictorKind: ExpressibleByArgument {
    public static var allValueStrings: [String] { allCases.map(\.rawValue) }
}

extension PredictorTarget: ExpressibleByArgument {
    public static var allValueStrings: [String] { allCases.map(\.rawValue) }
}
