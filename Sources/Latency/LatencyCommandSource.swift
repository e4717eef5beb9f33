import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A user's command as the latency measurement (`hat latency measure|dataset --command "..."`):
/// it receives a SubTransformer YAML path (HAT format) and prints milliseconds on stdout.
///
/// - The command runs under `/bin/sh -c` and gets the path as the positional parameter `$1`:
///   every `{}` (also a quoted `'{}'` or `"{}"`) becomes `"$1"`, or `"$1"` is appended as the last
///   argument when there is none. The path itself never becomes shell text, so spaces, quotes or
///   `$(…)` in it are just characters of a file name.
/// - Ctrl-C or SIGTERM to `hat` also ends the running command and everything it started (its own
///   process group), before `hat` exits.
/// - The result is the last number on the last non-empty line of stdout (`12.5`, `latency: 12.5 ms`).
///   With `.encoderDecoder` output the last two numbers of that line are the encoder and the
///   decoder milliseconds (HAT's CSV keeps both); with `.encoderDecoderMemory` the last four are
///   those and the memory the device reports: the model's and the inference's peak, MB (10⁶
///   bytes), what a dataset's `memory_model_mb` and `memory_peak_mb` columns hold.
/// - A non-zero exit, a line without a number, a negative or non-finite number, or a command
///   running past `timeout` seconds (then killed, with its process group) is an error that
///   names the command and shows the end of its output.
/// - `environment` is added to the command's environment: `hat` passes its own measurement
///   settings (`HAT_LENGTH`, `HAT_BEAM`, `HAT_WARMUP`, `HAT_ITERATIONS`, `HAT_THREADS`,
///   `HAT_COMMAND_OUTPUT`, and `HAT_SPACE`, `HAT_SRC_VOCAB`, `HAT_TGT_VOCAB` where given), so a measurer can follow the
///   options a dataset's provenance records instead of repeating them (the measurers in
///   measurers/ default to them).
public struct LatencyCommandSource: Sendable {
    public enum Output: String, Sendable, CaseIterable {
        /// One number: the total (encoder + decoder) milliseconds.
        case total
        /// Two numbers: encoder and decoder milliseconds.
        case encoderDecoder = "encoder-decoder"
        /// Four numbers: encoder and decoder milliseconds, the model's memory and the inference's
        /// peak memory (model included), MB.
        case encoderDecoderMemory = "encoder-decoder-memory"

        /// How many numbers the last line must end with.
        var count: Int {
            switch self {
            case .total: return 1
            case .encoderDecoder: return 2
            case .encoderDecoderMemory: return 4
            }
        }

        var expectedNumbers: String {
            switch self {
            case .total: return "number"
            case .encoderDecoder: return "two numbers (encoder and decoder ms)"
            case .encoderDecoderMemory: return "four numbers (encoder ms, decoder ms, model MB, peak MB)"
            }
        }
    }

    /// What the command printed: milliseconds (with `.total` output the encoder part is 0 and the
    /// decoder part is the total), and the memory with `.encoderDecoderMemory` output.
    public struct Reading: Sendable, Equatable {
        public var encoderMs: Double
        public var decoderMs: Double
        public var memory: LatencyRow.Memory?
    }

    public var command: String
    public var timeout: TimeInterval
    public var output: Output
    /// Variables added to the command's environment (replacing inherited ones of the same name).
    public var environment: [String: String]

    public init(command: String, timeout: TimeInterval = 600, output: Output = .total, environment: [String: String] = [:]) {
        self.command = command
        self.timeout = timeout
        self.output = output
        self.environment = environment
    }

