import XCTest

/// A checkpoint read by a 20-line numpy safetensors reader gives the same predictions as `cohort eval`.
final class PythonInteropTests: XCTestCase {
    static let script = #"""
    import gzip, json, struct, sys
    import numpy as np

    def read_safetensors(path):  # the format: u64 header length, JSON header, raw little-endian data
        raw = open(path, "rb").read()
        n = struct.unpack("<Q", raw[:8])[0]
        header = json.loads(raw[8:8 + n])
        data = raw[8 + n:]
        out = {}
        for name, t in header.items():
            if name == "__metadata__": continue
            b, e = t["data_offsets"]
            out[name] = np.frombuffer(data[b:e], dtype={"F32": "<f4", "I8": "i1"}[t["dtype"]]).reshape(t["shape"])
        return out, header.get("__metadata__", {})

    w, meta = read_safetensors(sys.argv[1])
    with gzip.open(sys.argv[2]) as f:
        x = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 784).astype(np.float32)
    x = (x / 255.0 - 0.2860) / 0.3530
    h = np.maximum(x @ w["1.weight"].T + w["1.bias"], 0)
    logits = h @ w["3.weight"].T + w["3.bias"]
    ours = logits.argmax(1)
    theirs = np.array([int(l) for l in open(sys.argv[3])])
    print(len(ours), int((ours != theirs).sum()), meta.get("format"))
    """#

    func testNumpyReadsTheCheckpointAndPredictsTheSame() throws {
        try XCTSkipUnless(CLI.hasFashionMNIST, "Fashion-MNIST is not installed")
        let probe = try CLI.run(["/usr/bin/env", "python3", "-c", "import numpy"])
        try XCTSkipUnless(probe.status == 0, "python3 with numpy is not available")
        let dir = try CLI.temporaryDirectory()
        let config = dir.appendingPathComponent("py.yaml")
        try CLI.smallConfig(name: "py", extra: "output: {directory: \(dir.path)}\n").write(to: config, atomically: true, encoding: .utf8)
        let r = try CLI.run(["cohort", "train", config.path, "--set", "training.max_steps=60", "--quiet"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let checkpoint = dir.appendingPathComponent("py/checkpoints/latest.safetensors").path
        let predictions = dir.appendingPathComponent("predictions.txt").path
        let e = try CLI.run(["cohort", "eval", checkpoint, "--predictions", predictions])
        XCTAssertEqual(e.status, 0, e.stderr)
        let script = dir.appendingPathComponent("check.py")
        try PythonInteropTests.script.write(to: script, atomically: true, encoding: .utf8)
        let p = try CLI.run(["/usr/bin/env", "python3", script.path, checkpoint,
                             "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz", predictions])
        XCTAssertEqual(p.status, 0, p.stderr)
        let fields = p.stdout.split(separator: " ").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
        XCTAssertEqual(fields.first, "10000", p.stdout)
        // Float32 sums in another order may flip a near-tie; anything more is a real difference.
        XCTAssertLessThanOrEqual(Int(fields[1]) ?? 99, 2, p.stdout)
        XCTAssertEqual(fields.last, "cohort-checkpoint-1")
    }
}
