import ArgumentParser
import Datasets
import Foundation
import Model
import TensorEngine

/// `hat sample`: write a SubTransformer of a search space as a HAT YAML file.
struct SampleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sample",
        abstract: "Write the largest, the smallest or a random SubTransformer of a search space as HAT YAML."
    )

    enum Which: String, ExpressibleByArgument, CaseIterable { case largest, smallest, random }

    @Option(help: "Search space YAML.") var space: String
    @Option(help: "Which SubTransformer: \(Which.allCases.map(\.rawValue).joined(separator: ", ")).") var which: Which = .random
    @Option(help: "Seed for --which random.") var seed: UInt64 = 1
    @Option(help: "Output file (default: standard output).") var out: String?

    func run() throws {
        warnAboutUnknownKeys(in: [space])
        if let out { try OutputPath.checkFile(out, option: "--out") }
        let s = try SearchSpace(contentsOf: space)
        let config: SubTransformerConfig
        switch which {
        case .largest: config = s.largest
        case .smallest: config = s.smallest
        case .random:
            var rng = RandomGenerator(seed: seed)
            config = s.sample(rng: &rng)
        }
        let text = config.hatYAML(comment: "\(which.rawValue) SubTransformer of \(space)\(which == .random ? " (seed \(seed))" : "")")
        if let out {
            try AtomicFile.write(text, to: out)  // a unique temporary name: two runs never share one
        } else {
            print(text, terminator: "")
        }
    }
}
