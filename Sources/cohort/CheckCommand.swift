import ArgumentParser
import Cohort
import CohortDistributed
import CohortTrain
import Foundation

struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-shared-memory",
        abstract: "Under mpirun on one node: show that a write by one rank to the Hogwild shared arena is seen by the others with no message in between.")

    func run() throws {
        let comm = try Runtime.communicator()
        try Runtime.guarded(comm) {
            guard comm.size > 1 else { throw CohortError.invalid("check-shared-memory: run it under mpirun with at least 2 ranks") }
            let key = String(try comm.allgather(UInt64(getpid()))[0], radix: 16)
            let arena = try SharedArena(floats: 1024, jobKey: key, isCreator: comm.rank == 0, barrier: { try comm.barrier() })
            let p = arena.storage.pointer
            try comm.barrier()
            // From here on no MPI call until every rank has seen the value: only the memory carries it.
            let writer = comm.size - 1
            let value: Float = 1234.5
            let start = Date()
            if comm.rank == writer {
                usleep(50_000)
                p[777] = value
                arena.addUpdates(1)  // an atomic read-modify-write: the store above is visible before it
            } else {
                var spins = 0
                // Poll the atomic counter (a plain Float load could be hoisted out of the loop).
                while arena.updates == 0 {
                    spins += 1
                    if spins % 1000 == 0 && Date().timeIntervalSince(start) > 10 {
                        throw CohortError.invalid("check-shared-memory: rank \(writer)'s write was not visible after 10 s")
                    }
                }
                guard p[777] == value else { throw CohortError.invalid("check-shared-memory: the counter moved but arena[777] = \(p[777])") }
                print(String(format: "rank %d: saw rank %d's write at arena[777] = %.1f after %.1f ms, update counter %d, no message exchanged",
                             comm.rank, writer, p[777], Date().timeIntervalSince(start) * 1e3, arena.updates))
            }
            try comm.barrier()
            let leftover = (try? FileManager.default.contentsOfDirectory(atPath: "/dev/shm"))?.filter { $0.hasPrefix("cohort-") } ?? []
            if comm.rank == 0 { print("segment \(arena.name) unlinked: \(leftover.isEmpty ? "yes" : "no, left: \(leftover)")") }
        }
    }
}
