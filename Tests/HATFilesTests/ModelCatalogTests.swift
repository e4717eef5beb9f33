import Foundation
import Model
import TestSupport
import Testing

@testable import HATFiles

/// The catalog against HAT's README (../shared/seeds/001_4778b4ee23660a3a.txt) and the YAMLs
/// shipped under configs/hat.
@Suite("Model catalog")
struct ModelCatalogTests {
    static let seed = Oracle.repoRoot.deletingLastPathComponent().appendingPathComponent("shared/seeds/001_4778b4ee23660a3a.txt")

    @Test("44 SubTransformers and 4 SuperTransformers, names unique, counts per task and device as in HAT's table")
    func counts() {
        let models = ModelCatalog.models
        #expect(models.count == 48)
        #expect(models.filter { $0.kind == .subTransformer }.count == 44)
        #expect(
            models.filter { $0.kind == .superTransformer }.map(\.name)
                == ["HAT_wmt14ende_super_space0", "HAT_wmt14enfr_super_space0", "HAT_wmt19ende_super_space0", "HAT_iwslt14deen_super_space1"])
        #expect(Set(models.map(\.name)).count == 48)
        func count(_ t: HATTask, _ d: HATDevice) -> Int { models.filter { $0.task == t && $0.device == d }.count }
        let table: [[Int]] = [HATTask.wmt14EnDe, .wmt14EnFr, .wmt19EnDe, .iwslt14DeEn].map { t in HATDevice.allCases.map { count(t, $0) } }
        #expect(table == [[6, 6, 5], [6, 5, 5], [0, 0, 6], [0, 0, 5]])
    }

    @Test("a few rows exactly as in HAT's README")
    func exactRows() throws {
        let first = try #require(ModelCatalog.model(named: "HAT_wmt14ende_raspberrypi@3.5s_bleu@25.8"))
        #expect(first == ModelCatalog.models[0])
        #expect(
            first
                == PublishedModel(
                    name: "HAT_wmt14ende_raspberrypi@3.5s_bleu@25.8", task: .wmt14EnDe, kind: .subTransformer, device: .raspberryPi,
                    latencyText: "3.5s", latencyMilliseconds: 3500, parametersM: 25.22, gflops: 1.53, bleu: 25.8, sacreBLEU: 25.6,
                    searchSpace: nil, url: "https://www.dropbox.com/s/pmfwwg1d1kmfdh5/HAT_wmt14ende_raspberrypi@3.5s_bleu@25.8.pt?dl=0",
                    configPath: "configs/hat/wmt14.en-de/subtransformer/HAT_wmt14ende_raspberrypi@3.5s_bleu@25.8.yml"))
        // The row after which HAT's FLOPs cell has a stray <br>, and whose #Params is below its neighbour's.
        #expect(
            ModelCatalog.model(named: "HAT_wmt14ende_titanxp@208.1ms_bleu@28.5")
                == PublishedModel(
                    name: "HAT_wmt14ende_titanxp@208.1ms_bleu@28.5", task: .wmt14EnDe, kind: .subTransformer, device: .titanXp,
                    latencyText: "208.1ms", latencyMilliseconds: 208.1, parametersM: 49.38, gflops: 3.09, bleu: 28.5, sacreBLEU: 27.8,
                    searchSpace: nil, url: "https://www.dropbox.com/s/owpdwmqwpn9jw14/HAT_wmt14ende_titanxp@208.1ms_bleu@28.5.pt?dl=0",
                    configPath: "configs/hat/wmt14.en-de/subtransformer/HAT_wmt14ende_titanxp@208.1ms_bleu@28.5.yml"))
        // One of the seven whose YAML HAT never published.
        #expect(
            ModelCatalog.model(named: "HAT_wmt14enfr_xeon@154.7ms_bleu@39.1.pt")
                == PublishedModel(
                    name: "HAT_wmt14enfr_xeon@154.7ms_bleu@39.1", task: .wmt14EnFr, kind: .subTransformer, device: .xeon,
                    latencyText: "154.7ms", latencyMilliseconds: 154.7, parametersM: 30.47, gflops: 1.84, bleu: 39.1, sacreBLEU: 36.3,
                    searchSpace: nil, url: "https://www.dropbox.com/s/6xswl0oesuvmqk5/HAT_wmt14enfr_xeon@154.7ms_bleu@39.1.pt?dl=0",
                    configPath: nil))
        #expect(ModelCatalog.model(named: "HAT_wmt19ende_titanxp@134.5ms_bleu@45.4")?.parametersM == 40.97)
        #expect(
            ModelCatalog.model(named: "HAT_iwslt14deen_titanxp@168.8ms_bleu@34.8")
                == PublishedModel(
                    name: "HAT_iwslt14deen_titanxp@168.8ms_bleu@34.8", task: .iwslt14DeEn, kind: .subTransformer, device: .titanXp,
                    latencyText: "168.8ms", latencyMilliseconds: 168.8, parametersM: 31.54, gflops: 1.52, bleu: 34.8, sacreBLEU: 33.9,
                    searchSpace: nil, url: "https://www.dropbox.com/s/5xy9hdjuc5c6sw5/HAT_iwslt14deen_titanxp@168.8ms_bleu@34.8.pt?dl=0",
                    configPath: "configs/hat/iwslt14.de-en/subtransformer/HAT_iwslt14deen_titanxp@168.8ms_bleu@34.8.yml"))
        #expect(
            ModelCatalog.model(named: "HAT_iwslt14deen_super_space1")
                == PublishedModel(
                    name: "HAT_iwslt14deen_super_space1", task: .iwslt14DeEn, kind: .superTransformer, device: nil,
                    latencyText: nil, latencyMilliseconds: nil, parametersM: nil, gflops: nil, bleu: nil, sacreBLEU: nil,
                    searchSpace: "space1", url: "https://www.dropbox.com/s/yv0mn8ns36gxkhs/HAT_iwslt14deen_super_space1.pt?dl=0",
                    configPath: "configs/hat/iwslt14.de-en/supertransformer/space1.yml"))
    }

    /// HAT's names spell out task, device, latency and BLEU; every row must agree with its name.
    @Test("every SubTransformer's name agrees with its task, device, latency and BLEU; every link ends in NAME.pt?dl=0")
    func namesAgreeWithColumns() {
        for m in ModelCatalog.models {
            let tag = m.task.rawValue.replacingOccurrences(of: ".", with: "").replacingOccurrences(of: "-", with: "")
            if m.kind == .subTransformer {
                let expected = "HAT_\(tag)_\(m.device!.rawValue)@\(m.latencyText!)_bleu@\(String(format: "%.1f", m.bleu!))"
                #expect(m.name == expected)
                let ms = m.latencyText!.hasSuffix("ms") ? Double(m.latencyText!.dropLast(2))! : Double(m.latencyText!.dropLast())! * 1000
                #expect(m.latencyMilliseconds == ms, "\(m.name)")
                #expect(m.sacreBLEU! <= m.bleu!, "\(m.name): SacreBLEU above BLEU")
            } else {
                #expect(m.name == "HAT_\(tag)_super_\(m.searchSpace!)")
            }
            #expect(m.url.hasPrefix("https://www.dropbox.com/s/") && m.url.hasSuffix("/\(m.name).pt?dl=0"), "\(m.url)")
        }
    }

    /// Every row of both README tables, parsed from the seed (when the shared folder is there).
    @Test("every row equals HAT's README table (seed 001)")
    func everyRowEqualsTheSeedTable() throws {
        let text = try String(contentsOf: Self.seed, encoding: .utf8)
        let tasks = Dictionary(uniqueKeysWithValues: HATTask.allCases.map { ($0.displayName, $0) })
        let devices = Dictionary(uniqueKeysWithValues: HATDevice.allCases.map { ($0.hardware, $0) })
        func cells(_ s: String) -> [String] {
            s.components(separatedBy: "<br>").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }
        func link(_ s: String) -> String {
            let open = s.range(of: "(")!, close = s.range(of: ")", range: open.upperBound..<s.endIndex)!
            return String(s[open.upperBound..<close.lowerBound])
        }
        var expected: [PublishedModel] = []
        for line in text.components(separatedBy: "\n") where line.hasPrefix("| ") {
            let c = line.trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "|"))
                .components(separatedBy: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            if c.count == 9, let task = tasks[c[0]], let device = devices[c[1]] {
                let columns = c[2...].map(cells)
                let names = columns[columns.startIndex + 5].map { $0.replacingOccurrences(of: "<!-- -->", with: "") }
                for (i, name) in names.enumerated() {
                    func value(_ k: Int) -> Double { Double(columns[columns.startIndex + k][i])! }
                    let latency = columns[columns.startIndex][i]
                    let config = "configs/hat/\(task.rawValue)/subtransformer/\(name).yml"
                    expected.append(
                        PublishedModel(
                            name: name, task: task, kind: .subTransformer, device: device, latencyText: latency,
                            latencyMilliseconds: latency.hasSuffix("ms") ? Double(latency.dropLast(2))! : Double(latency.dropLast())! * 1000,
                            parametersM: value(1), gflops: value(2), bleu: value(3), sacreBLEU: value(4), searchSpace: nil,
                            url: link(columns[columns.startIndex + 6][i]),
                            configPath: FileManager.default.fileExists(atPath: Oracle.repoRoot.appendingPathComponent(config).path) ? config : nil))
                }
            } else if c.count == 4, let task = tasks[c[0]] {
                expected.append(
                    PublishedModel(
                        name: c[2], task: task, kind: .superTransformer, device: nil, latencyText: nil, latencyMilliseconds: nil,
                        parametersM: nil, gflops: nil, bleu: nil, sacreBLEU: nil, searchSpace: c[1], url: link(c[3]),
                        configPath: "configs/hat/\(task.rawValue)/supertransformer/\(c[1]).yml"))
            }
        }
        #expect(expected.count == 48)
        #expect(ModelCatalog.models.count == expected.count)
        for (ours, theirs) in zip(ModelCatalog.models, expected) { #expect(ours == theirs) }
    }

    @Test("every SubTransformer YAML exists, parses with SubTransformerConfig(contentsOf:) and fits its task's SuperTransformer space")
    func subTransformerConfigsParse() throws {
        let subs = ModelCatalog.models.filter { $0.kind == .subTransformer }
        let withYAML = subs.filter { $0.configPath != nil }
        #expect(withYAML.count == 37)
        #expect(
            subs.filter { $0.configPath == nil }.map(\.name) == [
                "HAT_wmt14ende_raspberrypi@4.5s_bleu@27.6", "HAT_wmt14ende_xeon@204.2ms_bleu@27.6", "HAT_wmt14ende_xeon@278.7ms_bleu@27.9",
                "HAT_wmt14ende_titanxp@57.1ms_bleu@25.8", "HAT_wmt14enfr_raspberrypi@5.3s_bleu@40.1", "HAT_wmt14enfr_xeon@154.7ms_bleu@39.1",
                "HAT_wmt14enfr_titanxp@94.9ms_bleu@40.0",
            ])
        for m in withYAML {
            let path = Oracle.repoRoot.appendingPathComponent(m.configPath!).path
            #expect(m.configPath == "configs/hat/\(m.task.rawValue)/subtransformer/\(m.name).yml")
            let config = try SubTransformerConfig(contentsOf: path)
            let superModel = try #require(ModelCatalog.models.first { $0.kind == .superTransformer && $0.task == m.task })
            let space = try SearchSpace(contentsOf: Oracle.repoRoot.appendingPathComponent(superModel.configPath!).path)
            try space.check(config, file: path)
            // HAT's SubTransformers all keep 6 encoder layers (the spaces offer no other choice).
            #expect(config.encoderLayerNum == 6, "\(m.name)")
            #expect(config.decoderFFNDims.count == config.decoderLayerNum, "\(m.name)")
        }
    }

    @Test("SuperTransformer spaces parse as search spaces; every shipped YAML belongs to the catalog and names its source")
    func shippedYAMLs() throws {
        for m in ModelCatalog.models where m.kind == .superTransformer {
            let space = try SearchSpace(contentsOf: Oracle.repoRoot.appendingPathComponent(m.configPath!).path)
            #expect(space.encoderLayers == 6 && space.decoderLayers == 6, "\(m.name)")
            #expect(space.encoderEmbedDim == 640, "\(m.name)")
        }
        let root = Oracle.repoRoot.appendingPathComponent("configs/hat")
        let files = try #require(FileManager.default.enumerator(atPath: root.path)).compactMap { $0 as? String }.filter { $0.hasSuffix(".yml") }
        let referenced = Set(ModelCatalog.models.compactMap(\.configPath))
        let commons = Set(HATTask.allCases.map { "configs/hat/\($0.rawValue)/subtransformer/common.yml" })
        #expect(files.count == 37 + 4 + 4)
        for file in files {
            let relative = "configs/hat/" + file
            #expect(referenced.contains(relative) || commons.contains(relative), "\(relative) belongs to no catalog model")
            let text = try String(contentsOf: root.appendingPathComponent(file), encoding: .utf8)
            let firstLine = String(text.prefix { $0 != "\n" })
            #expect(firstLine.hasPrefix("# From HAT (https://github.com/mit-han-lab/hardware-aware-transformers, MIT licence)"), "\(relative)")
            #expect(firstLine.contains(String(relative.dropFirst("configs/hat/".count))), "\(relative): first line names another file")
            // HAT's own keys throughout: the reader knows every one (common.yml's training keys included).
            let file = try HATConfigFile(path: root.appendingPathComponent(file).path)
            #expect(file.unknownKeyWarnings().isEmpty, "\(relative): \(file.unknownKeyWarnings())")
        }
    }

    @Test("unknown names get close suggestions")
    func closeNames() {
        #expect(ModelCatalog.closeNames(to: "HAT_wmt14ende_xeon@137.9ms") == ["HAT_wmt14ende_xeon@137.9ms_bleu@25.8"])
        #expect(ModelCatalog.closeNames(to: "HAT_wmt14ende_super_space1").first == "HAT_wmt14ende_super_space0")
        #expect(ModelCatalog.closeNames(to: "HAT_iwslt14deen_titanxp@45.6ms_bleu@33.5").first == "HAT_iwslt14deen_titanxp@45.6ms_bleu@33.4")
        #expect(ModelCatalog.closeNames(to: "resnet50").isEmpty)
        #expect(ModelCatalog.model(named: "hat_wmt14ende_super_space0") == nil)
        #expect(ModelCatalog.editDistance("kitten", "sitting") == 3)
    }

    @Test("download addresses: Dropbox's dl=1 link, or BASE/NAME.pt with a base URL")
    func directURLs() throws {
        let m = try #require(ModelCatalog.model(named: "HAT_wmt14ende_super_space0"))
        #expect(ModelDownloader.directURL(for: m, baseURL: nil) == "https://www.dropbox.com/s/pkdddxvvpw9a4vq/HAT_wmt14ende_super_space0.pt?dl=1")
        #expect(ModelDownloader.directURL(for: m, baseURL: "http://127.0.0.1:8000") == "http://127.0.0.1:8000/HAT_wmt14ende_super_space0.pt")
        #expect(ModelDownloader.directURL(for: m, baseURL: "http://mirror/hat/") == "http://mirror/hat/HAT_wmt14ende_super_space0.pt")
    }
}
