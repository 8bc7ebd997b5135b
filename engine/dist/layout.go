package dist

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/ntklsh/ntklsh/engine/data"
)

// Range is rank r's row range [lo, hi) when n rows are split over R ranks
// as evenly as possible (the first n mod R ranks get one row more).
func Range(n, r, R int) (lo, hi int) {
	q, rem := n/R, n%R
	lo = r*q + min(r, rem)
	hi = lo + q
	if r < rem {
		hi++
	}
	return lo, hi
}

// Rows returns rows [lo, hi) of d, sharing its storage.
func Rows(d *data.Dataset, lo, hi int) *data.Dataset {
	if d == nil {
		return nil
	}
	s := *d
	s.N = hi - lo
	s.X = d.X[lo*d.D : hi*d.D : hi*d.D]
	s.Y = d.Y[lo*d.O : hi*d.O : hi*d.O]
	return &s
}

// RankSeed is the sampling seed of rank r: the run's seed on rank 0 (so
// that one rank draws exactly as a single process), a distinct stream on
// the others (independent strata).
func RankSeed(seed uint64, r int) uint64 {
	return seed + uint64(r)*0x9e3779b97f4a7c15
}

// Layout is how a run is spread over its ranks: the training and test rows
// and the minibatch draws of each. It is the same on every rank.
type Layout struct {
	Ranks int   `json:"ranks"`
	Train []int `json:"train_rows"` // N_r
	Test  []int `json:"test_rows"`
	Batch []int `json:"batch"` // m_r, the draws of rank r per step (Σ = B)
	// Files names each rank's data (its shard file, or the shared file and
	// its row range), for messages and the checkpoint.
	Files []string `json:"files,omitempty"`
}

// N is the number of training rows of all ranks.
func (l Layout) N() int { return sum(l.Train) }

// NTest is the number of test rows of all ranks.
func (l Layout) NTest() int { return sum(l.Test) }

// B is the global minibatch.
func (l Layout) B() int { return sum(l.Batch) }

func sum(v []int) int {
	s := 0
	for _, x := range v {
		s += x
	}
	return s
}

// Scale is the factor c_r = (B/m_r)·(N_r/N) by which rank r multiplies its
// sampler's weights 1/(N_r p_r(i)) to make them global weights: with them
// (1/B) Σ over every rank's draws of w ∇ℓ_i is unbiased for the gradient of
// (1/N) Σ_i ℓ_i. It is exactly 1 for one rank, and for shards and batches
// split evenly.
func (l Layout) Scale(r int) float64 {
	B, N := l.B(), l.N()
	if B == l.Batch[r] && N == l.Train[r] {
		return 1
	}
	return float64(B) / float64(l.Batch[r]) * float64(l.Train[r]) / float64(N)
}

// Check says what makes the layout unusable: a rank without training rows,
// or one asked to draw more than it holds.
func (l Layout) Check() error {
	var errs []error
	for r := 0; r < l.Ranks; r++ {
		switch {
		case l.Train[r] < 1:
			errs = append(errs, fmt.Errorf("rank %d%s has no training rows", r, l.file(r)))
		case l.Batch[r] < 1:
			errs = append(errs, fmt.Errorf("rank %d draws no point per step: --batch %d is smaller than the %d ranks", r, l.B(), l.Ranks))
		}
	}
	return errors.Join(errs...)
}

func (l Layout) file(r int) string {
	if r < len(l.Files) && l.Files[r] != "" {
		return " (" + l.Files[r] + ")"
	}
	return ""
}

// String describes the layout in one line.
func (l Layout) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d ranks, %d training rows (", l.Ranks, l.N())
	for r, n := range l.Train {
		if r > 0 {
			b.WriteString(" + ")
		}
		fmt.Fprint(&b, n)
	}
	fmt.Fprintf(&b, "), minibatch %d = ", l.B())
	for r, m := range l.Batch {
		if r > 0 {
			b.WriteString(" + ")
		}
		fmt.Fprint(&b, m)
	}
	return b.String()
}

// GatherLayout builds the layout from each rank's training and test rows
// and file (collective). The global minibatch B is split over the ranks
// by Range (stratified sampling with near-equal strata sizes).
func GatherLayout(c Comm, train, test, B int, file string) (Layout, error) {
	R := c.Size()
	msg := binary.LittleEndian.AppendUint64(nil, uint64(train))
	msg = binary.LittleEndian.AppendUint64(msg, uint64(test))
	msg = append(msg, file...)
	all, err := c.Allgatherv(msg)
	if err != nil {
		return Layout{}, err
	}
	l := Layout{Ranks: R, Train: make([]int, R), Test: make([]int, R), Batch: make([]int, R), Files: make([]string, R)}
	for r, m := range all {
		l.Train[r] = int(binary.LittleEndian.Uint64(m))
		l.Test[r] = int(binary.LittleEndian.Uint64(m[8:]))
		l.Files[r] = string(m[16:])
		lo, hi := Range(B, r, R)
		l.Batch[r] = hi - lo
	}
	return l, l.Check()
}

// Agree is a collective error check: every rank passes its own error (or
// nil) and gets back the same error on every rank, naming the lowest rank
// that failed (and how many failed), or nil when none did. It lets a job
// stop cleanly, with one message, when any rank's input is bad.
func Agree(c Comm, err error) error {
	var msg []byte
	if err != nil {
		msg = []byte(err.Error())
		if len(msg) == 0 {
			msg = []byte("failed")
		}
	}
	all, gerr := c.Allgatherv(msg)
	if gerr != nil {
		return gerr
	}
	first, n, same := -1, 0, true
	for r, m := range all {
		if len(m) > 0 {
			n++
			if first < 0 {
				first = r
			}
			same = same && string(m) == string(all[first])
		}
	}
	if first < 0 {
		return nil
	}
	e := &RankError{Rank: first, Failed: n, Err: errors.New(string(all[first]))}
	if first == c.Rank() && err != nil {
		e.Err = err
	}
	if n == len(all) && same {
		e.Rank = -1 // every rank, with the same error
	}
	return e
}

// RankError is an error of one rank, as every rank reports it.
type RankError struct {
	Rank   int // the lowest failing rank; -1 when every rank failed alike
	Failed int // how many ranks failed
	Err    error
}

func (e *RankError) Error() string {
	if e.Rank < 0 {
		return fmt.Sprintf("every rank: %v", e.Err)
	}
	s := fmt.Sprintf("rank %d: %v", e.Rank, e.Err)
	if e.Failed > 1 {
		s += fmt.Sprintf(" (and %d more ranks failed)", e.Failed-1)
	}
	return s
}

func (e *RankError) Unwrap() error { return e.Err }

// FitStandardizer fits the standardization statistics of the union of the
// ranks' shards (collective): the global mean and population standard
// deviation of every column, by two all-reduces of sums, as
// data.FitStandardizer computes them on one set (up to the order of the
// float64 sums).
func FitStandardizer(c Comm, d *data.Dataset, targets bool) (*data.Standardizer, error) {
	s := &data.Standardizer{}
	var err error
	if s.XMean, s.XStd, err = columnStats(c, d.X, d.N, d.D); err != nil {
		return nil, err
	}
	if targets {
		if s.YMean, s.YStd, err = columnStats(c, d.Y, d.N, d.O); err != nil {
			return nil, err
		}
	}
	return s, nil
}

func columnStats(c Comm, v []float32, n, cols int) (mean, std []float64, err error) {
	buf := make([]float64, cols+1)
	for i := 0; i < n; i++ {
		for j, x := range v[i*cols : (i+1)*cols] {
			buf[j] += float64(x)
		}
	}
	buf[cols] = float64(n)
	if err := c.AllreduceSum64(buf); err != nil {
		return nil, nil, err
	}
	N := buf[cols]
	mean = make([]float64, cols)
	for j := range mean {
		mean[j] = buf[j] / max(N, 1)
	}
	std = make([]float64, cols)
	for i := 0; i < n; i++ {
		for j, x := range v[i*cols : (i+1)*cols] {
			dx := float64(x) - mean[j]
			std[j] += dx * dx
		}
	}
	if err := c.AllreduceSum64(std); err != nil {
		return nil, nil, err
	}
	for j := range std {
		sd := math.Sqrt(std[j] / max(N, 1))
		if !(sd > 0) || math.IsInf(sd, 0) {
			sd = 1
		}
		std[j] = sd
	}
	return mean, std, nil
}
