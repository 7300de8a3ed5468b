// The minibatch epoch loop shared by the RNN trainer and the MLP baseline.
//
// Each epoch: a fresh GSL shuffle of all n example indices (DataLoader(shuffle=True)), minibatches of `batchSize`
// with the last one partial, and per batch: forward (returns the mean loss), a finite-loss check, the scheduled
// learning rate, backward and one Adam step. Returns the epoch losses as the notebook prints them:
// Σ(batch loss × batch size) / n. `afterEpoch` may end the run early (fit's early stopping); the schedule still spans
// all `epochs`.

struct EpochLoop {
  let count: Int
  let batchSize: Int
  let epochs: Int
  let learningRate: Double
  let schedule: LearningRateSchedule

  var batchesPerEpoch: Int { (count + batchSize - 1) / batchSize }

  /// `forward(epoch, batch, indices)` loads the batch and returns its loss (epoch and batch count from 1);
  /// `backwardAndStep(rate)` computes the gradient of that batch and applies one optimiser step at `rate`;
  /// `afterEpoch(epoch, loss)` returns true to stop after that epoch.
  func run(
    rng: GSLRandom, events: TrainingEvents,
    forward: (_ epoch: Int, _ batch: Int, _ indices: ArraySlice<Int>) -> Double,
    backwardAndStep: (_ rate: Double) -> Void,
    afterEpoch: (_ epoch: Int, _ loss: Double) throws(TrainerError) -> Bool = { _, _ in false }
  ) throws(TrainerError) -> [Double] {
    let totalBatches = batchesPerEpoch * epochs
    events.started(count, batchesPerEpoch)
    var epochLosses: [Double] = []
    var order = [Int](repeating: 0, count: count)
    for epoch in 1...epochs {
      for i in 0..<count { order[i] = i }
      rng.shuffle(&order)
      var total = 0.0
      for batch in 0..<batchesPerEpoch {
        let indices = order[(batch * batchSize)..<min(count, (batch + 1) * batchSize)]
        let loss = forward(epoch, batch + 1, indices)
        guard loss.isFinite else { throw .nonFiniteLoss(epoch: epoch, batch: batch + 1, loss: loss) }
        let done = (epoch - 1) * batchesPerEpoch + batch
        backwardAndStep(schedule.rate(base: learningRate, batch: done, totalBatches: totalBatches))
        total += loss * Double(indices.count)
        events.batchFinished(done + 1, totalBatches)
      }
      epochLosses.append(total / Double(count))
      events.epochFinished(epoch, epochLosses[epochLosses.count - 1])
      if try afterEpoch(epoch, epochLosses[epochLosses.count - 1]) { break }
    }
    return epochLosses
  }
}
