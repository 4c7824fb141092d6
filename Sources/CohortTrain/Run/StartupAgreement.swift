import Cohort
import CohortDistributed
import Foundation

/// What the ranks of a job must agree on, compared before any other collective (a mismatch would
/// otherwise meet in mismatched collectives, hang, or train garbage): every key of the resolved
/// config, `--resume`, and the binary. On a mismatch rank 0 names the first key that differs and
/// each side's value; nothing has been created yet (no shared memory, no files).
public enum StartupAgreement {
    /// The facts of this rank: ("training.batch_size", "64"), ..., ("--resume", "not given"), ("binary", fingerprint).
    public static func facts(configYAML: String, resume: Bool) throws -> [(String, String)] {
        // The resolved config's one flattening (`cohort compare` diffs the same key paths), empty
        // maps and lists included, so `augment: {}` on one rank and no key on another disagree.
        var facts = try ResolvedConfig(yaml: configYAML, source: "the resolved config").entries.map { ($0.key, $0.value) }
        facts.append(("--resume", resume ? "given" : "not given"))
        facts.append(("binary", binaryFingerprint))
        return facts
    }

    /// Exchanges every rank's facts; throws on rank 0 naming the first difference. The other ranks
    /// leave the message to rank 0, which ends the job (they say it themselves only if it does not).
    public static func check(configYAML: String, resume: Bool, _ comm: Communicator) throws {
        guard comm.size > 1 else { return }
        let mine = try facts(configYAML: configYAML, resume: resume).map { "\($0.0)\u{1}\($0.1)" }.joined(separator: "\u{0}")
        let all = try comm.allgather(bytes: Array(mine.utf8)).map { String(decoding: $0, as: UTF8.self) }
        guard let (rank, message) = firstDifference(all) else { return }
        if comm.rank != 0 { sleep(5) }  // rank 0 reports and aborts the job meanwhile
        throw CohortError.invalid(message + (comm.rank == 0 ? "" : " (seen by rank \(comm.rank), disagreeing with rank \(rank))"))
    }

    /// The first rank whose facts differ from rank 0's, and the message naming the key.
    static func firstDifference(_ all: [String]) -> (Int, String)? {
        func parse(_ s: String) -> [(String, String)] {
            s.split(separator: "\u{0}", omittingEmptySubsequences: true).map {
                let kv = $0.split(separator: "\u{1}", maxSplits: 1, omittingEmptySubsequences: false)
                return (String(kv[0]), kv.count > 1 ? String(kv[1]) : "")
            }
        }
        let reference = parse(all[0])
        let keys = Dictionary(reference, uniquingKeysWith: { a, _ in a })
        for r in 1..<all.count where all[r] != all[0] {
            let other = parse(all[r])
            let theirs = Dictionary(other, uniquingKeysWith: { a, _ in a })
            let key = reference.map(\.0).first { theirs[$0] != keys[$0] } ?? other.map(\.0).first { keys[$0] == nil } ?? "?"
            let (a, b) = (keys[key] ?? "(not set)", theirs[key] ?? "(not set)")
            switch key {
            case "--resume":
                return (r, "the ranks were started with different options: --resume is \(a) on rank 0 but \(b) on rank \(r); give every rank the same options")
            case "binary":
                return (r, "the ranks run different cohort binaries (rank 0's and rank \(r)'s differ); build the same version on every node")
            default:
                return (r, "the ranks were started with different configs: \(key) is \(a) on rank 0 but \(b) on rank \(r); start every rank with the same config and --set options")
            }
        }
        return nil
    }

    /// A fingerprint of this process's executable (its size and a hash of 64 blocks spread over
    /// /proc/self/exe: cheap, and two builds differ in it), so ranks running different builds are caught.
    static let binaryFingerprint: String = {
        guard let file = FileHandle(forReadingAtPath: "/proc/self/exe") else { return "unknown" }
        defer { try? file.close() }
        let size = (try? file.seekToEnd()) ?? 0
        var h: UInt64 = 0xcbf2_9ce4_8422_2325 ^ size
        for i in 0..<64 {
            try? file.seek(toOffset: size / 64 * UInt64(i))
            guard let block = try? file.read(upToCount: 4096) else { break }
            for b in block { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        }
        return "\(size)-" + String(h, radix: 16)
    }()
}
