package cuda

import (
	"strings"
	"testing"

	"github.com/ntklsh/ntklsh/engine"
)

// useDeviceStep follows its mode and, on auto, the measured crossover;
// on asks and fails for a configuration the Stepper does not support.
func TestUseDeviceStep(t *testing.T) {
	plain := engine.DefaultConfig()
	plain.Sampler, plain.Batch = engine.SamplerNTKStatic, 32
	mom := plain
	mom.Momentum = 0.9
	big := plain
	big.Batch = 256
	cases := []struct {
		mode    engine.DeviceStepMode
		cfg     engine.Config
		sizes   []int
		use     bool
		wantErr bool
		note    string
	}{
		{engine.DeviceStepAuto, plain, []int{90, 1024, 1}, true, false, "1024 × batch 32 = 32768 ≥ 32768"},
		{engine.DeviceStepAuto, plain, []int{90, 256, 1}, false, false, "8192 < 32768"},
		{engine.DeviceStepAuto, big, []int{90, 256, 1}, true, false, "65536 ≥"},
		{engine.DeviceStepAuto, plain, []int{90, 64, 2048, 1}, true, false, "2048 × batch 32"},
		{engine.DeviceStepAuto, plain, []int{90, 1}, false, false, "widest hidden layer 0"},
		{engine.DeviceStepAuto, mom, []int{90, 4096, 1}, false, false, "momentum"},
		{engine.DeviceStepOff, plain, []int{90, 4096, 1}, false, false, "off"},
		{engine.DeviceStepOn, plain, []int{90, 8, 1}, true, false, "on"},
		{engine.DeviceStepOn, mom, []int{90, 4096, 1}, false, true, ""},
	}
	for i, c := range cases {
		use, note, err := useDeviceStep(c.mode, c.cfg, c.sizes)
		if (err != nil) != c.wantErr || use != c.use || !strings.Contains(note, c.note) {
			t.Errorf("case %d (%v, %v): use %v note %q err %v; want use %v, note containing %q, error %v",
				i, c.mode, c.sizes, use, note, err, c.use, c.note, c.wantErr)
		}
		if c.wantErr && (err == nil || !strings.Contains(err.Error(), "momentum")) {
			t.Errorf("case %d: error %v should name what is not supported", i, err)
		}
	}
}
