package cuda

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// goKernelNames reads the kernel names a loader lists in the array literal
// `var name = [...]string{...}` of a Go file of this package (the rehash and
// stepper loaders are behind the cuda tag, so the test reads their source).
func goKernelNames(t *testing.T, file, name string) []string {
	src, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`var ` + name + ` = \[[^\]]*\]string\{([^}]*)\}`).FindSubmatch(src)
	if m == nil {
		t.Fatalf("%s: no %s array literal", file, name)
	}
	var names []string
	for _, q := range regexp.MustCompile(`"(\w+)"`).FindAllSubmatch(m[1], -1) {
		names = append(names, string(q[1]))
	}
	return names
}

// TestPTXMatchesSource checks, without CUDA, that each committed .ptx was
// generated from its .cu as gen.sh does: the same kernels, the ones its Go
// loader lists, compute_80, and every kernel parameter 8 bytes wide
// (gorgonia.org/cu's Launch copies each argument as 8 bytes).
func TestPTXMatchesSource(t *testing.T) {
	for _, mod := range []struct {
		name  string // kernels, rehash, stepper: the .cu and .ptx base name
		names []string
	}{
		{"kernels", kernelNames[:]},
		{"rehash", goKernelNames(t, "rehash.go", "rehashKernelNames")},
		{"stepper", goKernelNames(t, "stepper.go", "stepperKernelNames")},
	} {
		t.Run(mod.name, func(t *testing.T) { checkPTX(t, mod.name, mod.names) })
	}
}

func checkPTX(t *testing.T, base string, loaded []string) {
	src, err := os.ReadFile(base + ".cu")
	if err != nil {
		t.Fatal(err)
	}
	ptx, err := os.ReadFile(base + ".ptx")
	if err != nil {
		t.Fatalf("%v (regenerate with cuda/gen.sh on a machine with nvcc)", err)
	}
	var cuKernels []string
	cuParams := map[string]int{}
	for _, m := range regexp.MustCompile(`__global__\s+void\s+(\w+)\s*\(([^)]*)\)`).FindAllStringSubmatch(string(src), -1) {
		cuKernels = append(cuKernels, m[1])
		cuParams[m[1]] = len(strings.Split(m[2], ","))
	}
	if !slices.Equal(cuKernels, loaded) {
		t.Errorf("%s.cu defines %v, its loader lists %v", base, cuKernels, loaded)
	}
	if !regexp.MustCompile(`(?m)^\.target sm_80\b`).Match(ptx) {
		t.Errorf("%s.ptx is not compute_80 PTX (.target sm_80)", base)
	}
	entries := regexp.MustCompile(`\.visible \.entry (\w+)\(\s*([^)]*)\)`).FindAllStringSubmatch(string(ptx), -1)
	var ptxKernels []string
	for _, e := range entries {
		ptxKernels = append(ptxKernels, e[1])
		// Each parameter reads ".param .TYPE [.ptr .global .align N] NAME".
		params := strings.Split(e[2], ",")
		if len(params) != cuParams[e[1]] {
			t.Errorf("%s: %d parameters in %s.ptx, %d in %s.cu (stale PTX?)", e[1], len(params), base, cuParams[e[1]], base)
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
	want := slices.Clone(loaded)
	slices.Sort(want)
	if !slices.Equal(ptxKernels, want) {
		t.Errorf("%s.ptx has %v, want %v", base, ptxKernels, want)
	}
}
