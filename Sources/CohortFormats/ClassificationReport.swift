import Cohort
import Foundation

/// How well predictions match labels: overall accuracy, per-class precision, recall, F1 and
/// support, their unweighted (macro) averages, and the confusion matrix.
///
/// A class nobody predicted has precision 0, and a class with no examples has recall 0 (as
/// scikit-learn's default does); both still count in the macro averages.
public struct ClassificationReport: Codable, Equatable, Sendable {
    /// The scores of one class.
    public struct ClassScores: Codable, Equatable, Sendable {
        public let index: Int
        public let name: String
        /// Of the examples predicted as this class, the fraction that are.
        public let precision: Double
        /// Of the examples of this class, the fraction predicted as it.
        public let recall: Double
        /// Harmonic mean of precision and recall (0 when both are 0).
        public let f1: Double
        /// Examples whose label is this class.
        public let support: Int
    }

    public let sampleCount: Int
    public let correctCount: Int
    public let errorCount: Int
    /// `correctCount / sampleCount` (0 for no samples).
    public let accuracy: Double
    public let classes: [ClassScores]
    public let macroPrecision: Double
    public let macroRecall: Double
    public let macroF1: Double
    /// `confusion[label][prediction]`: rows are true classes, columns predicted classes.
    public let confusion: [[Int]]

    /// Scores `predictions` against `labels`, both class indices in `0..<classCount`.
    /// - Parameter classNames: one per class; the indices as text by default.
    public init(predictions: [Int], labels: [Int], classCount: Int, classNames: [String]? = nil) throws {
        guard classCount > 0 else { throw CohortError.invalid("classification report: classCount must be positive, got \(classCount)") }
        guard predictions.count == labels.count else {
            throw CohortError.invalid("classification report: \(predictions.count) predictions but \(labels.count) labels")
        }
        if let classNames, classNames.count != classCount {
            throw CohortError.invalid("classification report: \(classNames.count) class names for \(classCount) classes")
        }
        var confusion = [[Int]](repeating: [Int](repeating: 0, count: classCount), count: classCount)
        for (i, (predicted, label)) in zip(predictions, labels).enumerated() {
            guard (0..<classCount).contains(label), (0..<classCount).contains(predicted) else {
                throw CohortError.invalid("classification report: sample \(i) has label \(label) and prediction \(predicted), outside 0..<\(classCount)")
            }
            confusion[label][predicted] += 1
        }
        let names = classNames ?? (0..<classCount).map(String.init)
        func ratio(_ a: Int, _ b: Int) -> Double { b == 0 ? 0 : Double(a) / Double(b) }
        classes = (0..<classCount).map { c in
            let truePositives = confusion[c][c]
            let support = confusion[c].reduce(0, +)
            let predicted = confusion.reduce(0) { $0 + $1[c] }
            let precision = ratio(truePositives, predicted)
            let recall = ratio(truePositives, support)
            let f1 = precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall)
            return ClassScores(index: c, name: names[c], precision: precision, recall: recall, f1: f1, support: support)
        }
        sampleCount = labels.count
        correctCount = (0..<classCount).reduce(0) { $0 + confusion[$1][$1] }
        errorCount = sampleCount - correctCount
        accuracy = ratio(correctCount, sampleCount)
        macroPrecision = classes.map(\.precision).reduce(0, +) / Double(classCount)
        macroRecall = classes.map(\.recall).reduce(0, +) / Double(classCount)
        macroF1 = classes.map(\.f1).reduce(0, +) / Double(classCount)
        self.confusion = confusion
    }

    /// Pretty-printed JSON with sorted keys, so equal reports give equal files.
    public func jsonData() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try encoder.encode(self)
    }
}
