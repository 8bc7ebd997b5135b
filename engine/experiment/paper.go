package experiment

import "github.com/ntklsh/ntklsh/engine/ntk"

// PaperHash is the lsh configuration the experiments call the paper's
// method: the query [w, −1] against [a|a|, (y−b)|a|], layer-structured
// projections, the Simple-LSH MIPS transform, sign-symmetric probing, K = 2
// bits and L = 64 tables (the engine's default before the ablation set it
// to the re-centred query). It is fixed here so that the experiments do not
// move when the engine's defaults do.
func PaperHash() ntk.HashConfig {
	return ntk.HashConfig{K: 2, L: 64, Family: ntk.Structured, MIPS: true, Query: ntk.QueryPaper,
		Alpha: 0.01, SignSymmetric: true, Seed: 7}
}
