import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A user's command as the latency measurement (`hat latency measure|dataset --command "..."`):
/// it receives a SubTransformer YAML path (HAT format) and prints milliseconds on stdout.
///
/// - The path replaces every `{}` in the command, or is appended as the last argument when
///   there is none; it is shell-quoted either way. The command runs under `/bin/sh -c`.
/// - The result is the last number on the last non-empty line of stdout (`12.5`, `latency: 12.5 ms`).
///   With `.encoderDecoder` output the last two numbers of that line are the encoder and the
///   decoder milliseconds (HAT's CSV keeps both).
/// - A non-zero exit, a line without a number, a negative or non-finite number, or a command
///   running past `timeout` seconds (then killed, with its process group) is an error that
///   names the command and shows the end of its output.
public struct LatencyCommandSource: Sendable {
    public enum Output: String, Sendable, CaseIterable {
        /// One number: the total (encoder + decoder) milliseconds.
        case total
        /// Two numbers: encoder and decoder milliseconds.
        case encoderDecoder = "encoder-decoder"
    }

    public var command: String
    public var timeout: TimeInterval
    public var output: Output

    public init(command: String, timeout: TimeInterval = 600, output: Output = .total) {
        self.command = command
        self.timeout = timeout
        self.output = output
    }

    /// The shell command line for one YAML file.
    public func commandLine(for yamlPath: String) -> String {
        let quoted = Self.shellQuoted(yamlPath)
        if command.contains("{}") { return command.replacingOccurrences(of: "{}", with: quoted) }
        return command + " " + quoted
    }

    /// Runs the command on `yamlPath`: (encoder, decoder) milliseconds; with `.total` output the
    /// encoder part is 0 and the decoder part is the total.
    public func measure(yamlPath: String) throws -> (encoderMs: Double, decoderMs: Double) {
        let line = commandLine(for: yamlPath)
        let result = try Self.run(line, timeout: timeout)
        let shown = "latency command `\(line)`"
        if result.timedOut {
            throw LatencyCommandError("\(shown) did not finish within \(Self.format(timeout)) s and was killed"
                                      + Self.tail(result.stdout, result.stderr))
        }
        if let signal = result.signal {
            throw LatencyCommandError("\(shown) was killed by signal \(signal)" + Self.tail(result.stdout, result.stderr))
        }
        if result.status != 0 {
            throw LatencyCommandError("\(shown) exited with status \(result.status)" + Self.tail(result.stdout, result.stderr))
        }
        let lastLine = result.stdout.split(whereSeparator: \.isNewline).last { !$0.allSatisfy(\.isWhitespace) }.map(String.init)
        guard let lastLine else {
            throw LatencyCommandError("\(shown) printed nothing on stdout; it must print the latency in milliseconds"
                                      + Self.tail(result.stdout, result.stderr))
        }
        let numbers = Self.numbers(in: lastLine)
        let needed = output == .total ? 1 : 2
        guard numbers.count >= needed else {
            throw LatencyCommandError("\(shown): no \(needed == 1 ? "number" : "two numbers (encoder and decoder ms)") "
                                      + "on its last non-empty line of stdout: \"\(lastLine)\"")
        }
        let values = Array(numbers.suffix(needed))
        for v in values where !(v.isFinite && v >= 0) {
            throw LatencyCommandError("\(shown) printed \(v), not a latency in milliseconds: \"\(lastLine)\"")
        }
        return needed == 1 ? (0, values[0]) : (values[0], values[1])
    }

    /// Decimal numbers in `text`, in order (`12`, `-3.5`, `.5`, `1e3`).
    static func numbers(in text: String) -> [Double] {
        var result: [Double] = []
        let chars = Array(text.unicodeScalars)
        var i = 0
        func isDigit(_ j: Int) -> Bool { j < chars.count && chars[j].properties.numericType == .decimal && chars[j].isASCII }
        while i < chars.count {
            let start = i
            var j = i
            if chars[j] == "-" || chars[j] == "+" { j += 1 }
            let intStart = j
            while isDigit(j) { j += 1 }
            var digits = j - intStart
            if j < chars.count && chars[j] == "." {
                let fracStart = j + 1
                var k = fracStart
                while isDigit(k) { k += 1 }
                if k > fracStart || digits > 0 { digits += k - fracStart; j = k }
            }
            if digits == 0 { i = start + 1; continue }
            if j < chars.count && (chars[j] == "e" || chars[j] == "E") {
                var k = j + 1
                if k < chars.count && (chars[k] == "-" || chars[k] == "+") { k += 1 }
                let expStart = k
                while isDigit(k) { k += 1 }
                if k > expStart { j = k }
            }
            // A sign glued to a preceding word character is a hyphen ("run-3"), not a minus.
            var from = start
            if chars[start] == "-" || chars[start] == "+",
               start > 0, chars[start - 1].properties.isAlphabetic || isDigit(start - 1) { from = start + 1 }
            let text = String(String.UnicodeScalarView(chars[from..<j]))
            if let v = Double(text) { result.append(v) }
            i = j
        }
        return result
    }

