import Cohort
import Foundation
import XCTest
@testable import CohortOptim

/// A run config's optimizer and schedule sections, decoded from JSON as the trainer decodes YAML.
private struct RunSections: Decodable {
    var optimizer: OptimizerConfig
    var schedule: ScheduleConfig?
}

private func decode(_ json: String) throws -> RunSections {
    try JSONDecoder().decode(RunSections.self, from: Data(json.utf8))
}

/// "optimizer.lr: must be positive, got -0.1": the coding path and reason of a decoding error.
private func decodingMessage(_ json: String, file: StaticString = #filePath, line: UInt = #line) -> String {
    func path(_ keys: [CodingKey]) -> String { keys.map(\.stringValue).joined(separator: ".") }
    do {
        _ = try decode(json)
        XCTFail("expected a decoding error", file: file, line: line)
    } catch let DecodingError.dataCorrupted(context) {
        return "\(path(context.codingPath)): \(context.debugDescription)"
    } catch let DecodingError.keyNotFound(key, context) {
        return "\(path(context.codingPath + [key])): missing (\(context.debugDescription))"
    } catch let DecodingError.typeMismatch(_, context) {
        return "\(path(context.codingPath)): wrong type"
    } catch {
        XCTFail("unexpected error \(error)", file: file, line: line)
    }
    return ""
}

