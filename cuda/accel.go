//go:build cuda

package cuda

import (
	"errors"
	"fmt"

	"github.com/ntklsh/ntklsh/engine"
)

// The cuda backend's accelerator: a Rehasher for the rehashes and, as
// engine.AcceleratorRequest.DeviceStep says (useDeviceStep), a Stepper that
// shares the Rehasher's device copy of the data. Both are released by the
// Accelerator's Close, the Stepper first.
func init() {
	engine.RegisterAccelerator("cuda", openAccelerator)
}

func openAccelerator(req engine.AcceleratorRequest) (*engine.Accelerator, error) {
	cb, ok := req.Backend.(*Backend)
	if !ok {
		return nil, nil
	}
	use, note, err := useDeviceStep(req.DeviceStep, req.Config, req.Model.Sizes)
	if err != nil {
		return nil, err
	}
	r, err := NewRehasher(cb, req.Model, req.Train.X, req.Train.Y, req.Train.N, req.RehashBatch)
	if err != nil {
		return nil, err
	}
	acc := &engine.Accelerator{Linearizer: r, Release: r.Close, StepNote: note}
	if use {
		s, err := NewStepperWith(r, req.Model, req.Config.Batch)
		switch {
		case err != nil && req.DeviceStep == engine.DeviceStepOn:
			return nil, errors.Join(err, r.Close())
		case err != nil:
			// auto: the rehashes stay on the device, the steps go to
			// the host, and the note says why.
			acc.StepNote = fmt.Sprintf("steps on the host (device step auto: the device stepper could not be made: %v)", err)
		default:
			acc.Stepper = s
			acc.Release = func() error { return errors.Join(s.Close(), r.Close()) }
		}
	}
	return acc, nil
}
