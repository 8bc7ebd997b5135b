package engine

import (
	"fmt"
	"sort"
	"sync"

	"github.com/ntklsh/ntklsh/engine/data"
	"github.com/ntklsh/ntklsh/engine/nn"
	"github.com/ntklsh/ntklsh/engine/ntk"
	"github.com/ntklsh/ntklsh/kernels"
)

// AcceleratorRequest is what an accelerator is opened for: one run of
// Config on Model's shape over the training set Train.
type AcceleratorRequest struct {
	Backend kernels.Backend // the backend the accelerator was chosen by
	Model   *nn.MLP
	Train   *data.Dataset
	Config  Config
	// RehashBatch is the examples per batch of the device rehashes.
	RehashBatch int
	// DeviceStep says whether the accelerator's Stepper (where it has one)
	// takes the SGD steps too.
	DeviceStep DeviceStepMode
}

// DeviceStepMode says whether an accelerator's Stepper takes the steps.
type DeviceStepMode int

const (
	// DeviceStepAuto: when the accelerator supports Config
	// (DeviceStepSupported) and its own measured rule says the device step
	// is faster than the host's at this model and batch size.
	DeviceStepAuto DeviceStepMode = iota
	// DeviceStepOff: the steps stay on the host.
	DeviceStepOff
	// DeviceStepOn: the steps go to the device; opening the accelerator
	// fails with DeviceStepSupported's error when Config is not supported.
	DeviceStepOn
)

// String names the mode as the CLI's --device-step spells it.
func (m DeviceStepMode) String() string {
	switch m {
	case DeviceStepAuto:
		return "auto"
	case DeviceStepOff:
		return "off"
	case DeviceStepOn:
		return "on"
	}
	return fmt.Sprintf("DeviceStepMode(%d)", int(m))
}

// Accelerator is what an accelerator lends a run: a Linearizer for the
// rehashes and, when asked for and supported, a Stepper (either may be
// nil: the trainer's CPU ones are used). Close releases their device
// resources; call it when the run ends.
type Accelerator struct {
	Linearizer ntk.Linearizer
	Stepper    Stepper
	// StepNote says where the steps run and why (for logs).
	StepNote string
	// Release frees the resources; Close calls it once.
	Release func() error
	closed  bool
}

// Close releases the accelerator's resources (once; nil-safe).
func (a *Accelerator) Close() error {
	if a == nil || a.closed || a.Release == nil {
		return nil
	}
	a.closed = true
	return a.Release()
}

// Attach makes t use the accelerator's Linearizer and Stepper (nil-safe).
func (a *Accelerator) Attach(t *Trainer) {
	if a == nil {
		return
	}
	t.Linearizer, t.Stepper = a.Linearizer, a.Stepper
}

// AcceleratorFactory opens an accelerator for a request; it returns nil
// and no error when it has nothing to offer for it (e.g. the request's
// backend is not its own).
type AcceleratorFactory func(req AcceleratorRequest) (*Accelerator, error)

var accels = struct {
	sync.Mutex
	m map[string]AcceleratorFactory
}{m: map[string]AcceleratorFactory{}}

// RegisterAccelerator makes f the accelerator of the kernels backend named
// name (as kernels.Register names it); it is meant for init functions.
func RegisterAccelerator(name string, f AcceleratorFactory) {
	accels.Lock()
	defer accels.Unlock()
	if _, dup := accels.m[name]; dup {
		panic(fmt.Sprintf("engine: accelerator %q registered twice", name))
	}
	accels.m[name] = f
}

// Accelerators lists the registered accelerators' backend names.
func Accelerators() []string {
	accels.Lock()
	defer accels.Unlock()
	var names []string
	for n := range accels.m {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// OpenAccelerator opens the accelerator registered for req.Backend's name.
// It returns nil and no error when there is none or it offers nothing.
func OpenAccelerator(req AcceleratorRequest) (*Accelerator, error) {
	accels.Lock()
	f := accels.m[req.Backend.Name()]
	accels.Unlock()
	if f == nil {
		return nil, nil
	}
	return f(req)
}
