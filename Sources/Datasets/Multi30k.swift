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

    /// What each published file holds: SHA-256 of its text (decompressed, lines joined with "\n",
    /// without a byte-order mark or "\r") and its line count, taken from the dataset repository's
    /// data/task1/raw files. A download must match (a mirror that re-compressed the files still
    /// does); files of other content are used with `--from DIR`, which checks nothing.
    public static let publishedText: [String: (sha256: String, lines: Int)] = [
        "test_2016_flickr.de.gz": ("bb3e48712d8d4f8d6e16352ea830d2b3c64ff50439cb6e02486e02f8475d138e", 1000),
        "test_2016_flickr.en.gz": ("a1efdee92d83876dbd9bc65f019b58eda88f1fc910e954aea943914d23fe89ca", 1000),
        "test_2016_flickr.fr.gz": ("286a1ebfc1267ae9af00d1bf26ff6f20e3dcf06f9bce004666f9d67047b91b5e", 1000),
        "train.de.gz": ("aa3df4534e5730107286d6205ba3bddfca73660af9d2005bdbf80c632026cc5a", 29000),
        "train.en.gz": ("1b9c6fae1605bc3a5f148410b0db7b092829296a4174aeff2a4080c9e1fda56d", 29000),
        "train.fr.gz": ("476696208383f03ec712814a823fc81bc480a5379dfe1a02673c401aa35fc6ec", 29000),
        "val.de.gz": ("1aad18941ede1c8afadc75f9f3356e72944041c7ad45bcfac7d589b13733f543", 1014),
        "val.en.gz": ("eecab95d3e8e3b4e82c0e049625a6aa8ffb65314acf78c357a049d349d1cfb8d", 1014),
        "val.fr.gz": ("e9df6c78a10fb05b1199a8c24d485c8816d7e91a3df70677cee4e4f0400a90c9", 1014),
    ]

    /// SHA-256 of a text file's lines joined with "\n" (the digest `publishedText` records).
    public static func textDigest(_ file: TextFile) -> String {
        var hash = SHA256()
        for (i, line) in file.lines.enumerated() {
            if i > 0 { hash.update([UInt8(ascii: "\n")]) }
            hash.update(Array(line.utf8))
        }
        return hash.finalizeHex()
    }

    /// Checks that `path` holds the published file `name`; `origin` (the URL or the path) names
    /// it in the error.
    /// - Throws: `DataError.download` saying what differs and what to do.
    static func verify(_ path: String, name: String, origin: String) throws {
        guard let expected = publishedText[name] else { return }
        let advice = "Delete it to download it again, or pass --from with its folder to use it as it is"
        let file: TextFile
        do { file = try TextFile(path: path) } catch let error as DataError {
            // The reason without the (temporary) path: the origin names the file.
            let reason = error.description.replacingOccurrences(of: path + ": ", with: "")
            throw DataError.download(url: origin, reason: "\(name) is not Multi30k's published file (\(reason)). \(advice)")
        }
        let digest = textDigest(file)
        guard digest != expected.sha256 else { return }
        throw DataError.download(
            url: origin,
            reason: "\(name) is not Multi30k's published file: \(file.lines.count) lines with "
                + "SHA-256 \(digest) of their text, expected \(expected.lines) lines with SHA-256 \(expected.sha256). "
                + advice)
    }

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

    /// Downloads the files of `pair` from `baseURL` into `directory` and returns them. Each
    /// download is written under a temporary name, checked against `publishedText`, and renamed;
    /// files already there are kept when they pass the same check.
    /// - Throws: `DataError.download` naming the URL (or the file) and the reason.
    public static func download(
        _ pair: Pair, baseURL: String = defaultBaseURL, to directory: String,
        timeout: TimeInterval = 60, log: (String) -> Void = { _ in }
    ) throws -> [DatasetPreparation.SplitFiles] {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw DataError.io(path: directory, reason: "cannot create the download folder: \(error.localizedDescription)")
        }
        let base = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        for name in fileNames(pair) {
            let path = URL(fileURLWithPath: directory).appendingPathComponent(name).path
            if FileManager.default.fileExists(atPath: path) {
                try verify(path, name: name, origin: path)
                continue
            }
            let address = "\(base)/\(name)"
            log("downloading \(address)")
            let staging = URL(fileURLWithPath: directory).appendingPathComponent(TemporaryFiles.name(for: name)).path
            try AtomicFile.write(try HTTPFetch.get(address, timeout: timeout), to: staging)
            do {
                try verify(staging, name: name, origin: address)
                guard rename(staging, path) == 0 else {
                    throw DataError.io(path: path, reason: "cannot rename the download into place: \(String(cString: strerror(errno)))")
                }
            } catch {
                try? FileManager.default.removeItem(atPath: staging)
                throw error
            }
        }
        return try localFiles(pair, in: directory)
    }
}
