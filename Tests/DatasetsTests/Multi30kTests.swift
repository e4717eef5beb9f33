import Foundation
import Testing

@testable import Datasets

@Suite("Multi30k")
struct Multi30kTests {
    /// The issue's check on real data: decode(encode(x)) == normalize(x) for every training line
    /// of Multi30k en-de, with the vocabulary `hat data multi30k` trains (a few seconds here).
    /// Also compares the Swift encoding with the reference Python SentencePiece on the test set.
    @Test(.enabled(if: DataTestSupport.hasMulti30k, "needs ../shared/data/multi30k"))
    func enDeRoundTripsEveryTrainingLine() throws {
        let dir = try DataTestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let files = try Multi30k.localFiles(.enDe, in: DataTestSupport.multi30kDirectory)
        let prep = DatasetPreparation(splits: files, sourceLanguage: "en", targetLanguage: "de", output: dir.appendingPathComponent("m30k").path)
        let manifest = try prep.run().manifest
        #expect(manifest.split("train")!.sentences == 29_000)
        #expect(manifest.split("valid")!.sentences == 1014 && manifest.split("test")!.sentences == 1000)
        #expect(manifest.vocabulary.sourceSize == 8000 && manifest.split("train")!.sourceUnknownTokens == 0)
        let data = try PreparedDataset(directory: prep.output)
        let vocab = data.sourceVocabulary
        var checked = 0
        for side in [files[0].source, files[0].target] {
            let lines = try TextFile(path: side).lines
            let failures = parallelMap(lines) { line -> String? in
                let normalized = TextNormalizer.normalize(line)
                return vocab.decode(vocab.encode(normalized)) == normalized ? nil : normalized
            }.compactMap { $0 }
            #expect(failures.isEmpty, "\(failures.count) lines of \(side) do not round-trip, e.g. \(failures.prefix(3))")
            checked += lines.count
        }
        #expect(checked == 58_000)
        // The stored training ids decode to the stored normalized text.
        let train = try data.split("train"), targets = try data.targetText("train")
        for i in stride(from: 0, to: train.count, by: 97) { #expect(vocab.decode(train.target(i)) == targets[i]) }
        // The reference Python SentencePiece encodes the test set the same way.
        let test = try data.sourceText("test") + data.targetText("test")
        let oracle = try DataTestSupport.spmOracle(model: vocab.modelPath, lines: test, in: dir)
        for (i, line) in test.enumerated() { #expect(vocab.encode(line) == oracle.ids[i], "\(line)") }
    }

    @Test(.enabled(if: DataTestSupport.hasMulti30k, "needs ../shared/data/multi30k"))
    func localFolderFilesAreFoundForBothPairs() throws {
        for pair in Multi30k.Pair.allCases {
            let files = try Multi30k.localFiles(pair, in: DataTestSupport.multi30kDirectory)
            #expect(files.map(\.name) == ["train", "valid", "test"])
            #expect(files[2].target.hasSuffix("test_2016_flickr.\(pair.target).gz"))
        }
    }

    @Test func missingLocalFilesAreNamed() throws {
        let dir = try DataTestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try DataTestSupport.write(["x"], to: dir, "train.en")
        #expect(throws: DataError.missingFile(path: dir.appendingPathComponent("train.de.gz").path)) {
            try Multi30k.localFiles(.enDe, in: dir.path)
        }
    }

    @Test func downloadFailureIsClearAndLeavesNoPartialFile() throws {
        let dir = try DataTestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        // Nothing listens on port 9 (discard) here: the connection is refused at once.
        do {
            _ = try Multi30k.download(.enDe, baseURL: "http://127.0.0.1:9/raw", to: dir.path, timeout: 5)
            Issue.record("download must fail without a server")
        } catch let error as DataError {
            guard case .download(let url, _) = error else {
                Issue.record("unexpected \(error)")
                return
            }
            #expect(url == "http://127.0.0.1:9/raw/train.en.gz")
            #expect(error.description.contains("--from"))
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).isEmpty)
    }

