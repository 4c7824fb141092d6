import Cohort
import CohortData
import XCTest

/// IDX files written here, plain and gzip, read back exactly; every defect gives a one-line error naming the file.
final class IDXReaderTests: XCTestCase {
    var directory = ""

    override func setUpWithError() throws { directory = try makeTemporaryDirectory(self) }

    func path(_ name: String) -> String { directory + "/" + name }

    /// Random pixels for `count` images of 4x5 and labels in 0..<10.
    func sampleData(count: Int) -> (pixels: [UInt8], labels: [UInt8]) {
        var random = RandomStream(seed: 7)
        let pixels = (0..<count * 20).map { _ in UInt8(random.below(256)) }
        let labels = (0..<count).map { _ in UInt8(random.below(10)) }
        return (pixels, labels)
    }

    func testPlainRoundTrip() throws {
        let (pixels, labels) = sampleData(count: 3)
        try writeFile(path("images"), idxBytes(dimensions: [3, 4, 5], payload: pixels))
        try writeFile(path("labels"), idxBytes(dimensions: [3], payload: labels))
        let images = try IDXFile.read(path: path("images"), rank: 3)
        XCTAssertEqual(images.dimensions, [3, 4, 5])
        XCTAssertEqual(images.bytes, pixels)
        let dataset = try Dataset.idx(images: path("images"), labels: path("labels"), classCount: 10)
        XCTAssertEqual(dataset.count, 3)
        XCTAssertEqual(dataset.sampleShape, [1, 4, 5])
        XCTAssertEqual(dataset.classCount, 10)
        XCTAssertEqual(dataset.labels, labels.map(Int32.init))
        XCTAssertEqual(dataset.rawValues(2), pixels[40..<60].map(Float.init))
        guard case let .uint8(stored) = dataset.storage.features else { return XCTFail("IDX pixels should stay bytes") }
        XCTAssertEqual(stored, pixels)
    }

    func testGzipRoundTripIncludingConcatenatedMembers() throws {
        let (pixels, labels) = sampleData(count: 50)
        let images = idxBytes(dimensions: [50, 4, 5], payload: pixels)
        try writeGzipFile(path("images.gz"), images)
        try writeGzipFile(path("labels.gz"), idxBytes(dimensions: [50], payload: labels))
        let dataset = try Dataset.idx(images: path("images.gz"), labels: path("labels.gz"), classCount: 10)
        XCTAssertEqual(dataset.count, 50)
        XCTAssertEqual(dataset.rawValues(49), pixels[980..<1000].map(Float.init))
        // `cat a.gz b.gz` is a valid gzip file whose content is a + b, as gzip -d reads it.
        let split = 333
        let joined = try gzipBytes(Array(images[..<split]), in: directory) + gzipBytes(Array(images[split...]), in: directory)
        try writeFile(path("joined.gz"), joined)
        XCTAssertEqual(try IDXFile.read(path: path("joined.gz"), rank: 3).bytes, pixels)
    }

    func testBadMagicWrongTypeAndWrongRank() throws {
        var bytes = idxBytes(dimensions: [2, 4, 5], payload: [UInt8](repeating: 1, count: 40))
        bytes[0] = 0x12; bytes[1] = 0x34
        try writeFile(path("magic"), bytes)
        assertThrows(try IDXFile.read(path: path("magic"), rank: 3), prefix: path("magic") + ": ",
                     "bad magic 0x12340803: not an IDX file (expected 0x00000803)")

        bytes[0] = 0; bytes[1] = 0; bytes[2] = 0x0d  // IDX float
        try writeFile(path("float"), bytes)
        assertThrows(try IDXFile.read(path: path("float"), rank: 3), prefix: path("float") + ": ",
                     "IDX data type 0xd is not supported")

        try writeFile(path("labels"), idxBytes(dimensions: [2], payload: [1, 2]))
        assertThrows(try IDXFile.read(path: path("labels"), rank: 3), prefix: path("labels") + ": ",
                     "bad magic 0x00000801: 1 dimensions where 3 are expected (0x00000803)")
    }

