import Foundation

/// Multi30k task 1 (image captions; train 29,000, val 1,014, test_2016_flickr 1,000 lines), raw
/// text as published in the dataset's repository (multi30k/dataset, data/task1/raw), mapped to
/// the splits train / valid / test.
public enum Multi30k {
    /// The language pairs with a test_2016_flickr set in both languages.
    public enum Pair: String, CaseIterable, Sendable {
        case enDe = "en-de"
        case enFr = "en-fr"
        public var source: String { "en" }
        public var target: String { String(rawValue.suffix(2)) }
    }

    /// Where the raw files are downloaded from: `BASE/train.en.gz` etc.
    public static let defaultBaseURL = "https://raw.githubusercontent.com/multi30k/dataset/master/data/task1/raw"

    /// (split name here, file stem in the Multi30k repository).
    public static let splitFiles = [("train", "train"), ("valid", "val"), ("test", "test_2016_flickr")]

    /// The file names one pair needs, e.g. "train.en.gz".
    public static func fileNames(_ pair: Pair) -> [String] {
        splitFiles.flatMap { ["\($0.1).\(pair.source).gz", "\($0.1).\(pair.target).gz"] }
    }

    /// The split files of `pair` in a local folder (each `NAME.gz`, or `NAME` uncompressed).
    /// - Throws: `DataError.missingFile` naming the first file that is missing.
    public static func localFiles(_ pair: Pair, in directory: String) throws -> [DatasetPreparation.SplitFiles] {
        let dir = URL(fileURLWithPath: directory)
        func find(_ stem: String, _ language: String) throws -> String {
            let gz = dir.appendingPathComponent("\(stem).\(language).gz").path
            let plain = dir.appendingPathComponent("\(stem).\(language)").path
            if FileManager.default.fileExists(atPath: gz) { return gz }
            if FileManager.default.fileExists(atPath: plain) { return plain }
            throw DataError.missingFile(path: gz)
        }
        return try splitFiles.map { name, stem in
            .init(name: name, source: try find(stem, pair.source), target: try find(stem, pair.target))
        }
    }

    /// Downloads the files of `pair` from `baseURL` into `directory` (files already there are
    /// kept; each download is written under a temporary name and renamed) and returns them.
    /// - Throws: `DataError.download` naming the URL and the reason.
    public static func download(_ pair: Pair, baseURL: String = defaultBaseURL, to directory: String,
                                timeout: TimeInterval = 60, log: (String) -> Void = { _ in }) throws -> [DatasetPreparation.SplitFiles] {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw DataError.io(path: directory, reason: "cannot create the download folder: \(error.localizedDescription)")
        }
        let base = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        for name in fileNames(pair) {
            let path = URL(fileURLWithPath: directory).appendingPathComponent(name).path
            if FileManager.default.fileExists(atPath: path) { continue }
            let address = "\(base)/\(name)"
            log("downloading \(address)")
            try AtomicFile.write(try HTTPFetch.get(address, timeout: timeout), to: path)
        }
        return try localFiles(pair, in: directory)
    }
}
