import Foundation

/// The protobuf wire format, write side only: enough to serialize ONNX's messages
/// (https://protobuf.dev/programming-guides/encoding/). Fields are written in the order they
/// are added; a nested message is serialized first and then written as a length-delimited field.
struct ProtobufWriter {
    private(set) var bytes: [UInt8] = []

    private enum WireType: UInt64 {
        case varint = 0, fixed32 = 5, lengthDelimited = 2
    }

    private mutating func tag(_ field: Int, _ type: WireType) { varint(UInt64(field) << 3 | type.rawValue) }

    private mutating func varint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            bytes.append(UInt8(v & 0x7F) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    /// int64 / int32 / enum field (negative values as ten-byte two's complement, as protobuf does).
    mutating func int(_ field: Int, _ value: Int) {
        tag(field, .varint)
        varint(UInt64(bitPattern: Int64(value)))
    }

    mutating func float(_ field: Int, _ value: Float) {
        tag(field, .fixed32)
        withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes.append(contentsOf: $0) }
    }

    mutating func bytes(_ field: Int, _ value: [UInt8]) {
        tag(field, .lengthDelimited)
        varint(UInt64(value.count))
        bytes.append(contentsOf: value)
    }

    mutating func string(_ field: Int, _ value: String) { bytes(field, Array(value.utf8)) }

    mutating func message(_ field: Int, _ build: (inout ProtobufWriter) -> Void) {
        var nested = ProtobufWriter()
        build(&nested)
        bytes(field, nested.bytes)
    }

    /// A repeated int64 field, one tag per value (onnx.proto is proto2 without `packed`).
    mutating func ints(_ field: Int, _ values: [Int]) {
        for v in values { int(field, v) }
    }
}
