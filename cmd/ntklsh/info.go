package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"runtime"
	"strings"
	"time"

	"github.com/ntklsh/ntklsh/asm"
	"github.com/ntklsh/ntklsh/kernels"
)

func runInfo(args []string, out, stderr io.Writer) error {
	fs := flag.NewFlagSet("info", flag.ContinueOnError)
	fs.SetOutput(stderr)
	name := fs.String("kernels", "", "backend to report on (default: "+kernels.EnvVar+" or automatic)")
	measure := fs.Bool("measure", false, "also time the engine's kernels on the avx512 and avx2 backends, one thread, pair by pair (about a second): the evidence for "+kernels.EnvVar+" on a CPU the automatic rule does not know")
	pairs := fs.Int("pairs", 9, "with --measure: pairs of calls per kernel, 3 to 1000")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return errUsage
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if *pairs < 3 || *pairs > 1000 {
		return fmt.Errorf("--pairs %d outside [3, 1000]", *pairs)
	}
	fmt.Fprintf(out, "cpu:        %s\n", kernels.CPUInfo())
	fmt.Fprintf(out, "go:         %s %s/%s, GOMAXPROCS=%d\n", runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.GOMAXPROCS(0))
	fmt.Fprintf(out, "backends:   %s (compiled in, best first)\n", strings.Join(kernels.Names(), ", "))
	be, why, err := selectBackend(*name)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "in use:     %s (%s)\n", be.Name(), why)
	fmt.Fprintf(out, "assembly:   %s\n", asmState())
	if *measure {
		measureLevels(out, be, *pairs)
	}
	return nil
}

// measureLevels prints kernels.Compare of avx2 (a) and avx512 (b) and what
// it says about the automatic choice, or why there is nothing to compare.
func measureLevels(out io.Writer, inUse kernels.Backend, pairs int) {
	a, _, errA := kernels.Select("avx2")
	b, _, errB := kernels.Select("avx512")
	if errA != nil || errB != nil {
		err := errB
		if errA != nil {
			err = errA
		}
		fmt.Fprintf(out, "measure:    nothing to choose between here (%v)\n", err)
		return
	}
	fmt.Fprintf(out, "measure:    one thread, %d pairs per kernel, medians; ratio = avx512 ÷ avx2 time within each pair (< 1: avx512 faster)\n", pairs)
	faster := 0
	ts := kernels.Compare(a, b, pairs)
	for _, t := range ts {
		fmt.Fprintf(out, "  %-34s avx2 %9.2f µs  avx512 %9.2f µs  ratio %.2f\n", t.Kernel, us(t.A), us(t.B), t.Ratio)
		if t.Ratio < 1 {
			faster++
		}
	}
	auto, _, _ := kernels.Select("auto")
	verdict := "avx512"
	if 2*faster <= len(ts) {
		verdict = "avx2"
	}
	fmt.Fprintf(out, "  avx512 faster on %d of %d kernels: %s measures faster here; the automatic choice is %s", faster, len(ts), verdict, auto.Name())
	if auto.Name() != verdict {
		fmt.Fprintf(out, " (%s=%s overrides it)", kernels.EnvVar, verdict)
	}
	fmt.Fprintf(out, "; in use: %s\n", inUse.Name())
}

// asmState says whether package asm runs its assembly and why not when it
// does not: the build tag (noasm, purego), the architecture or compiler,
// the CPU, or NTKLSH_NOASM=1.
func asmState() string {
	ok, why := asm.Supported()
	switch {
	case !ok:
		return "off: " + why
	case !asm.Enabled():
		return "off: " + asm.NoAsmEnv + "=1 (" + why + ")"
	default:
		return "on: " + why
	}
}

// selectBackend picks the named backend, or the process default.
func selectBackend(name string) (kernels.Backend, string, error) {
	if name != "" {
		return kernels.Select(name)
	}
	return kernels.Default()
}

func us(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }
