// Package lsh stores locality-sensitive hash codes of a data set in L hash
// tables and draws data points from the buckets of a query with exactly known
// probabilities, for importance-sampled SGD (Chen, Xu & Shrivastava 2019,
// "LGD"; sampling probability roughly proportional to the gradient norm via
// hashing of the NTK linearization).
//
// # Tables
//
// There are L tables; table t assigns each data point i a K-bit code
// code_t(i) (1 ≤ K ≤ 16). [Build] groups the points of every table by code
// with a counting sort into a CSR layout (2^K+1 offsets and N ids per table),
// so a bucket B_t(c) = {i : code_t(i) = c} is a contiguous slice, ids in
// increasing order. The codes themselves are kept (as uint16) so that the
// probability of any point can be evaluated in O(L).
//
// # Draw probabilities
//
// A query has L codes q_t. With sign-symmetric probing the code of −q in
// table t is the complement ^q_t & (2^K − 1), so there are 2L candidate
// buckets B_t(s·q), s ∈ {+,−}; without it only the L buckets B_t(q). Let Z be
// the number of non-empty candidates. A draw picks one non-empty candidate
// uniformly, then a uniform member of it:
//
//	P(i) = (1/Z) · Σ_{(t,s): B_t(s·q) ≠ ∅} 1[code_t(i) = code_t(s·q)] / |B_t(s·q)|
//
// With probability ε the draw is instead uniform over all N points:
//
//	P_ε(i) = (1−ε)·P(i) + ε/N,   and P_ε(i) = 1/N when Z = 0.
//
// [Prepared.Draw] returns P_ε(i) of the drawn point exactly (O(L), independent
// of N), so the importance weight 1/(N·P_ε(i)) gives an unbiased estimate of
// a mean over the data set, conditional on the tables. Unbiasedness needs
// P_ε(i) > 0 for every i, i.e. ε > 0 or Z = 0; with ε = 0 points outside all
// probed buckets are never drawn and the estimate misses their share.
//
// [Prepared.DrawLGD] is the original LGD procedure: probe the candidates in a
// uniformly random order until a non-empty one is found. Its draws have
// distribution P (= P_0) and it reports the bucket size and the number of
// probes rather than a probability.
//
// [Alias] is a Walker/Vose alias table for O(1) draws from fixed weights
// mixed with uniform: P(i) = (1−ε)·w_i/Σw + ε/N.
//
// # Allocation
//
// [Tables.Rebuild], [Tables.Prepare] (after a Prepared's first use with a
// table of the same L), the Draw and Prob methods and [Alias.Reset] (same N)
// do not allocate. A Prepared refers to its Tables' buffers and must be
// prepared again after [Tables.Rebuild].
package lsh
