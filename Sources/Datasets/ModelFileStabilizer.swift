import Foundation

/// Makes a trained SentencePiece model file byte-identical across runs.
///
/// SentencePiece stores its training options in the model (`ModelProto.trainer_spec`),
/// including the training input path and the model prefix; `prepare` trains inside a temporary
/// folder with a random name, so two identical runs would write different bytes. The pieces and
/// scores themselves are deterministic (checked for BPE and unigram). This rewrites
/// `trainer_spec.input` (field 1) and `trainer_spec.model_prefix` (field 2) to their file names,
/// editing the protobuf wire format directly (the Debian package ships no .proto headers).
enum ModelFileStabilizer {
    struct Malformed: Error {}

    static func stabilize(modelPath: String) throws {
        let url = URL(fileURLWithPath: modelPath)
        let bytes = [UInt8](try Data(contentsOf: url))
        guard let rewritten = try? rewrite(bytes, message: .model) else {
            throw DataError.vocabulary("\(modelPath): unexpected model file layout")
        }
        if rewritten != bytes { try AtomicFile.write(Data(rewritten), to: modelPath) }
    }

    enum Message { case model, trainerSpec }

    /// Copies `bytes` field by field; in a ModelProto, rewrites field 2 (trainer_spec); in a
    /// TrainerSpec, replaces the strings of fields 1 and 2 by their last path component.
    static func rewrite(_ bytes: [UInt8], message: Message) throws -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var i = 0
        while i < bytes.count {
            let key = try readVarint(bytes, &i)
            let field = key >> 3, wireType = key & 7
            switch wireType {
            case 0:
                let v = try readVarint(bytes, &i)
                writeVarint(key, into: &out)
                writeVarint(v, into: &out)
            case 1, 5:
                let n = wireType == 1 ? 8 : 4
                guard i + n <= bytes.count else { throw Malformed() }
                writeVarint(key, into: &out)
                out += bytes[i..<(i + n)]
                i += n
            case 2:
                let length = Int(try readVarint(bytes, &i))
                guard length >= 0, i + length <= bytes.count else { throw Malformed() }
                var payload = Array(bytes[i..<(i + length)])
                i += length
                if message == .model && field == 2 {
                    payload = try rewrite(payload, message: .trainerSpec)
                } else if message == .trainerSpec && (field == 1 || field == 2) {
                    let path = String(decoding: payload, as: UTF8.self)
                    payload = Array(URL(fileURLWithPath: path).lastPathComponent.utf8)
                }
                writeVarint(key, into: &out)
                writeVarint(UInt64(payload.count), into: &out)
                out += payload
            default:
                throw Malformed()
            }
        }
        return out
    }

    static func readVarint(_ bytes: [UInt8], _ i: inout Int) throws -> UInt64 {
        var value: UInt64 = 0, shift: UInt64 = 0
        while true {
            guard i < bytes.count, shift < 64 else { throw Malformed() }
            let b = bytes[i]
            i += 1
            value |= UInt64(b & 0x7f) << shift
            if b & 0x80 == 0 { return value }
            shift += 7
        }
    }

    static func writeVarint(_ value: UInt64, into out: inout [UInt8]) {
        var v = value
        while v >= 0x80 {
            out.append(UInt8(v & 0x7f) | 0x80)
            v >>= 7
        }
        out.append(UInt8(v))
    }
}
