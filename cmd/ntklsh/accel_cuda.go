//go:build cuda

package main

import (
	"os"

	"github.com/ntklsh/ntklsh/cuda"
	"github.com/ntklsh/ntklsh/engine"
	"github.com/ntklsh/ntklsh/engine/data"
	"github.com/ntklsh/ntklsh/engine/nn"
	"github.com/ntklsh/ntklsh/engine/ntk"
	"github.com/ntklsh/ntklsh/kernels"
)

// openRehasher is the Rehasher deviceRehash made last and has not released,
// with its data set: deviceStepper shares its device copy of the data.
var openRehasher struct {
	r    *cuda.Rehasher
	data *data.Dataset
}

func init() {
	deviceRehash = func(be kernels.Backend, m *nn.MLP, train *data.Dataset, batch int) (
		func(*nn.MLP, *ntk.Hasher, *ntk.Linearization) (*ntk.Linearization, error), func() error, error) {
		cb, ok := be.(*cuda.Backend)
		if !ok {
			return nil, nil, nil
		}
		r, err := cuda.NewRehasher(cb, m, train.X, train.Y, train.N, batch)
		if err != nil {
			return nil, nil, err
		}
		openRehasher.r, openRehasher.data = r, train
		release := func() error {
			if openRehasher.r == r {
				openRehasher.r, openRehasher.data = nil, nil
			}
			return r.Close()
		}
		return r.Rehash, release, nil
	}
	// The device Stepper has been written and type-checked but not yet run
	// on a GPU (cuda/RESULTS.md): it is used only when asked for.
	if os.Getenv("NTKLSH_CUDA_STEP") != "1" {
		return
	}
	deviceStepper = func(be kernels.Backend, m *nn.MLP, train *data.Dataset, batch int) (engine.DeviceStepper, func() error, error) {
		cb, ok := be.(*cuda.Backend)
		if !ok {
			return nil, nil, nil
		}
		var s *cuda.Stepper
		var err error
		if r := openRehasher.r; r != nil && openRehasher.data == train {
			// The Rehasher is released after the Stepper (deferred first).
			s, err = cuda.NewStepperWith(r, m, batch)
		} else {
			s, err = cuda.NewStepper(cb, m, train.X, train.Y, train.N, batch)
		}
		if err != nil {
			return nil, nil, err
		}
		return s, s.Close, nil
	}
}
