package lsh

import (
	"fmt"
	"math"
)

// MaxK is the largest supported number of bits per hash code.
const MaxK = 16

// Tables holds L hash tables over N points with K-bit codes.
//
// Layout: codes is N×L point-major (codes[i*L+t] = code_t(i)); table t has
// offsets[t*(2^K+1) : (t+1)*(2^K+1)] and ids[t*N : (t+1)*N], and bucket c of
// table t is ids[t*N+offsets[c] : t*N+offsets[c+1]].
type Tables struct {
	k, l, n int
	mask    uint32
	codes   []uint16
	offsets []int32
	ids     []int32
}

// Stats describes the occupancy of the tables, for diagnostics.
type Stats struct {
	Buckets        int     // buckets per table, 2^K
	NonEmptyMean   float64 // non-empty buckets per table, mean over tables
	NonEmptyMin    int     // non-empty buckets per table, minimum over tables
	NonEmptyMax    int     // non-empty buckets per table, maximum over tables
	MeanBucketSize float64 // mean size of the non-empty buckets over all tables
	MaxBucketSize  int     // largest bucket over all tables
	// MeanOwnBucketSize is the size of a point's own bucket averaged over
	// points and tables (Σ_b |b|² / N, mean over tables): the bucket size
	// a query that equals a data point sees on average.
	MeanOwnBucketSize float64
}

// Build stores codes, an N×L point-major array (codes[i*l+t] is point i's
// code in table t), in l tables of k-bit codes. It returns an error if k is
// outside 1..16, n or l is below 1, n exceeds MaxInt32, len(codes) != n*l or
// a code is ≥ 2^k.
func Build(codes []uint32, n, k, l int) (*Tables, error) {
	if k < 1 || k > MaxK {
		return nil, fmt.Errorf("lsh: code bits k = %d outside 1..%d", k, MaxK)
	}
	if l < 1 {
		return nil, fmt.Errorf("lsh: number of tables l = %d, need ≥ 1", l)
	}
	if n < 1 || n > math.MaxInt32 {
		return nil, fmt.Errorf("lsh: number of points n = %d outside 1..%d", n, math.MaxInt32)
	}
	if l > math.MaxInt/n {
		return nil, fmt.Errorf("lsh: n·l = %d·%d overflows", n, l)
	}
	t := &Tables{k: k, l: l, n: n, mask: uint32(1)<<k - 1}
	if err := t.check(codes); err != nil {
		return nil, err
	}
	t.codes = make([]uint16, n*l)
	t.offsets = make([]int32, l*(1<<k+1))
	t.ids = make([]int32, n*l)
	t.build(codes)
	return t, nil
}

// Rebuild replaces all codes (same N, K, L as in Build) and rebuilds the
// tables in place without allocating. On error the tables are unchanged.
// Prepared queries of t must be prepared again afterwards.
func (t *Tables) Rebuild(codes []uint32) error {
	if err := t.check(codes); err != nil {
		return err
	}
	clear(t.offsets)
	t.build(codes)
	return nil
}

// check validates codes for t's sizes.
func (t *Tables) check(codes []uint32) error {
	if len(codes) != t.n*t.l {
		return fmt.Errorf("lsh: %d codes, want n·l = %d·%d = %d", len(codes), t.n, t.l, t.n*t.l)
	}
	var or uint32
	for _, c := range codes {
		or |= c
	}
	if or&^t.mask == 0 {
		return nil
	}
	for j, c := range codes {
		if c > t.mask {
			return fmt.Errorf("lsh: code %d of point %d in table %d is ≥ 2^%d", c, j/t.l, j%t.l, t.k)
		}
	}
	panic("unreachable")
}

