import Datasets
import Foundation
import Latency
import Pipeline
import Search
import Train

/// `report.html` of a pipeline folder: one self-contained page (inline CSS and SVG, no
/// scripts, no network) with what a person needs to trust the found model: the supernet's
/// training curves, the latency predictor's scatter on held-out SubTransformers, the search
/// population over iterations against the constraint with the Pareto front, and the final
/// models' table. Sections whose stage has not run yet say so.
public struct ReportPage {
    public let directory: URL

    public init(directory: URL) { self.directory = directory }

    public static let palette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]

    /// Writes the page (atomically) and returns its path.
    @discardableResult
    public func write(to path: String? = nil) throws -> String {
        guard FileManager.default.fileExists(atPath: directory.path) else {
            throw PipelineError.stage("report", "\(directory.path) does not exist; give the --out folder of hat pipeline")
        }
        guard exists(PipelineState.fileName) else {
            throw PipelineError.stage(
                "report",
                "\(directory.path) has no \(PipelineState.fileName), so it is not a pipeline's folder "
                    + "(or its first stage has not finished); give the --out folder of hat pipeline")
        }
        let target = path ?? directory.appendingPathComponent("report.html").path
        let url = URL(fileURLWithPath: target)
        try AtomicFile.write(html(), to: url)
        return target
    }

    func file(_ relative: String) -> URL { directory.appendingPathComponent(relative) }
    func exists(_ relative: String) -> Bool { FileManager.default.fileExists(atPath: file(relative).path) }
    static func esc(_ s: String) -> String { ScatterPlot.escape(s) }
    static func missing(_ what: String) -> String { "<p class=\"missing\">\(esc(what))</p>\n" }

    public func html() throws -> String {
        let state: PipelineState?, stateProblem: String
        do {
            state = try PipelineState.read(file(PipelineState.fileName))
            stateProblem = ""
        } catch {
            state = nil
            stateProblem = exists(PipelineState.fileName) ? "\(PipelineState.fileName) is unreadable: \(error)" : "No \(PipelineState.fileName) in this folder."
        }
        var body = "<h1>HAT pipeline report</h1>\n<p class=\"sub\">\(Self.esc(directory.standardizedFileURL.path))"
        if let config = state?.config { body += " · latest config \(Self.esc(config))" }
        body += "</p>\n"
        body += try resultsSection()
        body += stagesSection(state, problem: stateProblem)
        body += try trainingSection(folder: "supernet", title: "SuperTransformer training")
        body += try predictorSection()
        body += try searchSection()
        body += try trainingSection(folder: "subtransformer", title: "Training of the found SubTransformer")
        return """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>HAT pipeline report</title>
            <style>
            body { font-family: Helvetica, Arial, sans-serif; margin: 24px auto; max-width: 1500px; color: #222; padding: 0 16px; }
            h1 { margin-bottom: 4px; } h2 { border-bottom: 1px solid #ccc; padding-bottom: 4px; margin-top: 36px; }
            .sub { color: #666; margin-top: 0; } .missing { color: #999; font-style: italic; }
            table { border-collapse: collapse; margin: 8px 0; } td, th { border: 1px solid #ddd; padding: 4px 10px; text-align: right; }
            th { background: #f4f4f4; } td.l, th.l { text-align: left; } .warn { color: #b00; font-weight: bold; }
            .charts { display: flex; flex-wrap: wrap; gap: 12px; } .charts svg { border: 1px solid #eee; }
            .headline { font-size: 18px; background: #f6fbf6; border: 1px solid #cde5cd; padding: 10px 14px; display: inline-block; }
            </style></head><body>
            \(body)
            </body></html>

            """
    }

    // MARK: Sections

    func resultsSection() throws -> String {
        var s = "<h2>Found model</h2>\n"
        guard let r = try PipelineResults.read(file("results.json")) else {
            return s + Self.missing("The pipeline has not finished its test stage yet.")
        }
        let measured = r.measuredLatencyMs.map { String(format: "%.2f ms", $0) } ?? "not measured"
        s +=
            "<p class=\"headline\">\(Self.esc(r.constraint)): measured latency <b>\(measured)</b> on this machine (predicted "
            + String(format: "%.2f ms", r.predictedLatencyMs) + "), "
            + String(
                format: "%.2f M parameters (HAT's count, embeddings excluded), %@ BLEU <b>%.2f</b>, chrF %.2f", Double(r.parameters) / 1e6, Self.esc(r.split),
                r.bleu, r.chrf)
            + "</p>\n<p class=\"sub\">\(Self.esc(r.subtransformer)) · trained \(r.trainMode == "finetune" ? "by fine-tuning the supernet" : "from scratch") · "
            + (r.teacher.map { "distilled from \(Self.esc($0)) (its top-k tokens per position, HAT §4) · " } ?? "")
            + "\(Self.esc(r.bleuSignature)) · hypotheses \(Self.esc(r.hypotheses))"
            + (r.onnx.map { " · as ONNX (encoder, decoder, decoder step, vocabulary): \(Self.esc($0))" } ?? "") + "</p>\n"
        if let penalty = r.lengthPenalty {
            let tried = (r.validBLEUByLengthPenalty ?? [:]).sorted { (Double($0.key) ?? 0) < (Double($1.key) ?? 0) }
                .map { "\(Self.esc($0.key)): \(String(format: "%.2f", $0.value))" }
            s +=
                "<p class=\"sub\">length penalty \(penalty)"
                + (tried.isEmpty ? "" : ", chosen on the validation split (valid BLEU by lenpen: \(tried.joined(separator: ", ")))") + "</p>\n"
        }
        s += "<pre>\(Self.esc(r.config.description))</pre>\n"
        if let quantized = r.quantized, !quantized.isEmpty {
            s += "<h3>Compressed (K-means weight quantization, HAT §4)</h3>\n"
            s += "<table><tr><th class=\"l\">weights</th><th>file MB</th><th>\(Self.esc(r.split)) BLEU</th><th>chrF</th><th class=\"l\">file</th></tr>\n"
            s +=
                String(format: "<tr><td class=\"l\">float32</td><td>%.2f</td><td>%.2f</td><td>%.2f</td>", r.modelSizeMB, r.bleu, r.chrf)
                + "<td class=\"l\">\(Self.esc(r.checkpoint ?? ""))</td></tr>\n"
            for q in quantized {
                s +=
                    String(format: "<tr><td class=\"l\">%d-bit</td><td>%.2f</td><td>%.2f</td><td>%.2f</td>", q.bits, Double(q.fileBytes) / 1e6, q.bleu, q.chrf)
                    + "<td class=\"l\">\(Self.esc(q.checkpoint))</td></tr>\n"
            }
            s += "</table>\n"
        }
        return s
    }

    func stagesSection(_ state: PipelineState?, problem: String) -> String {
        var s = "<h2>Stages</h2>\n"
        guard let state else { return s + Self.missing(problem) }
        s += "<table><tr><th class=\"l\">stage</th><th class=\"l\">finished</th><th>seconds</th><th class=\"l\">summary</th></tr>\n"
        for stage in PipelineStage.allCases {
            guard let r = state.stages[stage.rawValue] else {
                s += "<tr><td class=\"l\">\(stage.rawValue)</td><td class=\"l missing\" colspan=\"3\">not run yet</td></tr>\n"
                continue
            }
            var summary = r.summary.keys.sorted().map { "\($0): \(r.summary[$0]!)" }.joined(separator: " · ")
            if let config = r.config, config != state.config { summary += " · ran with \(config)" }
            s +=
                "<tr><td class=\"l\">\(stage.rawValue)</td><td class=\"l\">\(Self.esc(r.finished))</td><td>\(String(format: "%.1f", r.seconds))</td>"
                + "<td class=\"l\">\(Self.esc(summary))</td></tr>\n"
        }
        return s + "</table>\n"
    }

    /// Training loss per update (averaged over windows) and the validation loss per epoch of each validated subnet.
    func trainingSection(folder: String, title: String) throws -> String {
        var s = "<h2>\(Self.esc(title))</h2>\n"
        let metrics = file("\(folder)/metrics.jsonl")
        guard FileManager.default.fileExists(atPath: metrics.path) else { return s + Self.missing("Not trained yet.") }
        let rows = try MetricsLog.read(metrics)
        var train: [(x: Double, y: Double)] = []
        var valid: [String: [(x: Double, y: Double)]] = [:]
        for row in rows {
            guard let update = row["update"] as? Int, let loss = row["loss"] as? Double else { continue }
            if row["split"] as? String == "valid" {
                valid[row["subtransformer"] as? String ?? "valid", default: []].append((Double(update), loss))
            } else {
                train.append((Double(update), loss))
            }
        }
        let window = Swift.max(1, train.count / 200)
        let smoothed = stride(from: 0, to: train.count, by: window).map { i -> (x: Double, y: Double) in
            let part = train[i..<Swift.min(i + window, train.count)]
            return (part.last!.x, part.map(\.y).reduce(0, +) / Double(part.count))
        }
        var chart = XYChart(title: "\(title): loss (label-smoothed, bits per token)", xLabel: "update", yLabel: "loss")
        chart.series.append(.init("train (mean of \(window))", color: "#bbbbbb", style: .line(width: 1.2), points: smoothed))
        let order = ["largest", "smallest", "subtransformer"] + valid.keys.filter { !["largest", "smallest", "subtransformer"].contains($0) }.sorted()
        for (i, name) in order.enumerated() {
            guard let points = valid[name] else { continue }
            chart.series.append(.init("valid \(name)", color: Self.palette[i % Self.palette.count], style: .line(width: 2.2), points: points))
        }
        s += "<div class=\"charts\">\(chart.svg)</div>\n"
        if let lastTrain = train.last {
            s += "<p class=\"sub\">\(train.count) updates logged, last training loss \(String(format: "%.3f", lastTrain.y))"
            for name in order { if let v = valid[name]?.last { s += String(format: "; valid %@ %.3f", Self.esc(name), v.y) } }
            s += "</p>\n"
        }
        return s
    }

    func predictorSection() throws -> String {
        var s = "<h2>Latency predictor</h2>\n"
        let predictions = file("predictor/predictions.csv")
        guard let text = try? String(contentsOf: predictions, encoding: .utf8) else {
            return s + Self.missing("No predictor trained yet.")
        }
        var bySplit: [String: (measured: [Double], predicted: [Double])] = [:]
        for line in text.split(separator: "\n").dropFirst() {
            let f = line.split(separator: ",")
            guard f.count == 3, let m = Double(f[1]), let p = Double(f[2]) else { continue }
            bySplit[String(f[0]), default: ([], [])].measured.append(m)
            bySplit[String(f[0]), default: ([], [])].predicted.append(p)
        }
        s += "<table><tr><th class=\"l\">split</th><th>rows</th><th>RMSE (ms)</th><th>MAPE</th><th>within ±10 %</th><th>Spearman</th><th>Kendall</th></tr>\n"
        for name in ["train", "valid", "test"] {
            guard let d = bySplit[name], !d.measured.isEmpty else { continue }
            let m = PredictionMetrics(predicted: d.predicted, measured: d.measured)
            s +=
                "<tr><td class=\"l\">\(name)</td><td>\(m.count)</td>"
                + String(
                    format: "<td>%.3f</td><td>%.2f %%</td><td>%.1f %%</td><td>%.3f</td><td>%.3f</td></tr>\n",
                    m.rmse, m.mape, m.within10, m.spearman, m.kendall)
        }
        s += "</table>\n"
        let all = ["train", "valid", "test"].compactMap { bySplit[$0] }
        let measured = all.flatMap(\.measured), predicted = all.flatMap(\.predicted)
        let heldOut = ["valid", "test"].compactMap { bySplit[$0] }
        let hm = heldOut.flatMap(\.measured), hp = heldOut.flatMap(\.predicted)
        var plot = ScatterPlot(
            title: "predicted vs measured on this machine (all \(measured.count) rows)", measured: measured, predicted: predicted,
            metrics: hm.isEmpty ? nil : PredictionMetrics(predicted: hp, measured: hm))
        if !hm.isEmpty { plot.title = "predicted vs measured (all rows; metrics on the \(hm.count) held-out)" }
        s += "<div class=\"charts\">\(plot.svg)</div>\n"
        return s
    }

    func searchSection() throws -> String {
        var s = "<h2>Search</h2>\n"
        let historyURL = file("search/\(SearchHistory.fileName)")
        guard FileManager.default.fileExists(atPath: historyURL.path) else { return s + Self.missing("No search yet.") }
        let entries = try SearchHistory.read(historyURL)
        var candidates: [String: [CandidateRecord]] = [:]
        var iterations: [String: [IterationRecord]] = [:]
        for e in entries {
            switch e {
            case .candidate(let c): candidates[c.constraint, default: []].append(c)
            case .iteration(let it): iterations[it.constraint, default: []].append(it)
            }
        }
        let front = (try? ParetoFront.read(file("search/\(ParetoFront.fileName)"))) ?? []
        var charts = ""
        for label in candidates.keys.sorted() {
            let cs = candidates[label]!.filter { $0.loss != nil }
            let maxIteration = cs.map(\.iteration).max() ?? 0
            var chart = XYChart(
                title: "population for \(label): predicted latency vs supernet validation loss", xLabel: "predicted latency (ms)",
                yLabel: "validation loss")
            // Early iterations light, late ones dark: the population moving toward the constraint.
            let bands = Swift.min(4, maxIteration + 1)
            for band in 0..<bands {
                let lo = band * (maxIteration + 1) / bands, hi = (band + 1) * (maxIteration + 1) / bands
                let pts = cs.filter { $0.iteration >= lo && $0.iteration < hi }.map { (x: $0.predictedLatencyMs, y: $0.loss!) }
                let shade = ["#c6dbef", "#6baed6", "#2171b5", "#08306b"][band + (4 - bands)]
                chart.series.append(.init("iterations \(lo + 1)–\(hi)", color: shade, style: .points(radius: 2.6, opacity: 0.7), points: pts))
            }
            let frontPoints = front.sorted { $0.predictedLatencyMs < $1.predictedLatencyMs }.filter { !$0.dominated }
                .map { (x: $0.predictedLatencyMs, y: $0.loss) }
            chart.series.append(.init("Pareto front (best per constraint)", color: "#d62728", style: .stepLine, points: frontPoints))
            if let limit = front.first(where: { $0.constraint == label })?.constraints.latencyMs {
                chart.references.append(.init(label: "constraint \(label)", x: limit, y: nil, color: "#d62728"))
            }
            charts += chart.svg
            if let its = iterations[label], !its.isEmpty {
                var best = XYChart(title: "best admitted loss per iteration (\(label))", xLabel: "iteration", yLabel: "validation loss")
                best.width = 520
                best.series.append(.init("", color: "#2171b5", style: .line(width: 2), points: its.map { (x: Double($0.iteration + 1), y: $0.bestLoss) }))
                charts += best.svg
            }
        }
        s += "<div class=\"charts\">\(charts)</div>\n"
        if !front.isEmpty {
            s +=
                "<table><tr><th class=\"l\">constraint</th><th>supernet valid loss</th><th>predicted (ms)</th><th>measured (ms)</th><th>#params</th><th>FLOPs</th><th>size (MB)</th><th>peak memory (MB)</th><th>BLEU</th><th class=\"l\">SubTransformer</th></tr>\n"
            // The pipeline trains and tests the first constraint's pick; the others have no BLEU.
            let results = try? PipelineResults.read(file("results.json"))
            for p in front {
                var bleu = "–"
                if let r = results, r.constraint == p.constraint { bleu = String(format: "%.2f", r.bleu) }
                var measured = "–", warn = ""
                if let m = p.measuredLatencyMs {
                    measured = String(format: "%.2f", m)
                    if abs(p.predictedLatencyMs - m) / m > MeasuredLatencyCheck.warningThreshold { warn = " class=\"warn\"" }
                }
                s +=
                    "<tr><td class=\"l\">\(Self.esc(p.constraint))\(p.dominated ? " (dominated)" : "")</td>"
                    + String(format: "<td>%.4f</td><td>%.2f</td>", p.loss, p.predictedLatencyMs)
                    + "<td\(warn)>\(measured)</td><td>\(SearchConstraints.formatCount(Double(p.parameters)))</td><td>\(SearchConstraints.formatCount(Double(p.flops)))</td>"
                    + String(format: "<td>%.2f</td><td>%.2f</td>", p.modelSizeMB, p.peakMemoryMB)
                    + "<td>\(bleu)</td><td class=\"l\">\(Self.esc(p.subtransformer))</td></tr>\n"
            }
            s +=
                "</table>\n<p class=\"sub\">Measured latency in red: more than 10 % away from the prediction. BLEU: the pipeline trains and tests the first constraint's SubTransformer.</p>\n"
        }
        return s
    }
}
