package kernels

import (
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"

	"github.com/klauspost/cpuid/v2"

	"github.com/ntklsh/ntklsh/asm"
)

// EnvVar names the environment variable that forces a backend by name
// ("generic", "avx2", "avx512", "cuda").
const EnvVar = "NTKLSH_KERNELS"

// candidate is a registered backend with the function that says whether it
// can run here.
type candidate struct {
	backend  Backend
	priority int
	usable   func() (bool, string)
	// auto, when set, says whether automatic selection may pick the
	// backend (it can run but does not pay everywhere, as AVX-512).
	auto func() (bool, string)
}

var (
	regMu    sync.Mutex
	registry = map[string]candidate{"generic": {Generic, 0, genericUsable, nil}}
)

// genericUsable says that Generic always runs and, when the assembly cannot,
// why not (a build tag such as noasm or purego, the architecture, the CPU),
// so that an automatic choice of generic gives the reason.
func genericUsable() (bool, string) {
	if ok, why := asm.Supported(); !ok {
		return true, "pure Go, always available; " + why
	}
	return true, "pure Go, always available"
}

// Register makes a backend selectable by name. priority orders automatic
// selection (higher first); usable reports whether the backend can run on
// this machine and why. It is called from init functions of backend files.
func Register(b Backend, priority int, usable func() (ok bool, why string)) {
	regMu.Lock()
	defer regMu.Unlock()
	registry[b.Name()] = candidate{b, priority, usable, nil}
}

// RegisterAuto is Register for a backend that automatic selection picks
// only where auto also says yes; forcing it by name needs only usable.
func RegisterAuto(b Backend, priority int, usable, auto func() (ok bool, why string)) {
	regMu.Lock()
	defer regMu.Unlock()
	registry[b.Name()] = candidate{b, priority, usable, auto}
}

// Names lists the registered backends, best first.
func Names() []string {
	regMu.Lock()
	defer regMu.Unlock()
	var cs []candidate
	for _, c := range registry {
		cs = append(cs, c)
	}
	sort.Slice(cs, func(i, j int) bool { return cs[i].priority > cs[j].priority })
	names := make([]string, len(cs))
	for i, c := range cs {
		names[i] = c.backend.Name()
	}
	return names
}

// Select returns the backend with the given name, or the best usable one when
// name is "" or "auto". The second result says why it was chosen. An unknown
// name or a backend that cannot run here is an error.
func Select(name string) (Backend, string, error) {
	name = strings.ToLower(strings.TrimSpace(name))
	regMu.Lock()
	defer regMu.Unlock()
	if name == "" || name == "auto" {
		var best *candidate
		var why string
		for _, c := range registry {
			if c.auto != nil {
				if ok, _ := c.auto(); !ok {
					continue
				}
			}
			if ok, w := c.usable(); ok && (best == nil || c.priority > best.priority) {
				c := c
				best, why = &c, w
			}
		}
		return best.backend, "auto: " + why, nil
	}
	c, ok := registry[name]
	if !ok {
		var names []string
		for n := range registry {
			names = append(names, n)
		}
		sort.Strings(names)
		return nil, "", fmt.Errorf("kernels: unknown backend %q (this build has: %s)", name, strings.Join(names, ", "))
	}
	if ok, why := c.usable(); !ok {
		return nil, "", fmt.Errorf("kernels: backend %q cannot run here: %s", name, why)
	}
	return c.backend, "forced", nil
}

var (
	defaultOnce    sync.Once
	defaultBackend Backend
	defaultWhy     string
	defaultErr     error
)

// Default returns the backend chosen once per process: the one named by
// NTKLSH_KERNELS if set, else the best usable one.
func Default() (Backend, string, error) {
	defaultOnce.Do(func() {
		env := os.Getenv(EnvVar)
		defaultBackend, defaultWhy, defaultErr = Select(env)
		if env != "" && defaultErr == nil {
			defaultWhy = EnvVar + "=" + env
		}
	})
	return defaultBackend, defaultWhy, defaultErr
}

// CPUInfo describes the CPU as cpuid sees it, for `ntklsh info`.
func CPUInfo() string {
	c := cpuid.CPU
	var feats []string
	for _, f := range []cpuid.FeatureID{cpuid.SSE4, cpuid.AVX, cpuid.AVX2, cpuid.FMA3, cpuid.AVX512F, cpuid.AVX512VL, cpuid.AVX512BW, cpuid.AVX512DQ} {
		if c.Supports(f) {
			feats = append(feats, f.String())
		}
	}
	return fmt.Sprintf("%s; %d physical cores, %d logical; vendor %s, family %d, model %#x; features: %s",
		c.BrandName, c.PhysicalCores, c.LogicalCores, c.VendorString, c.Family, c.Model, strings.Join(feats, " "))
}
