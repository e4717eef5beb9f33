import Foundation
import TensorEngine
import TestSupport
import Testing

@testable import Compress

/// K-means against an independent numpy implementation of Lloyd's algorithm with the same linear
/// initialization (Tests/Oracle/kmeans_oracle.py: n × k distances and argmin, no sorting).
@Suite("K-means quantization")
struct KMeansTests {
    @Test("centroids, assignments and iterations equal numpy's Lloyd from the same linear initialization")
    func matchesNumpy() throws {
        var rng = RandomGenerator(seed: 7)
        // Weights like a trained layer's (normal), heavy-tailed ones (a few large weights: the case
        // linear initialization exists for), uniform ones, and fewer values than clusters.
        let sets: [(String, [Float])] = [
            ("normal", (0..<6000).map { _ in 0.05 * rng.normal() }),
            (
                "heavy",
                (0..<4000).map { _ in
                    let z = rng.normal()
                    return 0.02 * z * z * z
                }
            ),
            ("uniform", (0..<3000).map { _ in rng.nextFloat() * 2 - 1 }),
            ("few", [0.3, -0.2, 0.7, 0.3, 0.1]),
        ]
        for (k, maxIterations) in [(16, 100), (256, 100), (4, 3)] {
            var file = SafeTensorsFile(metadata: ["clusters": "\(k)", "max_iter": "\(maxIterations)"])
            for (name, values) in sets { try file.add("values.\(name)", floats: values, shape: [values.count]) }
            let dir = try Oracle.temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: dir) }
            let input = dir.appendingPathComponent("in.safetensors"), output = dir.appendingPathComponent("out.safetensors")
            try file.write(to: input)
            try Oracle.run("kmeans_oracle.py", [input.path, output.path])
            let expected = try SafeTensorsFile.read(from: output)
            for (name, values) in sets {
                let fit = KMeans1D.fit(values, clusters: k, maxIterations: maxIterations)
                let centroids = try expected.tensor("centroids.\(name)").floats()
                let range = Double(values.max()! - values.min()!)
                let worst = zip(fit.centroids, centroids).map { abs(Double($0) - Double($1)) }.max()!
                #expect(worst <= 1e-6 * range, "k \(k), \(name): centroid difference \(worst)")
                let assignments = try expected.tensor("assignments.\(name)").ints()
                #expect(fit.assignments.map(Int.init) == assignments, "k \(k), \(name): assignments differ")
                #expect(fit.iterations == (try expected.tensor("iterations.\(name)").ints()[0]), "k \(k), \(name): iterations")
                // The error it reports is the error of what it returns.
                let sse = zip(values, fit.assignments).reduce(0.0) { $0 + pow(Double($1.0) - Double(fit.centroids[Int($1.1)]), 2) }
                #expect(abs(sse - fit.sumSquaredError) <= 1e-6 * max(sse, 1e-12) + 1e-9, "k \(k), \(name): sse \(fit.sumSquaredError) vs \(sse)")
            }
        }
    }

    @Test("more centroids fit better: the error falls with every added bit")
    func errorFallsWithBits() {
        var rng = RandomGenerator(seed: 3)
        let values = (0..<20_000).map { _ in rng.normal() }
        let errors = (1...8).map { KMeans1D.fit(values, clusters: 1 << $0).sumSquaredError }
        for (a, b) in zip(errors, errors.dropFirst()) { #expect(b < a) }
        // Lloyd–Max: about 6 dB (a factor of 4 in squared error) per bit for a Gaussian at high rates.
        #expect(errors[7] < errors[3] / 100)
    }
}