final class OptimizerConfigTests: XCTestCase {
    func testDecodesAndBuilds() throws {
        let config = try decode(#"{"optimizer": {"name": "sgd", "lr": 0.1, "momentum": 0.9, "nesterov": true, "weight_decay": 0.0005}}"#).optimizer
        XCTAssertEqual(config.learningRate, 0.1)
        let sgd = try XCTUnwrap(config.makeOptimizer(parameterCount: 10, decayRanges: [0..<8]) as? SGD)
        XCTAssertEqual(sgd.options, SGD.Options(momentum: 0.9, nesterov: true, weightDecay: 0.0005))
        XCTAssertEqual(sgd.decayMask.runs.map(\.decays), [true, false])
    }

    func testEveryNameBuildsItsOptimizerWithPyTorchDefaults() throws {
        let built = try OptimizerConfig.Kind.withDefaults.map { try OptimizerConfig($0).makeOptimizer(parameterCount: 4) }
        XCTAssertTrue(built[0] is SGD && built[1] is Adagrad && built[2] is RMSProp && built[3] is Adam && built[4] is AdamW)
        XCTAssertEqual((built[4] as! AdamW).options, AdamW.Options(beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01))
        XCTAssertEqual((built[2] as! RMSProp).options, RMSProp.Options(alpha: 0.99, eps: 1e-8))
        XCTAssertEqual(OptimizerConfig.Kind.withDefaults.map { OptimizerConfig($0).learningRate }, [0.001, 0.01, 0.01, 0.001, 0.001])
    }

    func testAdamBetasAndEps() throws {
        let config = try decode(#"{"optimizer": {"name": "adam", "betas": [0.8, 0.99], "eps": 1e-6}}"#).optimizer
        let adam = try XCTUnwrap(config.makeOptimizer(parameterCount: 4) as? Adam)
        XCTAssertEqual(adam.options, Adam.Options(beta1: 0.8, beta2: 0.99, eps: 1e-6))
    }

    func testErrorsNameTheKeyAndTheReason() {
        XCTAssertEqual(decodingMessage(#"{"optimizer": {"name": "sgd", "lr": -0.1}}"#), "optimizer.lr: must be positive, got -0.1")
        XCTAssertEqual(decodingMessage(#"{"optimizer": {"name": "adamx"}}"#),
                       "optimizer.name: unknown optimizer 'adamx' (known: sgd, adagrad, rmsprop, adam, adamw)")
        XCTAssertEqual(decodingMessage(#"{"optimizer": {"name": "adam", "beta1": 0.9}}"#),
                       "optimizer.beta1: unknown key 'beta1' (known: alpha, betas, centered, dampening, eps, initial_accumulator, lr, lr_decay, momentum, name, nesterov, weight_decay)")
        XCTAssertEqual(decodingMessage(#"{"optimizer": {"name": "sgd", "betas": [0.9, 0.99]}}"#),
                       "optimizer.betas: not used by sgd (it takes: name, lr, weight_decay, momentum, dampening, nesterov)")
        XCTAssertEqual(decodingMessage(#"{"optimizer": {"name": "adam", "betas": [0.9]}}"#),
                       "optimizer.betas: must be two numbers [beta1, beta2], got 1")
        XCTAssertEqual(decodingMessage(#"{"optimizer": {"name": "adamw", "betas": [0.9, 1.5]}}"#),
                       "optimizer.betas[1]: must be in [0.0, 1.0), got 1.5")
        XCTAssertEqual(decodingMessage(#"{"optimizer": {"name": "sgd", "nesterov": true}}"#),
                       "optimizer.nesterov: needs momentum > 0 and dampening 0, got momentum 0.0, dampening 0.0")
        XCTAssertEqual(decodingMessage(#"{"optimizer": {"name": "rmsprop", "alpha": 2}}"#), "optimizer.alpha: must be in [0.0, 1.0], got 2.0")
        XCTAssertEqual(decodingMessage(#"{"optimizer": {"lr": 0.1}}"#),
                       "optimizer.name: missing (choose one of: sgd, adagrad, rmsprop, adam, adamw)")
        XCTAssertEqual(decodingMessage(#"{"optimizer": {"name": "sgd", "lr": "fast"}}"#), "optimizer.lr: wrong type")
    }

    func testValidateForConfigsBuiltInCode() {
        XCTAssertEqual(thrownMessage { try OptimizerConfig(.sgd(), lr: -0.1).validate() }, "optimizer.lr: must be positive, got -0.1")
        XCTAssertEqual(thrownMessage { _ = try OptimizerConfig(.adagrad(lrDecay: -1)).makeOptimizer(parameterCount: 3) },
                       "optimizer.lr_decay: must be at least 0.0, got -1.0")
    }

    func testEncodesResolvedValues() throws {
        let config = try decode(#"{"optimizer": {"name": "adamw", "lr": 0.003}}"#).optimizer
        let json = try JSONSerialization.jsonObject(with: JSONEncoder().encode(config)) as! [String: Any]
        XCTAssertEqual(Set(json.keys), ["name", "lr", "weight_decay", "betas", "eps"])
        XCTAssertEqual(json["weight_decay"] as? Double ?? 0, 0.01, accuracy: 1e-9)
        // What was written decodes to the same optimizer.
        let again = try JSONDecoder().decode(OptimizerConfig.self, from: JSONEncoder().encode(config))
        XCTAssertEqual((try again.makeOptimizer(parameterCount: 2) as! AdamW).options, (try config.makeOptimizer(parameterCount: 2) as! AdamW).options)
        XCTAssertEqual(again.learningRate, 0.003)
    }
}

final class ScheduleConfigTests: XCTestCase {
    func plan(_ json: String, baseLR: Float = 0.1, stepsPerEpoch: Int = 10) throws -> LearningRatePlan {
        let schedule = try XCTUnwrap(try decode(#"{"optimizer": {"name": "sgd"}, "schedule": \#(json)}"#).schedule)
        return try schedule.makePlan(baseLR: baseLR, stepsPerEpoch: stepsPerEpoch)
    }

    func testCosineWithWarmup() throws {
        // warm-up 0.05 -> 0.1 over 2 steps, then cosine from 0.1 to 0.01 over 10 steps (restarted clock)
        let p = try plan(#"{"name": "cosine", "t_max": 10, "min_lr": 0.01, "warmup_steps": 2, "warmup_start_factor": 0.5}"#)
        assertClose([0, 1, 2, 7, 12, 50].map { p.learningRate(at: $0) }, [0.05, 0.075, 0.1, 0.055, 0.01, 0.01], accuracy: 1e-8)
    }

    func testWarmupContinueClock() throws {
        // inner 0.1 * 0.5^t, scaled by 0.5 + 0.5 t / 2 during the 2 warm-up steps
        let p = try plan(#"{"name": "exponential", "gamma": 0.5, "warmup_steps": 2, "warmup_start_factor": 0.5, "warmup_clock": "continue"}"#)
        assertClose([0, 1, 2, 3].map { p.learningRate(at: $0) }, [0.05, 0.0375, 0.025, 0.0125], accuracy: 1e-8)
    }

    func testEpochUnit() throws {
        let p = try plan(#"{"name": "multistep", "milestones": [2, 3], "gamma": 0.5, "unit": "epochs"}"#, stepsPerEpoch: 10)
        assertClose([0, 19, 20, 29, 30].map { p.learningRate(at: $0) }, [0.1, 0.1, 0.05, 0.05, 0.025], accuracy: 1e-8)
    }

    func testPlateauMinimumIsAbsolute() throws {
        var p = try plan(#"{"name": "plateau", "patience": 0, "factor": 0.1, "min_lr": 0.002}"#)
        for metric in [1.0, 1.0, 1.0, 1.0] { p.record(metric: metric) }
        XCTAssertEqual(p.learningRate(at: 0), 0.002, accuracy: 1e-9)
    }

    func testMissingScheduleMeansConstant() throws {
        XCTAssertNil(try decode(#"{"optimizer": {"name": "sgd"}}"#).schedule)
        let p = try ScheduleConfig.constant.makePlan(baseLR: 0.3, stepsPerEpoch: 1)
        XCTAssertEqual(p.learningRate(at: 12345), 0.3)
    }

    func testErrorsNameTheKeyAndTheReason() {
        func message(_ schedule: String) -> String { decodingMessage(#"{"optimizer": {"name": "sgd"}, "schedule": \#(schedule)}"#) }
        XCTAssertEqual(message(#"{"name": "cosine"}"#), "schedule.t_max: required by the cosine schedule")
        XCTAssertEqual(message(#"{"name": "linear"}"#),
                       "schedule.name: unknown schedule 'linear' (known: constant, step, multistep, exponential, cosine, plateau)")
        XCTAssertEqual(message(#"{"name": "step", "step_size": 3, "patience": 2}"#),
                       "schedule.patience: not used by the step schedule (it takes: name, warmup_steps, warmup_start_factor, warmup_clock, unit, step_size, gamma)")
        XCTAssertEqual(message(#"{"name": "step", "step_size": 0}"#), "schedule.step_size: must be positive, got 0")
        XCTAssertEqual(message(#"{"name": "constant", "warmup_clock": "later"}"#), "schedule.warmup_clock: unknown value 'later' (known: restart, continue)")
        XCTAssertEqual(message(#"{"name": "plateau", "factor": 1.5}"#), "schedule.factor: must be in (0, 1), got 1.5")
        XCTAssertEqual(message(#"{"name": "multistep", "milestones": []}"#), "schedule.milestones: must list at least one step")
        XCTAssertTrue(message(#"{"name": "constant", "warmup": 5}"#).hasPrefix("schedule.warmup: unknown key 'warmup' (known: cooldown, factor, gamma,"))
    }

    func testMinLRAboveBaseIsRejectedWhenBuilt() {
        XCTAssertEqual(thrownMessage { _ = try ScheduleConfig(.cosine(tMax: 5, minLR: 0.5)).makePlan(baseLR: 0.1, stepsPerEpoch: 1) },
                       "schedule.min_lr: must be at most the base learning rate 0.1, got 0.5")
    }
}
