// Package engine trains a neural network with importance-sampled SGD:
// every iteration a Trainer linearizes the model when a rehash is due
// (ntk.Linearizer: the per-example NTK features and their hash codes), draws
// a minibatch with importance weights from a sampler built on them
// (sample.Sampler) and steps along the weighted minibatch gradient
// (Stepper: the host stepper — SGD, momentum, clipping, keep-stepping, the
// gn and newton step sizes — or an accelerator's). A Recorder observes the
// iterations and evaluations; State and Restore checkpoint a run.
//
// SetParallel makes a Trainer one rank of a data-parallel run over a shard
// of the training rows (Parallel: the all-reduce hook at the host stepper's
// gradient boundary and the global diagnostics); engine/dist builds such
// runs on any group of processes, MPI among them (docs/DISTRIBUTED.md).
package engine
