import Foundation
import XCTest

/// Hosts made on this machine by `launch/fake-hosts` (network, UTS and mount namespaces joined by
/// veth pairs on a bridge; Open MPI reaches them through an rsh agent that nsenters them), for the
/// tests that span separate hosts. Needs root; `make` throws XCTSkip, saying why, where the
/// namespaces cannot be made. `remove()` (also on deinit) takes every namespace, link and process away.
final class FakeHosts {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static var script: String { repository.appendingPathComponent("launch/fake-hosts").path }

    let dir: URL
    let names: [String]
    private var removed = false

    private init(dir: URL, names: [String]) {
        self.dir = dir
        self.names = names
    }

    static func make(_ count: Int) throws -> FakeHosts {
        try XCTSkipUnless(getuid() == 0, "fake hosts need root (network, UTS and mount namespaces)")
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: "/usr/sbin/ip") && FileManager.default.isExecutableFile(atPath: "/usr/bin/nsenter"),
                          "fake hosts need ip (iproute2) and nsenter (util-linux)")
        let dir = try CLI.temporaryDirectory().appendingPathComponent("hosts")
        let up = try CLI.run(["/bin/bash", script, "up", dir.path, String(count)], timeout: 60)
        guard up.status == 0 else {
            _ = try? CLI.run(["/bin/bash", script, "down", dir.path], timeout: 60)
            throw XCTSkip("launch/fake-hosts could not make the hosts here: \(up.stderr)")
        }
        let id = try String(contentsOf: dir.appendingPathComponent("id"), encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        return FakeHosts(dir: dir, names: (1...count).map { "fh\(id)-\($0)" })
    }

    var hostfile: String { dir.appendingPathComponent("hosts").path }

    /// `command` (a shell line) run inside the first host with Open MPI's settings for the hosts,
    /// from the repository's folder, as a user logged in there would.
    func runOnFirst(_ command: String, timeout: Double = 180, environment: [String: String] = [:]) throws -> CLI.Output {
        try CLI.run(["/bin/sh", dir.appendingPathComponent("run").path, names[0],
                     ". '\(dir.appendingPathComponent("env").path)' && cd '\(Self.repository.path)' && \(command)"],
                    timeout: timeout, environment: environment)
    }

    /// `launch/train --hostfile` from the first host, on the binary under test; `launcher`: more of
    /// launch/train's own options (`--elastic 1`), `arguments`: cohort train's.
    func train(_ config: String, _ arguments: [String], launcher: [String] = [], timeout: Double = 180,
               environment: [String: String] = [:]) throws -> CLI.Output {
        let line = (["COHORT_BIN='\(CLI.binary.path)'", "launch/train", "--no-setup", "--hostfile", hostfile] + launcher + [config]
                    + arguments.map { "'\($0)'" })
            .joined(separator: " ")
        return try runOnFirst(line, timeout: timeout, environment: environment)
    }

    /// The files in `host`'s own /dev/shm.
    func sharedMemory(_ host: String) throws -> [String] {
        let r = try CLI.run(["/bin/bash", Self.script, "shm", dir.path, host], timeout: 30)
        return r.stdout.split(separator: "\n").map(String.init)
    }

    /// The command lines of the processes running inside `host`.
    func processes(_ host: String) throws -> [String] {
        let r = try CLI.run(["/bin/bash", Self.script, "ps", dir.path, host], timeout: 30)
        return r.stdout.split(separator: "\n").map(String.init)
    }

    /// Takes `host`'s link down (`up: false`, a partition) or brings it back.
    func link(_ host: String, up: Bool) {
        _ = try? CLI.run(["/bin/bash", Self.script, up ? "mend" : "cut", dir.path, host], timeout: 30)
    }

    func remove() {
        guard !removed else { return }
        removed = true
        _ = try? CLI.run(["/bin/bash", Self.script, "down", dir.path], timeout: 60)
    }

    deinit { remove() }
}
