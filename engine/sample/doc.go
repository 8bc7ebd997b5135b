// Package sample is the second stage of the training pipeline (linearize →
// sample → step): it draws each minibatch's example indices together with
// their importance weights 1/(N·p_i), so that the weighted minibatch
// gradient is an unbiased estimate of the full gradient (with the exact
// probabilities).
//
// Every sampler is a Sampler: Refit takes a new linearization (the lsh
// sampler rebuilds its tables from the codes, ntk-static its alias table
// from the gradient norms at w0), Draw fills one minibatch, and Probs gives
// the per-draw probabilities of chosen points for diagnostics and
// experiments. Samplers see parameters, never a trainer: those that score
// every point at every step (true, loss, ntk-exact, upper-bound) get a
// Scorer, the per-example passes of package ntk, when they are made.
package sample
