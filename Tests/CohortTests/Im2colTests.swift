import XCTest
@testable import Cohort

/// The batched im2col (row by row over every image) writes exactly what the image-by-image one does.
final class Im2colTests: XCTestCase {
    func testBatchedColumnsEqualImageByImage() throws {
        var rng = RandomStream(seed: 2)
        for (kernel, stride, padding) in [((3, 3), (1, 1), (1, 1)), ((3, 3), (2, 2), (1, 1)), ((2, 3), (1, 2), (0, 1)), ((1, 1), (2, 2), (0, 0))] {
            let g = try ConvGeometry(channels: 3, height: 7, width: 6, kernel: kernel, stride: stride, padding: padding)
            let batch = 4, image = 3 * 7 * 6, ld = batch * g.outPixels + 5  // a wider matrix than needed
            let x = Tensor(zeros: [batch * image])
            rng.fillUniform(x, -1, 1)
            let one = Tensor(shape: [g.patchSize * ld], repeating: 7), all = Tensor(shape: [g.patchSize * ld], repeating: 7)
            for b in 0..<batch { Im2col.forward(x.pointer + b * image, g, cols: one.pointer + b * g.outPixels, ldc: ld) }
            Im2col.forward(batch: batch, x.pointer, imageStride: image, g, cols: all.pointer, ldc: ld)
            XCTAssertEqual(all.scalars, one.scalars, "kernel \(kernel), stride \(stride), padding \(padding)")
        }
    }
}
