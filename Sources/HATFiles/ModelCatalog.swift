import Foundation

// HAT's published models (Wang et al., ACL 2020): the 44 SubTransformers of the "Testing" table
// and the 4 SuperTransformers of the "Train a SuperTransformer" table in HAT's README
// (../shared/seeds/001_4778b4ee23660a3a.txt), with the links of HAT's download_model.py
// (mit-han-lab/hardware-aware-transformers, commit 35d12828). Latency, #Params, FLOPs, BLEU and
// SacreBLEU are HAT's own figures, copied, not measured here. #Params and FLOPs exclude the
// embeddings and the output projection (HAT's convention, README).

/// A translation task of HAT's, named as HAT names its config folders.
public enum HATTask: String, CaseIterable, Sendable, Codable {
    case wmt14EnDe = "wmt14.en-de"
    case wmt14EnFr = "wmt14.en-fr"
    case wmt19EnDe = "wmt19.en-de"
    case iwslt14DeEn = "iwslt14.de-en"

    /// The name HAT's README tables use.
    public var displayName: String {
        switch self {
        case .wmt14EnDe: return "WMT'14 En-De"
        case .wmt14EnFr: return "WMT'14 En-Fr"
        case .wmt19EnDe: return "WMT'19 En-De"
        case .iwslt14DeEn: return "IWSLT'14 De-En"
        }
    }
}

/// A device HAT searched SubTransformers for, named as in HAT's model names.
public enum HATDevice: String, CaseIterable, Sendable, Codable {
    case raspberryPi = "raspberrypi"
    case xeon = "xeon"
    case titanXp = "titanxp"

    /// The hardware column of HAT's README table.
    public var hardware: String {
        switch self {
        case .raspberryPi: return "Raspberry Pi ARM Cortex-A72 CPU"
        case .xeon: return "Intel Xeon E5-2640 CPU"
        case .titanXp: return "Nvidia TITAN Xp GPU"
        }
    }
}

/// Whether a published checkpoint is a trained supernet or one searched, retrained network.
public enum HATModelKind: String, CaseIterable, Sendable, Codable {
    case subTransformer = "SubTransformer"
    case superTransformer = "SuperTransformer"
}

/// One published HAT checkpoint and HAT's figures for it.
public struct PublishedModel: Sendable, Equatable {
    /// HAT's model name; the file is NAME.pt (e.g. "HAT_wmt14ende_raspberrypi@3.5s_bleu@25.8").
    public let name: String
    public let task: HATTask
    public let kind: HATModelKind
    /// The device the SubTransformer was searched for; nil for a SuperTransformer.
    public let device: HATDevice?
    /// HAT's latency as the README writes it ("3.5s", "137.9ms"); nil for a SuperTransformer.
    public let latencyText: String?
    /// The same latency in milliseconds.
    public let latencyMilliseconds: Double?
    /// #Params in millions, FLOPs in billions (embeddings and output projection excluded).
    public let parametersM: Double?
    public let gflops: Double?
    /// BLEU and SacreBLEU on the task's test set, as published.
    public let bleu: Double?
    public let sacreBLEU: Double?
    /// The search space a SuperTransformer was trained on ("space0", "space1"); nil for a SubTransformer.
    public let searchSpace: String?
    /// HAT's Dropbox link, exactly as in HAT's README and download_model.py (a `?dl=0` page link).
    public let url: String
    /// The model's YAML in this repository (configs/hat/...): the SubTransformer's architecture, or
    /// the SuperTransformer's space. nil for the 7 SubTransformers whose YAML HAT never published.
    public let configPath: String?

    static func sub(
        _ name: String, _ task: HATTask, _ device: HATDevice, latency: String, ms: Double, params: Double,
        gflops: Double, bleu: Double, sacre: Double, url: String, config: String?
    ) -> PublishedModel {
        PublishedModel(
            name: name, task: task, kind: .subTransformer, device: device, latencyText: latency,
            latencyMilliseconds: ms, parametersM: params, gflops: gflops, bleu: bleu, sacreBLEU: sacre,
            searchSpace: nil, url: url, configPath: config)
    }

    static func `super`(_ name: String, _ task: HATTask, space: String, url: String, config: String) -> PublishedModel {
        PublishedModel(
            name: name, task: task, kind: .superTransformer, device: nil, latencyText: nil, latencyMilliseconds: nil,
            parametersM: nil, gflops: nil, bleu: nil, sacreBLEU: nil, searchSpace: space, url: url, configPath: config)
    }
}