    static func shellQuoted(_ s: String) -> String { "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'" }

    static func format(_ t: TimeInterval) -> String { t == t.rounded() ? String(Int(t)) : String(t) }

    /// The last lines of the command's output, for error messages.
    static func tail(_ stdout: String, _ stderr: String) -> String {
        func last(_ s: String) -> String {
            s.split(whereSeparator: \.isNewline).suffix(5).joined(separator: "\n    ")
        }
        var text = ""
        if !stderr.isEmpty { text += "\n  stderr:\n    " + last(stderr) }
        if !stdout.isEmpty { text += "\n  stdout:\n    " + last(stdout) }
        return text
    }

    struct RunResult {
        var status: Int32
        var signal: Int32?
        var timedOut: Bool
        var stdout: String
        var stderr: String
    }

    /// Runs `/bin/sh -c line` in its own process group; kills the group after `timeout` seconds.
    static func run(_ line: String, timeout: TimeInterval) throws -> RunResult {
        let outPipe = Pipe(), errPipe = Pipe()
        var actions: posix_spawn_file_actions_t = Self.makeFileActions()
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, outPipe.fileHandleForWriting.fileDescriptor, 1)
        posix_spawn_file_actions_adddup2(&actions, errPipe.fileHandleForWriting.fileDescriptor, 2)
        posix_spawn_file_actions_addclose(&actions, outPipe.fileHandleForReading.fileDescriptor)
        posix_spawn_file_actions_addclose(&actions, errPipe.fileHandleForReading.fileDescriptor)
        var attributes: posix_spawnattr_t = Self.makeAttributes()
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP))
        posix_spawnattr_setpgroup(&attributes, 0)
        let argv: [String] = ["/bin/sh", "-c", line]
        var cArgs = argv.map { strdup($0) } + [nil]
        defer { for p in cArgs { free(p) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, "/bin/sh", &actions, &attributes, &cArgs, environ)
        try? outPipe.fileHandleForWriting.close()
        try? errPipe.fileHandleForWriting.close()
        guard rc == 0 else {
            throw LatencyCommandError("cannot start /bin/sh for the latency command: \(String(cString: strerror(rc)))")
        }
        // Read both pipes on their own threads so a chatty command never blocks on a full pipe.
        final class Box: @unchecked Sendable { var data = Data() }
        let outBox = Box(), errBox = Box()
        let group = DispatchGroup()
        for (pipe, box) in [(outPipe, outBox), (errPipe, errBox)] {
            group.enter()
            Thread.detachNewThread {
                box.data = pipe.fileHandleForReading.readDataToEndOfFile()
                group.leave()
            }
        }
        let deadline = Date().addingTimeInterval(timeout)
        var status: Int32 = 0
        var timedOut = false
        while true {
            let r = waitpid(pid, &status, WNOHANG)
            if r == pid { break }
            if r < 0 && errno != EINTR { break }
            if Date() >= deadline {
                timedOut = true
                kill(-pid, SIGTERM)
                let grace = Date().addingTimeInterval(2)
                while waitpid(pid, &status, WNOHANG) == 0 && Date() < grace { usleep(10_000) }
                kill(-pid, SIGKILL)
                _ = waitpid(pid, &status, 0)
                break
            }
            usleep(timeout < 5 ? 2_000 : 10_000)
        }
        // Whatever the command left running in its group (a background child holding the pipes)
        // is ended once the command itself is done, after a grace period.
        if timedOut || group.wait(timeout: .now() + 5) == .timedOut {
            kill(-pid, SIGKILL)
            group.wait()
        }
        let exited = (status & 0x7f) == 0
        return RunResult(status: exited ? (status >> 8) & 0xff : -1, signal: exited ? nil : status & 0x7f,
                         timedOut: timedOut, stdout: String(decoding: outBox.data, as: UTF8.self),
                         stderr: String(decoding: errBox.data, as: UTF8.self))
    }

    private static func makeFileActions() -> posix_spawn_file_actions_t {
        #if canImport(Glibc)
        var a = posix_spawn_file_actions_t()
        #else
        var a: posix_spawn_file_actions_t = nil
        #endif
        posix_spawn_file_actions_init(&a)
        return a
    }

    private static func makeAttributes() -> posix_spawnattr_t {
        #if canImport(Glibc)
        var a = posix_spawnattr_t()
        #else
        var a: posix_spawnattr_t = nil
        #endif
        posix_spawnattr_init(&a)
        return a
    }
}

public struct LatencyCommandError: Error, CustomStringConvertible, LocalizedError {
    public let description: String
    init(_ description: String) { self.description = description }
    public var errorDescription: String? { description }
}
