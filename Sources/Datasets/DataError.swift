import Foundation

/// Everything that can go wrong in the data stage, each with a message a user can act on:
/// what was wrong, where (file, line), and what to do.
public enum DataError: Error, Equatable, CustomStringConvertible, LocalizedError {
    /// An input file does not exist.
    case missingFile(path: String)
    /// An input file exists but cannot be read (permissions, a folder, a corrupt gzip stream).
    case unreadableFile(path: String, reason: String)
    /// A line is not valid UTF-8 (`line` is 1-based).
    case invalidUTF8(path: String, line: Int)
    /// The two sides of a parallel corpus have different numbers of lines.
    case lineCountMismatch(sourcePath: String, sourceLines: Int, targetPath: String, targetLines: Int)
    /// SentencePiece refused to train (its message, with advice where one is known).
    case vocabularyTraining(String)
    /// A SentencePiece model could not be loaded or used.
    case vocabulary(String)
    /// A binarized dataset or manifest is malformed.
    case corruptDataset(path: String, reason: String)
    /// The output folder exists and is not a dataset this tool wrote.
    case outputNotADataset(path: String)
    /// A command-line or API argument is invalid.
    case invalidArgument(String)
    /// A sentence is longer than the whole token budget of a batch.
    case sentenceExceedsBudget(index: Int, tokens: Int, maxTokens: Int)
    /// Downloading a file failed.
    case download(url: String, reason: String)
    /// Any other I/O failure while writing outputs.
    case io(path: String, reason: String)

    public var description: String {
        switch self {
        case .missingFile(let path):
            return "input file not found: \(path)"
        case .unreadableFile(let path, let reason):
            return "cannot read \(path): \(reason)"
        case .invalidUTF8(let path, let line):
            return "\(path): line \(line) is not valid UTF-8; convert the file to UTF-8 (e.g. iconv) and rerun"
        case .lineCountMismatch(let s, let sn, let t, let tn):
            func lines(_ n: Int) -> String { n == 1 ? "1 line" : "\(n) lines" }
            return "parallel files are not line-aligned: \(s) has \(lines(sn)) but \(t) has \(lines(tn))"
        case .vocabularyTraining(let message):
            return "SentencePiece training failed: \(message)"
        case .vocabulary(let message):
            return "SentencePiece: \(message)"
        case .corruptDataset(let path, let reason):
            return "\(path): not a valid hat dataset file (\(reason)); rerun `hat data prepare`"
        case .outputNotADataset(let path):
            return "output folder \(path) exists and is not one hat wrote (only an empty folder, or one holding nothing but "
                + "the files its manifest.json names, is replaced); choose another --out, or move your files out of it"
        case .invalidArgument(let message):
            return message
        case .sentenceExceedsBudget(let index, let tokens, let maxTokens):
            return "sentence \(index) has \(tokens) tokens, more than the batch budget of \(maxTokens) tokens; "
                + "raise max-tokens, filter long sentences when preparing (--max-length), or skip oversized sentences"
        case .download(let url, let reason):
            return "download of \(url) failed: \(reason). Without internet access, pass a folder with the files (--from DIR)"
        case .io(let path, let reason):
            return "\(path): \(reason)"
        }
    }

    public var errorDescription: String? { description }
}