/// The catalog of HAT's published checkpoints, in the README's order.
public enum ModelCatalog {
    public static let models: [PublishedModel] = [
        .sub(
            "HAT_wmt14ende_raspberrypi@3.5s_bleu@25.8", .wmt14EnDe, .raspberryPi, latency: "3.5s", ms: 3500.0, params: 25.22, gflops: 1.53, bleu: 25.8,
            sacre: 25.6,
            url: "https://www.dropbox.com/s/pmfwwg1d1kmfdh5/HAT_wmt14ende_raspberrypi@3.5s_bleu@25.8.pt?dl=0",
            config: "configs/hat/wmt14.en-de/subtransformer/HAT_wmt14ende_raspberrypi@3.5s_bleu@25.8.yml"),
        .sub(
            "HAT_wmt14ende_raspberrypi@4.0s_bleu@26.9", .wmt14EnDe, .raspberryPi, latency: "4.0s", ms: 4000.0, params: 29.42, gflops: 1.78, bleu: 26.9,
            sacre: 26.6,
            url: "https://www.dropbox.com/s/ko0i65k1664p74u/HAT_wmt14ende_raspberrypi@4.0s_bleu@26.9.pt?dl=0",
            config: "configs/hat/wmt14.en-de/subtransformer/HAT_wmt14ende_raspberrypi@4.0s_bleu@26.9.yml"),
        .sub(
            "HAT_wmt14ende_raspberrypi@4.5s_bleu@27.6", .wmt14EnDe, .raspberryPi, latency: "4.5s", ms: 4500.0, params: 35.72, gflops: 2.19, bleu: 27.6,
            sacre: 27.1,
            url: "https://www.dropbox.com/s/f4y6u9cbcdykeha/HAT_wmt14ende_raspberrypi@4.5s_bleu@27.6.pt?dl=0", config: nil),
        .sub(
            "HAT_wmt14ende_raspberrypi@5.0s_bleu@27.8", .wmt14EnDe, .raspberryPi, latency: "5.0s", ms: 5000.0, params: 36.77, gflops: 2.26, bleu: 27.8,
            sacre: 27.2,
            url: "https://www.dropbox.com/s/av5vycafxo57x6w/HAT_wmt14ende_raspberrypi@5.0s_bleu@27.8.pt?dl=0",
            config: "configs/hat/wmt14.en-de/subtransformer/HAT_wmt14ende_raspberrypi@5.0s_bleu@27.8.yml"),
        .sub(
            "HAT_wmt14ende_raspberrypi@6.0s_bleu@28.2", .wmt14EnDe, .raspberryPi, latency: "6.0s", ms: 6000.0, params: 44.13, gflops: 2.70, bleu: 28.2,
            sacre: 27.6,
            url: "https://www.dropbox.com/s/ywedqumq91a4ekn/HAT_wmt14ende_raspberrypi@6.0s_bleu@28.2.pt?dl=0",
            config: "configs/hat/wmt14.en-de/subtransformer/HAT_wmt14ende_raspberrypi@6.0s_bleu@28.2.yml"),
        .sub(
            "HAT_wmt14ende_raspberrypi@6.9s_bleu@28.4", .wmt14EnDe, .raspberryPi, latency: "6.9s", ms: 6900.0, params: 48.33, gflops: 3.02, bleu: 28.4,
            sacre: 27.8,
            url: "https://www.dropbox.com/s/x7iucaotbeald3q/HAT_wmt14ende_raspberrypi@6.9s_bleu@28.4.pt?dl=0",
            config: "configs/hat/wmt14.en-de/subtransformer/HAT_wmt14ende_raspberrypi@6.9s_bleu@28.4.yml"),
        .sub(
            "HAT_wmt14ende_xeon@137.9ms_bleu@25.8", .wmt14EnDe, .xeon, latency: "137.9ms", ms: 137.9, params: 30.47, gflops: 1.87, bleu: 25.8, sacre: 25.6,
            url: "https://www.dropbox.com/s/bvq3y6igoyxe1t5/HAT_wmt14ende_xeon@137.9ms_bleu@25.8.pt?dl=0",
            config: "configs/hat/wmt14.en-de/subtransformer/HAT_wmt14ende_xeon@137.9ms_bleu@25.8.yml"),
        .sub(
            "HAT_wmt14ende_xeon@204.2ms_bleu@27.6", .wmt14EnDe, .xeon, latency: "204.2ms", ms: 204.2, params: 35.72, gflops: 2.19, bleu: 27.6, sacre: 27.1,
            url: "https://www.dropbox.com/s/yg12xz504uw2g1s/HAT_wmt14ende_xeon@204.2ms_bleu@27.6.pt?dl=0", config: nil),
        .sub(
            "HAT_wmt14ende_xeon@278.7ms_bleu@27.9", .wmt14EnDe, .xeon, latency: "278.7ms", ms: 278.7, params: 40.97, gflops: 2.54, bleu: 27.9, sacre: 27.3,
            url: "https://www.dropbox.com/s/l5ljas8zyg9ik65/HAT_wmt14ende_xeon@278.7ms_bleu@27.9.pt?dl=0", config: nil),
        .sub(
            "HAT_wmt14ende_xeon@340.2ms_bleu@28.1", .wmt14EnDe, .xeon, latency: "340.2ms", ms: 340.2, params: 46.23, gflops: 2.86, bleu: 28.1, sacre: 27.5,
            url: "https://www.dropbox.com/s/fkp61h8jbyt524i/HAT_wmt14ende_xeon@340.2ms_bleu@28.1.pt?dl=0",
            config: "configs/hat/wmt14.en-de/subtransformer/HAT_wmt14ende_xeon@340.2ms_bleu@28.1.yml"),
        .sub(
            "HAT_wmt14ende_xeon@369.6ms_bleu@28.2", .wmt14EnDe, .xeon, latency: "369.6ms", ms: 369.6, params: 51.48, gflops: 3.21, bleu: 28.2, sacre: 27.6,
            url: "https://www.dropbox.com/s/3mv3oaddeb132np/HAT_wmt14ende_xeon@369.6ms_bleu@28.2.pt?dl=0",
            config: "configs/hat/wmt14.en-de/subtransformer/HAT_wmt14ende_xeon@369.6ms_bleu@28.2.yml"),
        .sub(
            "HAT_wmt14ende_xeon@450.9ms_bleu@28.5", .wmt14EnDe, .xeon, latency: "450.9ms", ms: 450.9, params: 56.73, gflops: 3.53, bleu: 28.5, sacre: 27.9,
            url: "https://www.dropbox.com/s/bjldda9nzj7cpni/HAT_wmt14ende_xeon@450.9ms_bleu@28.5.pt?dl=0",
            config: "configs/hat/wmt14.en-de/subtransformer/HAT_wmt14ende_xeon@450.9ms_bleu@28.5.yml"),
        .sub(
            "HAT_wmt14ende_titanxp@57.1ms_bleu@25.8", .wmt14EnDe, .titanXp, latency: "57.1ms", ms: 57.1, params: 30.47, gflops: 1.87, bleu: 25.8, sacre: 25.6,
            url: "https://www.dropbox.com/s/71w5t0qidsxqe1e/HAT_wmt14ende_titanxp@57.1ms_bleu@25.8.pt?dl=0", config: nil),
        .sub(
            "HAT_wmt14ende_titanxp@91.2ms_bleu@27.6", .wmt14EnDe, .titanXp, latency: "91.2ms", ms: 91.2, params: 35.72, gflops: 2.19, bleu: 27.6, sacre: 27.1,
            url: "https://www.dropbox.com/s/j0hnmxw6xz6tskh/HAT_wmt14ende_titanxp@91.2ms_bleu@27.6.pt?dl=0",
            config: "configs/hat/wmt14.en-de/subtransformer/HAT_wmt14ende_titanxp@91.2ms_bleu@27.6.yml"),
        .sub(
            "HAT_wmt14ende_titanxp@126.0ms_bleu@27.9", .wmt14EnDe, .titanXp, latency: "126.0ms", ms: 126.0, params: 40.97, gflops: 2.54, bleu: 27.9,
            sacre: 27.3,
            url: "https://www.dropbox.com/s/pyetdnbz1zvcfg5/HAT_wmt14ende_titanxp@126.0ms_bleu@27.9.pt?dl=0",
            config: "configs/hat/wmt14.en-de/subtransformer/HAT_wmt14ende_titanxp@126.0ms_bleu@27.9.yml"),
        .sub(
            "HAT_wmt14ende_titanxp@146.7ms_bleu@28.1", .wmt14EnDe, .titanXp, latency: "146.7ms", ms: 146.7, params: 51.20, gflops: 3.17, bleu: 28.1,
            sacre: 27.5,
            url: "https://www.dropbox.com/s/ixn832oai2k44j9/HAT_wmt14ende_titanxp@146.7ms_bleu@28.1.pt?dl=0",
            config: "configs/hat/wmt14.en-de/subtransformer/HAT_wmt14ende_titanxp@146.7ms_bleu@28.1.yml"),
        .sub(
            "HAT_wmt14ende_titanxp@208.1ms_bleu@28.5", .wmt14EnDe, .titanXp, latency: "208.1ms", ms: 208.1, params: 49.38, gflops: 3.09, bleu: 28.5,
            sacre: 27.8,
            url: "https://www.dropbox.com/s/owpdwmqwpn9jw14/HAT_wmt14ende_titanxp@208.1ms_bleu@28.5.pt?dl=0",
            config: "configs/hat/wmt14.en-de/subtransformer/HAT_wmt14ende_titanxp@208.1ms_bleu@28.5.yml"),
        .sub(
            "HAT_wmt14enfr_raspberrypi@4.3s_bleu@38.8", .wmt14EnFr, .raspberryPi, latency: "4.3s", ms: 4300.0, params: 25.22, gflops: 1.53, bleu: 38.8,
            sacre: 36.0,
            url: "https://www.dropbox.com/s/ku97fwz1oj1a112/HAT_wmt14enfr_raspberrypi@4.3s_bleu@38.8.pt?dl=0",
            config: "configs/hat/wmt14.en-fr/subtransformer/HAT_wmt14enfr_raspberrypi@4.3s_bleu@38.8.yml"),
        .sub(
            "HAT_wmt14enfr_raspberrypi@5.3s_bleu@40.1", .wmt14EnFr, .raspberryPi, latency: "5.3s", ms: 5300.0, params: 35.72, gflops: 2.23, bleu: 40.1,
            sacre: 37.3,
            url: "https://www.dropbox.com/s/9noopb605fqmjpl/HAT_wmt14enfr_raspberrypi@5.3s_bleu@40.1.pt?dl=0", config: nil),
        .sub(
            "HAT_wmt14enfr_raspberrypi@5.8s_bleu@40.6", .wmt14EnFr, .raspberryPi, latency: "5.8s", ms: 5800.0, params: 36.77, gflops: 2.26, bleu: 40.6,
            sacre: 37.8,
            url: "https://www.dropbox.com/s/vmdkh0ctpdac7gr/HAT_wmt14enfr_raspberrypi@5.8s_bleu@40.6.pt?dl=0",
            config: "configs/hat/wmt14.en-fr/subtransformer/HAT_wmt14enfr_raspberrypi@5.8s_bleu@40.6.yml"),
        .sub(
            "HAT_wmt14enfr_raspberrypi@6.9s_bleu@41.1", .wmt14EnFr, .raspberryPi, latency: "6.9s", ms: 6900.0, params: 44.13, gflops: 2.70, bleu: 41.1,
            sacre: 38.3,
            url: "https://www.dropbox.com/s/dbo9abn5pnb6qgz/HAT_wmt14enfr_raspberrypi@6.9s_bleu@41.1.pt?dl=0",
            config: "configs/hat/wmt14.en-fr/subtransformer/HAT_wmt14enfr_raspberrypi@6.9s_bleu@41.1.yml"),
        .sub(
            "HAT_wmt14enfr_raspberrypi@7.8s_bleu@41.4", .wmt14EnFr, .raspberryPi, latency: "7.8s", ms: 7800.0, params: 49.38, gflops: 3.09, bleu: 41.4,
            sacre: 38.5,
            url: "https://www.dropbox.com/s/x8tsbxbwkk64ejg/HAT_wmt14enfr_raspberrypi@7.8s_bleu@41.4.pt?dl=0",
            config: "configs/hat/wmt14.en-fr/subtransformer/HAT_wmt14enfr_raspberrypi@7.8s_bleu@41.4.yml"),
        .sub(
            "HAT_wmt14enfr_raspberrypi@9.1s_bleu@41.8", .wmt14EnFr, .raspberryPi, latency: "9.1s", ms: 9100.0, params: 56.73, gflops: 3.57, bleu: 41.8,
            sacre: 38.9,
            url: "https://www.dropbox.com/s/zbsbl5e96y3t5zl/HAT_wmt14enfr_raspberrypi@9.1s_bleu@41.8.pt?dl=0",
            config: "configs/hat/wmt14.en-fr/subtransformer/HAT_wmt14enfr_raspberrypi@9.1s_bleu@41.8.yml"),
        .sub(
            "HAT_wmt14enfr_xeon@154.7ms_bleu@39.1", .wmt14EnFr, .xeon, latency: "154.7ms", ms: 154.7, params: 30.47, gflops: 1.84, bleu: 39.1, sacre: 36.3,
            url: "https://www.dropbox.com/s/6xswl0oesuvmqk5/HAT_wmt14enfr_xeon@154.7ms_bleu@39.1.pt?dl=0", config: nil),
        .sub(
            "HAT_wmt14enfr_xeon@208.8ms_bleu@40.0", .wmt14EnFr, .xeon, latency: "208.8ms", ms: 208.8, params: 35.72, gflops: 2.23, bleu: 40.0, sacre: 37.2,
            url: "https://www.dropbox.com/s/ot3zt8nenda54j7/HAT_wmt14enfr_xeon@208.8ms_bleu@40.0.pt?dl=0",
            config: "configs/hat/wmt14.en-fr/subtransformer/HAT_wmt14enfr_xeon@208.8ms_bleu@40.0.yml"),
        .sub(
            "HAT_wmt14enfr_xeon@329.4ms_bleu@41.1", .wmt14EnFr, .xeon, latency: "329.4ms", ms: 329.4, params: 44.13, gflops: 2.70, bleu: 41.1, sacre: 38.2,
            url: "https://www.dropbox.com/s/epe2lvus4l40v9o/HAT_wmt14enfr_xeon@329.4ms_bleu@41.1.pt?dl=0",
            config: "configs/hat/wmt14.en-fr/subtransformer/HAT_wmt14enfr_xeon@329.4ms_bleu@41.1.yml"),
        .sub(
            "HAT_wmt14enfr_xeon@394.5ms_bleu@41.4", .wmt14EnFr, .xeon, latency: "394.5ms", ms: 394.5, params: 51.48, gflops: 3.28, bleu: 41.4, sacre: 38.5,
            url: "https://www.dropbox.com/s/qnt2qzkb3i054c6/HAT_wmt14enfr_xeon@394.5ms_bleu@41.4.pt?dl=0",
            config: "configs/hat/wmt14.en-fr/subtransformer/HAT_wmt14enfr_xeon@394.5ms_bleu@41.4.yml"),
        .sub(
            "HAT_wmt14enfr_xeon@442.0ms_bleu@41.7", .wmt14EnFr, .xeon, latency: "442.0ms", ms: 442.0, params: 56.73, gflops: 3.57, bleu: 41.7, sacre: 38.8,
            url: "https://www.dropbox.com/s/79zcolb53jbhchk/HAT_wmt14enfr_xeon@442.0ms_bleu@41.7.pt?dl=0",
            config: "configs/hat/wmt14.en-fr/subtransformer/HAT_wmt14enfr_xeon@442.0ms_bleu@41.7.yml"),
        .sub(
            "HAT_wmt14enfr_titanxp@69.3ms_bleu@39.1", .wmt14EnFr, .titanXp, latency: "69.3ms", ms: 69.3, params: 30.47, gflops: 1.84, bleu: 39.1, sacre: 36.3,
            url: "https://www.dropbox.com/s/hvy255ls277onjw/HAT_wmt14enfr_titanxp@69.3ms_bleu@39.1.pt?dl=0",
            config: "configs/hat/wmt14.en-fr/subtransformer/HAT_wmt14enfr_titanxp@69.3ms_bleu@39.1.yml"),
        .sub(
            "HAT_wmt14enfr_titanxp@94.9ms_bleu@40.0", .wmt14EnFr, .titanXp, latency: "94.9ms", ms: 94.9, params: 35.72, gflops: 2.23, bleu: 40.0, sacre: 37.2,
            url: "https://www.dropbox.com/s/rvfv99jbh4n7qys/HAT_wmt14enfr_titanxp@94.9ms_bleu@40.0.pt?dl=0", config: nil),
        .sub(
            "HAT_wmt14enfr_titanxp@132.9ms_bleu@40.7", .wmt14EnFr, .titanXp, latency: "132.9ms", ms: 132.9, params: 40.97, gflops: 2.51, bleu: 40.7,
            sacre: 37.8,
            url: "https://www.dropbox.com/s/u6u3u40pr4f5mzh/HAT_wmt14enfr_titanxp@132.9ms_bleu@40.7.pt?dl=0",
            config: "configs/hat/wmt14.en-fr/subtransformer/HAT_wmt14enfr_titanxp@132.9ms_bleu@40.7.yml"),
        .sub(
            "HAT_wmt14enfr_titanxp@168.3ms_bleu@41.1", .wmt14EnFr, .titanXp, latency: "168.3ms", ms: 168.3, params: 46.23, gflops: 2.90, bleu: 41.1,
            sacre: 38.3,
            url: "https://www.dropbox.com/s/wlbbmnrl61dx4z7/HAT_wmt14enfr_titanxp@168.3ms_bleu@41.1.pt?dl=0",
            config: "configs/hat/wmt14.en-fr/subtransformer/HAT_wmt14enfr_titanxp@168.3ms_bleu@41.1.yml"),
        .sub(
            "HAT_wmt14enfr_titanxp@208.3ms_bleu@41.7", .wmt14EnFr, .titanXp, latency: "208.3ms", ms: 208.3, params: 51.48, gflops: 3.25, bleu: 41.7,
            sacre: 38.8,
            url: "https://www.dropbox.com/s/e41lnsktn5bb2fz/HAT_wmt14enfr_titanxp@208.3ms_bleu@41.7.pt?dl=0",
            config: "configs/hat/wmt14.en-fr/subtransformer/HAT_wmt14enfr_titanxp@208.3ms_bleu@41.7.yml"),
        .sub(
            "HAT_wmt19ende_titanxp@55.7ms_bleu@42.4", .wmt19EnDe, .titanXp, latency: "55.7ms", ms: 55.7, params: 36.89, gflops: 2.27, bleu: 42.4, sacre: 41.9,
            url: "https://www.dropbox.com/s/6pokem8orb75ldh/HAT_wmt19ende_titanxp@55.7ms_bleu@42.4.pt?dl=0",
            config: "configs/hat/wmt19.en-de/subtransformer/HAT_wmt19ende_titanxp@55.7ms_bleu@42.4.yml"),
        .sub(
            "HAT_wmt19ende_titanxp@93.2ms_bleu@44.4", .wmt19EnDe, .titanXp, latency: "93.2ms", ms: 93.2, params: 42.28, gflops: 2.63, bleu: 44.4, sacre: 43.9,
            url: "https://www.dropbox.com/s/zgcd70pzf1sle4z/HAT_wmt19ende_titanxp@93.2ms_bleu@44.4.pt?dl=0",
            config: "configs/hat/wmt19.en-de/subtransformer/HAT_wmt19ende_titanxp@93.2ms_bleu@44.4.yml"),
        .sub(
            "HAT_wmt19ende_titanxp@134.5ms_bleu@45.4", .wmt19EnDe, .titanXp, latency: "134.5ms", ms: 134.5, params: 40.97, gflops: 2.54, bleu: 45.4,
            sacre: 44.7,
            url: "https://www.dropbox.com/s/mm827rst6a144zy/HAT_wmt19ende_titanxp@134.5ms_bleu@45.4.pt?dl=0",
            config: "configs/hat/wmt19.en-de/subtransformer/HAT_wmt19ende_titanxp@134.5ms_bleu@45.4.yml"),
        .sub(
            "HAT_wmt19ende_titanxp@176.1ms_bleu@46.2", .wmt19EnDe, .titanXp, latency: "176.1ms", ms: 176.1, params: 46.23, gflops: 2.86, bleu: 46.2,
            sacre: 45.6,
            url: "https://www.dropbox.com/s/y0vov0n9zt50n9c/HAT_wmt19ende_titanxp@176.1ms_bleu@46.2.pt?dl=0",
            config: "configs/hat/wmt19.en-de/subtransformer/HAT_wmt19ende_titanxp@176.1ms_bleu@46.2.yml"),
        .sub(
            "HAT_wmt19ende_titanxp@204.5ms_bleu@46.5", .wmt19EnDe, .titanXp, latency: "204.5ms", ms: 204.5, params: 51.48, gflops: 3.18, bleu: 46.5,
            sacre: 45.7,
            url: "https://www.dropbox.com/s/w1si4mgf1e3l8oj/HAT_wmt19ende_titanxp@204.5ms_bleu@46.5.pt?dl=0",
            config: "configs/hat/wmt19.en-de/subtransformer/HAT_wmt19ende_titanxp@204.5ms_bleu@46.5.yml"),
        .sub(
            "HAT_wmt19ende_titanxp@237.8ms_bleu@46.7", .wmt19EnDe, .titanXp, latency: "237.8ms", ms: 237.8, params: 56.73, gflops: 3.53, bleu: 46.7,
            sacre: 46.0,
            url: "https://www.dropbox.com/s/rljih3t0hglp39a/HAT_wmt19ende_titanxp@237.8ms_bleu@46.7.pt?dl=0",
            config: "configs/hat/wmt19.en-de/subtransformer/HAT_wmt19ende_titanxp@237.8ms_bleu@46.7.yml"),
        .sub(
            "HAT_iwslt14deen_titanxp@45.6ms_bleu@33.4", .iwslt14DeEn, .titanXp, latency: "45.6ms", ms: 45.6, params: 16.82, gflops: 0.78, bleu: 33.4,
            sacre: 32.5,
            url: "https://www.dropbox.com/s/ntj1gfskish8vz3/HAT_iwslt14deen_titanxp@45.6ms_bleu@33.4.pt?dl=0",
            config: "configs/hat/iwslt14.de-en/subtransformer/HAT_iwslt14deen_titanxp@45.6ms_bleu@33.4.yml"),
        .sub(
            "HAT_iwslt14deen_titanxp@74.5ms_bleu@34.2", .iwslt14DeEn, .titanXp, latency: "74.5ms", ms: 74.5, params: 19.98, gflops: 0.93, bleu: 34.2,
            sacre: 33.3,
            url: "https://www.dropbox.com/s/gjq46181s3xbz0k/HAT_iwslt14deen_titanxp@74.5ms_bleu@34.2.pt?dl=0",
            config: "configs/hat/iwslt14.de-en/subtransformer/HAT_iwslt14deen_titanxp@74.5ms_bleu@34.2.yml"),
        .sub(
            "HAT_iwslt14deen_titanxp@109.0ms_bleu@34.5", .iwslt14DeEn, .titanXp, latency: "109.0ms", ms: 109.0, params: 23.13, gflops: 1.13, bleu: 34.5,
            sacre: 33.6,
            url: "https://www.dropbox.com/s/fg3r3tk2vjg0diq/HAT_iwslt14deen_titanxp@109.0ms_bleu@34.5.pt?dl=0",
            config: "configs/hat/iwslt14.de-en/subtransformer/HAT_iwslt14deen_titanxp@109.0ms_bleu@34.5.yml"),
        .sub(
            "HAT_iwslt14deen_titanxp@137.8ms_bleu@34.7", .iwslt14DeEn, .titanXp, latency: "137.8ms", ms: 137.8, params: 27.33, gflops: 1.32, bleu: 34.7,
            sacre: 33.8,
            url: "https://www.dropbox.com/s/3j5vu5jh71xwec1/HAT_iwslt14deen_titanxp@137.8ms_bleu@34.7.pt?dl=0",
            config: "configs/hat/iwslt14.de-en/subtransformer/HAT_iwslt14deen_titanxp@137.8ms_bleu@34.7.yml"),
        .sub(
            "HAT_iwslt14deen_titanxp@168.8ms_bleu@34.8", .iwslt14DeEn, .titanXp, latency: "168.8ms", ms: 168.8, params: 31.54, gflops: 1.52, bleu: 34.8,
            sacre: 33.9,
            url: "https://www.dropbox.com/s/5xy9hdjuc5c6sw5/HAT_iwslt14deen_titanxp@168.8ms_bleu@34.8.pt?dl=0",
            config: "configs/hat/iwslt14.de-en/subtransformer/HAT_iwslt14deen_titanxp@168.8ms_bleu@34.8.yml"),
        .super(
            "HAT_wmt14ende_super_space0", .wmt14EnDe, space: "space0",
            url: "https://www.dropbox.com/s/pkdddxvvpw9a4vq/HAT_wmt14ende_super_space0.pt?dl=0", config: "configs/hat/wmt14.en-de/supertransformer/space0.yml"),
        .super(
            "HAT_wmt14enfr_super_space0", .wmt14EnFr, space: "space0",
            url: "https://www.dropbox.com/s/asegvw9qzpxui6a/HAT_wmt14enfr_super_space0.pt?dl=0", config: "configs/hat/wmt14.en-fr/supertransformer/space0.yml"),
        .super(
            "HAT_wmt19ende_super_space0", .wmt19EnDe, space: "space0",
            url: "https://www.dropbox.com/s/uc0lw6jdep1vazc/HAT_wmt19ende_super_space0.pt?dl=0", config: "configs/hat/wmt19.en-de/supertransformer/space0.yml"),
        .super(
            "HAT_iwslt14deen_super_space1", .iwslt14DeEn, space: "space1",
            url: "https://www.dropbox.com/s/yv0mn8ns36gxkhs/HAT_iwslt14deen_super_space1.pt?dl=0",
            config: "configs/hat/iwslt14.de-en/supertransformer/space1.yml"),
    ]

