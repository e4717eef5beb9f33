import Foundation

/// `hat data prepare`: parallel text files → normalized text, a SentencePiece vocabulary, binarized
/// splits and a manifest, in one output folder written atomically.
///
/// Steps: read every file (plain or gzip; UTF-8 checked per line; line counts checked per pair),
/// normalize (`TextNormalizer`), drop pairs with an empty side, train SentencePiece on the
/// training split (joint over both languages unless `sharedVocabulary` is false), encode every
/// split (pieces + eos), drop overlong and extreme-ratio pairs from the training split, write.
/// A rerun whose settings and input checksums match the existing manifest does nothing.
///
/// ```swift
/// var prep = DatasetPreparation(
///     splits: [.init(name: "train", source: "train.en.gz", target: "train.de.gz"),
///              .init(name: "valid", source: "val.en.gz", target: "val.de.gz")],
///     sourceLanguage: "en", targetLanguage: "de", output: "runs/data/m30k")
/// prep.vocabulary.vocabularySize = 8000
/// let report = try prep.run { print($0) }
/// ```
public struct DatasetPreparation: Sendable {
    /// One split's pair of line-aligned files.
    public struct SplitFiles: Sendable, Equatable {
        /// "train", "valid" or "test".
        public var name: String
        public var source: String
        public var target: String
        public init(name: String, source: String, target: String) {
            self.name = name
            self.source = source
            self.target = target
        }
    }

    /// The splits; one must be named "train" (the vocabulary is trained on it).
    public var splits: [SplitFiles]
    public var sourceLanguage: String
    public var targetLanguage: String
    /// The dataset folder to write.
    public var output: String
    /// SentencePiece settings.
    public var vocabulary = VocabularyTrainer()
    /// One vocabulary for both languages (default; needed for shared embeddings) or one per language.
    public var sharedVocabulary = true
    /// Training pairs with a side longer than this many pieces (eos not counted) are removed.
    public var maxLength = 250
    /// Training pairs whose longer side has more than this many times the pieces of the shorter
    /// side are removed (Moses' clean-corpus-n uses 9).
    public var maxRatio = 9.0
    /// Redo the work even when the manifest says it is done.
    public var force = false
    /// Written into the manifest.
    public var createdBy = "hat data prepare"

    public init(splits: [SplitFiles], sourceLanguage: String, targetLanguage: String, output: String) {
        self.splits = splits
        self.sourceLanguage = sourceLanguage
        self.targetLanguage = targetLanguage
        self.output = output
    }

    /// What `run` did.
    public struct Report: Sendable {
        public var manifest: DatasetManifest
        /// True when the existing output already matched and nothing was redone.
        public var upToDate: Bool
        public var seconds: Double
        public var directory: String
    }

