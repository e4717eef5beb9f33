import Foundation
import Testing

@testable import Search

func approx(_ a: Double, _ b: Double, _ tolerance: Double = 1e-9) -> Bool { abs(a - b) <= tolerance * max(1, abs(b)) }

@Suite("Constraints")
struct ConstraintTests {
    @Test("quantities with units parse to ms, MB, counts and FLOPs")
    func parsing() throws {
        let ms = { try ConstraintQuantity.milliseconds($0, option: "--latency-constraint") }
        #expect(try ms("200ms") == 200)
        #expect(try ms("1.5s") == 1500)
        #expect(try ms(" 200 ms ") == 200)
        #expect(try ms("200") == 200)  // HAT's YAML: a bare number is milliseconds
        #expect(try ms("6000") == 6000)
        #expect(approx(try ms("250us"), 0.25))
        #expect(try ms("1e3ms") == 1000)
        let mb = { try ConstraintQuantity.megabytes($0, option: "--memory-constraint") }
        #expect(try mb("64MB") == 64)
        #expect(try mb("1.5GB") == 1500)
        #expect(approx(try mb("512KB"), 0.512))
        #expect(abs(try mb("64MiB") - 67.108864) < 1e-9)
        #expect(try ConstraintQuantity.count("30M", option: "p") == 30e6)
        #expect(try ConstraintQuantity.count("500K", option: "p") == 500e3)
        #expect(try ConstraintQuantity.count("30000000", option: "p") == 30e6)
        #expect(try ConstraintQuantity.flops("2G", option: "f") == 2e9)
        #expect(try ConstraintQuantity.flops("2GFLOPs", option: "f") == 2e9)
        #expect(try ConstraintQuantity.flops("500M", option: "f") == 500e6)
        #expect(try ConstraintQuantity.flops("1.5T", option: "f") == 1.5e12)
    }

    @Test("bad quantities are errors that name the option, the value and the fix")
    func parsingErrors() {
        func message(_ body: () throws -> Any) -> String {
            do {
                _ = try body()
                return ""
            } catch { return "\(error)" }
        }
        let unit = message { try SearchConstraints.parse(latency: "200m") }
        #expect(unit.contains("--latency-constraint '200m'") && unit.contains("unknown unit 'm'") && unit.contains("200ms"), "\(unit)")
        let negative = message { try SearchConstraints.parse(latency: "-5ms") }
        #expect(negative.contains("positive"), "\(negative)")
        let zero = message { try SearchConstraints.parse(memory: "0MB") }
        #expect(zero.contains("--memory-constraint") && zero.contains("positive"), "\(zero)")
        let word = message { try SearchConstraints.parse(parameters: "many") }
        #expect(word.contains("--params-constraint 'many'") && word.contains("does not start with a number"), "\(word)")
        let empty = message { try SearchConstraints.parse(flops: "") }
        #expect(empty.contains("is empty"), "\(empty)")
        let nan = message { try SearchConstraints.parse(latency: "nan ms") }
        #expect(nan.contains("positive"), "\(nan)")
        let memoryUnit = message { try SearchConstraints.parse(memory: "64ms") }
        #expect(memoryUnit.contains("unknown unit 'ms'") && memoryUnit.contains("MB"), "\(memoryUnit)")
    }

    @Test("a latency list gives one constraint set per latency; other lists and repeats are errors")
    func lists() throws {
        let list = try SearchConstraints.list(latencies: "100ms,150ms,0.2s", memory: "64MB")
        #expect(zip(list.map { $0.latencyMs! }, [100.0, 150, 200]).allSatisfy { approx($0, $1) })
        #expect(list.allSatisfy { $0.memoryMB == 64 })
        #expect(list.map(\.label) == ["100ms_64MB", "150ms_64MB", "200ms_64MB"])
        #expect(try SearchConstraints.list(latencies: nil) == [SearchConstraints()])
        #expect(throws: SearchError.self) { try SearchConstraints.list(latencies: "100ms,0.1s") }
        #expect(throws: SearchError.self) { try SearchConstraints.list(latencies: "100ms,") }
        #expect(throws: SearchError.self) { try SearchConstraints.list(latencies: "100ms", memory: "1MB,2MB") }
        #expect(try SearchConstraints.parse(latency: "152.5ms").label == "152.5ms")
        #expect(try SearchConstraints.parse(parameters: "30M", flops: "2G").label == "30M_2GFLOPs")
        #expect(SearchConstraints().label == "unconstrained")
    }

    @Test("violations name each broken limit; memory is peak inference memory (THANOS)")
    func violations() throws {
        let c = try SearchConstraints.parse(latency: "200ms", memory: "64MB", parameters: "30M", flops: "2G")
        let ok = CandidateMeasures(predictedLatencyMs: 199, parameters: 29_000_000, flops: 1_900_000_000, modelSizeMB: 50, peakMemoryMB: 63)
        #expect(c.admits(ok))
        var bad = ok
        bad.predictedLatencyMs = 212.4
        bad.peakMemoryMB = 70
        let v = c.violations(of: bad)
        #expect(v.count == 2)
        #expect(v[0] == "predicted latency 212.4 ms > 200 ms")
        #expect(v[1].hasPrefix("peak memory 70 MB (model 50 MB) > 64 MB"))
        bad = ok
        bad.parameters = 31_000_000
        bad.flops = 2_100_000_000
        #expect(c.violations(of: bad) == ["#params 31M > 30M", "FLOPs 2.1G > 2G"])
        // A diverged predictor's NaN (or infinity) meets no limit.
        for broken in [Double.nan, .infinity, -.infinity] {
            bad = ok
            bad.predictedLatencyMs = broken
            #expect(!c.admits(bad) && c.violations(of: bad).first?.contains("not a number") == true, "\(broken)")
        }
        bad = ok
        bad.peakMemoryMB = .nan
        #expect(!c.admits(bad))
    }
}
