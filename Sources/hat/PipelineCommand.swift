import ArgumentParser
import Foundation
import Pipeline
import Report

/// `hat pipeline`: the whole HAT flow in one resumable command.
struct PipelineCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pipeline",
        abstract: "Run data → supernet → latency dataset → predictor → search → SubTransformer training → test BLEU.",
        discussion: """
            PIPELINE.yml names the search space and holds one section per stage (configs/pipeline_builtin.yml \
            is the annotated example). Every stage writes into OUT and is skipped when it finished earlier \
            with the same settings; rerunning after an interruption resumes the unfinished stage (training \
            from its newest checkpoint, the latency CSV after its last row, the search after its last \
            iteration). At the end OUT/results.json holds the found model's latency (predicted and measured \
            on this machine), sizes and BLEU, and OUT/report.html shows the whole run.
            """
    )

    @Option(help: "Pipeline YAML.") var config: String
    @Option(help: "Output folder.") var out: String
    @Option(name: .customLong("stop-after"), help: "Stop after this stage: data, supernet, latency, predictor, search, train, test.")
    var stopAfter: String?
    @Option(
        help: ArgumentHelp(
            "Run this stage and the ones after it again, with the config's current settings.",
            discussion: "Their earlier folders are kept, renamed to FOLDER.replaced-TIME."))
    var rerun: String?
    @Flag(name: .customLong("no-report"), help: "Do not write OUT/report.html at the end.") var noReport = false
    @Flag(help: "Print the result as JSON on standard output (progress goes to standard error).") var json = false

    func run() throws {
        try OutputPath.checkFolder(out, option: "--out")
        lineBufferStandardOutput()
        let pipelineConfig = try PipelineConfig(path: config)
        let output = ResultOutput(json: json)
        let runner = try PipelineRunner(
            config: pipelineConfig, out: URL(fileURLWithPath: out),
            stopAfter: try stopAfter.map(PipelineStage.named), log: output.say)
        runner.rerunFrom = try rerun.map(PipelineStage.named)
        runner.progressToStandardError = json
        let results = try runner.run()
        var report: String?
        if !noReport {
            report = try ReportPage(directory: URL(fileURLWithPath: out)).write()
            output.say("report: \(report!)")
        }
        if let r = results {
            output.say("== found SubTransformer: \(r.subtransformer) (\(r.constraint))")
            output.say(
                String(
                    format: "   latency on this machine: measured %@ ms, predicted %.2f ms", r.measuredLatencyMs.map { String(format: "%.2f", $0) } ?? "–",
                    r.predictedLatencyMs))
            output.say(
                String(
                    format: "   %.2f M parameters (HAT's count), %.1f MB, %@ BLEU %.2f, chrF %.2f (%@)", Double(r.parameters) / 1e6, r.modelSizeMB, r.split,
                    r.bleu, r.chrf, r.bleuSignature))
            if let onnx = r.onnx { output.say("   ONNX (encoder, decoder, decoder_step, vocabulary): \(onnx)") }
        }
        try output.emit(PipelineOutput(directory: out, report: report, results: results))
    }

    /// `--json`: the folder, its report, and results.json's content (nil until the test stage ran).
    struct PipelineOutput: Encodable {
        var directory: String
        var report: String?
        var results: PipelineResults?
    }
}

/// `hat report`: the HTML page of a pipeline folder.
struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write DIR/report.html: training curves, predictor scatter, search population, final models (self-contained HTML + SVG)."
    )

    @Argument(help: "A pipeline output folder (hat pipeline --out DIR).") var directory: String
    @Option(help: "Where to write the page (default DIR/report.html).") var out: String?

    func run() throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw CommandError("\(directory) is not a folder: give a pipeline's output folder (hat pipeline --out DIR)")
        }
        if let out { try OutputPath.checkFile(out, option: "--out") }
        let path = try ReportPage(directory: URL(fileURLWithPath: directory)).write(to: out)
        print("report: \(path)")
    }
}
