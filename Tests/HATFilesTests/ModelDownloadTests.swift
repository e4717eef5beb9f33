import Foundation
import TestSupport
import Testing

@testable import HATFiles

/// `hat models download` against a local HTTP server (Tests/Oracle/range_http_server.py, on a free
/// port, serving a temporary folder of small fake NAME.pt files), through the real curl.
@Suite("Model downloads", .serialized)
struct ModelDownloadTests {
    /// A running range_http_server.py; stopped by `stop()`.
    final class FileServer {
        let folder: URL
        let log: URL
        let process = Process()
        /// The server's stdin: closing it ends the server (range_http_server.py), even if the
        /// test process dies without calling stop().
        let input = Pipe()
        let port: Int
        var base: String { "http://127.0.0.1:\(port)/" }

        init(options: [String] = []) throws {
            folder = try Oracle.temporaryDirectory()
            log = folder.appendingPathComponent("requests.log")
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments =
                [
                    "python3", Oracle.repoRoot.appendingPathComponent("Tests/Oracle/range_http_server.py").path,
                    folder.path, "--log", log.path,
                ] + options
            let out = Pipe()
            process.standardOutput = out
            process.standardInput = input
            try process.run()
            // The first line of its output is the port it bound.
            var line = Data()
            while !line.contains(UInt8(ascii: "\n")) {
                let chunk = out.fileHandleForReading.availableData
                if chunk.isEmpty { break }
                line.append(chunk)
            }
            guard let port = Int(String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)) else {
                process.terminate()
                throw CocoaError(.fileReadUnknown, userInfo: [NSLocalizedDescriptionKey: "range_http_server.py did not start (python3 on the PATH?)"])
            }
            self.port = port
        }

        /// Serves `bytes` as NAME.pt.
        func serve(_ name: String, _ bytes: [UInt8]) throws {
            try Data(bytes).write(to: folder.appendingPathComponent(name + ".pt"))
        }