    /// The model called `name` (a trailing ".pt" is ignored), or nil.
    public static func model(named name: String) -> PublishedModel? {
        let bare = name.hasSuffix(".pt") ? String(name.dropLast(3)) : name
        return models.first { $0.name == bare }
    }

    /// Models whose names are close to `name`, best first: those containing it (or contained in
    /// it), then those a few edits away; for "did you mean" in error messages.
    public static func closeNames(to name: String, limit: Int = 3) -> [String] {
        let query = (name.hasSuffix(".pt") ? String(name.dropLast(3)) : name).lowercased()
        guard !query.isEmpty else { return [] }
        let scored = models.map { m -> (String, Int) in
            let candidate = m.name.lowercased()
            // Containment first: a user who types "HAT_wmt14ende_xeon@137.9ms" knows the model, not its BLEU.
            if candidate.contains(query) || query.contains(candidate) { return (m.name, 0) }
            return (m.name, 1 + editDistance(query, candidate))
        }
        // A third of the name may differ; further than that is noise, not a typo.
        let budget = max(3, query.count / 3)
        return scored.filter { $0.1 <= budget + 1 }.sorted { $0.1 < $1.1 }.prefix(limit).map(\.0)
    }

    /// Levenshtein distance over characters.
    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        if a.isEmpty { return b.count }
        var previous = Array(0...b.count), current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in stride(from: 1, through: b.count, by: 1) {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            swap(&previous, &current)
        }
        return previous[b.count]
    }
}

