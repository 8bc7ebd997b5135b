// Package nn is the multilayer perceptron of the ntklsh engine: float32
// parameters in one flat vector, batched forward and backward passes whose
// matrix products go through a kernels.Backend, and the per-example
// quantities the NTK linearization needs without ever forming a per-example
// gradient:
//
//   - a_i·w = Σ_l δ_l·z_l, where δ_l = ∂f/∂z_l and z_l = W_l h_{l−1} + b_l,
//   - |a_i|² = Σ_l |δ_l|² (|h_{l−1}|² + 1) (the per-example norm trick,
//     Goodfellow 2015), accumulated in float64.
//
// Layer l (1-based, l = 1..Layers) maps h_{l−1} (width Sizes[l−1]) to
// z_l = W_l h_{l−1} + b_l (width Sizes[l]); hidden layers apply the
// activation, the output layer is linear. The parameter vector stores, layer
// after layer, W_l row-major (Sizes[l] × Sizes[l−1]) followed by b_l.
//
// The loss of one example is ℓ_i = ½ Σ_o (f_o(x_i) − y_io)², and the
// training objective is the mean of ℓ_i over the data set.
package nn
