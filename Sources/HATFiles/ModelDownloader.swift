import Datasets
import Foundation

/// Why a published model could not be downloaded: the model, what went wrong, what to do.
public struct ModelDownloadError: Error, CustomStringConvertible, LocalizedError {
    public let description: String
    public init(_ message: String) { description = message }
    public var errorDescription: String? { description }
}

/// What `DIR/downloads.json` records of one finished download, so that a later run can tell a
/// complete file from a damaged or foreign one without downloading it again. HAT publishes no
/// checksums, so the hash is of what arrived here; it catches later damage, not a bad server.
public struct DownloadRecord: Codable, Equatable, Sendable {
    public var bytes: Int64
    public var sha256: String
    public var url: String
    /// When the download finished (ISO 8601, UTC).
    public var completed: String
}

/// The `downloads.json` file of a download folder: one record per finished model file.
public struct DownloadsFile: Codable, Equatable, Sendable {
    public var models: [String: DownloadRecord] = [:]

    public static let fileName = "downloads.json"

    public init() {}

    /// The folder's record; an empty one when the folder has none yet.
    public static func read(folder: URL) throws -> DownloadsFile {
        let path = folder.appendingPathComponent(fileName).path
        guard FileManager.default.fileExists(atPath: path) else { return DownloadsFile() }
        do {
            return try JSONDecoder().decode(DownloadsFile.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
        } catch {
            throw ModelDownloadError(
                "\(path) is not a downloads record this tool wrote (\(error.localizedDescription)); "
                    + "move it away and rerun: the .pt files stay and are downloaded again (resuming) or checked")
        }
    }

    /// Writes the record atomically (temporary file + rename), keys sorted, so that an interrupted
    /// run leaves the old record or the new one and diffs stay small.
    public func write(folder: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try AtomicFile.write(try encoder.encode(self) + Data("\n".utf8), to: folder.appendingPathComponent(Self.fileName))
    }
}

/// Downloads HAT's published checkpoints into a folder with the system's curl (as `HTTPFetch`
/// does, for the same reason: no FoundationNetworking in a static binary), one file at a time:
///
/// - into `NAME.pt.part`, resumed where an earlier run stopped (`curl --continue-at -`), renamed to
///   `NAME.pt` only when complete, so a final name never holds half a file;
/// - the size and SHA-256 of each finished file go to `downloads.json` (written atomically); a
///   file that still matches its record is skipped;
/// - HTTP errors fail (`curl --fail`) with the status and curl's exit code named.
public struct ModelDownloader {
    /// Names the environment variable that replaces HAT's Dropbox location (tests, mirrors): with
    /// `HAT_MODELS_URL=http://host/dir/`, NAME.pt is fetched from `http://host/dir/NAME.pt`.
    public static let baseURLVariable = "HAT_MODELS_URL"

    public let folder: URL
    /// Replaces `https://www.dropbox.com/s/<id>/` (see `directURL`); nil for HAT's Dropbox links.
    public var baseURL: String?
    /// Lets curl draw its progress bar on standard error (for a terminal); otherwise curl is silent
    /// and its error line is captured into the error message.
    public var showProgress = false
    /// Receives one line per event (starting, resuming, skipping, finished).
    public var log: (String) -> Void = { _ in }

    public init(folder: URL, baseURL: String? = nil) {
        self.folder = folder
        self.baseURL = baseURL
    }

    /// What happened to one model.
    public enum Outcome: Equatable, Sendable {
        /// The file was already complete (same size and SHA-256 as recorded).
        case skipped(DownloadRecord)
        /// The file was fetched; `resumedFrom` bytes were already there from an earlier run.
        case downloaded(DownloadRecord, resumedFrom: Int64)
    }

    /// The address curl fetches for `model`. HAT's links (`https://www.dropbox.com/s/ID/NAME.pt?dl=0`)
    /// open Dropbox's preview page; `dl=1` asks Dropbox for the file itself (Dropbox's documented
    /// way to force a download; HAT's download_model.py hands the `dl=0` link to wget unchanged).
    /// With a base URL, the file is `BASE/NAME.pt`.
    public static func directURL(for model: PublishedModel, baseURL: String?) -> String {
        if let baseURL {
            let base = baseURL.hasSuffix("/") ? baseURL : baseURL + "/"
            return base + model.name + ".pt"
        }
        guard var components = URLComponents(string: model.url) else { return model.url }
        components.queryItems = (components.queryItems ?? []).filter { $0.name != "dl" } + [URLQueryItem(name: "dl", value: "1")]
        return components.string ?? model.url
    }