    /// Checks the settings before any work.
    public func validate() throws {
        guard splits.contains(where: { $0.name == "train" }) else {
            throw DataError.invalidArgument("a training split is required (--train SOURCE TARGET)")
        }
        let names = splits.map(\.name)
        guard Set(names).count == names.count else { throw DataError.invalidArgument("split names repeat: \(names)") }
        for name in names + [sourceLanguage, targetLanguage] {
            guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" }) else {
                throw DataError.invalidArgument("\"\(name)\" cannot be a split or language name (letters, digits, - and _ only)")
            }
        }
        guard sourceLanguage != targetLanguage else {
            throw DataError.invalidArgument("--src-lang and --tgt-lang must differ (both are \(sourceLanguage))")
        }
        guard vocabulary.vocabularySize > 4 else {
            throw DataError.invalidArgument("--vocab-size must be larger than 4 (the special pieces), got \(vocabulary.vocabularySize)")
        }
        guard vocabulary.characterCoverage > 0 && vocabulary.characterCoverage <= 1 else {
            throw DataError.invalidArgument("--character-coverage must be in (0, 1], got \(vocabulary.characterCoverage)")
        }
        guard maxLength >= 1 else { throw DataError.invalidArgument("--max-length must be at least 1, got \(maxLength)") }
        guard maxRatio >= 1 else { throw DataError.invalidArgument("--max-ratio must be at least 1, got \(maxRatio)") }
        guard !output.isEmpty else { throw DataError.invalidArgument("--out is required") }
    }

    /// Runs the preparation (or finds it done). `log` receives one line per step.
    public func run(log: (String) -> Void = { _ in }) throws -> Report {
        let start = Date()
        try validate()
        let outputURL = URL(fileURLWithPath: output).standardizedFileURL

        // 1. Read and check every input.
        var files: [(split: SplitFiles, source: TextFile, target: TextFile)] = []
        for split in splits {
            let s = try TextFile(path: split.source)
            let t = try TextFile(path: split.target)
            guard s.lines.count == t.lines.count else {
                throw DataError.lineCountMismatch(sourcePath: s.path, sourceLines: s.lines.count, targetPath: t.path, targetLines: t.lines.count)
            }
            files.append((split, s, t))
        }
        let inputs = files.flatMap { f in
            [
                DatasetManifest.InputFile(split: f.split.name, side: "source", path: f.source.path, sha256: f.source.sha256, lines: f.source.lines.count),
                DatasetManifest.InputFile(split: f.split.name, side: "target", path: f.target.path, sha256: f.target.sha256, lines: f.target.lines.count),
            ]
        }
        let fingerprint = try self.fingerprint(inputs: inputs)

        // 2. Done already?
        if !force, let existing = try? DatasetManifest.load(directory: outputURL.path), existing.fingerprint == fingerprint,
            Self.outputsIntact(existing, directory: outputURL)
        {
            log("up to date: \(outputURL.path) (same inputs and settings; --force redoes it)")
            return Report(manifest: existing, upToDate: true, seconds: Date().timeIntervalSince(start), directory: outputURL.path)
        }

        let folder = try AtomicDirectory(destination: outputURL, replaceable: DatasetManifest.isReplaceable)
        do {
            let manifest = try build(files: files, inputs: inputs, fingerprint: fingerprint, folder: folder, log: log)
            try folder.commit()
            let seconds = Date().timeIntervalSince(start)
            log(String(format: "wrote %@ in %.1f s", outputURL.path, seconds))
            return Report(manifest: manifest, upToDate: false, seconds: seconds, directory: outputURL.path)
        } catch {
            folder.discard()
            throw error
        }
    }

    /// SHA-256 over the format version, every setting that changes the output, and the inputs' checksums.
    func fingerprint(inputs: [DatasetManifest.InputFile]) throws -> String {
        struct Payload: Codable {
            var format: Int
            var sourceLanguage, targetLanguage: String
            var shared: Bool
            var modelType: String
            var vocabularySize: Int
            var characterCoverage: Double
            var maxTrainingSentences: Int
            var seed: UInt32
            var maxLength: Int
            var maxRatio: Double
            var inputs: [String]
        }
        let payload = Payload(
            format: DatasetManifest.currentVersion, sourceLanguage: sourceLanguage, targetLanguage: targetLanguage,
            shared: sharedVocabulary, modelType: vocabulary.modelType.rawValue, vocabularySize: vocabulary.vocabularySize,
            characterCoverage: vocabulary.characterCoverage, maxTrainingSentences: vocabulary.maxTrainingSentences,
            seed: vocabulary.seed, maxLength: maxLength, maxRatio: maxRatio,
            inputs: inputs.map { "\($0.split)/\($0.side)/\($0.sha256)" })
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return SHA256.hex(try encoder.encode(payload))
    }

    /// True when every output file the manifest lists exists with its recorded checksum.
    static func outputsIntact(_ manifest: DatasetManifest, directory: URL) -> Bool {
        for (name, sha) in manifest.files {
            guard let data = try? Data(contentsOf: directory.appendingPathComponent(name)), SHA256.hex(data) == sha else {
                return false
            }
        }
        return !manifest.files.isEmpty
    }

    private func build(
        files: [(split: SplitFiles, source: TextFile, target: TextFile)], inputs: [DatasetManifest.InputFile],
        fingerprint: String, folder: AtomicDirectory, log: (String) -> Void
    ) throws -> DatasetManifest {
        // 3. Normalize; drop pairs with an empty side.
        var normalized: [(name: String, source: [String], target: [String], pairs: Int, removed: DatasetManifest.RemovedCounts)] = []
        for f in files {
            let s = parallelMap(f.source.lines, TextNormalizer.normalize)
            let t = parallelMap(f.target.lines, TextNormalizer.normalize)
            var removed = DatasetManifest.RemovedCounts()
            var keptS: [String] = [], keptT: [String] = []
            keptS.reserveCapacity(s.count)
            keptT.reserveCapacity(t.count)
            for i in s.indices {
                if s[i].isEmpty || t[i].isEmpty {
                    removed.empty += 1
                } else {
                    keptS.append(s[i])
                    keptT.append(t[i])
                }
            }
            guard !keptS.isEmpty else {
                throw DataError.invalidArgument("split \(f.split.name) has no non-empty sentence pairs (\(f.source.path), \(f.target.path))")
            }
            normalized.append((f.split.name, keptS, keptT, s.count, removed))
            log("read \(f.split.name): \(s.count) pairs, \(removed.empty) with an empty side removed")
        }

        // 4. Train the vocabulary on the training split.
        let train = normalized.first { $0.name == "train" }!
        let sourceModel = sharedVocabulary ? "spm.model" : "spm.\(sourceLanguage).model"
        let targetModel = sharedVocabulary ? "spm.model" : "spm.\(targetLanguage).model"
        let trainingText = folder.path("spm-train.txt")
        let started = Date()
        if sharedVocabulary {
            try AtomicFile.write((train.source + train.target).joined(separator: "\n") + "\n", to: trainingText)
            try vocabulary.train(inputPath: trainingText, modelPath: folder.path(sourceModel))
        } else {
            try AtomicFile.write(train.source.joined(separator: "\n") + "\n", to: trainingText)
            try vocabulary.train(inputPath: trainingText, modelPath: folder.path(sourceModel))
            try AtomicFile.write(train.target.joined(separator: "\n") + "\n", to: trainingText)
            try vocabulary.train(inputPath: trainingText, modelPath: folder.path(targetModel))
        }
        try? FileManager.default.removeItem(atPath: trainingText)
        let sourceVocabulary = try Vocabulary(modelPath: folder.path(sourceModel))
        let targetVocabulary = sharedVocabulary ? sourceVocabulary : try Vocabulary(modelPath: folder.path(targetModel))
        log(
            String(
                format: "trained %@ %@ vocabulary: %d pieces%@ in %.1f s", sharedVocabulary ? "a joint" : "separate",
                vocabulary.modelType.rawValue, sourceVocabulary.size,
                sharedVocabulary ? "" : " (\(sourceLanguage)) + \(targetVocabulary.size) (\(targetLanguage))",
                Date().timeIntervalSince(started)))

        // 5. Encode, filter the training split, write.
        var splitInfos: [DatasetManifest.SplitInfo] = []
        var outputs: [String] = [sourceModel] + (sharedVocabulary ? [] : [targetModel])
        for n in normalized {
            let sourceIDs = parallelMap(n.source) { sourceVocabulary.encode($0, appendEOS: true) }
            let targetIDs = parallelMap(n.target) { targetVocabulary.encode($0, appendEOS: true) }
            var removed = n.removed
            var keep: [Int] = []
            keep.reserveCapacity(sourceIDs.count)
            for i in sourceIDs.indices {
                if n.name == "train" {
                    let ls = sourceIDs[i].count - 1, lt = targetIDs[i].count - 1
                    if ls > maxLength || lt > maxLength {
                        removed.overlong += 1
                        continue
                    }
                    if Double(max(ls, lt)) > maxRatio * Double(min(ls, lt)) {
                        removed.ratio += 1
                        continue
                    }
                }
                keep.append(i)
            }
            let dataset = TranslationDataset(source: keep.map { sourceIDs[$0] }, target: keep.map { targetIDs[$0] })
            let binName = "\(n.name).bin"
            let sourceTextName = "\(n.name).\(sourceLanguage).txt"
            let targetTextName = "\(n.name).\(targetLanguage).txt"
            try dataset.write(to: folder.path(binName))
            try AtomicFile.write(keep.map { n.source[$0] + "\n" }.joined(), to: folder.path(sourceTextName))
            try AtomicFile.write(keep.map { n.target[$0] + "\n" }.joined(), to: folder.path(targetTextName))
            outputs += [binName, sourceTextName, targetTextName]
            let info = DatasetManifest.SplitInfo(
                name: n.name, file: binName, sourceText: sourceTextName, targetText: targetTextName,
                inputPairs: n.pairs, sentences: dataset.count, removed: removed,
                sourceTokens: dataset.sourceTokens.count, targetTokens: dataset.targetTokens.count,
                sourceUnknownTokens: dataset.sourceTokens.reduce(0) { $0 + ($1 == Vocabulary.unkID ? 1 : 0) },
                targetUnknownTokens: dataset.targetTokens.reduce(0) { $0 + ($1 == Vocabulary.unkID ? 1 : 0) },
                sourceLength: .init((0..<dataset.count).map(dataset.sourceLength)),
                targetLength: .init((0..<dataset.count).map(dataset.targetLength)))
            splitInfos.append(info)
            log(
                String(
                    format: "%@: %d pairs kept of %d (removed: %d empty, %d overlong, %d ratio); tokens/sentence %.1f %@, %.1f %@ (eos included)",
                    n.name, info.sentences, info.inputPairs, removed.empty, removed.overlong, removed.ratio,
                    info.sourceLength.mean, sourceLanguage, info.targetLength.mean, targetLanguage))
        }

        var checksums: [String: String] = [:]
        for name in outputs {
            checksums[name] = SHA256.hex(try Data(contentsOf: URL(fileURLWithPath: folder.path(name))))
        }
        let manifest = DatasetManifest(
            createdBy: "\(createdBy) (format \(DatasetManifest.currentVersion))",
            sourceLanguage: sourceLanguage, targetLanguage: targetLanguage, fingerprint: fingerprint,
            vocabulary: .init(
                shared: sharedVocabulary, modelType: vocabulary.modelType, requestedSize: vocabulary.vocabularySize,
                characterCoverage: vocabulary.characterCoverage, sourceModel: sourceModel, targetModel: targetModel,
                sourceSize: sourceVocabulary.size, targetSize: targetVocabulary.size),
            filters: .init(maxLength: maxLength, maxRatio: maxRatio),
            inputs: inputs, splits: splitInfos, files: checksums)
        try AtomicFile.write(try manifest.encoded(), to: folder.path(DatasetManifest.fileName))
        return manifest
    }
}

