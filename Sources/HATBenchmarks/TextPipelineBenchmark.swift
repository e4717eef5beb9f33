import Datasets
import Foundation

/// `hat-bench text-pipeline LANG CODES FILE`: lines per second of the Moses tokenizer (HAT's
/// options: -a, escaping), of the detokenizer on its output, of subword-nmt BPE on the tokenized
/// lines, and of tokenizer and BPE together, on one thread; benchmarks/text_pipeline.sh runs it next to sacremoses and subword-nmt.
/// Each stage runs once to warm up and then three times; the best is reported (as on the Python side). BPE starts from
/// freshly read codes (an empty word cache) in every run, as a fresh subword-nmt process does;
/// reading the codes is reported on its own (`text_pipeline_codes`).
func benchTextPipeline(language: String, codesPath: String, textPath: String) throws {
    let lines = try TextFile(path: textPath).lines
    let tokenizer = try MosesTokenizer(language: language)
    let codes = try String(contentsOfFile: codesPath, encoding: .utf8)
    var tokenized: [String] = []
    func run(_ stage: String, setup: () throws -> Void = {}, _ body: () throws -> Void) rethrows {
        var samples: [Double] = []
        for repeatIndex in 0..<4 {
            try setup()
            let start = DispatchTime.now().uptimeNanoseconds
            try body()
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            if repeatIndex > 0 { samples.append(seconds) }
        }
        let s = samples.min()!  // best of three: the machine is shared, contention only adds time
        emit([
            "bench": "text_pipeline", "impl": "swift", "lang": language, "stage": stage, "lines": lines.count,
            "seconds": s, "lines_per_s": Double(lines.count) / s,
        ])
    }
    try run("tokenize") { tokenized = lines.map(tokenizer.tokenize) }
    let detokenizer = try MosesDetokenizer(language: language)
    var detokenizedBytes = 0
    try run("detokenize") { detokenizedBytes = tokenized.reduce(0) { $0 &+ detokenizer.detokenize($1).utf8.count } }
    var checksum = 0
    // Reading the codes is timed on its own; the BPE stages start from freshly read codes (an
    // empty word cache) without counting the reading, as the Python side does.
    var bpe = try SubwordBPE(codes: codes, path: codesPath)
    let readStart = DispatchTime.now().uptimeNanoseconds
    bpe = try SubwordBPE(codes: codes, path: codesPath)
    emit([
        "bench": "text_pipeline_codes", "impl": "swift", "lang": language, "merges": bpe.mergeCount,
        "seconds": Double(DispatchTime.now().uptimeNanoseconds - readStart) / 1e9,
    ])
    try run("bpe", setup: { bpe = try SubwordBPE(codes: codes, path: codesPath) }) {
        checksum = tokenized.reduce(0) { $0 &+ bpe.processLine($1).utf8.count }
    }
    try run("tokenize+bpe", setup: { bpe = try SubwordBPE(codes: codes, path: codesPath) }) {
        checksum = lines.reduce(0) { $0 &+ bpe.processLine(tokenizer.tokenize($1)).utf8.count }
    }
    emit([
        "bench": "text_pipeline_output", "impl": "swift", "lang": language, "bpe_output_bytes": checksum,
        "detokenized_bytes": detokenizedBytes,
    ])
}
