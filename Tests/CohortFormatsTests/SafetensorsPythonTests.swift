import Cohort
import CohortFormats
import Foundation
import XCTest

/// Interoperability with the reference implementation (`pip install safetensors numpy`);
/// skipped, with the reason printed, when Python or the package is missing.
final class SafetensorsPythonTests: XCTestCase {
    func testPythonReadsWhatWeWrite() throws {
        try requirePythonModule("safetensors")
        try requirePythonModule("numpy")
        let url = try makeTemporaryDirectory(self).appendingPathComponent("ours.safetensors")
        try Safetensors.write([
            "w": SafetensorsTensor(try Tensor(shape: [2, 3], scalars: [0.5, -1.25, 3e-8, 4, 5, 6.75])),
            "steps": try SafetensorsTensor(shape: [2], values: [Int64(-5), 1 << 40]),
            "idx": try SafetensorsTensor(shape: [3], values: [Int32(7), -8, 9]),
            "bytes": try SafetensorsTensor(shape: [2], values: [UInt8(200), 3]),
            "q": try SafetensorsTensor(shape: [1, 2], values: [Int8(-100), 100]),
        ], metadata: ["epoch": "3", "model": "mlp"], to: url)
        let script = """
        import sys, json
        from safetensors.numpy import load_file
        from safetensors import safe_open
        t = load_file(sys.argv[1])
        with safe_open(sys.argv[1], framework="numpy") as f:
            meta = f.metadata()
        print(json.dumps({k: {"dtype": str(v.dtype), "shape": list(v.shape), "values": v.ravel().tolist()} for k, v in t.items()} | {"__meta": meta}, sort_keys=True))
        """
        let (status, output) = try runPython(script, [url.path])
        XCTAssertEqual(status, 0, output)
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any], output)
        func field(_ name: String) -> [String: Any] { json[name] as? [String: Any] ?? [:] }
        XCTAssertEqual(field("w")["dtype"] as? String, "float32")
        XCTAssertEqual(field("w")["shape"] as? [Int], [2, 3])
        XCTAssertEqual((field("w")["values"] as? [Double])?.map(Float.init), [0.5, -1.25, 3e-8, 4, 5, 6.75])
        XCTAssertEqual(field("steps")["dtype"] as? String, "int64")
        XCTAssertEqual(field("steps")["values"] as? [Int], [-5, 1 << 40])
        XCTAssertEqual(field("idx")["dtype"] as? String, "int32")
        XCTAssertEqual(field("idx")["values"] as? [Int], [7, -8, 9])
        XCTAssertEqual(field("bytes")["dtype"] as? String, "uint8")
        XCTAssertEqual(field("bytes")["values"] as? [Int], [200, 3])
        XCTAssertEqual(field("q")["dtype"] as? String, "int8")
        XCTAssertEqual(field("q")["shape"] as? [Int], [1, 2])
        XCTAssertEqual(field("q")["values"] as? [Int], [-100, 100])
        XCTAssertEqual(json["__meta"] as? [String: String], ["epoch": "3", "model": "mlp"])
    }

    func testWeReadWhatPythonWrites() throws {
        try requirePythonModule("safetensors")
        try requirePythonModule("numpy")
        let url = try makeTemporaryDirectory(self).appendingPathComponent("theirs.safetensors")
        let script = """
        import sys, numpy as np
        from safetensors.numpy import save_file
        save_file({
            "a": np.arange(12, dtype=np.float32).reshape(3, 4) / 8,
            "b": np.array([-3, 2**40], dtype=np.int64),
            "c": np.array([[1, -2]], dtype=np.int32),
            "d": np.array([255, 0, 7], dtype=np.uint8),
            "e": np.array([-128], dtype=np.int8),
            "s": np.array(2.5, dtype=np.float32),
        }, sys.argv[1], metadata={"source": "python"})
        """
        let (status, output) = try runPython(script, [url.path])
        XCTAssertEqual(status, 0, output)
        let file = try Safetensors.read(from: url)
        XCTAssertEqual(file.metadata, ["source": "python"])
        XCTAssertEqual(file.names, ["a", "b", "c", "d", "e", "s"])
        XCTAssertEqual(try file.floatTensor("a").shape, [3, 4])
        XCTAssertEqual(try file.floatTensor("a").scalars, (0..<12).map { Float($0) / 8 })
        XCTAssertEqual(try file.tensor("b").values(as: Int64.self), [-3, 1 << 40])
        XCTAssertEqual(try file.tensor("c").shape, [1, 2])
        XCTAssertEqual(try file.tensor("c").values(as: Int32.self), [1, -2])
        XCTAssertEqual(try file.tensor("d").values(as: UInt8.self), [255, 0, 7])
        XCTAssertEqual(try file.tensor("e").values(as: Int8.self), [-128])
        XCTAssertEqual(try file.floatTensor("s").shape, [])
        XCTAssertEqual(try file.floatTensor("s").item, 2.5)
    }
}