// build fills codes, offsets and ids from valid codes; offsets must be zero.
func (t *Tables) build(codes []uint32) {
	l, n := t.l, t.n
	stride := int(t.mask) + 2 // 2^K + 1 offsets per table
	for j, c := range codes {
		t.codes[j] = uint16(c)
	}
	// Count: offsets[t][c+1] = |B_t(c)|, one sequential pass for all tables.
	for i := 0; i < n; i++ {
		row := t.codes[i*l : i*l+l]
		for tb, c := range row {
			t.offsets[tb*stride+int(c)+1]++
		}
	}
	// Prefix sums: offsets[t][c] = start of bucket c.
	for tb := 0; tb < l; tb++ {
		off := t.offsets[tb*stride : (tb+1)*stride]
		for c := 1; c < len(off); c++ {
			off[c] += off[c-1]
		}
	}
	// Place, using offsets[t][c] as the cursor of bucket c; afterwards
	// offsets[t][c] holds the end of bucket c = start of bucket c+1.
	for i := 0; i < n; i++ {
		row := t.codes[i*l : i*l+l]
		for tb, c := range row {
			p := &t.offsets[tb*stride+int(c)]
			t.ids[tb*n+int(*p)] = int32(i)
			*p++
		}
	}
	// Shift back so offsets[t][c] is the start of bucket c again.
	for tb := 0; tb < l; tb++ {
		off := t.offsets[tb*stride : (tb+1)*stride]
		copy(off[1:], off[:len(off)-1])
		off[0] = 0
	}
}

// K returns the number of bits per code.
func (t *Tables) K() int { return t.k }

// L returns the number of tables.
func (t *Tables) L() int { return t.l }

// N returns the number of points.
func (t *Tables) N() int { return t.n }

// Bucket returns the ids of the points with code in table, in increasing
// order. The slice aliases the tables' storage and must not be modified; it
// is valid until the next Rebuild.
func (t *Tables) Bucket(table int, code uint32) []int32 {
	if table < 0 || table >= t.l {
		panic(fmt.Sprintf("lsh: table %d out of range [0,%d)", table, t.l))
	}
	if code > t.mask {
		panic(fmt.Sprintf("lsh: code %d is ≥ 2^%d", code, t.k))
	}
	lo, hi := t.bucketRange(table, uint16(code))
	return t.ids[lo:hi:hi]
}

// bucketRange returns the bounds of bucket code of table in ids.
func (t *Tables) bucketRange(table int, code uint16) (lo, hi int) {
	off := t.offsets[table*(int(t.mask)+2)+int(code):]
	base := table * t.n
	return base + int(off[0]), base + int(off[1])
}

// Code returns point i's code in table.
func (t *Tables) Code(i, table int) uint32 {
	if i < 0 || i >= t.n || table < 0 || table >= t.l {
		panic(fmt.Sprintf("lsh: Code(%d, %d) out of range n = %d, l = %d", i, table, t.n, t.l))
	}
	return uint32(t.codes[i*t.l+table])
}

// Occupancy returns bucket occupancy statistics.
func (t *Tables) Occupancy() Stats {
	s := Stats{Buckets: int(t.mask) + 1, NonEmptyMin: math.MaxInt}
	stride := int(t.mask) + 2
	total, own := 0, 0.0
	for tb := 0; tb < t.l; tb++ {
		off := t.offsets[tb*stride : (tb+1)*stride]
		nonEmpty := 0
		for c := 0; c+1 < len(off); c++ {
			size := int(off[c+1] - off[c])
			if size == 0 {
				continue
			}
			nonEmpty++
			s.MaxBucketSize = max(s.MaxBucketSize, size)
			own += float64(size) * float64(size)
		}
		total += nonEmpty
		s.NonEmptyMin = min(s.NonEmptyMin, nonEmpty)
		s.NonEmptyMax = max(s.NonEmptyMax, nonEmpty)
	}
	s.NonEmptyMean = float64(total) / float64(t.l)
	s.MeanBucketSize = float64(t.n) * float64(t.l) / float64(total)
	s.MeanOwnBucketSize = own / float64(t.n) / float64(t.l)
	return s
}
