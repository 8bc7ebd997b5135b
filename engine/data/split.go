package data

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// Split shuffles the rows of d with a PCG generator seeded by seed and
// returns copies of them as train and test sets, test holding
// round(testFraction·N) rows (but at least one row is left for training).
// testFraction must be in [0, 1). The same seed gives the same split.
func Split(d *Dataset, testFraction float64, seed uint64) (train, test *Dataset, err error) {
	if !(testFraction >= 0 && testFraction < 1) {
		return nil, nil, fmt.Errorf("data: Split of %q: test fraction %v outside [0, 1)", d.Name, testFraction)
	}
	if d.N == 0 {
		return nil, nil, fmt.Errorf("data: Split of %q: dataset is empty", d.Name)
	}
	nTest := min(int(math.Round(testFraction*float64(d.N))), d.N-1)
	perm := rand.New(rand.NewPCG(seed, 0x5eed5eed5eed5eed)).Perm(d.N)
	return d.Subset(perm[nTest:]), d.Subset(perm[:nTest]), nil
}
