package cuda

import (
	"fmt"

	"github.com/ntklsh/ntklsh/engine"
)

// deviceStepMinWork is the measured crossover of the device step
// (RESULTS.md, "Device-resident training step", an H200 against its own
// 16-core host on avx512, iterations/s of engine.Trainer): the device lost
// at width 256 with batch 32 (0.41–0.47× the host, widest layer × batch =
// 8192) and won from width 256 with batch 256 (2.3–2.7×, 65536) and width
// 1024 with batch 32 (1.3–2.4×, 32768) up, by 5.6–62× at widths 4096 and
// 16384. The device step's cost is nearly flat in width (uniform 126–182 µs
// at batch 32 from width 256 to 16384), the host's grows with widest layer
// × batch. Measured on that machine pair only; other pairs will differ.
const deviceStepMinWork = 32768

// useDeviceStep decides whether the Stepper takes the steps: mode on asks
// for it (an error when the configuration is not supported), off refuses
// it, auto takes it when supported and the widest hidden layer × batch is
// at least deviceStepMinWork. note says what was decided and why.
func useDeviceStep(mode engine.DeviceStepMode, cfg engine.Config, sizes []int) (use bool, note string, err error) {
	unsupported := engine.DeviceStepSupported(cfg)
	switch mode {
	case engine.DeviceStepOff:
		return false, "steps on the host (device step off)", nil
	case engine.DeviceStepOn:
		if unsupported != nil {
			return false, "", fmt.Errorf("cuda: the device step was asked for: %w", unsupported)
		}
		return true, "steps on the device (device step on)", nil
	}
	if unsupported != nil {
		return false, fmt.Sprintf("steps on the host (device step auto: %v)", unsupported), nil
	}
	widest := 0
	for _, w := range sizes[1 : len(sizes)-1] {
		widest = max(widest, w)
	}
	work := widest * cfg.Batch
	if work < deviceStepMinWork {
		return false, fmt.Sprintf("steps on the host (device step auto: widest hidden layer %d × batch %d = %d < %d, where the host was faster)",
			widest, cfg.Batch, work, deviceStepMinWork), nil
	}
	return true, fmt.Sprintf("steps on the device (device step auto: widest hidden layer %d × batch %d = %d ≥ %d)",
		widest, cfg.Batch, work, deviceStepMinWork), nil
}