        /// "PATH RANGE STATUS" per request so far.
        var requests: [String] {
            ((try? String(contentsOf: log, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
        }

        func stop() {
            try? input.fileHandleForWriting.close()
            process.terminate()
            process.waitUntilExit()
            try? FileManager.default.removeItem(at: folder)
        }
    }

    /// Bytes that look like a zip-layout checkpoint: "PK\3\4" and then noise.
    static func fakeCheckpoint(_ count: Int, seed: UInt64) -> [UInt8] {
        var state = seed
        return [0x50, 0x4b, 0x03, 0x04]
            + (4..<count).map { _ in
                state = state &* 6364136223846793005 &+ 1442695040888963407
                return UInt8(truncatingIfNeeded: state >> 33)
            }
    }

    /// The SHA-256 that coreutils computes, an oracle independent of our own SHA256.
    static func sha256sum(_ url: URL) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["sha256sum", url.path]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        return String(text.prefix(64))
    }

    static let sub = ModelCatalog.model(named: "HAT_iwslt14deen_titanxp@45.6ms_bleu@33.4")!
    static let supernet = ModelCatalog.model(named: "HAT_iwslt14deen_super_space1")!

    func contents(_ url: URL) -> [UInt8]? { (try? Data(contentsOf: url)).map { [UInt8]($0) } }
    func exists(_ url: URL) -> Bool { FileManager.default.fileExists(atPath: url.path) }

    @Test("a fresh download: NAME.pt with the server's bytes, no .part, size and SHA-256 in downloads.json; a second run skips it without a request")
    func freshDownloadThenSkip() throws {
        let server = try FileServer()
        defer { server.stop() }
        let bytes = Self.fakeCheckpoint(300_000, seed: 1)
        try server.serve(Self.sub.name, bytes)
        let dir = try Oracle.temporaryDirectory().appendingPathComponent("models")
        defer { try? FileManager.default.removeItem(at: dir.deletingLastPathComponent()) }
        let downloader = ModelDownloader(folder: dir, baseURL: server.base)

        guard case .downloaded(let record, let resumedFrom) = try downloader.download(Self.sub) else {
            Issue.record("expected a download")
            return
        }
        let file = dir.appendingPathComponent(Self.sub.name + ".pt")
        #expect(contents(file) == bytes)
        #expect(!exists(dir.appendingPathComponent(Self.sub.name + ".pt.part")))
        #expect(resumedFrom == 0)
        #expect(record.bytes == 300_000)
        #expect(record.sha256 == (try Self.sha256sum(file)))
        #expect(record.url == server.base + Self.sub.name + ".pt")
        #expect(try DownloadsFile.read(folder: dir).models == [Self.sub.name: record])
        #expect(server.requests == ["/\(Self.sub.name).pt - 200"])

        #expect(try downloader.download(Self.sub) == .skipped(record))
        #expect(server.requests.count == 1, "a complete file must be skipped without asking the server")
    }

    @Test("a .part holding the first bytes is resumed with a Range request and completed")
    func resumesPartialFile() throws {
        let server = try FileServer()
        defer { server.stop() }
        let bytes = Self.fakeCheckpoint(200_000, seed: 2)
        try server.serve(Self.supernet.name, bytes)
        let dir = try Oracle.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try Data(bytes[..<70_000]).write(to: dir.appendingPathComponent(Self.supernet.name + ".pt.part"))

        let outcome = try ModelDownloader(folder: dir, baseURL: server.base).download(Self.supernet)
        guard case .downloaded(let record, let resumedFrom) = outcome else {
            Issue.record("expected a download")
            return
        }
        #expect(resumedFrom == 70_000)
        #expect(server.requests == ["/\(Self.supernet.name).pt bytes=70000- 206"])
        let file = dir.appendingPathComponent(Self.supernet.name + ".pt")
        #expect(contents(file) == bytes)
        #expect(record.sha256 == (try Self.sha256sum(file)))
        #expect(!exists(dir.appendingPathComponent(Self.supernet.name + ".pt.part")))
    }

    @Test("a dropped connection fails, keeps the bytes in .part (never under the final name), and the next run resumes")
    func droppedConnectionThenResume() throws {
        let server = try FileServer(options: ["--cut-first", "50000"])
        defer { server.stop() }
        let bytes = Self.fakeCheckpoint(180_000, seed: 3)
        try server.serve(Self.sub.name, bytes)
        let dir = try Oracle.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let downloader = ModelDownloader(folder: dir, baseURL: server.base)
        let final = dir.appendingPathComponent(Self.sub.name + ".pt"), part = dir.appendingPathComponent(Self.sub.name + ".pt.part")

        let error = #expect(throws: ModelDownloadError.self) { try downloader.download(Self.sub) }
        #expect(error?.description.contains("curl exit code 18") == true, "\(String(describing: error))")
        #expect(error?.description.contains("run the same command again to resume") == true)
        #expect(!exists(final))
        #expect(contents(part) == Array(bytes[..<50_000]))
        #expect(!exists(dir.appendingPathComponent(DownloadsFile.fileName)))

        guard case .downloaded(_, let resumedFrom) = try downloader.download(Self.sub) else {
            Issue.record("expected a download")
            return
        }
        #expect(resumedFrom == 50_000)
        #expect(contents(final) == bytes)
        #expect(server.requests.last == "/\(Self.sub.name).pt bytes=50000- 206")
    }

    @Test("404: the error names the model, HTTP status 404 and curl's exit code 22, and no file is left")
    func notFound() throws {
        let server = try FileServer()
        defer { server.stop() }
        let dir = try Oracle.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let error = #expect(throws: ModelDownloadError.self) { try ModelDownloader(folder: dir, baseURL: server.base).download(Self.sub) }
        let message = error?.description ?? ""
        #expect(message.hasPrefix(Self.sub.name + ": download from \(server.base)\(Self.sub.name).pt failed"), "\(message)")
        #expect(message.contains("HTTP status 404") && message.contains("curl exit code 22"), "\(message)")
        #expect(message.contains("nothing was written"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).isEmpty)
    }

    @Test("a web page instead of a checkpoint is refused and removed")
    func webPageRefused() throws {
        let server = try FileServer()
        defer { server.stop() }
        try server.serve(Self.sub.name, Array("<!DOCTYPE html><html><body>This link is temporarily disabled</body></html>".utf8))
        let dir = try Oracle.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let error = #expect(throws: ModelDownloadError.self) { try ModelDownloader(folder: dir, baseURL: server.base).download(Self.sub) }
        #expect(error?.description.contains("sent a web page, not a PyTorch checkpoint") == true)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).isEmpty)
    }

    @Test("a server without byte ranges (like python3 -m http.server): the .part is dropped and the file fetched whole")
    func serverWithoutRanges() throws {
        let server = try FileServer(options: ["--no-ranges"])
        defer { server.stop() }
        let bytes = Self.fakeCheckpoint(90_000, seed: 4)
        try server.serve(Self.sub.name, bytes)
        let dir = try Oracle.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try Data(bytes[..<10_000]).write(to: dir.appendingPathComponent(Self.sub.name + ".pt.part"))
        guard case .downloaded(_, let resumedFrom) = try ModelDownloader(folder: dir, baseURL: server.base).download(Self.sub) else {
            Issue.record("expected a download")
            return
        }
        #expect(resumedFrom == 0)
        #expect(contents(dir.appendingPathComponent(Self.sub.name + ".pt")) == bytes)
        #expect(server.requests.count == 2)
    }

    @Test("a complete .part (416 to the resume) is accepted; a longer one is fetched again")
    func completePartFile() throws {
        let server = try FileServer()
        defer { server.stop() }
        let bytes = Self.fakeCheckpoint(40_000, seed: 5)
        try server.serve(Self.sub.name, bytes)
        let dir = try Oracle.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let part = dir.appendingPathComponent(Self.sub.name + ".pt.part"), final = dir.appendingPathComponent(Self.sub.name + ".pt")
        let downloader = ModelDownloader(folder: dir, baseURL: server.base)

        try Data(bytes).write(to: part)
        _ = try downloader.download(Self.sub)
        #expect(contents(final) == bytes)
        #expect(server.requests == ["/\(Self.sub.name).pt bytes=40000- 416"])

        try FileManager.default.removeItem(at: final)
        try Data(bytes + [1, 2, 3]).write(to: part)
        _ = try downloader.download(Self.sub)
        #expect(contents(final) == bytes)
        #expect(server.requests.suffix(2) == ["/\(Self.sub.name).pt bytes=40003- 416", "/\(Self.sub.name).pt - 200"])
    }

    @Test("a recorded file damaged since is downloaded again from the start")
    func damagedFileRefetched() throws {
        let server = try FileServer()
        defer { server.stop() }
        let bytes = Self.fakeCheckpoint(60_000, seed: 6)
        try server.serve(Self.sub.name, bytes)
        let dir = try Oracle.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let downloader = ModelDownloader(folder: dir, baseURL: server.base)
        _ = try downloader.download(Self.sub)
        var damaged = bytes
        damaged[30_000] ^= 0xff
        let final = dir.appendingPathComponent(Self.sub.name + ".pt")
        try Data(damaged).write(to: final)

        guard case .downloaded(_, let resumedFrom) = try downloader.download(Self.sub) else {
            Issue.record("expected a download")
            return
        }
        #expect(resumedFrom == 0)
        #expect(contents(final) == bytes)
        #expect(server.requests == ["/\(Self.sub.name).pt - 200", "/\(Self.sub.name).pt - 200"])
    }

    @Test("a NAME.pt without a record is checked by resuming; when that fails the file stays as it was")
    func unrecordedFile() throws {
        let server = try FileServer()
        defer { server.stop() }
        let bytes = Self.fakeCheckpoint(30_000, seed: 8)
        let dir = try Oracle.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let final = dir.appendingPathComponent(Self.sub.name + ".pt")
        try Data(bytes).write(to: final)
        let downloader = ModelDownloader(folder: dir, baseURL: server.base)

        // Not on the server: the check fails and the file is back under its name, unchanged.
        let error = #expect(throws: ModelDownloadError.self) { try downloader.download(Self.sub) }
        #expect(error?.description.contains("the file was left as it was") == true, "\(String(describing: error))")
        #expect(contents(final) == bytes)
        #expect(!exists(dir.appendingPathComponent(Self.sub.name + ".pt.part")))

        // On the server: one request answered 416 (nothing left), then recorded.
        try server.serve(Self.sub.name, bytes)
        guard case .downloaded(let record, let resumedFrom) = try downloader.download(Self.sub) else {
            Issue.record("expected a record")
            return
        }
        #expect(resumedFrom == 30_000)
        #expect(record.bytes == 30_000)
        #expect(record.sha256 == (try Self.sha256sum(final)))
        #expect(server.requests.last == "/\(Self.sub.name).pt bytes=30000- 416")
    }

    @Test("hat models download: unknown names suggest close ones; a download through HAT_MODELS_URL's hidden --base-url twin; list --json")
    func commandLine() throws {
        try #require(HATBinary.isAvailable, "build hat first: swift build -c release --product hat")
        let dir = try Oracle.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }

        let unknown = try HATBinary.run(["models", "download", "HAT_iwslt14deen_titanxp@45.6ms", Self.sub.name, "--out", dir.path])
        #expect(unknown.status != 0)
        #expect(unknown.err.contains("unknown model HAT_iwslt14deen_titanxp@45.6ms: did you mean \(Self.sub.name)?"), "\(unknown.err)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).isEmpty, "nothing may be downloaded before every name is checked")

        let server = try FileServer()
        defer { server.stop() }
        let bytes = Self.fakeCheckpoint(25_000, seed: 7)
        try server.serve(Self.sub.name, bytes)
        let ok = try HATBinary.run(["models", "download", Self.sub.name, "--out", dir.path, "--base-url", server.base])
        #expect(ok.status == 0, "\(ok.err)")
        #expect(ok.out.contains("1 downloaded, 0 already complete"), "\(ok.out)")
        #expect(contents(dir.appendingPathComponent(Self.sub.name + ".pt")) == bytes)

        let missing = try HATBinary.run(["models", "download", Self.supernet.name, "--out", dir.path, "--base-url", server.base])
        #expect(missing.status != 0)
        #expect(missing.err.contains("HTTP status 404"), "\(missing.err)")
        #expect(!exists(dir.appendingPathComponent(Self.supernet.name + ".pt")) && !exists(dir.appendingPathComponent(Self.supernet.name + ".pt.part")))

        // HAT_MODELS_URL, the documented way (HATBinary.run passes no environment, so run it here).
        try server.serve(Self.supernet.name, bytes)
        let viaEnvironment = dir.appendingPathComponent("via-environment")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: HATBinary.path)
        process.arguments = ["models", "download", Self.supernet.name, "--out", viaEnvironment.path]
        process.environment = ProcessInfo.processInfo.environment.merging([ModelDownloader.baseURLVariable: server.base]) { $1 }
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        #expect(contents(viaEnvironment.appendingPathComponent(Self.supernet.name + ".pt")) == bytes)
        #expect(server.requests.last == "/\(Self.supernet.name).pt - 200")

        let list = try HATBinary.run(["models", "list", "--task", "iwslt14.de-en", "--json"])
        #expect(list.status == 0)
        let entries = try #require(try JSONSerialization.jsonObject(with: Data(list.out.utf8)) as? [[String: Any]])
        #expect(entries.map { $0["name"] as? String } == ModelCatalog.models.filter { $0.task == .iwslt14DeEn }.map(\.name))
        #expect(entries.first?["params_m"] as? Double == 16.82)
        #expect(entries.last?["download_url"] as? String == "https://www.dropbox.com/s/yv0mn8ns36gxkhs/HAT_iwslt14deen_super_space1.pt?dl=1")

        let table = try HATBinary.run(["models", "list", "--device", "xeon"])
        #expect(table.status == 0)
        let lines = table.out.split(separator: "\n")
        #expect(lines.count == 1 + 11 + 1, "\(table.out)")
        #expect(lines.first?.hasPrefix("NAME") == true)
        #expect(lines.last == "11 models (11 SubTransformers, 0 SuperTransformers); download with `hat models download NAME --out DIR`")
    }
}
