import Cohort

extension Dataset {
    /// Splits off `validationCount` samples, chosen by a permutation drawn from
    /// `RandomStream(seed: seed).split("validation-split")`: the same seed gives the same split on
    /// every rank and every run. Both parts keep their samples in this view's order and share its
    /// storage (index lists only). Neither part may be empty.
    public func split(validationCount: Int, seed: UInt64) throws -> (train: Dataset, validation: Dataset) {
        try split(heldOut: validationCount, seed: seed, purpose: "validation-split")
    }

    /// Splits off `heldOut` samples chosen by a permutation from `RandomStream(seed:).split(purpose)`
    /// (the test part of one file is "test-split", so it never coincides with the validation part).
    public func split(heldOut validationCount: Int, seed: UInt64, purpose: String) throws -> (train: Dataset, validation: Dataset) {
        guard validationCount > 0, validationCount < count else {
            let part = purpose == "validation-split" ? "validation" : "held-out"
            throw CohortError.invalid("\(purpose == "validation-split" ? "validation" : "test") split: \(validationCount) \(part) samples out of \(count) leaves a part empty (need 1...\(count - 1))")
        }
        var random = RandomStream(seed: seed).split(purpose)
        var positions = Array(0..<count)
        // A partial Fisher-Yates: the first validationCount slots become a uniform random subset.
        for i in 0..<validationCount {
            positions.swapAt(i, i + random.below(count - i))
        }
        var isValidation = [Bool](repeating: false, count: count)
        for p in positions[0..<validationCount] { isValidation[p] = true }
        var trainRows: [Int] = [], validationRows: [Int] = []
        trainRows.reserveCapacity(count - validationCount)
        validationRows.reserveCapacity(validationCount)
        for p in 0..<count {
            if isValidation[p] { validationRows.append(storageRow(p)) } else { trainRows.append(storageRow(p)) }
        }
        return (Dataset(storage: storage, rows: trainRows), Dataset(storage: storage, rows: validationRows))
    }

    /// Splits off round(validationFraction * count) samples; see `split(validationCount:seed:)`.
    public func split(validationFraction: Double, seed: UInt64) throws -> (train: Dataset, validation: Dataset) {
        guard validationFraction > 0, validationFraction < 1 else {
            throw CohortError.invalid("validation split: fraction \(validationFraction) must be strictly between 0 and 1")
        }
        return try split(validationCount: Int((validationFraction * Double(count)).rounded()), seed: seed)
    }
}
