// Package dist trains one model on R processes ("ranks"), each holding a
// shard of the training rows: every rank linearizes and builds its sampler
// over its shard only, draws its share of the minibatch locally with
// importance weights rescaled so that the sum over ranks is an unbiased
// estimate of the global gradient, and the gradients are all-reduced (sum)
// every step so that the parameters stay identical on every rank. See
// docs/DISTRIBUTED.md for the derivation and the cost model.
//
// The package needs no MPI: it talks through Comm, which package mpi's
// World implements (build tag mpi) and Local implements in-process, with
// goroutines, for tests.
package dist

import (
	"fmt"
	"slices"
	"sync"
)

// Comm is the group of ranks a run spans. Every method but Rank, Size and
// Abort is collective: every rank calls it, in the same order, with
// buffers of the same length.
type Comm interface {
	Rank() int
	Size() int
	// AllreduceSum32 and AllreduceSum64 replace buf by the element-wise
	// sum over the ranks; AllreduceMax64 by the maximum. Every rank gets
	// the same bits.
	AllreduceSum32(buf []float32) error
	AllreduceSum64(buf []float64) error
	AllreduceMax64(buf []float64) error
	// Allgatherv returns every rank's send block in rank order.
	Allgatherv(send []byte) ([][]byte, error)
	// Bcast copies root's buf into every rank's buf.
	Bcast(buf []byte, root int) error
	Barrier() error
	// Abort ends every rank of the job with exit code code.
	Abort(code int)
}

// Local returns the n ranks of an in-process group: run each rank's work
// in its own goroutine. Sums are taken in rank order, so every rank gets
// the same bits, as from MPI. Abort panics.
func Local(n int) []Comm {
	g := &group{n: n, slots: make([]any, n)}
	g.cond = sync.NewCond(&g.mu)
	out := make([]Comm, n)
	for r := range out {
		out[r] = &local{g: g, rank: r}
	}
	return out
}

type group struct {
	mu      sync.Mutex
	cond    *sync.Cond
	n       int
	arrived int
	gen     int
	slots   []any
	result  any
}

// exchange deposits v, waits for every rank, and returns combine(slots)
// (computed once, by the last rank to arrive; combine must not keep the
// slots).
func (g *group) exchange(rank int, v any, combine func([]any) any) any {
	g.mu.Lock()
	defer g.mu.Unlock()
	gen := g.gen
	g.slots[rank] = v
	g.arrived++
	if g.arrived == g.n {
		g.result = combine(g.slots)
		g.arrived = 0
		g.gen++
		g.cond.Broadcast()
	} else {
		for gen == g.gen {
			g.cond.Wait()
		}
	}
	return g.result
}

type local struct {
	g    *group
	rank int
}

func (c *local) Rank() int { return c.rank }
func (c *local) Size() int { return c.g.n }

func reduce[T float32 | float64](c *local, buf []T, op func(a, b T) T) error {
	res := c.g.exchange(c.rank, slices.Clone(buf), func(s []any) any {
		acc := slices.Clone(s[0].([]T))
		for _, v := range s[1:] {
			b := v.([]T)
			if len(b) != len(acc) {
				return fmt.Errorf("dist: all-reduce of %d and %d elements", len(acc), len(b))
			}
			for i := range acc {
				acc[i] = op(acc[i], b[i])
			}
		}
		return acc
	})
	if err, ok := res.(error); ok {
		return err
	}
	copy(buf, res.([]T))
	return nil
}

func (c *local) AllreduceSum32(buf []float32) error {
	return reduce(c, buf, func(a, b float32) float32 { return a + b })
}
func (c *local) AllreduceSum64(buf []float64) error {
	return reduce(c, buf, func(a, b float64) float64 { return a + b })
}
func (c *local) AllreduceMax64(buf []float64) error {
	return reduce(c, buf, func(a, b float64) float64 { return max(a, b) })
}

func (c *local) Allgatherv(send []byte) ([][]byte, error) {
	res := c.g.exchange(c.rank, slices.Clone(send), func(s []any) any {
		out := make([][]byte, len(s))
		for r, v := range s {
			out[r] = v.([]byte)
		}
		return out
	}).([][]byte)
	out := make([][]byte, len(res))
	for r := range res {
		out[r] = slices.Clone(res[r])
	}
	return out, nil
}

func (c *local) Bcast(buf []byte, root int) error {
	res := c.g.exchange(c.rank, slices.Clone(buf), func(s []any) any { return slices.Clone(s[root].([]byte)) }).([]byte)
	copy(buf, res)
	return nil
}

func (c *local) Barrier() error {
	c.g.exchange(c.rank, nil, func([]any) any { return nil })
	return nil
}

func (c *local) Abort(code int) {
	panic(fmt.Sprintf("dist: rank %d aborted the job (code %d)", c.rank, code))
}