    /// The variables `hat` hands a measuring command: its measurement settings.
    public static func settingsEnvironment(
        length: Int, beam: Int, warmup: Int, iterations: Int, threads: Int, space: String?, sourceVocab: Int?, targetVocab: Int?
    ) -> [String: String] {
        var e = [
            "HAT_LENGTH": String(length), "HAT_BEAM": String(beam), "HAT_WARMUP": String(warmup),
            "HAT_ITERATIONS": String(iterations), "HAT_THREADS": String(threads),
        ]
        if let space { e["HAT_SPACE"] = space }
        if let sourceVocab { e["HAT_SRC_VOCAB"] = String(sourceVocab) }
        if let targetVocab { e["HAT_TGT_VOCAB"] = String(targetVocab) }
        return e
    }

    /// The script `/bin/sh -c` runs: the user's command with the placeholder as `"$1"`.
    public var script: String {
        guard command.contains("{}") else { return command + " \"$1\"" }
        // A placeholder the user quoted already is replaced with its quotes.
        return command.replacingOccurrences(of: "'{}'", with: "\"$1\"").replacingOccurrences(of: "\"{}\"", with: "\"$1\"")
            .replacingOccurrences(of: "{}", with: "\"$1\"")
    }

    /// The command as a person would type it for one YAML file (for messages only; what runs is
    /// `script` with the path as `$1`).
    public func commandLine(for yamlPath: String) -> String {
        script.replacingOccurrences(of: "\"$1\"", with: Self.shellQuoted(yamlPath))
    }

