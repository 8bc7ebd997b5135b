// Package ntk is the first stage of the training pipeline (linearize →
// sample → step): it linearizes a model around its parameters w0 (the
// neural tangent kernel view, s_i(w) ≈ b_i + a_i·w with a_i the gradient
// of example i's output; with several outputs, of their sum by default, or
// of the output along the residual's direction at w0 — MultiOutput,
// xent.go, which the softmax cross-entropy always uses) and hashes every
// example's linearized gradient vector into LSH tables' codes.
//
// A Linearization keeps O(N) numbers per rehash and O(N·L) codes, never the
// N × P Jacobian, and owns the Simple-LSH scale M. A Hasher holds the random
// projections (structured per-layer or dense) and turns data vectors and
// queries into codes. Rehash (and CPU, its Linearizer) streams the data set
// in batches; an accelerator implements Linearizer too (cuda.Rehasher).
// Passes computes the per-example quantities the samplers score points by:
// exact gradient norms, losses, residual norms and linearized values.
package ntk