    /// Downloads `model` into the folder (created when missing) unless it is already complete there.
    @discardableResult
    public func download(_ model: PublishedModel) throws -> Outcome {
        let fm = FileManager.default
        do {
            try fm.createDirectory(at: folder, withIntermediateDirectories: true)
        } catch {
            throw ModelDownloadError("cannot create the download folder \(folder.path): \(error.localizedDescription)")
        }
        var records = try DownloadsFile.read(folder: folder)
        let final = folder.appendingPathComponent(model.name + ".pt")
        let part = folder.appendingPathComponent(model.name + ".pt.part")
        let address = Self.directURL(for: model, baseURL: baseURL)
        // Set when an unrecorded NAME.pt was moved to NAME.pt.part to be checked: if the check
        // fails without adding a byte, the file goes back, so a failed run changes nothing.
        var unrecordedSize: Int64?

        if fm.fileExists(atPath: final.path) {
            let size = Self.fileSize(final.path)
            if let record = records.models[model.name] {
                if size == record.bytes, try Self.sha256(of: final.path) == record.sha256 {
                    log("\(model.name): complete (\(Self.megabytes(size)), SHA-256 as recorded in \(DownloadsFile.fileName)), skipped")
                    return .skipped(record)
                }
                // Damaged since it was recorded: resuming would keep the damage, so start again.
                log(
                    "\(model.name): \(final.path) does not match \(DownloadsFile.fileName) (\(size) bytes, "
                        + "recorded \(record.bytes) bytes and its SHA-256); downloading it again")
                try? fm.removeItem(at: final)
                try? fm.removeItem(at: part)
            } else {
                // No record (a crash between the rename and the record, or a file copied in): resume
                // from it; for a complete file that is one request that the server answers
                // "nothing left" (416, which curl takes as success when resuming).
                try? fm.removeItem(at: part)
                do { try fm.moveItem(at: final, to: part) } catch {
                    throw ModelDownloadError(
                        "\(final.path) has no record in \(DownloadsFile.fileName) and cannot be renamed "
                            + "to \(part.lastPathComponent) to check it: \(error.localizedDescription)")
                }
                unrecordedSize = size
                log("\(model.name): \(final.lastPathComponent) has no record in \(DownloadsFile.fileName); checking it by resuming")
            }
        }

        var resumedFrom = fm.fileExists(atPath: part.path) ? Self.fileSize(part.path) : 0
        log(
            resumedFrom > 0
                ? "\(model.name): resuming at \(Self.megabytes(resumedFrom)) from \(address)"
                : "\(model.name): downloading \(address)")
        var result = try runCurl(address, into: part)
        if result.exitCode == 33, resumedFrom > 0 {
            // The server ignores byte ranges (answers 200 with the whole file): start from zero.
            log("\(model.name): the server cannot resume (no byte ranges); downloading from the start")
            try? fm.removeItem(at: part)
            resumedFrom = 0
            result = try runCurl(address, into: part)
        }
        if result.exitCode == 22, result.httpStatus == "416", resumedFrom > 0 {
            // "Range not satisfiable" to a resume: the .part already holds the whole file (curl
            // before 8.x reports it as an HTTP error). The server's Content-Range says how long the
            // file is; a .part of another length is not that file, so it is fetched again.
            if let total = result.totalSize, total != resumedFrom {
                log("\(model.name): \(part.lastPathComponent) has \(resumedFrom) bytes but the file has \(total); downloading from the start")
                try? fm.removeItem(at: part)
                resumedFrom = 0
                result = try runCurl(address, into: part)
            } else {
                result.exitCode = 0
            }
        }
        guard result.exitCode == 0 else {
            let kept = fm.fileExists(atPath: part.path) ? Self.fileSize(part.path) : 0
            if let unrecordedSize, kept == unrecordedSize, rename(part.path, final.path) == 0 {
                throw ModelDownloadError(
                    "\(model.name): \(final.path) has no record in \(DownloadsFile.fileName) and could not be "
                        + "checked against \(address): \(Self.explain(result)); the file was left as it was")
            }
            // An empty .part is no progress; a non-empty one is, and the next run resumes from it.
            if kept == 0 { try? fm.removeItem(at: part) }
            var message = "\(model.name): download from \(address) failed: \(Self.explain(result))"
            message +=
                kept > 0
                ? "; \(Self.megabytes(kept)) kept in \(part.path): run the same command again to resume"
                : "; nothing was written"
            if result.exitCode == 22 && baseURL == nil {
                message +=
                    ". HAT's links are listed in its README (and in `hat models list --json`); "
                    + "if the file moved, download it yourself or point \(Self.baseURLVariable) at a mirror"
            }
            throw ModelDownloadError(message)
        }

        let size = Self.fileSize(part.path)
        guard size > 0 else {
            try? fm.removeItem(at: part)
            throw ModelDownloadError("\(model.name): \(address) sent an empty file; nothing was kept")
        }
        if try Self.looksLikeWebPage(part.path) {
            // Dropbox answers some failures (quota, removed links) with a web page and status 200.
            try? fm.removeItem(at: part)
            throw ModelDownloadError(
                "\(model.name): \(address) sent a web page, not a PyTorch checkpoint "
                    + "(the link may be dead or over its traffic limit); nothing was kept: try again later or use a mirror with \(Self.baseURLVariable)")
        }
        let digest = try Self.sha256(of: part.path)
        guard rename(part.path, final.path) == 0 else {
            throw ModelDownloadError("\(model.name): cannot rename \(part.path) to \(final.lastPathComponent): \(String(cString: strerror(errno)))")
        }
        let record = DownloadRecord(bytes: size, sha256: digest, url: address, completed: ISO8601DateFormatter().string(from: Date()))
        records.models[model.name] = record
        try records.write(folder: folder)
        log(
            "\(model.name): \(Self.megabytes(size))\(resumedFrom > 0 ? " (resumed at \(Self.megabytes(resumedFrom)))" : "") "
                + "-> \(final.path), SHA-256 \(digest)")
        return .downloaded(record, resumedFrom: resumedFrom)
    }

