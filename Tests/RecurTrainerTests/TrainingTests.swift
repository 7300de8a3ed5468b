// End-to-end training runs (small), determinism, export through the runtime, divergence handling.

import Foundation
import RecurRuntime
import RecurTestSupport
import Testing

@testable import RecurTrainer

@Suite("Training")
struct TrainingTests {
  @Test("the same seed gives identical model bytes; a different seed does not")
  func determinism() throws {
    let a = try Trainer.train(smallOptions(seed: 5)).model.encoded()
    let b = try Trainer.train(smallOptions(seed: 5)).model.encoded()
    let c = try Trainer.train(smallOptions(seed: 6)).model.encoded()
    #expect(a == b)
    #expect(a != c)
  }

  @Test(
    "a small run reduces the loss and the export reproduces the trainer's forward pass in the runtime"
  )
  func smallRunAndRuntimeParity() throws {
    var options = TrainingOptions(family: .odd)
    options.sequences = 300
    options.validationSequences = 40
    options.epochs = 2
    var epochs: [Int] = []
    var events = TrainingEvents()
    events.epochFinished = { epoch, _ in epochs.append(epoch) }
    let run = try Trainer.train(options, events: events)
    #expect(epochs == [1, 2])
    #expect(run.epochLosses.count == 2)
    #expect(run.epochLosses[1] < run.epochLosses[0])

    // Initial loss on the same data is higher than the trained loss.
    let rng = try GSLRandom(seed: options.seed)
    let sequences = SequenceFamily.odd.makeSequences(count: options.sequences, rng: rng)
    _ = SequenceFamily.odd.makeSequences(count: options.validationSequences, rng: rng)
    let initial = Parameters<Float>.pytorchDefault(architecture: options.architecture, rng: rng)
    let examples = ExampleSet(
      sequences: sequences, encoding: .sequenceMaxScale, window: options.window)
    #expect(examples.count == run.trainingExamples)
    let graph = BatchGraph<Float>(architecture: options.architecture, steps: options.window, capacity: 64)
    graph.load(examples, indices: Array(0..<64)[...])
    let initialLoss = graph.forward(initial)
    let trainedLoss = graph.forward(run.parameters)
    #expect(trainedLoss < initialLoss / 10)

    // The exported bytes load in the runtime and step through the same windows to the same outputs.
    let model = try RecurrentModel(bytes: run.model.encoded())
    let cell = RecurrentCell(model: model)
    var worst = 0.0
    for lane in 0..<64 {
      cell.reset()
      for t in 0..<options.window {
        let y = cell.step(examples.inputs[lane * options.window + t])
        let expected = graph.output(lane: lane, step: t)
        worst = max(worst, relativeError(Double(y), Double(expected), floor: 1e-2))
      }
    }
    #expect(worst <= 1e-5, "worst relative difference \(worst)")

    // The file carries the provenance and the validation statistics.
    let file = try ModelFile(bytes: run.model.encoded())
    #expect(file.provenance.family == "odd")
    #expect(
      file.provenance.seed == 0 && file.provenance.epochs == 2 && file.provenance.batchSize == 128)
    #expect(file.provenance.trainingSequences == 300)
    #expect(file.provenance.learningRate == Float(0.01))
    #expect(file.provenance.finalLoss == Float(run.epochLosses[1]))
    #expect(file.contextLength == 5 && file.encoding == .sequenceMaxScale && file.hiddenSize == 16)
    #expect(file.validation.seeds == 40)
    #expect(file.validation.windows == UInt32(run.validation.windows))
    #expect(file.validation.windowMSE == Float(run.validation.windowMSE))
    #expect(file.validation.absErrorP95 == Float(run.validation.absoluteError.p95))
    #expect(file.validation.generationError20 == Float(run.validation.generationError[2]))
    #expect(run.validation.windowMSE.isFinite && run.validation.windowMSE > 0)
    #expect(run.validation.generationError.allSatisfy { $0.isFinite && $0 >= 0 })
  }

  @Test(
    "a GRU and a 2-layer LSTM train, export, reload with their kind and depth, and validate with finite numbers",
    arguments: [(CellKind.gru, 1), (CellKind.lstm, 2)])
  func gatedCellsTrainAndExport(_ cell: CellKind, _ layers: Int) throws {
    var options = smallOptions()
    options.cell = cell
    options.layers = layers
    options.epochs = 2
    let run = try Trainer.train(options)
    #expect(run.epochLosses.count == 2 && run.epochLosses.allSatisfy { $0.isFinite })
    #expect(run.epochLosses[1] < run.epochLosses[0])
    let bytes = run.model.encoded()
    let file = try ModelFile(bytes: bytes)
    #expect(file.cellKind == cell && file.layers == layers && file.hiddenSize == 8)
    #expect(file.inputSize == 1 && file.outputSize == 1 && file.formatVersion == 2)
    #expect(Parameters<Float>(file) == run.parameters)
    #expect(file.provenance.family == "odd" && file.provenance.epochs == 2)
    // Every number of the printed validation table is finite (generation ran through the runtime on `bytes`).
    let table = run.validation.table()
    let numbers = table.split(separator: "\n").dropFirst(3).compactMap { $0.split(separator: " ").last }
    #expect(numbers.count == 10, "\(table)")
    for text in numbers {
      let value = Double(text)
      #expect(value != nil && value!.isFinite, "'\(text)' in\n\(table)")
    }
    #expect(file.validation.windowMSE == Float(run.validation.windowMSE))
    // `eval` measures it the same way: its held-out windows run through the same graph.
    let evaluation = try ModelEvaluation.evaluate(modelBytes: bytes, family: .odd)
    #expect(evaluation.heldOut.windowMSE.isFinite && evaluation.generation.rows.count > 0)
    #expect(
      evaluation.modelDescription.hasPrefix(layers == 1 ? "\(cell.title), hidden 8" : "\(cell.title), \(layers) layers")
    )
  }

  @Test("window-differences: trains with a final-step loss and records the encoding")
  func windowDifferencesRun() throws {
    var options = smallOptions(.fib)
    options.encoding = .windowDifferences
    options.window = 4
    options.epochs = 2
    let run = try Trainer.train(options)
    let file = try ModelFile(bytes: run.model.encoded())
    #expect(file.encoding == .windowDifferences && file.contextLength == 4)
    #expect(run.epochLosses.allSatisfy { $0.isFinite })
    // One example per sequence per t in 2...L-2 (window 4 ≥ 2: examples need two differences).
    let rng = try GSLRandom(seed: options.seed)
    let sequences = SequenceFamily.fib.makeSequences(count: options.sequences, rng: rng)
    #expect(run.trainingExamples == sequences.map { $0.count - 3 }.reduce(0, +))
  }

  @Test(
    "--init continues from the model's weights: a vanishing rate leaves them in place, a normal one lowers the loss")
  func warmStart() throws {
    var options = smallOptions(.fib)
    options.epochs = 3
    let first = try Trainer.train(options)
    // Adam moves each weight by at most about lr per step: at 1e-9 the warm start must return the initial weights
    // (a fresh draw would differ by the weights' own size, about 0.1 to 0.3).
    var frozen = options
    frozen.learningRate = 1e-9
    frozen.epochs = 1
    let kept = try Trainer.train(frozen, initial: first.model)
    let drift = zip(kept.parameters.values, first.parameters.values).map { abs($0 - $1) }.max()!
    #expect(drift < 1e-6, "largest weight change \(drift)")
    // Training on from the first run at its own rate starts where it ended: the warm start's first epoch is below
    // the fresh run's first epoch.
    let continued = try Trainer.train(options, initial: first.model)
    #expect(continued.epochLosses[0] < first.epochLosses[0])
    #expect(continued.epochLosses[0] < 1.5 * first.epochLosses[2])
    // A model of another shape is refused before any work.
    var other = options
    other.hiddenSize = 9
    #expect(throws: TrainerError.self) { try Trainer.train(other, initial: first.model) }
  }

  @Test("validation sequences are drawn after the training sequences and are not the same data")
  func validationIsHeldOut() throws {
    let rng = try GSLRandom(seed: 0)
    let training = SequenceFamily.odd.makeSequences(count: 2000, rng: rng)
    let validation = SequenceFamily.odd.makeSequences(count: 400, rng: rng)
    let again = SequenceFamily.odd.makeSequences(count: 2400, rng: try GSLRandom(seed: 0))
    #expect(Array(again.prefix(2000)) == training)
    #expect(Array(again.suffix(400)) == validation)
  }

  @Test("an absurd learning rate diverges: a non-finite loss stops the run")
  func divergence() throws {
    var options = smallOptions()
    options.learningRate = 1e30
    options.epochs = 3
    #expect {
      try Trainer.train(options)
    } throws: { error in
      guard case .nonFiniteLoss = error as? TrainerError else { return false }
      return true
    }
  }

  @Test("an injected NaN loss stops the run at that batch")
  func injectedNaN() throws {
    #expect(throws: TrainerError.nonFiniteLoss(epoch: 1, batch: 2, loss: .infinity)) {
      try Trainer.train(smallOptions(), events: TrainingEvents()) { epoch, batch, loss in
        epoch == 1 && batch == 2 ? .infinity : loss
      }
    }
  }
}

