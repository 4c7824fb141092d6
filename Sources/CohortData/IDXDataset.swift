import Cohort

extension Dataset {
    /// A dataset from an IDX image file ([N, H, W] bytes) and an IDX label file ([N] bytes), plain
    /// or gzip. Samples get the shape [1, H, W] (one channel). Labels must lie in 0..<classCount,
    /// and the two files must hold the same number of samples.
    public static func idx(images imagesPath: String, labels labelsPath: String, classCount: Int? = nil,
                           classNames: [String]? = nil) throws -> Dataset {
        let images = try IDXFile.read(path: imagesPath, rank: 3)
        let labels = try IDXFile.read(path: labelsPath, rank: 1)
        guard images.dimensions[0] == labels.dimensions[0] else {
            throw CohortError.invalid("\(labelsPath): \(labels.dimensions[0]) labels but \(imagesPath) has \(images.dimensions[0]) images")
        }
        if let classCount, let i = labels.bytes.firstIndex(where: { Int($0) >= classCount }) {
            throw CohortError.invalid("\(labelsPath): label \(labels.bytes[i]) at index \(i) is outside 0..<\(classCount)")
        }
        return try Dataset(uint8: images.bytes, sampleShape: [1, images.dimensions[1], images.dimensions[2]],
                           labels: labels.bytes.map(Int32.init), classCount: classCount, classNames: classNames,
                           source: imagesPath)
    }
}
