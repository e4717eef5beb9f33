import Model

/// Draws candidates until one meets every constraint (HAT resamples until enough candidates
/// are admitted, hat-reference.md §7), recording the rejected ones, and gives up with a clear
/// error after `limit` rejections in a row, saying how close the candidates came.
struct CandidateAdmission {
    let problem: SearchProblem
    let limit: Int
    let makeRecord:
        (
            _ gene: [Int], _ config: SubTransformerConfig, _ measures: CandidateMeasures, _ origin: CandidateOrigin,
            _ violations: [String]
        ) -> CandidateRecord
    let observer: any SearchObserver
    private(set) var rejected = 0
    /// Smallest value of each measure among the candidates of the current streak of rejections.
    private var smallest: CandidateMeasures?

    init(
        problem: SearchProblem, limit: Int, observer: any SearchObserver,
        makeRecord: @escaping ([Int], SubTransformerConfig, CandidateMeasures, CandidateOrigin, [String]) -> CandidateRecord
    ) {
        self.problem = problem
        self.limit = limit
        self.observer = observer
        self.makeRecord = makeRecord
    }

    /// The first gene from `draw` whose SubTransformer is admitted, with its measures.
    mutating func next(origin: CandidateOrigin, _ draw: () -> [Int]) throws -> (gene: [Int], config: SubTransformerConfig, measures: CandidateMeasures) {
        var streak = 0
        smallest = nil
        while true {
            let gene = draw()
            let config = problem.space.config(fromGene: gene)
            let measures = problem.assessor.measures(config)
            let violations = problem.constraints.violations(of: measures)
            if violations.isEmpty { return (gene, config, measures) }
            rejected += 1
            streak += 1
            note(measures)
            try observer.record(makeRecord(gene, config, measures, origin, violations))
            if streak >= limit { throw infeasible(tries: streak) }
        }
    }

    private mutating func note(_ m: CandidateMeasures) {
        guard var s = smallest else {
            smallest = m
            return
        }
        s.predictedLatencyMs = Swift.min(s.predictedLatencyMs, m.predictedLatencyMs)
        s.peakMemoryMB = Swift.min(s.peakMemoryMB, m.peakMemoryMB)
        s.modelSizeMB = Swift.min(s.modelSizeMB, m.modelSizeMB)
        s.parameters = Swift.min(s.parameters, m.parameters)
        s.flops = Swift.min(s.flops, m.flops)
        smallest = s
    }

    /// Names every limit with the smallest value seen, and what the space's smallest
    /// SubTransformer measures (when even that fails, the constraint cannot be met).
    private func infeasible(tries: Int) -> SearchError {
        let c = problem.constraints
        let least = problem.assessor.measures(problem.space.smallest)
        var parts: [String] = []
        if let limit = c.latencyMs, let s = smallest {
            parts.append(
                String(
                    format: "the smallest predicted latency seen was %.4g ms (limit %@; the space's smallest SubTransformer: %.4g ms)",
                    s.predictedLatencyMs, SearchConstraints.formatMs(limit), least.predictedLatencyMs))
        }
        if let limit = c.memoryMB, let s = smallest {
            parts.append(
                String(
                    format: "the smallest peak memory seen was %.4g MB (limit %@; smallest SubTransformer: %.4g MB)",
                    s.peakMemoryMB, SearchConstraints.formatMB(limit), least.peakMemoryMB))
        }
        if let limit = c.parameters, let s = smallest {
            parts.append(
                "the fewest #params seen was \(SearchConstraints.formatCount(Double(s.parameters))) (limit \(SearchConstraints.formatCount(limit)); smallest SubTransformer: \(SearchConstraints.formatCount(Double(least.parameters))))"
            )
        }
        if let limit = c.flops, let s = smallest {
            parts.append(
                "the fewest FLOPs seen was \(SearchConstraints.formatCount(Double(s.flops))) (limit \(SearchConstraints.formatCount(limit)); smallest SubTransformer: \(SearchConstraints.formatCount(Double(least.flops))))"
            )
        }
        return .infeasible(constraint: c.description, tries: tries, detail: parts.joined(separator: "; "))
    }
}