    struct CurlResult {
        var exitCode: Int32
        var signaled: Bool
        var httpStatus: String
        /// The server's Content-Range header (e.g. "bytes */5000" with a 416), when curl could report it.
        var contentRange: String
        var message: String

        /// The file's full length from Content-Range ("bytes A-B/N" or "bytes */N").
        var totalSize: Int64? {
            guard let slash = contentRange.lastIndex(of: "/") else { return nil }
            return Int64(contentRange[contentRange.index(after: slash)...].trimmingCharacters(in: .whitespaces))
        }
    }

    /// Runs curl once: GET `address` appended to `part` (resuming from its size).
    func runCurl(_ address: String, into part: URL) throws -> CurlResult {
        guard let curl = HTTPFetch.executableOnPath("curl") else {
            throw ModelDownloadError(
                "downloading needs curl on the PATH (apt-get install curl); or download the .pt files "
                    + "yourself (links: `hat models list --json`) into \(folder.path)")
        }
        let process = Process()
        process.executableURL = curl
        // --disable (first): ignore ~/.curlrc. --fail: an HTTP error status is exit 22, not a saved
        // error page. --continue-at -: resume from the .part file's size. --write-out: the status
        // and Content-Range, for error messages and for a 416 to a resume. --speed-limit/--speed-time: a stalled transfer ends (exit 28) with
        // its bytes kept, instead of hanging.
        // --proto/--proto-redir: HTTP(S) only, also after redirects; --max-filesize: HAT's largest
        // checkpoint with its optimizer state is about 1.2 GB, so 8 GB means a wrong or hostile server.
        process.arguments =
            [
                "--disable", "--fail", "--location", "--proto", "=http,https", "--proto-redir", "=http,https",
                "--max-filesize", "8000000000", "--continue-at", "-", "--output", part.path,
                "--write-out", "%{http_code}\\n%header{content-range}", "--connect-timeout", "30",
                "--speed-limit", "1024", "--speed-time", "120",
            ]
            + (showProgress ? ["--progress-bar"] : ["--silent", "--show-error"]) + [address]
        // curl's --write-out and error line go to small files, not pipes: a pipe's end of file
        // never comes while some other child process (started meanwhile by another thread, in
        // tests) has inherited its write end, and the wait for it would hang.
        let scratch = FileManager.default.temporaryDirectory
            .appendingPathComponent("hat-curl-\(ProcessInfo.processInfo.processIdentifier)-\(UInt32.random(in: 0...UInt32.max))")
        let outPath = scratch.path + ".out", errPath = scratch.path + ".err"
        defer {
            try? FileManager.default.removeItem(atPath: outPath)
            try? FileManager.default.removeItem(atPath: errPath)
        }
        guard FileManager.default.createFile(atPath: outPath, contents: nil), FileManager.default.createFile(atPath: errPath, contents: nil),
            let output = FileHandle(forWritingAtPath: outPath), let errors = FileHandle(forWritingAtPath: errPath)
        else {
            throw ModelDownloadError("cannot create curl's temporary output files in \(FileManager.default.temporaryDirectory.path)")
        }
        process.standardOutput = output
        if !showProgress { process.standardError = errors }
        do { try process.run() } catch {
            throw ModelDownloadError("cannot run \(curl.path): \(error.localizedDescription)")
        }
        process.waitUntilExit()
        try? output.close()
        try? errors.close()
        let status = (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? ""
        let message = (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? ""
        // Line 1: the status; line 2: Content-Range (empty where curl, before 7.84, lacks %header).
        let lines = status.split(separator: "\n", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
        return CurlResult(
            exitCode: process.terminationStatus, signaled: process.terminationReason != .exit,
            httpStatus: lines.first ?? "", contentRange: lines.count > 1 && !lines[1].hasPrefix("%") ? lines[1] : "",
            message: message.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// curl's exit code in words, with the HTTP status when there was one.
    static func explain(_ r: CurlResult) -> String {
        if r.signaled { return "curl was killed by signal \(r.exitCode)" }
        let meanings: [Int32: String] = [
            6: "the host name could not be resolved; offline?", 7: "could not connect to the server",
            18: "the transfer ended early", 22: "the server answered with an HTTP error",
            23: "could not write the file (disk full?)", 28: "the transfer timed out or stalled",
            33: "the server cannot resume (no byte ranges)", 35: "the TLS handshake failed",
            47: "too many redirects", 52: "the server sent nothing", 56: "the connection broke while receiving",
            60: "the server's TLS certificate could not be verified",
        ]
        var text = "curl exit code \(r.exitCode)"
        if let meaning = meanings[r.exitCode] { text += " (\(meaning))" }
        if let code = Int(r.httpStatus), code > 0 { text += ", HTTP status \(code)" }
        if !r.message.isEmpty { text += ": \(r.message)" }
        return text
    }

    /// True when the file starts like HTML/XML. PyTorch checkpoints start with "PK" (zip) or a
    /// pickle opcode (0x80), never with "<".
    static func looksLikeWebPage(_ path: String) throws -> Bool {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw ModelDownloadError("cannot read \(path)") }
        defer { try? handle.close() }
        let head = handle.readData(ofLength: 512)
        guard let first = head.first(where: { ![0x20, 0x09, 0x0a, 0x0d, 0xef, 0xbb, 0xbf].contains($0) }) else { return false }
        return first == UInt8(ascii: "<")
    }

    /// SHA-256 of a file, read in 4 MiB pieces (checkpoints reach hundreds of MB).
    public static func sha256(of path: String) throws -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw ModelDownloadError("cannot read \(path) to hash it") }
        defer { try? handle.close() }
        var hasher = SHA256()
        while true {
            let chunk = handle.readData(ofLength: 4 << 20)
            if chunk.isEmpty { break }
            hasher.update(chunk)
        }
        return hasher.finalizeHex()
    }

    static func fileSize(_ path: String) -> Int64 {
        ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.int64Value ?? 0
    }

    static func megabytes(_ bytes: Int64) -> String {
        bytes < 1_000_000 ? "\(bytes) bytes" : String(format: "%.1f MB", Double(bytes) / 1e6)
    }
}
