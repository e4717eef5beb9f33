import Foundation

/// The parts of ONNX's protobuf schema (onnx/onnx.proto, IR version 8) that an inference graph
/// of a Transformer needs, serialized with `ProtobufWriter`. Field numbers are onnx.proto's.
public enum ONNX {
    /// TensorProto.DataType
    public enum ElementType: Int, Sendable {
        case float = 1, uint8 = 2, int64 = 7, bool = 9
    }

    /// A constant tensor (an initializer): float32 or int64 values, little-endian raw data.
    public struct TensorValue {
        public var name: String
        public var shape: [Int]
        public var type: ElementType
        public var raw: [UInt8]

        public init(name: String, shape: [Int], floats: [Float]) {
            precondition(shape.reduce(1, *) == floats.count, "\(name): \(floats.count) values for shape \(shape)")
            self.name = name
            self.shape = shape
            type = .float
            raw = floats.withUnsafeBytes { Array($0) }  // little-endian on every platform Swift runs on here
        }

        public init(name: String, shape: [Int], int64s: [Int64]) {
            precondition(shape.reduce(1, *) == int64s.count, "\(name): \(int64s.count) values for shape \(shape)")
            self.name = name
            self.shape = shape
            type = .int64
            raw = int64s.withUnsafeBytes { Array($0) }
        }

        public init(name: String, shape: [Int], uint8s: [UInt8]) {
            precondition(shape.reduce(1, *) == uint8s.count, "\(name): \(uint8s.count) values for shape \(shape)")
            self.name = name
            self.shape = shape
            type = .uint8
            raw = uint8s
        }

        func write(_ w: inout ProtobufWriter) {
            w.ints(1, shape)  // dims
            w.int(2, type.rawValue)  // data_type
            w.string(8, name)  // name
            w.bytes(9, raw)  // raw_data
        }
    }

    /// A node attribute (AttributeProto; type: FLOAT 1, INT 2, STRING 3, TENSOR 4, INTS 7).
    public enum Attribute {
        case int(String, Int)
        case float(String, Float)
        case ints(String, [Int])
        case string(String, String)
        case tensor(String, TensorValue)

        func write(_ w: inout ProtobufWriter) {
            switch self {
            case let .int(name, v):
                w.string(1, name)
                w.int(20, 2)
                w.int(3, v)
            case let .float(name, v):
                w.string(1, name)
                w.int(20, 1)
                w.float(2, v)
            case let .ints(name, v):
                w.string(1, name)
                w.int(20, 7)
                w.ints(8, v)
            case let .string(name, v):
                w.string(1, name)
                w.int(20, 3)
                w.string(4, v)
            case let .tensor(name, t):
                w.string(1, name)
                w.int(20, 4)
                w.message(5) { t.write(&$0) }
            }
        }
    }

    public struct Node {
        public var opType: String
        public var inputs: [String]
        public var outputs: [String]
        public var name: String
        public var attributes: [Attribute]

        func write(_ w: inout ProtobufWriter) {
            for i in inputs { w.string(1, i) }
            for o in outputs { w.string(2, o) }
            w.string(3, name)
            w.string(4, opType)
            for a in attributes { w.message(5) { a.write(&$0) } }
        }
    }

    /// A graph input or output: element type and shape, each dimension a number or a name
    /// (a symbolic size such as "batch").
    public struct ValueInfo {
        public enum Dimension { case fixed(Int), symbolic(String) }
        public var name: String
        public var type: ElementType
        public var shape: [Dimension]
        public var doc: String

        public init(name: String, type: ElementType, shape: [Dimension], doc: String = "") {
            self.name = name
            self.type = type
            self.shape = shape
            self.doc = doc
        }

        func write(_ w: inout ProtobufWriter) {
            w.string(1, name)
            w.message(2) { typeProto in  // TypeProto
                typeProto.message(1) { tensorType in  //   .tensor_type
                    tensorType.int(1, type.rawValue)  //     .elem_type
                    tensorType.message(2) { shapeProto in  //     .shape
                        for d in shape {
                            shapeProto.message(1) { dim in  //       .dim
                                switch d {
                                case let .fixed(n): dim.int(1, n)  //         .dim_value
                                case let .symbolic(s): dim.string(2, s)  //     .dim_param
                                }
                            }
                        }
                    }
                }
            }
            if !doc.isEmpty { w.string(3, doc) }
        }
    }

    public struct Graph {
        public var name: String
        public var nodes: [Node] = []
        public var initializers: [TensorValue] = []
        public var inputs: [ValueInfo] = []
        public var outputs: [ValueInfo] = []
        public var doc: String = ""

        public init(name: String) { self.name = name }
    }

    /// Opset of the default domain the graphs are written for: 17 is the first with
    /// LayerNormalization, and onnxruntime and every current converter read it.
    public static let opsetVersion = 17
    /// IR version 8 goes with opset 17 (onnx/docs/Versioning.md).
    public static let irVersion = 8

    /// A serialized ModelProto holding `graph`; `metadata` goes to metadata_props.
    public static func serialize(_ graph: Graph, producerVersion: String, metadata: [(String, String)] = []) -> [UInt8] {
        var w = ProtobufWriter()
        w.int(1, irVersion)  // ir_version
        w.string(2, "hat")  // producer_name
        w.string(3, producerVersion)  // producer_version
        w.message(7) { g in  // graph
            for n in graph.nodes { g.message(1) { n.write(&$0) } }
            g.string(2, graph.name)
            for t in graph.initializers { g.message(5) { t.write(&$0) } }
            if !graph.doc.isEmpty { g.string(10, graph.doc) }
            for i in graph.inputs { g.message(11) { i.write(&$0) } }
            for o in graph.outputs { g.message(12) { o.write(&$0) } }
        }
        w.message(8) { opset in  // opset_import
            opset.string(1, "")
            opset.int(2, opsetVersion)
        }
        for (k, v) in metadata {
            w.message(14) { entry in
                entry.string(1, k)
                entry.string(2, v)
            }  // metadata_props
        }
        return w.bytes
    }
}