/// `hat models list --json`: one object per model; keys without a value (a SuperTransformer's
/// latency, BLEU, device) are left out.
extension PublishedModel: Encodable {
    enum CodingKeys: String, CodingKey {
        case name, task, kind, device, hardware, latency, latencyMilliseconds = "latency_ms", parametersM = "params_m", gflops,
            bleu, sacreBLEU = "sacrebleu", searchSpace = "search_space", url, downloadURL = "download_url", configPath = "config"
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(name, forKey: .name)
        try c.encode(task, forKey: .task)
        try c.encode(kind, forKey: .kind)
        try c.encodeIfPresent(device, forKey: .device)
        try c.encodeIfPresent(device?.hardware, forKey: .hardware)
        try c.encodeIfPresent(latencyText, forKey: .latency)
        try c.encodeIfPresent(latencyMilliseconds, forKey: .latencyMilliseconds)
        try c.encodeIfPresent(parametersM, forKey: .parametersM)
        try c.encodeIfPresent(gflops, forKey: .gflops)
        try c.encodeIfPresent(bleu, forKey: .bleu)
        try c.encodeIfPresent(sacreBLEU, forKey: .sacreBLEU)
        try c.encodeIfPresent(searchSpace, forKey: .searchSpace)
        try c.encode(url, forKey: .url)
        try c.encode(ModelDownloader.directURL(for: self, baseURL: nil), forKey: .downloadURL)
        try c.encodeIfPresent(configPath, forKey: .configPath)
    }
}
