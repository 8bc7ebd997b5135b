// Package experiment runs the experiments that ask whether NTK-linearized
// LSH sampling makes SGD reach a loss sooner, and when:
//
//   - KL (paper §4.1): along a training run, the distance between the true
//     per-sample gradient-norm distribution p* and the NTK estimate p̂, the
//     lsh sampler's exact draw distribution (both projection families) and
//     uniform, across widths and rehash schedules, for one and several
//     outputs (pNTK);
//   - the lsh ablation: the second-moment ratio against uniform (and KL)
//     across K, L, projection family, MIPS, query (paper or re-centred with
//     α), hashed layers, widths, tails of the data, phase of training and
//     steps since the rehash;
//   - convergence (paper §4.2): full train loss against iterations and
//     training seconds for every sampler and the keep-stepping optimizer,
//     over several seeds, with time-to-target ratios against uniform;
//   - time to target (RunTimeToTarget): every method tuned on a validation
//     split, a test-loss target set by the best plain-SGD baseline, median
//     ratios over seeds with bootstrap intervals; under the cross-entropy
//     (TTTConfig.Loss "xent") also a test-accuracy target.
//
// Each writes CSV, PNG plots (gonum.org/v1/plot) and a Markdown summary;
// `ntklsh experiment` is the command, docs/RESULTS.md the results.
package experiment
