import Foundation

/// Downloads with the system's `curl` instead of Foundation's URLSession: URLSession lives in
/// FoundationNetworking, which drags libcurl and its TLS, HTTP/2 and LDAP libraries into the
/// binary, so a statically linked `hat` (scripts/package.sh) could not be built or copied to
/// another machine. curl is on nearly every system (macOS, most Linux installations; one
/// `apt-get install curl` elsewhere), and `hat data multi30k --from DIR` needs no download at all.
/// (`hat models download` runs curl itself, for resumable downloads to a file; it finds curl here.)
public enum HTTPFetch {
    /// The most `get` accepts: Multi30k's largest file is a few megabytes.
    public static let maxBytes = 1_000_000_000

    /// GET `address` (http, https or file); failures become `DataError.download` with curl's reason.
    public static func get(_ address: String, timeout: TimeInterval) throws -> Data {
        guard let url = URL(string: address), let scheme = url.scheme, ["http", "https", "file"].contains(scheme) else {
            throw DataError.download(url: address, reason: "not an http(s) URL")
        }
        if scheme == "file" {
            do { return try Data(contentsOf: url) } catch {
                throw DataError.download(url: address, reason: error.localizedDescription)
            }
        }
        guard let curl = executableOnPath("curl") else {
            throw DataError.download(
                url: address,
                reason: "downloading needs curl on the PATH (apt-get install curl); "
                    + "or download the files yourself and pass --from DIR")
        }
        let process = Process()
        process.executableURL = curl
        // --disable (first): ignore ~/.curlrc, whose options (--verbose, --output) would change what
        // comes back. --fail: an HTTP error status is an error (exit 22), not a saved error page.
        // --proto/--proto-redir: HTTP(S) only, also after a redirect (never file://, ftp://, …);
        // --max-filesize: a corpus file is megabytes, so a server sending gigabytes is cut off.
        process.arguments = [
            "--disable", "--fail", "--silent", "--show-error", "--location",
            "--proto", "=http,https", "--proto-redir", "=http,https", "--max-filesize", String(maxBytes),
            "--max-time", String(max(1, Int(timeout.rounded(.up)))), address,
        ]
        let output = Pipe(), errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        do { try process.run() } catch {
            throw DataError.download(url: address, reason: "cannot run \(curl.path): \(error.localizedDescription)")
        }
        // curl's diagnostics are one short line, so reading the body first cannot fill the error pipe.
        let body = output.fileHandleForReading.readDataToEndOfFile()
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        process.waitUntilExit()
        guard process.terminationReason == .exit, process.terminationStatus == 0 else {
            let status =
                process.terminationReason == .exit
                ? "curl exited with status \(process.terminationStatus)"
                : "curl was killed by signal \(process.terminationStatus)"
            throw DataError.download(url: address, reason: message.isEmpty ? status : message)
        }
        guard !body.isEmpty else { throw DataError.download(url: address, reason: "empty response") }
        return body
    }

    /// The first executable file called `name` in the PATH's folders.
    public static func executableOnPath(_ name: String) -> URL? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for folder in path.split(separator: ":") where !folder.isEmpty {
            let candidate = URL(fileURLWithPath: String(folder)).appendingPathComponent(name)
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        }
        return nil
    }
}
