//go:build mpi

package dist

import (
	"context"
	"fmt"
	"os"
	"slices"
	"testing"

	"github.com/ntklsh/ntklsh/engine"
	"github.com/ntklsh/ntklsh/engine/data"
	"github.com/ntklsh/ntklsh/engine/nn"
	"github.com/ntklsh/ntklsh/mpi"
)

// The MPI tests run on every rank of a job (.ci/run):
//
//	go test -tags mpi -c -o /tmp/dist.test ./engine/dist
//	mpirun --allow-run-as-root -np 2 /tmp/dist.test -test.run MPI
//
// Every rank reaches the same verdict (the all-reduced values are the same
// bits everywhere).
func TestMain(m *testing.M) {
	if err := mpi.Init(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	mpi.Finalize()
	os.Exit(code)
}

// TestMPIStratifiedGradientUnbiased is TestStratifiedGradientUnbiased over
// MPI with the job's ranks.
func TestMPIStratifiedGradientUnbiased(t *testing.T) {
	c := mpi.World()
	ds, m0, mq, full := unbiasedData(t)
	P := len(full)
	for _, s := range unbiasedSamplers {
		const draws = 6000
		sum, sum2 := make([]float64, P), make([]float64, P)
		if err := drawGradients(c, ds, m0, mq, s, draws, sum, sum2); err != nil {
			t.Fatal(err)
		}
		if worst := worstZ(sum, sum2, full, draws); worst > 4.5 {
			t.Errorf("R=%d %s: the mean all-reduced gradient differs from the full gradient by %.1f standard errors", c.Size(), s, worst)
		}
	}
}

// mpiTrain trains a fresh model on the job's ranks, the rows of ds split
// by Range, comparing the parameter hashes every 5 steps and at the end.
func mpiTrain(t *testing.T, c Comm, ds *data.Dataset, cfg engine.Config) (*nn.MLP, *engine.Result) {
	t.Helper()
	lo, hi := Range(ds.N, c.Rank(), c.Size())
	m := model(t, 1)
	run, err := NewRun(c, be, m, Rows(ds, lo, hi), nil, cfg, "", Options{CheckEvery: 5})
	if err != nil {
		t.Fatal(err)
	}
	res, err := run.Train(context.Background())
	if err != nil {
		t.Fatalf("%s: %v", cfg, err)
	}
	if err := CheckParams(c, m.Params, cfg.Iters); err != nil {
		t.Fatalf("%s: %v", cfg, err)
	}
	return m, res
}

// TestMPITrain: a run over MPI keeps the parameters identical on every
// rank (checked by hash every 5 steps and at the end), equals the
// single-process run bit for bit with one rank, and its final loss is
// within the seed-to-seed spread of the single-process runs at the same
// global batch.
func TestMPITrain(t *testing.T) {
	c := mpi.World()
	ds := teacher(t, 400, 7)
	for _, s := range []string{engine.SamplerUniform, engine.SamplerLSH} {
		cfg := testConfig(s)
		cfg.Iters = 200
		cfg.Momentum = 0.3
		var single []float64
		var want []float32
		for seed := uint64(1); seed <= 4; seed++ {
			cfg.Seed = seed
			m := model(t, 1)
			res := singleTrain(t, m, ds, cfg)
			single = append(single, res.Final.TrainLoss)
			if seed == 1 {
				want = m.Params
			}
		}
		cfg.Seed = 1
		m, res := mpiTrain(t, c, ds, cfg)
		if c.Size() == 1 && fmt.Sprint(m.Params) != fmt.Sprint(want) {
			t.Errorf("%s: one rank's weights differ from the single-process run's", s)
		}
		mean, sd := meanSD(single)
		if got := res.Final.TrainLoss; got-mean > 4*sd+0.05*mean || mean-got > 4*sd+0.05*mean {
			t.Errorf("%s R=%d: final train loss %.4g, single process %.4g ± %.2g", s, c.Size(), got, mean, sd)
		}
	}
}

// TestMPIOptions: keep-stepping, the gn step size, momentum and clipping
// over MPI: with one rank the run equals the single-process run bit for
// bit (weights and evaluation rows); with more, every rank ends with the
// same parameters (hash compared every 5 steps and at the end).
func TestMPIOptions(t *testing.T) {
	c := mpi.World()
	ds := teacher(t, 300, 3)
	for _, o := range stepOptions {
		cfg := testConfig(engine.SamplerLSH)
		o.set(&cfg)
		m := model(t, 1)
		want := singleTrain(t, m, ds, cfg)
		md, res := mpiTrain(t, c, ds, cfg)
		if c.Size() == 1 {
			if !slices.Equal(md.Params, m.Params) {
				t.Errorf("%s: one rank's weights differ from the single-process run's", o.name)
			}
			if err := sameEvals(res.Evals, want.Evals); err != nil {
				t.Errorf("%s: %v", o.name, err)
			}
		}
		if cfg.KeepStepping > 0 && res.Final.ExtraSteps == 0 {
			t.Errorf("%s R=%d: no extra step taken", o.name, c.Size())
		}
	}
}