    func testTruncatedHeaderAndPayload() throws {
        try writeFile(path("tiny"), [0, 0])
        assertThrows(try IDXFile.read(path: path("tiny"), rank: 3), prefix: path("tiny") + ": ", "truncated: 2 bytes, too short for an IDX header")
        try writeFile(path("halfheader"), Array(idxBytes(dimensions: [2, 4, 5], payload: []).prefix(9)))
        assertThrows(try IDXFile.read(path: path("halfheader"), rank: 3), prefix: path("halfheader") + ": ",
                     "truncated: 9 bytes, too short for an IDX header with 3 dimensions (16 bytes)")

        let short = idxBytes(dimensions: [2, 4, 5], payload: [UInt8](repeating: 3, count: 39))
        try writeFile(path("short"), short)
        assertThrows(try IDXFile.read(path: path("short"), rank: 3), prefix: path("short") + ": ",
                     "truncated: header says 2x4x5 = 40 bytes, found 39")
        try writeGzipFile(path("short.gz"), short)
        assertThrows(try IDXFile.read(path: path("short.gz"), rank: 3), prefix: path("short.gz") + ": ",
                     "truncated: header says 2x4x5 = 40 bytes, found 39")

        // A header claiming far more than the file could hold is refused without allocating it.
        try writeFile(path("huge"), idxBytes(dimensions: [60000, 28, 28], payload: [1, 2, 3, 4, 5]))
        assertThrows(try IDXFile.read(path: path("huge"), rank: 3), prefix: path("huge") + ": ",
                     "truncated: header says 60000x28x28 = 47040000 bytes, found 5")
        try writeFile(path("overflow"), idxBytes(dimensions: [0xFFFF_FFFF, 0xFFFF_FFFF, 0xFFFF_FFFF], payload: []))
        assertThrows(try IDXFile.read(path: path("overflow"), rank: 3), prefix: path("overflow") + ": ", "overflow")

        try writeFile(path("labels"), idxBytes(dimensions: [5], payload: [1, 2]))
        assertThrows(try IDXFile.read(path: path("labels"), rank: 1), prefix: path("labels") + ": ",
                     "truncated: header says 5 = 5 bytes, found 2")
    }

    func testTrailingBytes() throws {
        let long = idxBytes(dimensions: [2, 4, 5], payload: [UInt8](repeating: 3, count: 43))
        try writeFile(path("long"), long)
        assertThrows(try IDXFile.read(path: path("long"), rank: 3), prefix: path("long") + ": ",
                     "3 trailing bytes after the 40 bytes the header describes (2x4x5)")
        try writeGzipFile(path("long.gz"), long)
        assertThrows(try IDXFile.read(path: path("long.gz"), rank: 3), prefix: path("long.gz") + ": ", "3 trailing bytes")
    }

    func testCorruptGzipStreams() throws {
        var random = RandomStream(seed: 3)
        let payload = (0..<4000).map { _ in UInt8(random.below(16)) }
        let gz = try gzipBytes(idxBytes(dimensions: [200, 4, 5], payload: payload), in: directory)

        try writeFile(path("cut.gz"), Array(gz.prefix(gz.count / 2)))
        assertThrows(try IDXFile.read(path: path("cut.gz"), rank: 3), prefix: path("cut.gz") + ": ",
                     "truncated gzip stream: the file ends inside compressed data")

        try writeFile(path("notrailer.gz"), Array(gz.dropLast(4)))
        assertThrows(try IDXFile.read(path: path("notrailer.gz"), rank: 3), prefix: path("notrailer.gz") + ": ", "truncated gzip stream")

        var badCRC = gz
        badCRC[gz.count - 6] ^= 0xff  // inside the CRC-32 of the uncompressed data
        try writeFile(path("crc.gz"), badCRC)
        assertThrows(try IDXFile.read(path: path("crc.gz"), rank: 3), prefix: path("crc.gz") + ": ",
                     "corrupt gzip stream: incorrect data check")

        var garbled = gz
        for i in 20..<60 { garbled[i] = 0xff }
        try writeFile(path("garbled.gz"), garbled)
        assertThrows(try IDXFile.read(path: path("garbled.gz"), rank: 3), prefix: path("garbled.gz") + ": ", "corrupt gzip stream")

        try writeFile(path("garbage.gz"), gz + [0x00, 0x01, 0x02])
        assertThrows(try IDXFile.read(path: path("garbage.gz"), rank: 3), prefix: path("garbage.gz") + ": ",
                     "unexpected bytes after the end of the compressed stream")

        try writeFile(path("plain.gz"), idxBytes(dimensions: [1, 4, 5], payload: [UInt8](repeating: 0, count: 20)))
        assertThrows(try IDXFile.read(path: path("plain.gz"), rank: 3), prefix: path("plain.gz") + ": ",
                     "named .gz but is not a gzip file")
    }

    func testMismatchedOrInvalidLabels() throws {
        let (pixels, _) = sampleData(count: 3)
        try writeFile(path("images"), idxBytes(dimensions: [3, 4, 5], payload: pixels))
        try writeFile(path("labels2"), idxBytes(dimensions: [2], payload: [1, 2]))
        assertThrows(try Dataset.idx(images: path("images"), labels: path("labels2"), classCount: 10),
                     prefix: path("labels2") + ": ", "2 labels but \(path("images")) has 3 images")
        try writeFile(path("labels3"), idxBytes(dimensions: [3], payload: [1, 12, 2]))
        assertThrows(try Dataset.idx(images: path("images"), labels: path("labels3"), classCount: 10),
                     prefix: path("labels3") + ": ", "label 12 at index 1 is outside 0..<10")
    }

    func testMissingFileAndDirectory() {
        assertThrows(try IDXFile.read(path: path("absent.gz"), rank: 3), prefix: path("absent.gz") + ": ", "cannot open: no such file")
        assertThrows(try IDXFile.read(path: directory, rank: 3), prefix: directory + ": ", "not a regular file")
    }
}
