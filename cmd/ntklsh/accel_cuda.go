//go:build cuda

package main

import (
	"github.com/ntklsh/ntklsh/cuda"
	"github.com/ntklsh/ntklsh/engine"
	"github.com/ntklsh/ntklsh/engine/data"
	"github.com/ntklsh/ntklsh/engine/nn"
	"github.com/ntklsh/ntklsh/kernels"
)

func init() {
	deviceRehash = func(be kernels.Backend, m *nn.MLP, train *data.Dataset, batch int) (
		func(*nn.MLP, *engine.Hasher, *engine.Linearization) (*engine.Linearization, error), func() error, error) {
		cb, ok := be.(*cuda.Backend)
		if !ok {
			return nil, nil, nil
		}
		r, err := cuda.NewRehasher(cb, m, train.X, train.Y, train.N, batch)
		if err != nil {
			return nil, nil, err
		}
		return r.Rehash, r.Close, nil
	}
}
