import Foundation

/// This process's resident memory as Linux reports it (/proc/self/status), for measuring the
/// memory of one inference (`hat latency measure --memory`, THANOS's memory constraint).
public enum ResidentMemory {
    /// VmRSS (resident now) and VmHWM (the most resident since the process started or since
    /// `resetPeak`), in bytes; nil where /proc/self/status is not there (macOS).
    public static func current() -> (resident: Int, peak: Int)? {
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
        var resident: Int?, peak: Int?
        for line in text.split(separator: "\n") {
            let parts = line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == ":" })
            guard parts.count >= 2, let kB = Int(parts[1]) else { continue }
            if parts[0] == "VmRSS" { resident = kB * 1024 }
            if parts[0] == "VmHWM" { peak = kB * 1024 }
        }
        guard let resident, let peak else { return nil }
        return (resident, peak)
    }

    /// Sets VmHWM to the current VmRSS (writing 5 to /proc/self/clear_refs, Linux 4.0 and later),
    /// so the next `current().peak` is the most resident from now on. False when it could not.
    public static func resetPeak() -> Bool {
        guard let handle = FileHandle(forWritingAtPath: "/proc/self/clear_refs") else { return false }
        defer { try? handle.close() }
        do { try handle.write(contentsOf: Data("5".utf8)) } catch { return false }
        return true
    }
}
