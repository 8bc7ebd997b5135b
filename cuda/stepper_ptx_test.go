package cuda

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestStepperPTXMatchesSource checks, without CUDA, that the committed
// stepper.ptx was generated from stepper.cu as gen.sh does: the same kernels,
// compute_80, and every kernel parameter 8 bytes wide (gorgonia.org/cu's
// Launch copies each argument as 8 bytes). stepper.go loads the kernels by the
// names in stepperKernelNames, which a missing kernel makes NewStepper fail
// on; the cuda tests exercise every one.
func TestStepperPTXMatchesSource(t *testing.T) {
	src, err := os.ReadFile("stepper.cu")
	if err != nil {
		t.Fatal(err)
	}
	ptx, err := os.ReadFile("stepper.ptx")
	if err != nil {
		t.Fatalf("%v (regenerate with cuda/gen.sh on a machine with nvcc)", err)
	}
	var cuKernels []string
	cuParams := map[string]int{}
	for _, m := range regexp.MustCompile(`__global__\s+void\s+(\w+)\s*\(([^)]*)\)`).FindAllStringSubmatch(string(src), -1) {
		cuKernels = append(cuKernels, m[1])
		cuParams[m[1]] = len(strings.Split(m[2], ","))
	}
	want := []string{"st_gather", "st_loss", "st_qdots"}
	if !slices.Equal(cuKernels, want) {
		t.Errorf("stepper.cu defines %v, stepper.go loads %v", cuKernels, want)
	}
	if !regexp.MustCompile(`(?m)^\.target sm_80\b`).Match(ptx) {
		t.Errorf("stepper.ptx is not compute_80 PTX (.target sm_80)")
	}
	var ptxKernels []string
	for _, e := range regexp.MustCompile(`\.visible \.entry (\w+)\(\s*([^)]*)\)`).FindAllStringSubmatch(string(ptx), -1) {
		ptxKernels = append(ptxKernels, e[1])
		params := strings.Split(e[2], ",")
		if len(params) != cuParams[e[1]] {
			t.Errorf("%s: %d parameters in stepper.ptx, %d in stepper.cu (stale PTX?)", e[1], len(params), cuParams[e[1]])
		}
		for _, p := range params {
			f := strings.Fields(p)
			if len(f) < 3 || f[0] != ".param" {
				t.Errorf("%s: cannot read parameter %q", e[1], p)
				continue
			}
			if !slices.Contains([]string{".u64", ".s64", ".f64", ".b64"}, f[1]) {
				t.Errorf("%s: parameter %s is %s, not 8 bytes", e[1], f[len(f)-1], f[1])
			}
		}
	}
	slices.Sort(ptxKernels)
	slices.Sort(want)
	if !slices.Equal(ptxKernels, want) {
		t.Errorf("stepper.ptx has %v, want %v", ptxKernels, want)
	}
}