    /// Runs the command on `yamlPath` and reads what it printed.
    public func measure(yamlPath: String) throws -> Reading {
        let line = commandLine(for: yamlPath)
        // The output it must print, so that a measurer prints memory only when it is read as memory.
        let result = try Self.run(
            script, arguments: [yamlPath], environment: environment.merging(["HAT_COMMAND_OUTPUT": output.rawValue]) { $1 },
            timeout: timeout)
        let shown = "latency command `\(line)`"
        if result.timedOut {
            throw LatencyCommandError(
                "\(shown) did not finish within \(Self.format(timeout)) s and was killed"
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
            throw LatencyCommandError(
                "\(shown) printed nothing on stdout; it must print the latency in milliseconds"
                    + Self.tail(result.stdout, result.stderr))
        }
        let numbers = Self.numbers(in: lastLine)
        guard numbers.count >= output.count else {
            throw LatencyCommandError("\(shown): no \(output.expectedNumbers) on its last non-empty line of stdout: \"\(lastLine)\"")
        }
        let values = Array(numbers.suffix(output.count))
        for (i, v) in values.enumerated() where !(v.isFinite && v >= 0) {
            let what = i < 2 ? "a latency in milliseconds" : "a memory size in MB"
            throw LatencyCommandError("\(shown) printed \(v), not \(what): \"\(lastLine)\"")
        }
        switch output {
        case .total: return Reading(encoderMs: 0, decoderMs: values[0])
        case .encoderDecoder: return Reading(encoderMs: values[0], decoderMs: values[1])
        case .encoderDecoderMemory:
            return Reading(encoderMs: values[0], decoderMs: values[1], memory: LatencyRow.Memory(modelMB: values[2], peakMB: values[3]))
        }
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
                if k > fracStart || digits > 0 {
                    digits += k - fracStart
                    j = k
                }
            }
            if digits == 0 {
                i = start + 1
                continue
            }
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
                start > 0, chars[start - 1].properties.isAlphabetic || isDigit(start - 1)
            {
                from = start + 1
            }
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

    /// Runs `/bin/sh -c script hat-latency arguments…` in its own process group; kills the group
    /// after `timeout` seconds, and when `hat` gets SIGINT, SIGTERM or SIGHUP.
    static func run(
        _ script: String, arguments: [String] = [], environment: [String: String] = [:], timeout: TimeInterval
    ) throws
        -> RunResult
    {
        installSignalForwarding()
        let outPipe = Pipe(), errPipe = Pipe()
        var actions: posix_spawn_file_actions_t = Self.makeFileActions()
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, outPipe.fileHandleForWriting.fileDescriptor, 1)
        posix_spawn_file_actions_adddup2(&actions, errPipe.fileHandleForWriting.fileDescriptor, 2)
        posix_spawn_file_actions_addclose(&actions, outPipe.fileHandleForReading.fileDescriptor)
        posix_spawn_file_actions_addclose(&actions, errPipe.fileHandleForReading.fileDescriptor)
        var attributes: posix_spawnattr_t = Self.makeAttributes()
        defer { posix_spawnattr_destroy(&attributes) }
        // Its own process group (killed as a whole), no blocked signals and default handlers for
        // the ones that stop it, whatever `hat` itself inherited (a parent may block SIGTERM).
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        posix_spawnattr_setpgroup(&attributes, 0)
        var noSignals = sigset_t(), stopping = sigset_t()
        sigemptyset(&noSignals)
        sigemptyset(&stopping)
        for sig in [SIGINT, SIGTERM, SIGHUP, SIGPIPE, SIGQUIT] { sigaddset(&stopping, sig) }
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        posix_spawnattr_setsigdefault(&attributes, &stopping)
        let argv: [String] = ["/bin/sh", "-c", script, "hat-latency"] + arguments
        var cArgs = argv.map { strdup($0) } + [nil]
        defer { for p in cArgs { free(p) } }
        // This process's environment, with `environment`'s variables replacing any of their names.
        var inherited: [String] = []
        var entry = environ
        while let p = entry.pointee {
            let text = String(cString: p)
            if let name = text.split(separator: "=", maxSplits: 1).first, environment[String(name)] == nil { inherited.append(text) }
            entry += 1
        }
        var cEnv = (inherited + environment.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }).map { strdup($0) } + [nil]
        defer { for p in cEnv { free(p) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, "/bin/sh", &actions, &attributes, &cArgs, &cEnv)
        try? outPipe.fileHandleForWriting.close()
        try? errPipe.fileHandleForWriting.close()
        guard rc == 0 else {
            throw LatencyCommandError("cannot start /bin/sh for the latency command: \(String(cString: strerror(rc)))")
        }
        runningCommandGroup = pid
        defer { runningCommandGroup = 0 }
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
        var waitError: Int32?
        while true {
            let r = waitpid(pid, &status, WNOHANG)
            if r == pid { break }
            if r < 0 && errno != EINTR {
                waitError = errno  // the command's fate is unknown: never read as "exit 0"
                kill(-pid, SIGKILL)
                break
            }
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
        if let waitError {
            throw LatencyCommandError("lost track of the latency command (waitpid: \(String(cString: strerror(waitError)))); it was stopped")
        }
        let exited = (status & 0x7f) == 0
        return RunResult(
            status: exited ? (status >> 8) & 0xff : -1, signal: exited ? nil : status & 0x7f,
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

/// The process group of the latency command running now (0: none), read by the signal handler.
nonisolated(unsafe) private var runningCommandGroup: pid_t = 0
nonisolated(unsafe) private var signalForwardingInstalled = false

/// On SIGINT, SIGTERM or SIGHUP: end the running command's process group, then die of the same
/// signal as before (the handler only does async-signal-safe calls).
private func installSignalForwarding() {
    guard !signalForwardingInstalled else { return }
    signalForwardingInstalled = true
    // A parent may have started `hat` with these blocked (threads of a thread pool block signals,
    // and children inherit the mask): this thread takes them.
    var forwarded = sigset_t()
    sigemptyset(&forwarded)
    for sig in [SIGINT, SIGTERM, SIGHUP] { sigaddset(&forwarded, sig) }
    pthread_sigmask(SIG_UNBLOCK, &forwarded, nil)
    for sig in [SIGINT, SIGTERM, SIGHUP] {
        signal(sig) { received in
            let group = runningCommandGroup
            if group > 0 { kill(-group, SIGTERM) }
            signal(received, SIG_DFL)
            raise(received)
        }
    }
}
