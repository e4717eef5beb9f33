import Foundation

/// An error in how a command was called that is found while it runs (a wrong output path, a
/// missing input): printed as `Error: message`, without the usage text.
struct CommandError: Error, CustomStringConvertible, LocalizedError {
    let description: String
    init(_ message: String) { description = message }
    var errorDescription: String? { description }
}

/// Checks of output paths made before any work starts, so that a wrong path fails at once and
/// names its option, not after an hour of training with a Foundation error.
enum OutputPath {
    /// A folder the command creates or writes into: an existing folder, or a path whose nearest
    /// existing ancestor is a folder (the rest is created).
    static func checkFolder(_ path: String, option: String) throws {
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        if fm.fileExists(atPath: path, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else { throw CommandError("\(option) \(path) is a file: give a folder (it is created when missing)") }
            guard fm.isWritableFile(atPath: path) else { throw CommandError("\(option) \(path) is not writable") }
            return
        }
        var ancestor = URL(fileURLWithPath: path).deletingLastPathComponent()
        while !fm.fileExists(atPath: ancestor.path, isDirectory: &isDirectory) { ancestor = ancestor.deletingLastPathComponent() }
        guard isDirectory.boolValue else { throw CommandError("\(option) \(path) cannot be created: \(ancestor.path) is a file") }
        guard fm.isWritableFile(atPath: ancestor.path) else {
            throw CommandError("\(option) \(path) cannot be created: \(ancestor.path) is not writable")
        }
    }

    /// A file the command writes: not a folder, in a folder that exists.
    static func checkFile(_ path: String, option: String) throws {
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        if fm.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
            throw CommandError("\(option) \(path) is a folder: give a file name")
        }
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
        guard fm.fileExists(atPath: folder, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw CommandError("\(option) \(path): the folder \(folder) does not exist; create it first")
        }
        guard fm.isWritableFile(atPath: folder) else { throw CommandError("\(option) \(path): the folder \(folder) is not writable") }
    }
}
