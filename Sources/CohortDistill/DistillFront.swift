import Foundation

/// Which model to deploy: the rows on the front of validation accuracy against inference speed
/// (batch 256, one thread), and the default choice among the students, made on validation
/// accuracy and never on the test set.
enum DistillFront {
    /// For each point, whether no other point is at least as accurate and at least as fast, and
    /// strictly better in one of the two (points without a validation figure are on no front).
    static func front(_ points: [(accuracy: Double?, speed: Double)]) -> [Bool] {
        points.map { p in
            guard let a = p.accuracy else { return false }
            return !points.contains { q in
                guard let b = q.accuracy else { return false }
                return b >= a && q.speed >= p.speed && (b > a || q.speed > p.speed)
            }
        }
    }

    /// Marks `rows`' front and returns the default choice: of the students on the front, the
    /// fastest whose validation accuracy is within `within` points of the teacher's (the ensemble's
    /// when there is one); when none is, the student most accurate on validation. Nil without a
    /// validation split (nothing to choose on but the test set).
    static func mark(_ rows: inout [DistillReport.Row], within: Double) -> DistillReport.Choice? {
        let onFront = front(rows.map { ($0.validationAccuracy, $0.samplesPerSecond) })
        for i in rows.indices { rows[i].onFront = rows[i].validationAccuracy == nil ? nil : onFront[i] }
        let teacher = rows.first { $0.role == .ensemble } ?? rows.first { $0.role == .teacher }
        let students = rows.indices.filter { ![.teacher, .ensemble, .original].contains(rows[$0].role) && rows[$0].validationAccuracy != nil }
        guard !students.isEmpty else { return nil }
        let fastestFirst = students.sorted { rows[$0].samplesPerSecond > rows[$1].samplesPerSecond }
        if let t = teacher, let tv = t.validationAccuracy,
           let i = fastestFirst.first(where: { onFront[$0] && rows[$0].validationAccuracy! >= tv - within / 100 }) {
            let r = rows[i]
            return .init(row: r.name, reason: String(format: "the fastest model on the front within %.1f point%@ of the teacher's validation accuracy (%.2f%% against %.2f%%), %.1fx the teacher's samples/s at batch 256",
                                                     within, within == 1 ? "" : "s", r.validationAccuracy! * 100, tv * 100,
                                                     r.samplesPerSecond / max(t.samplesPerSecond, 1e-9)))
        }
        let best = students.max { (rows[$0].validationAccuracy!, rows[$0].samplesPerSecond) < (rows[$1].validationAccuracy!, rows[$1].samplesPerSecond) }!
        let r = rows[best]
        return .init(row: r.name, reason: String(format: "no student came within %.1f point%@ of the teacher's validation accuracy: the most accurate on validation (%.2f%%)",
                                                 within, within == 1 ? "" : "s", r.validationAccuracy! * 100))
    }
}