@Suite("Statistics and progress")
struct StatisticsTests {
  @Test("GSL summary of 1...20: mean, sd, median, p95")
  func summary() {
    let s = GSLStatistics.summary((1...20).reversed().map(Double.init))
    #expect(s.count == 20)
    #expect(abs(s.mean - 10.5) < 1e-12)
    #expect(abs(s.sd - 35.0.squareRoot()) < 1e-12)  // sample sd of 1...20 is √35
    #expect(abs(s.median - 10.5) < 1e-12)
    #expect(abs(s.p95 - 19.05) < 1e-12)  // GSL: sorted[18] + 0.05 (sorted[19] − sorted[18])
    #expect(GSLStatistics.summary([]).mean.isNaN)
    #expect(GSLStatistics.summary([3]).sd.isNaN)
    #expect(GSLStatistics.mean([1, 2, 6]) == 3)
  }

  @Test("epoch lines and the progress bar")
  func formatting() {
    #expect(epochLine(1, loss: 0.0678571) == "Epoch 01 | Loss 0.067857")
    #expect(epochLine(12, loss: 0.000069) == "Epoch 12 | Loss 0.000069")
    #expect(
      ProgressBar.render(done: 5, total: 10, elapsed: .seconds(2), width: 10)
        == "[#####.....]  50%  5/10 batches  ETA 2.0s")
    #expect(
      ProgressBar.render(done: 0, total: 10, elapsed: .zero, width: 4)
        == "[....]   0%  0/10 batches  ETA --")
    var bar = ProgressBar(width: 4, interval: .seconds(1), start: .now)
    #expect(bar.update(done: 1, total: 3) != nil)
    #expect(bar.update(done: 2, total: 3) == nil)  // throttled
    #expect(bar.update(done: 3, total: 3) != nil)  // the last update is always drawn
  }
}