extension DatasetManifest {
    /// The filters of `hat data prepare`: empty pairs are removed from every split; the length
    /// and ratio filters apply to the training split only (evaluation sets stay comparable).
    public struct FilterSettings: Codable, Equatable, Sendable {
        public var maxLength: Int
        public var maxRatio: Double
    }
}

/// `transform` over `items` on all cores, order kept.
func parallelMap<T, R>(_ items: [T], _ transform: (T) -> R) -> [R] {
    let n = items.count
    guard n > 1000 else { return items.map(transform) }
    let chunks = min(n / 500, 4 * ProcessInfo.processInfo.activeProcessorCount)
    var results = [R?](repeating: nil, count: n)
    results.withUnsafeMutableBufferPointer { out in
        items.withUnsafeBufferPointer { input in
            withoutActuallyEscaping(transform) { transform in
                // Each chunk writes its own disjoint range of `out`.
                let job = ChunkJob(input: input, output: out, transform: transform)
                DispatchQueue.concurrentPerform(iterations: chunks) { c in
                    let lo = n * c / chunks, hi = n * (c + 1) / chunks
                    for i in lo..<hi { job.output[i] = job.transform(job.input[i]) }
                }
            }
        }
    }
    return results.map { $0! }
}

/// What `parallelMap`'s chunks share: they read `input` and write disjoint ranges of `output`.
private struct ChunkJob<T, R>: @unchecked Sendable {
    let input: UnsafeBufferPointer<T>
    let output: UnsafeMutableBufferPointer<R?>
    let transform: (T) -> R
}