    /// A real HTTP download (curl, HTTPFetch): Python's http.server serves a folder of files with
    /// Multi30k's names on a free local port. Random bytes (300 KB each: more than a pipe holds)
    /// are refused by the checksum, naming the URL, and leave nothing behind; the published files,
    /// re-compressed (other gzip bytes, same text), arrive and pass; a missing file is an error
    /// naming curl's status; a downloaded file changed afterwards is refused on the next run.
    @Test func downloadOverHTTPFromALocalServer() throws {
        let dir = try DataTestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let served = dir.appendingPathComponent("served"), downloaded = dir.appendingPathComponent("downloaded")
        try FileManager.default.createDirectory(at: served, withIntermediateDirectories: true)
        var generator = SystemRandomNumberGenerator()
        for name in Multi30k.fileNames(.enFr) {
            try Data((0..<300_000).map { _ in UInt8.random(in: 0...255, using: &generator) })
                .write(to: served.appendingPathComponent(name))
        }
        let python =
            FileManager.default.isExecutableFile(atPath: DataTestSupport.oraclePython)
            ? DataTestSupport.oraclePython : try #require(HTTPFetch.executableOnPath("python3"), "needs python3").path
        let server = Process()
        server.executableURL = URL(fileURLWithPath: python)
        // The server stops when its stdin closes: the test runner's children inherit a signal mask
        // that blocks SIGTERM, so terminate() would leave it (and this test) waiting forever.
        server.arguments = [
            "-c",
            """
            import functools, http.server, sys, threading
            class Quiet(http.server.SimpleHTTPRequestHandler):
                def log_message(self, *args): pass
            server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=sys.argv[1]))
            threading.Thread(target=server.serve_forever, daemon=True).start()
            print(server.server_address[1], flush=True)
            sys.stdin.read()
            """, served.path,
        ]
        let output = Pipe(), input = Pipe()
        server.standardOutput = output
        server.standardInput = input
        try server.run()
        defer {
            try? input.fileHandleForWriting.close()
            server.waitUntilExit()
        }
        var portLine = Data()
        while !portLine.contains(UInt8(ascii: "\n")) {
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            portLine.append(chunk)
        }
        let port = try #require(Int(String(decoding: portLine, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)))
        let refused = #expect(throws: DataError.self) {
            _ = try Multi30k.download(.enFr, baseURL: "http://127.0.0.1:\(port)", to: downloaded.path, timeout: 30)
        }
        guard case .download(let url, let reason)? = refused else {
            Issue.record("unexpected \(String(describing: refused))")
            return
        }
        #expect(url == "http://127.0.0.1:\(port)/train.en.gz")
        #expect(reason.contains("not Multi30k's published file") && reason.contains("--from"), "\(reason)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: downloaded.path).isEmpty)
        let error = #expect(throws: DataError.self) { _ = try HTTPFetch.get("http://127.0.0.1:\(port)/no-such-file.gz", timeout: 10) }
        #expect(error.map { "\($0)".contains("error: 404") } == true, "\(String(describing: error))")

        guard DataTestSupport.hasMulti30k else { return }
        let recompress = Process()
        recompress.executableURL = URL(fileURLWithPath: python)
        recompress.arguments =
            [
                "-c",
                """
                import gzip, os, sys
                for name in sys.argv[3:]:
                    text = gzip.decompress(open(os.path.join(sys.argv[1], name), "rb").read())
                    open(os.path.join(sys.argv[2], name), "wb").write(gzip.compress(text, compresslevel=1, mtime=12345))
                """, DataTestSupport.multi30kDirectory, served.path,
            ] + Multi30k.fileNames(.enFr)
        try recompress.run()
        recompress.waitUntilExit()
        #expect(recompress.terminationStatus == 0)
        let files = try Multi30k.download(.enFr, baseURL: "http://127.0.0.1:\(port)", to: downloaded.path, timeout: 30)
        #expect(files.count == 3)
        for name in Multi30k.fileNames(.enFr) {
            let published = try Data(contentsOf: URL(fileURLWithPath: DataTestSupport.multi30kDirectory).appendingPathComponent(name))
            let served = try Data(contentsOf: served.appendingPathComponent(name))
            let copy = try Data(contentsOf: downloaded.appendingPathComponent(name))
            #expect(copy == served && copy != published, "\(name): the re-compressed file must arrive as served")
        }
        #expect(DataTestSupport.leftovers(in: downloaded).isEmpty)

        // A kept download whose text changed is refused, naming the file.
        let kept = downloaded.appendingPathComponent("val.fr.gz")
        try Data("une ligne\n".utf8).write(to: kept)
        let changed = #expect(throws: DataError.self) {
            _ = try Multi30k.download(.enFr, baseURL: "http://127.0.0.1:\(port)", to: downloaded.path, timeout: 30)
        }
        #expect(changed.map { "\($0)".contains(kept.path) && "\($0)".contains("Delete it") } == true, "\(String(describing: changed))")
    }

    @Test func downloadFromAFileURLMirror() throws {
        // A mirror reachable by URL (here file://) works like the public repository.
        guard DataTestSupport.hasMulti30k else { return }
        let dir = try DataTestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let files = try Multi30k.download(.enFr, baseURL: URL(fileURLWithPath: DataTestSupport.multi30kDirectory).absoluteString, to: dir.path)
        #expect(files.count == 3)
        #expect(try TextFile(path: files[1].target).lines.count == 1014)
    }
}
