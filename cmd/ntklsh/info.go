package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"runtime"
	"strings"

	"github.com/ntklsh/ntklsh/asm"
	"github.com/ntklsh/ntklsh/kernels"
)

func runInfo(args []string, out, stderr io.Writer) error {
	fs := flag.NewFlagSet("info", flag.ContinueOnError)
	fs.SetOutput(stderr)
	name := fs.String("kernels", "", "backend to report on (default: "+kernels.EnvVar+" or automatic)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return errUsage
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
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
	return nil
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
