package lsh

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

var benchSizes = []int{1e4, 1e5, 1e6}

const benchK, benchL = 8, 16

func benchTables(b *testing.B, n int) (*Tables, []uint32, []uint32) {
	b.Helper()
	r := rand.New(rand.NewPCG(1, uint64(n)))
	codes := randomCodes(r, n, benchK, benchL)
	tb, err := Build(codes, n, benchK, benchL)
	if err != nil {
		b.Fatal(err)
	}
	return tb, codes, randomCodes(r, 1, benchK, benchL)
}

// BenchmarkDraw measures Prepared.Draw (index and exact probability) for
// K = 8, L = 16, sign-symmetric, ε = 0.1 and random codes.
func BenchmarkDraw(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("N=%d", n), func(b *testing.B) {
			tb, _, q := benchTables(b, n)
			var p Prepared
			tb.Prepare(&p, q, 0.1, true)
			r := rand.New(rand.NewPCG(2, 3))
			sink := 0.0
			b.ResetTimer()
			for b.Loop() {
				_, prob := p.Draw(r)
				sink += prob
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "draws/s")
			if sink == 0 {
				b.Fatal("no draws")
			}
		})
	}
}

// BenchmarkDrawN measures Prepared.DrawN in batches of 256.
func BenchmarkDrawN(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("N=%d", n), func(b *testing.B) {
			tb, _, q := benchTables(b, n)
			var p Prepared
			tb.Prepare(&p, q, 0.1, true)
			r := rand.New(rand.NewPCG(2, 3))
			idx := make([]int, 256)
			prob := make([]float64, len(idx))
			b.ResetTimer()
			for b.Loop() {
				p.DrawN(r, idx, prob)
			}
			b.ReportMetric(float64(b.N*len(idx))/b.Elapsed().Seconds(), "draws/s")
		})
	}
}

// BenchmarkDrawLGD measures Prepared.DrawLGD.
func BenchmarkDrawLGD(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("N=%d", n), func(b *testing.B) {
			tb, _, q := benchTables(b, n)
			var p Prepared
			tb.Prepare(&p, q, 0.1, true)
			r := rand.New(rand.NewPCG(2, 3))
			sink := 0
			b.ResetTimer()
			for b.Loop() {
				i, _, _ := p.DrawLGD(r)
				sink += i
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "draws/s")
			_ = sink
		})
	}
}

// BenchmarkPrepare measures Tables.Prepare for one query.
func BenchmarkPrepare(b *testing.B) {
	tb, _, q := benchTables(b, 1e5)
	var p Prepared
	tb.Prepare(&p, q, 0.1, true)
	for b.Loop() {
		tb.Prepare(&p, q, 0.1, true)
	}
}

// BenchmarkBuild measures Tables.Rebuild (counting sort of all L tables).
func BenchmarkBuild(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("N=%d", n), func(b *testing.B) {
			tb, codes, _ := benchTables(b, n)
			b.ResetTimer()
			for b.Loop() {
				if err := tb.Rebuild(codes); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "points/s")
		})
	}
}

// BenchmarkAliasDraw measures Alias.Draw.
func BenchmarkAliasDraw(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("N=%d", n), func(b *testing.B) {
			r := rand.New(rand.NewPCG(4, 5))
			w := make([]float64, n)
			for i := range w {
				w[i] = r.ExpFloat64()
			}
			a, err := NewAlias(w, 0.1)
			if err != nil {
				b.Fatal(err)
			}
			sink := 0.0
			b.ResetTimer()
			for b.Loop() {
				_, p := a.Draw(r)
				sink += p
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "draws/s")
			_ = sink
		})
	}
}
