package lsh

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

func randomCodes(r *rand.Rand, n, k, l int) []uint32 {
	codes := make([]uint32, n*l)
	for j := range codes {
		codes[j] = r.Uint32N(1 << k)
	}
	return codes
}

// checkAgainstMap compares every bucket of every table with a map-based
// reference built from codes.
func checkAgainstMap(t *testing.T, tb *Tables, codes []uint32) {
	t.Helper()
	n, k, l := tb.N(), tb.K(), tb.L()
	type key struct {
		table int
		code  uint32
	}
	ref := map[key][]int32{}
	for i := 0; i < n; i++ {
		for table := 0; table < l; table++ {
			c := codes[i*l+table]
			ref[key{table, c}] = append(ref[key{table, c}], int32(i))
			if got := tb.Code(i, table); got != c {
				t.Fatalf("Code(%d, %d) = %d, want %d", i, table, got, c)
			}
		}
	}
	for table := 0; table < l; table++ {
		seen := 0
		for c := uint32(0); c < 1<<k; c++ {
			got := tb.Bucket(table, c)
			want := ref[key{table, c}]
			if !slices.Equal(got, want) {
				t.Fatalf("table %d bucket %d = %v, want %v", table, c, got, want)
			}
			seen += len(got)
		}
		if seen != n {
			t.Fatalf("table %d holds %d ids, want %d", table, seen, n)
		}
	}
}

func TestBuildMatchesMap(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, c := range []struct{ n, k, l int }{
		{1, 1, 1}, {7, 1, 3}, {1000, 5, 4}, {300, 9, 2}, {2000, 16, 2}, {50, 3, 8},
	} {
		codes := randomCodes(r, c.n, c.k, c.l)
		tb, err := Build(codes, c.n, c.k, c.l)
		if err != nil {
			t.Fatalf("Build(n=%d,k=%d,l=%d): %v", c.n, c.k, c.l, err)
		}
		if tb.N() != c.n || tb.K() != c.k || tb.L() != c.l {
			t.Fatalf("sizes %d,%d,%d, want %d,%d,%d", tb.N(), tb.K(), tb.L(), c.n, c.k, c.l)
		}
		checkAgainstMap(t, tb, codes)

		// Rebuild with new codes equals a fresh build and does not allocate.
		codes2 := randomCodes(r, c.n, c.k, c.l)
		if err := tb.Rebuild(codes2); err != nil {
			t.Fatal(err)
		}
		checkAgainstMap(t, tb, codes2)
		if a := testing.AllocsPerRun(5, func() {
			if err := tb.Rebuild(codes); err != nil {
				t.Fatal(err)
			}
		}); a != 0 {
			t.Errorf("Rebuild allocates %v times", a)
		}
		checkAgainstMap(t, tb, codes)
	}
}

func TestBuildErrors(t *testing.T) {
	good := make([]uint32, 12)
	for _, c := range []struct {
		name    string
		codes   []uint32
		n, k, l int
		msg     string
	}{
		{"k=0", good, 4, 0, 3, "code bits"},
		{"k=17", good, 4, 17, 3, "code bits"},
		{"l=0", good, 4, 4, 0, "tables"},
		{"n=0", nil, 0, 4, 3, "points"},
		{"short", good[:11], 4, 4, 3, "codes"},
		{"long", append(good, 0), 4, 4, 3, "codes"},
		{"code too large", []uint32{0, 1, 2, 3, 4, 16, 0, 0, 0, 0, 0, 0}, 4, 4, 3, "point 1 in table 2"},
	} {
		tb, err := Build(c.codes, c.n, c.k, c.l)
		if err == nil || tb != nil {
			t.Errorf("%s: Build = %v, %v; want error", c.name, tb, err)
			continue
		}
		if !strings.Contains(err.Error(), c.msg) || !strings.HasPrefix(err.Error(), "lsh: ") {
			t.Errorf("%s: error %q does not mention %q", c.name, err, c.msg)
		}
	}

	// Rebuild errors leave the tables unchanged.
	r := rand.New(rand.NewPCG(5, 6))
	codes := randomCodes(r, 40, 3, 2)
	tb, err := Build(codes, 40, 3, 2)
	if err != nil {
		t.Fatal(err)
	}
	if err := tb.Rebuild(codes[:79]); err == nil {
		t.Error("Rebuild with wrong length: no error")
	}
	bad := randomCodes(r, 40, 3, 2)
	bad[77] = 8
	if err := tb.Rebuild(bad); err == nil {
		t.Error("Rebuild with code 2^K: no error")
	}
	checkAgainstMap(t, tb, codes)
}

func TestPanicsOnProgrammerErrors(t *testing.T) {
	tb, err := Build(make([]uint32, 6), 3, 2, 2)
	if err != nil {
		t.Fatal(err)
	}
	var p Prepared
	for name, f := range map[string]func(){
		"Bucket table":  func() { tb.Bucket(2, 0) },
		"Bucket code":   func() { tb.Bucket(0, 4) },
		"Code point":    func() { tb.Code(3, 0) },
		"Prepare len":   func() { tb.Prepare(&p, []uint32{0}, 0, true) },
		"Prepare code":  func() { tb.Prepare(&p, []uint32{0, 4}, 0, true) },
		"Prepare eps":   func() { tb.Prepare(&p, []uint32{0, 0}, 1.5, true) },
		"Prepare NaN":   func() { tb.Prepare(&p, []uint32{0, 0}, nan(), true) },
		"Prob range":    func() { tb.Prepare(&p, []uint32{0, 0}, 0, true); p.Prob(3) },
		"ProbAll len":   func() { tb.Prepare(&p, []uint32{0, 0}, 0, true); p.ProbAll(make([]float64, 2)) },
		"DrawN lengths": func() { tb.Prepare(&p, []uint32{0, 0}, 0, true); p.DrawN(nil, make([]int, 2), nil) },
	} {
		func() {
			defer func() {
				v := recover()
				s, ok := v.(string)
				if !ok || !strings.HasPrefix(s, "lsh: ") {
					t.Errorf("%s: recovered %v, want an lsh: panic", name, v)
				}
			}()
			f()
		}()
	}
}

func TestOccupancy(t *testing.T) {
	// Table 0: codes 0,0,0,1 (2 non-empty, sizes 3,1); table 1: 2,2,3,3.
	codes := []uint32{0, 2, 0, 2, 0, 3, 1, 3}
	tb, err := Build(codes, 4, 2, 2)
	if err != nil {
		t.Fatal(err)
	}
	got := tb.Occupancy()
	want := Stats{
		Buckets: 4, NonEmptyMean: 2, NonEmptyMin: 2, NonEmptyMax: 2,
		MeanBucketSize: 2, MaxBucketSize: 3,
		MeanOwnBucketSize: ((9.0+1)/4 + (4.0+4)/4) / 2,
	}
	if got != want {
		t.Errorf("Occupancy = %+v, want %+v", got, want)
	}
}

func nan() float64 { z := 0.0; return z / z }
