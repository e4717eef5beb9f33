import Foundation
import Logging
import Model

/// Prints a warning on standard error for every key of the given HAT YAML files that no part of
/// hat reads (a typo such as `encoder-embd-dim-subtransformer` would otherwise pass unnoticed and
/// its default be used). Files that cannot be read are left to the command's own error.
func warnAboutUnknownKeys(in paths: [String?]) {
    for path in paths.compactMap({ $0 }) {
        if let file = try? HATConfigFile(path: path) { warnAboutUnknownKeys(in: file) }
    }
}

/// The same for a file the command has already read.
func warnAboutUnknownKeys(in file: HATConfigFile) {
    for w in file.unknownKeyWarnings() {
        diagnostics.warning("\(w.hasPrefix("warning: ") ? String(w.dropFirst("warning: ".count)) : w)")
    }
}
