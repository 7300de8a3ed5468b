import Foundation
import RecurTestSupport
import Testing

@testable import RecurTrainer

// Adam against the closed form and against values printed by torch.optim.Adam.

@Suite("Adam")
struct AdamTests {
  @Test("one step equals the closed form: θ − lr · g / (|g| + ε)")
  func firstStepClosedForm() {
    // After one step m̂ = g and v̂ = g², so the update is lr · g / (|g| + ε) (with ε added after the square root).
    let gradient: [Double] = [0.1, -0.2, 0, 3, -1e-9]
    var parameters: [Double] = [0.5, -1, 2, 0.25, 1]
    var adam = Adam<Double>(parameterCount: 5, learningRate: 0.01)
    adam.update(&parameters, gradient: gradient)
    let expected = zip([0.5, -1, 2, 0.25, 1], gradient).map { p, g in p - 0.01 * g / (abs(g) + 1e-8)
    }
    for (a, b) in zip(parameters, expected) { #expect(abs(a - b) <= 1e-15) }
    #expect(adam.step == 1)
  }

  @Test("two steps equal the bias-corrected closed form")
  func secondStepClosedForm() {
    let g1 = 0.3
    let g2 = -0.1
    let lr = 0.01
    var parameters = [1.0]
    var adam = Adam<Double>(parameterCount: 1, learningRate: lr)
    adam.update(&parameters, gradient: [g1])
    adam.update(&parameters, gradient: [g2])
    let m = 0.9 * (0.1 * g1) + 0.1 * g2
    let v = 0.999 * (0.001 * g1 * g1) + 0.001 * g2 * g2
    let mHat = m / (1 - 0.9 * 0.9)
    let vHat = v / (1 - 0.999 * 0.999)
    let afterFirst = 1.0 - lr * g1 / (abs(g1) + 1e-8)
    #expect(abs(parameters[0] - (afterFirst - lr * mHat / (vHat.squareRoot() + 1e-8))) < 1e-12)
  }

  @Test("three float32 steps reproduce torch.optim.Adam(lr=0.01)")
  func matchesTorch() {
    // Printed by torch 2.13: p = [0.5, -1, 2, 0.25], grads below, opt.step() three times.
    let gradients: [[Float]] = [
      [0.1, -0.2, 0, 3], [0.3, 0.1, -0.5, -1e-3], [-0.05, 0.4, 0.2, 2.5],
    ]
    let torch: [[Float]] = [
      [0.49000000953674316, -0.9900000095367432, 2.0, 0.23999999463558197],
      [0.48082220554351807, -0.9873366355895996, 2.007441282272339, 0.23330189287662506],
      [0.4748130738735199, -0.9919099807739258, 2.0104081630706787, 0.22523394227027893],
    ]
    var parameters: [Float] = [0.5, -1, 2, 0.25]
    var adam = Adam<Float>(parameterCount: 4, learningRate: 0.01)
    for (g, expected) in zip(gradients, torch) {
      adam.update(&parameters, gradient: g)
      for (a, b) in zip(parameters, expected) {
        #expect(abs(a - b) <= 2 * b.ulp, "\(a) vs torch \(b)")
      }
    }
  }
}

@Suite("Learning-rate schedule") struct ScheduleTests {
  @Test("cosine anneals from the base rate through half at mid-run towards zero; constant stays")
  func closedForm() {
    #expect(LearningRateSchedule.cosine.rate(base: 0.01, batch: 0, totalBatches: 100) == 0.01)
    #expect(abs(LearningRateSchedule.cosine.rate(base: 0.01, batch: 50, totalBatches: 100) - 0.005) < 1e-15)
    let last = LearningRateSchedule.cosine.rate(base: 0.01, batch: 99, totalBatches: 100)
    #expect(abs(last - 0.01 * 0.5 * (1 + cos(Double.pi * 0.99))) < 1e-15 && last < 3e-6)
    #expect(LearningRateSchedule.constant.rate(base: 0.01, batch: 99, totalBatches: 100) == 0.01)
  }
}
