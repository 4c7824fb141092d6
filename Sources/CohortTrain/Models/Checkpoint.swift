import Cohort
import CohortData
import CohortDistributed
import CohortFormats
import CohortNN
import CohortOptim
import Foundation

/// Checkpoints are safetensors files (readable by Python's `safetensors`):
///   "<path>" for every parameter and buffer, by its model path ("1.weight", "4.running_mean"),
///   "optimizer.<name>" for every optimizer state buffer,
///   metadata: format, step, epoch, train state (JSON), schedule state (JSON), the resolved config
///   (YAML), and what the model was trained on ("data": task, input shape, classes, normalisation; JSON).
/// They are written to a temporary file and renamed, so the latest checkpoint is always complete.
public enum Checkpoint {
    public static let format = "cohort-checkpoint-1"

    public static func save(to url: URL, model: Model, optimizer: Optimizer, state: TrainState, plan: LearningRatePlan,
                            configYAML: String, data: DataDescription) throws {
        var tensors: [String: SafetensorsTensor] = [:]
        for arena in [model.parameters, model.buffers] {
            for (e, p) in zip(arena.entries, arena.parameters) { tensors[e.path] = SafetensorsTensor(p.value) }
        }
        for (name, t) in optimizer.state { tensors["optimizer." + name] = SafetensorsTensor(t) }
        let encoder = TrainState.jsonEncoder()
        var metadata = [
            "format": format,
            "step": String(state.step),
            "epoch": String(state.epoch),
            "train_state": String(decoding: try encoder.encode(state), as: UTF8.self),
            "config": configYAML,
        ]
        metadata["schedule"] = String(decoding: try encoder.encode(plan.state), as: UTF8.self)
        metadata["data"] = try data.json()
        try Safetensors.write(tensors, metadata: metadata, to: url)
    }

    /// Reads the checkpoint on rank 0 and broadcasts it, so ranks need not share a file system.
    static func restore(from url: URL, into session: TrainingSession, plan: inout LearningRatePlan,
                        communicator comm: Communicator) throws -> TrainState {
        var state = TrainState()
        var header = [Double](repeating: 0, count: 1)
        var optimizerState: [String: Tensor] = [:]
        if comm.rank == 0 {
            let file = try Safetensors.read(from: url)
            guard file.metadata["format"] == format, let json = file.metadata["train_state"] else {
                throw CohortError.invalid("\(url.path): not a Cohort checkpoint (format metadata missing)")
            }
            try session.model.load(file)
            state = try TrainState.jsonDecoder().decode(TrainState.self, from: Data(json.utf8))
            for name in file.names where name.hasPrefix("optimizer.") {
                optimizerState[String(name.dropFirst("optimizer.".count))] = try file.floatTensor(name)
            }
            do { try session.optimizer.loadState(optimizerState) } catch {
                throw CohortError.invalid("\(url.path): optimizer state does not fit the configured optimizer: \(error)")
            }
            if let saved = file.metadata["schedule"] {
                try plan.restore(try TrainState.jsonDecoder().decode(LearningRatePlan.State.self, from: Data(saved.utf8)))
            }
            header[0] = 1
        }
        guard comm.size > 1 else { return state }
        // Rank 0 sends parameters (broadcast by the trainer), optimizer state and the loop state.
        try comm.allreduce(&header)
        var stateBytes = [UInt8](comm.rank == 0 ? try TrainState.jsonEncoder().encode(state) : Data())
        try broadcastBytes(&stateBytes, comm)
        state = try TrainState.jsonDecoder().decode(TrainState.self, from: Data(stateBytes))
        var optimizerBytes = [UInt8](comm.rank == 0 ? try TrainState.jsonEncoder().encode(optimizerState.mapValues(\.scalars)) : Data())
        try broadcastBytes(&optimizerBytes, comm)
        if comm.rank != 0 {
            let values = try TrainState.jsonDecoder().decode([String: [Float]].self, from: Data(optimizerBytes))
            let own = session.optimizer.state
            var restored: [String: Tensor] = [:]
            for (k, v) in values { restored[k] = try Tensor(shape: own[k]?.shape ?? [v.count], scalars: v) }
            try session.optimizer.loadState(restored)
        }
        return state
    }

    /// Rank 0's bytes to every rank (length first, then the bytes packed in floats).
    static func broadcastBytes(_ bytes: inout [UInt8], _ comm: Communicator) throws {
        var length = [Double(bytes.count)]
        if comm.rank != 0 { length[0] = 0 }
        try comm.allreduce(&length)
        let n = Int(length[0])
        let t = Tensor(zeros: [(n + 3) / 4 + 1])
        if comm.rank == 0 { bytes.withUnsafeBytes { UnsafeMutableRawPointer(t.pointer).copyMemory(from: $0.baseAddress!, byteCount: n) } }
        try comm.broadcast(t.pointer, count: t.count, root: 0)
        bytes = [UInt8](UnsafeRawBufferPointer(start: UnsafeRawPointer(t.pointer), count: n))
    }
}
