import ArgumentParser
import Foundation
import HATFiles

/// `hat models`: HAT's published checkpoints (44 SubTransformers, 4 SuperTransformers).
struct ModelsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "models",
        abstract: "List and download HAT's published models (the tables of HAT's README).",
        subcommands: [List.self, Download.self]
    )

    /// Filters shared by `list` and `download --all`.
    struct Filters: ParsableArguments {
        @Option(help: "Only this task: \(HATTask.allCases.map(\.rawValue).joined(separator: ", ")).")
        var task: String?
        @Option(help: "Only SubTransformers searched for this device: \(HATDevice.allCases.map(\.rawValue).joined(separator: ", ")).")
        var device: String?
        @Option(help: "Only this kind: sub or super.")
        var kind: String?

        func validate() throws {
            if let task, HATTask(rawValue: task) == nil {
                throw ValidationError("--task \(task) is not one of HAT's tasks: \(HATTask.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            if let device, HATDevice(rawValue: device) == nil {
                throw ValidationError("--device \(device) is not one of HAT's devices: \(HATDevice.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            if let kind, !["sub", "super"].contains(kind) { throw ValidationError("--kind must be sub or super, not \(kind)") }
        }

        var isEmpty: Bool { task == nil && device == nil && kind == nil }

        func select(_ models: [PublishedModel]) -> [PublishedModel] {
            models.filter { m in
                (task.map { m.task.rawValue == $0 } ?? true)
                    && (device.map { m.device?.rawValue == $0 } ?? true)
                    && (kind.map { ($0 == "super") == (m.kind == .superTransformer) } ?? true)
            }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "list",
            abstract: "Print HAT's published models with HAT's latency, #Params, FLOPs, BLEU and SacreBLEU.",
            discussion: """
                The figures are HAT's own (README), not measured here; #Params and FLOPs exclude the embeddings \
                and the output projection. YAML says whether configs/hat/TASK/subtransformer/NAME.yml holds the \
                SubTransformer's architecture (HAT published none for 7 of them); for a SuperTransformer it names \
                its space, configs/hat/TASK/supertransformer/SPACE.yml.
                """
        )

        @OptionGroup var filters: Filters
        @Flag(help: "Print JSON (one object per model, with the download link and the config path).") var json = false

        func run() throws {
            let models = filters.select(ModelCatalog.models)
            if json {
                try ResultOutput(json: true).emit(models)
                return
            }
            guard !models.isEmpty else {
                print("no published model matches (HAT searched WMT'19 En-De and IWSLT'14 De-En for titanxp only)")
                return
            }
            func number(_ x: Double?, _ digits: Int) -> String { x.map { String(format: "%.\(digits)f", $0) } ?? "-" }
            let header = ["NAME", "TASK", "DEVICE", "LATENCY", "PARAMS(M)", "FLOPs(G)", "BLEU", "SACREBLEU", "YAML"]
            let rows = models.map { m -> [String] in
                let yaml = m.kind == .superTransformer ? (m.searchSpace ?? "-") : (m.configPath == nil ? "-" : "yes")
                return [
                    m.name, m.task.rawValue, m.device?.rawValue ?? "-", m.latencyText ?? "-", number(m.parametersM, 2),
                    number(m.gflops, 2), number(m.bleu, 1), number(m.sacreBLEU, 1), yaml,
                ]
            }
            // Text columns are left-aligned, numbers right-aligned, as in HAT's table.
            let rightAligned: Set<Int> = [3, 4, 5, 6, 7]
            let widths = header.indices.map { i in ([header] + rows).map { $0[i].count }.max()! }
            for row in [header] + rows {
                let cells = row.indices.map { i -> String in
                    let pad = String(repeating: " ", count: widths[i] - row[i].count)
                    return rightAligned.contains(i) ? pad + row[i] : row[i] + pad
                }
                print(cells.joined(separator: "  ").trimmingCharacters(in: .whitespaces))
            }
            let subs = models.filter { $0.kind == .subTransformer }.count
            func count(_ n: Int, _ noun: String) -> String { "\(n) \(noun)\(n == 1 ? "" : "s")" }
            print(
                "\(count(models.count, "model")) (\(count(subs, "SubTransformer")), \(count(models.count - subs, "SuperTransformer"))); "
                    + "download with `hat models download NAME --out DIR`")
        }
    }

    struct Download: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "download",
            abstract: "Download HAT's published checkpoints (NAME.pt) into a folder, resuming interrupted downloads.",
            discussion: """
                Each file is fetched with curl into DIR/NAME.pt.part (resumed when it exists) and renamed to DIR/NAME.pt \
                when complete; its size and SHA-256 go to DIR/downloads.json, and a file that still matches its record is \
                skipped. Import a downloaded checkpoint with `hat import DIR/NAME.pt --out FOLDER`. \
                \(ModelDownloader.baseURLVariable)=URL fetches URL/NAME.pt instead of HAT's Dropbox link (a mirror).
                """
        )

        @Argument(help: "Model names (see `hat models list`).") var names: [String] = []
        @Flag(help: "Download every published model (or every one matching --task/--device/--kind).") var all = false
        @OptionGroup var filters: Filters
        @Option(help: "Folder for the .pt files and downloads.json (created when missing).") var out: String
        @Option(name: .customLong("base-url"), help: .hidden) var baseURL: String?

        func validate() throws {
            if all && !names.isEmpty { throw ValidationError("give model names or --all, not both") }
            if !all && names.isEmpty { throw ValidationError("give model names (see `hat models list`) or --all") }
            if !all && !filters.isEmpty { throw ValidationError("--task, --device and --kind select models for --all only") }
        }

        func run() throws {
            let models: [PublishedModel]
            if all {
                models = filters.select(ModelCatalog.models)
                guard !models.isEmpty else { throw CommandError("no published model matches --task/--device/--kind (see `hat models list`)") }
            } else {
                // Every name is checked before anything is downloaded, so a typo in the last name
                // does not surface after an hour of downloading.
                models = try names.map { name in
                    guard let model = ModelCatalog.model(named: name) else {
                        let close = ModelCatalog.closeNames(to: name)
                        throw CommandError(
                            "unknown model \(name)"
                                + (close.isEmpty ? "" : ": did you mean \(close.joined(separator: ", "))?")
                                + " (`hat models list` shows all \(ModelCatalog.models.count))")
                    }
                    return model
                }
            }
            try OutputPath.checkFolder(out, option: "--out")
            let base = baseURL ?? ProcessInfo.processInfo.environment[ModelDownloader.baseURLVariable].flatMap { $0.isEmpty ? nil : $0 }
            var downloader = ModelDownloader(folder: URL(fileURLWithPath: out), baseURL: base)
            downloader.showProgress = isatty(STDERR_FILENO) != 0
            downloader.log = { print($0) }
            var (fetched, skipped) = (0, 0)
            for (i, model) in models.enumerated() {
                if models.count > 1 { print("[\(i + 1)/\(models.count)] \(model.name)") }
                switch try downloader.download(model) {
                case .skipped: skipped += 1
                case .downloaded: fetched += 1
                }
            }
            print("\(fetched) downloaded, \(skipped) already complete, in \(out) (records: \(out)/\(DownloadsFile.fileName))")
        }
    }
}
