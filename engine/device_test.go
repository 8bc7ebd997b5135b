package engine

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/ntklsh/ntklsh/engine/nn"
	"github.com/ntklsh/ntklsh/engine/ntk"
	"github.com/ntklsh/ntklsh/kernels"
)

// hostDevice is a Stepper and sample.QueryProjector that keeps its own
// parameter copy on the host and computes with the same code as the
// trainer: a trainer using it must end with the same weights, bit for bit,
// as one without.
type hostDevice struct {
	t      *Trainer // a shadow trainer over the same data
	params []float32
	steps  int
}

func (d *hostDevice) Start(cfg Config, p []float32) error {
	if err := DeviceStepSupported(cfg); err != nil {
		return err
	}
	d.params = append(d.params[:0], p...)
	return nil
}
func (d *hostDevice) Sync(p []float32) error { copy(p, d.params); return nil }
func (d *hostDevice) Query(h *ntk.Hasher, w0 []float32, proj []float32) error {
	v := d.params
	if h.Cfg.Query == ntk.QueryRecentred {
		v = make([]float32, len(d.params))
		for i := range v {
			v[i] = d.params[i] - w0[i]
		}
	}
	h.Project(d.t.be, v, h.NewQueryScratch(d.t.m), proj)
	return nil
}
func (d *hostDevice) Step(idx []int, w []float64, lr float64) (float64, bool, error) {
	copy(d.t.m.Params, d.params)
	hs := d.t.host
	hs.idx, hs.w = idx, w
	loss := hs.minibatchGrad()
	hs.be.Axpy(float32(-lr), hs.grad, d.t.m.Params)
	copy(d.params, d.t.m.Params)
	d.steps++
	return loss, true, nil
}

func TestDeviceStepperMatchesHost(t *testing.T) {
	ds := smallTeacher(400, 4, 1, 13)
	for _, s := range []string{SamplerUniform, SamplerLSH, SamplerNTKStatic} {
		for _, q := range []ntk.QueryMode{ntk.QueryPaper, ntk.QueryRecentred} {
			cfg := testConfig(s)
			cfg.Iters, cfg.RehashEvery, cfg.EvalEvery = 120, 40, 50
			cfg.Hash.Query = q
			newT := func() *Trainer {
				m, _ := nn.New(nn.Config{In: 4, Out: 1, Hidden: []int{8}, Activation: nn.ReLU, Seed: 3})
				tr, err := NewTrainer(testBackend, m, ds, ds, cfg)
				if err != nil {
					t.Fatal(err)
				}
				return tr
			}
			ref := newT()
			if _, err := ref.Train(context.Background()); err != nil {
				t.Fatal(err)
			}
			tr := newT()
			dev := &hostDevice{t: newT()}
			tr.Stepper = dev
			res, err := tr.Train(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if dev.steps != cfg.Iters {
				t.Fatalf("%d device steps", dev.steps)
			}
			for i, v := range ref.m.Params {
				if tr.m.Params[i] != v {
					t.Fatalf("%s/%v: parameter %d: device path %v, host path %v", s, q, i, tr.m.Params[i], v)
				}
			}
			if math.IsNaN(res.Final.TrainLoss) {
				t.Fatal("no final loss")
			}
		}
	}
	// Unsupported settings are refused.
	cfg := testConfig(SamplerTrue)
	m, _ := nn.New(nn.Config{In: 4, Out: 1, Hidden: []int{8}, Seed: 3})
	tr, _ := NewTrainer(kernels.Generic, m, ds, nil, cfg)
	tr.Stepper = &hostDevice{}
	if _, err := tr.Train(context.Background()); err == nil {
		t.Error("device training accepted the true sampler")
	}
}

type failingDevice struct{ hostDevice }

func (failingDevice) Query(*ntk.Hasher, []float32, []float32) error { return errors.New("device lost") }

// TestDeviceErrorsAreErrors: a failing device call stops training with an
// error naming it, not a panic.
func TestDeviceErrorsAreErrors(t *testing.T) {
	ds := smallTeacher(200, 4, 1, 13)
	cfg := testConfig(SamplerLSH)
	cfg.Iters = 20
	m, _ := nn.New(nn.Config{In: 4, Out: 1, Hidden: []int{8}, Seed: 3})
	tr, err := NewTrainer(testBackend, m, ds, nil, cfg)
	if err != nil {
		t.Fatal(err)
	}
	shadow, _ := NewTrainer(testBackend, m.Clone(), ds, nil, cfg)
	tr.Stepper = &failingDevice{hostDevice{t: shadow}}
	_, err = tr.Train(context.Background())
	if err == nil || !strings.Contains(err.Error(), "device lost") {
		t.Fatalf("error %v", err)
	}
}
