package cuda

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestPTXMatchesSource checks, without CUDA, that the committed kernels.ptx
// was generated from kernels.cu as gen.sh does: the same kernels, the ones
// the backend loads (kernelNames), compute_80, and every kernel parameter 8
// bytes wide (gorgonia.org/cu's Launch copies each argument as 8 bytes).
func TestPTXMatchesSource(t *testing.T) {
	src, err := os.ReadFile("kernels.cu")
	if err != nil {
		t.Fatal(err)
	}
	ptx, err := os.ReadFile("kernels.ptx")
	if err != nil {
		t.Fatalf("%v (regenerate with cuda/gen.sh on a machine with nvcc)", err)
	}
	var cuKernels []string
	cuParams := map[string]int{}
	for _, m := range regexp.MustCompile(`__global__\s+void\s+(\w+)\s*\(([^)]*)\)`).FindAllStringSubmatch(string(src), -1) {
		cuKernels = append(cuKernels, m[1])
		cuParams[m[1]] = len(strings.Split(m[2], ","))
	}
	if !slices.Equal(cuKernels, kernelNames[:]) {
		t.Errorf("kernels.cu defines %v, backend loads %v", cuKernels, kernelNames)
	}
	if !regexp.MustCompile(`(?m)^\.target sm_80\b`).Match(ptx) {
		t.Errorf("kernels.ptx is not compute_80 PTX (.target sm_80)")
	}
	entries := regexp.MustCompile(`\.visible \.entry (\w+)\(\s*([^)]*)\)`).FindAllStringSubmatch(string(ptx), -1)
	var ptxKernels []string
	for _, e := range entries {
		ptxKernels = append(ptxKernels, e[1])
		// Each parameter reads ".param .TYPE [.ptr .global .align N] NAME".
		params := strings.Split(e[2], ",")
		if len(params) != cuParams[e[1]] {
			t.Errorf("%s: %d parameters in kernels.ptx, %d in kernels.cu (stale PTX?)", e[1], len(params), cuParams[e[1]])
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
	want := slices.Clone(kernelNames[:])
	slices.Sort(want)
	if !slices.Equal(ptxKernels, want) {
		t.Errorf("kernels.ptx has %v, want %v", ptxKernels, want)
	}
}
