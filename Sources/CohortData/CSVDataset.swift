import Cohort

extension Dataset {
    /// A dataset of Float32 features from a numeric CSV file; each row is one sample of shape
    /// [features] (or `sampleShape`, if given, with as many values). See `CSVReader`.
    public static func csv(path: String, hasHeader: Bool, labelColumn: CSVLabelColumn = .last,
                           delimiter: Character = ",", sampleShape: [Int]? = nil,
                           classCount: Int? = nil, classNames: [String]? = nil) throws -> Dataset {
        let table = try CSVReader.read(path: path, hasHeader: hasHeader, labelColumn: labelColumn, delimiter: delimiter)
        guard table.featureCount > 0 else {
            throw CohortError.invalid("\(path): no feature columns besides the label column")
        }
        let shape = sampleShape ?? [table.featureCount]
        guard shape.reduce(1, *) == table.featureCount else {
            throw CohortError.invalid("\(path): sample shape \(shapeString(shape)) does not hold the \(table.featureCount) features of a row")
        }
        return try Dataset(float32: table.features, sampleShape: shape, labels: table.labels, classCount: classCount,
                           classNames: classNames, source: path)
    }
}
