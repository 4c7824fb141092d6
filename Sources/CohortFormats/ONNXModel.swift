/// An ONNX model written by hand in protobuf's wire format (field numbers from onnx.proto), so no
/// protobuf library is needed: a graph of nodes over named values, constant tensors
/// (initializers), one input and one output, for one opset of the default domain.
public struct ONNXModel {
    /// ONNX element types (TensorProto.DataType).
    public enum ElementType: Int64 {
        case float = 1, uint8 = 2, int8 = 3, int32 = 6, int64 = 7
    }

    /// An attribute of a node (AttributeProto), tagged with its AttributeType.
    public enum Attribute {
        case float(String, Float)
        case int(String, Int64)
        case ints(String, [Int64])
    }

    public struct Node {
        public let op: String
        public let inputs: [String]
        public let outputs: [String]
        public let name: String
        public let attributes: [Attribute]
    }

    /// A named constant tensor in little-endian raw bytes.
    public struct Initializer {
        public let name: String
        public let type: ElementType
        public let dims: [Int]
        public let raw: [UInt8]
    }

    /// A graph input or output: a name, an element type, and its shape (nil: a symbolic dimension).
    public struct Value {
        public let name: String
        public let type: ElementType
        public let shape: [Int?]

        public init(name: String, type: ElementType, shape: [Int?]) {
            self.name = name
            self.type = type
            self.shape = shape
        }
    }

    public var name: String
    public var opset: Int
    public private(set) var nodes: [Node] = []
    public private(set) var initializers: [Initializer] = []
    public var inputs: [Value] = []
    public var outputs: [Value] = []
    public var producer = "cohort"
    private var counter = 0

    public init(name: String, opset: Int) {
        self.name = name
        self.opset = opset
    }

    /// Adds a node and returns its output's name, made unique from `hint`.
    @discardableResult
    public mutating func add(_ op: String, _ inputs: [String], attributes: [Attribute] = [], hint: String? = nil) -> String {
        add(op, inputs, attributes: attributes, outputs: 1, hint: hint)[0]
    }

    /// Adds a node with `outputs` outputs and returns their names.
    public mutating func add(_ op: String, _ inputs: [String], attributes: [Attribute] = [], outputs: Int, hint: String? = nil) -> [String] {
        counter += 1
        let base = (hint ?? op.lowercased()) + "_\(counter)"
        let names = outputs == 1 ? [base] : (0..<outputs).map { "\(base)_\($0)" }
        nodes.append(Node(op: op, inputs: inputs, outputs: names, name: "\(op)_\(counter)", attributes: attributes))
        return names
    }

    /// Adds a node whose outputs are named by the caller (the graph's output, say).
    public mutating func add(_ op: String, _ inputs: [String], attributes: [Attribute] = [], named outputs: [String]) {
        counter += 1
        nodes.append(Node(op: op, inputs: inputs, outputs: outputs, name: "\(op)_\(counter)", attributes: attributes))
    }

    /// Adds a constant and returns its name.
    @discardableResult
    public mutating func constant(_ name: String, _ values: [Float], dims: [Int]) -> String {
        initializers.append(Initializer(name: name, type: .float, dims: dims, raw: values.withUnsafeBytes { Array($0) }))
        return name
    }

    @discardableResult
    public mutating func constant(_ name: String, int8 values: [Int8], dims: [Int]) -> String {
        initializers.append(Initializer(name: name, type: .int8, dims: dims, raw: values.withUnsafeBytes { Array($0) }))
        return name
    }

    @discardableResult
    public mutating func constant(_ name: String, int32 values: [Int32], dims: [Int]) -> String {
        initializers.append(Initializer(name: name, type: .int32, dims: dims, raw: values.withUnsafeBytes { Array($0) }))
        return name
    }

    @discardableResult
    public mutating func constant(_ name: String, int64 values: [Int64], dims: [Int]) -> String {
        initializers.append(Initializer(name: name, type: .int64, dims: dims, raw: values.withUnsafeBytes { Array($0) }))
        return name
    }

    /// The serialised ModelProto.
    public func encoded() -> [UInt8] {
        var graph = ProtobufEncoder()
        for node in nodes { graph.message(1, Self.encode(node)) }          // GraphProto.node
        graph.string(2, name)                                              // GraphProto.name
        for t in initializers { graph.message(5, Self.encode(t)) }         // GraphProto.initializer
        for v in inputs { graph.message(11, Self.encode(v)) }              // GraphProto.input
        for v in outputs { graph.message(12, Self.encode(v)) }             // GraphProto.output

        var opsetID = ProtobufEncoder()
        opsetID.string(1, "")                                              // OperatorSetIdProto.domain (the default one)
        opsetID.int64(2, Int64(opset))                                     // OperatorSetIdProto.version
        var model = ProtobufEncoder()
        model.int64(1, 8)                                                  // ModelProto.ir_version (IR 8: opsets up to 18)
        model.string(2, producer)                                          // ModelProto.producer_name
        model.message(7, graph.bytes)                                      // ModelProto.graph
        model.message(8, opsetID.bytes)                                    // ModelProto.opset_import
        return model.bytes
    }

    static func encode(_ node: Node) -> [UInt8] {
        var e = ProtobufEncoder()
        for i in node.inputs { e.string(1, i) }                            // NodeProto.input
        for o in node.outputs { e.string(2, o) }                           // NodeProto.output
        e.string(3, node.name)                                             // NodeProto.name
        e.string(4, node.op)                                               // NodeProto.op_type
        for a in node.attributes { e.message(5, encode(a)) }               // NodeProto.attribute
        return e.bytes
    }

    static func encode(_ attribute: Attribute) -> [UInt8] {
        var e = ProtobufEncoder()
        switch attribute {
        case let .float(name, v):
            e.string(1, name); e.float(2, v); e.int64(20, 1)               // name, f, type FLOAT
        case let .int(name, v):
            e.string(1, name); e.int64(3, v); e.int64(20, 2)               // name, i, type INT
        case let .ints(name, vs):
            e.string(1, name); for v in vs { e.int64(8, v) }; e.int64(20, 7)  // name, ints, type INTS
        }
        return e.bytes
    }

    static func encode(_ t: Initializer) -> [UInt8] {
        var e = ProtobufEncoder()
        for d in t.dims { e.int64(1, Int64(d)) }                           // TensorProto.dims
        e.int64(2, t.type.rawValue)                                        // TensorProto.data_type
        e.string(8, t.name)                                                // TensorProto.name
        e.message(9, t.raw)                                                // TensorProto.raw_data
        return e.bytes
    }

    static func encode(_ v: Value) -> [UInt8] {
        var shape = ProtobufEncoder()
        for d in v.shape {
            var dim = ProtobufEncoder()
            if let d { dim.int64(1, Int64(d)) } else { dim.string(2, "batch") }  // dim_value, or dim_param
            shape.message(1, dim.bytes)                                    // TensorShapeProto.dim
        }
        var tensor = ProtobufEncoder()
        tensor.int64(1, v.type.rawValue)                                   // TypeProto.Tensor.elem_type
        tensor.message(2, shape.bytes)                                     // TypeProto.Tensor.shape
        var type = ProtobufEncoder()
        type.message(1, tensor.bytes)                                      // TypeProto.tensor_type
        var e = ProtobufEncoder()
        e.string(1, v.name)                                                // ValueInfoProto.name
        e.message(2, type.bytes)                                           // ValueInfoProto.type
        return e.bytes
    }
}
