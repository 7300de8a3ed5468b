// Adam with PyTorch's defaults, step for step as `torch.optim.Adam` (non-amsgrad, no weight decay, the
// single-tensor path PyTorch takes for CPU tensors):
//
//   step += 1
//   m ← m + (1 − β1)(g − m)                  exp_avg.lerp_(grad, 1 − β1)
//   v ← β2 v + (1 − β2) g g                  exp_avg_sq.mul_(β2).addcmul_(grad, grad, value=1 − β2)
//   c1 = 1 − β1^step,  c2 = 1 − β2^step      (Python floats: Double)
//   denom = √v / √c2 + ε                     (exp_avg_sq.sqrt() / bias_correction2_sqrt).add_(eps)
//   θ ← θ + (−lr / c1) m / denom             param.addcdiv_(exp_avg, denom, value=−step_size)
//
// Scalars computed in Python double precision are rounded once to the tensor's float type, as PyTorch's CPU kernels
// do with their scalar arguments. β^step uses libm `pow`, as CPython's `float ** int` does.

import Foundation

public struct Adam<Scalar: TrainingScalar>: Sendable {
  /// The rate of the next step (a schedule may change it between steps).
  public var learningRate: Double
  public let beta1: Double
  public let beta2: Double
  public let epsilon: Double
  /// Steps taken so far.
  public private(set) var step = 0
  /// First and second moment estimates (exp_avg, exp_avg_sq), in the parameter layout.
  public private(set) var firstMoment: [Scalar]
  public private(set) var secondMoment: [Scalar]

  public init(
    parameterCount: Int, learningRate: Double, beta1: Double = 0.9, beta2: Double = 0.999,
    epsilon: Double = 1e-8
  ) {
    self.learningRate = learningRate
    self.beta1 = beta1
    self.beta2 = beta2
    self.epsilon = epsilon
    firstMoment = [Scalar](repeating: 0, count: parameterCount)
    secondMoment = [Scalar](repeating: 0, count: parameterCount)
  }

  /// One optimisation step: updates `parameters` in place from `gradient`.
  public mutating func update(_ parameters: inout [Scalar], gradient: [Scalar]) {
    precondition(parameters.count == firstMoment.count && gradient.count == firstMoment.count)
    step += 1
    let c1 = 1 - Foundation.pow(beta1, Double(step))
    let c2 = 1 - Foundation.pow(beta2, Double(step))
    let mWeight = Scalar(1 - beta1)
    let vDecay = Scalar(beta2)
    let vWeight = Scalar(1 - beta2)
    let c2Sqrt = Scalar(c2.squareRoot())
    let eps = Scalar(epsilon)
    let negStepSize = Scalar(-(learningRate / c1))
    firstMoment.withUnsafeMutableBufferPointer { m in
      secondMoment.withUnsafeMutableBufferPointer { v in
        parameters.withUnsafeMutableBufferPointer { p in
          gradient.withUnsafeBufferPointer { g in
            for i in 0..<p.count {
              m[i] = m[i] + mWeight * (g[i] - m[i])
              v[i] = v[i] * vDecay + vWeight * g[i] * g[i]
              let denom = v[i].squareRoot() / c2Sqrt + eps
              p[i] = p[i] + negStepSize * m[i] / denom
            }
          }
        }
      }
    }
  }

  public mutating func update(
    _ parameters: inout Parameters<Scalar>, gradient: Parameters<Scalar>
  ) {
    update(&parameters.values, gradient: gradient.values)
  }
}
