package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/ntklsh/ntklsh/asm"
	"github.com/ntklsh/ntklsh/engine"
	"github.com/ntklsh/ntklsh/kernels"
)

// small flags keep each run to well under a second.
var small = []string{"--syn-n", "600", "--syn-d", "4", "--hidden", "8", "--iters", "60", "--batch", "8", "--diag-subset", "100", "--quiet"}

func run(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	var out, errb bytes.Buffer
	err := runTrain(args, &out, &errb)
	return out.String(), errb.String(), err
}

func TestTrainDefaultSamplersSummary(t *testing.T) {
	out, _, err := run(t, small...)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"uniform", "lsh", "ntk-static", "true", "2nd-moment ratio", "s to target"} {
		if !strings.Contains(out, s) {
			t.Errorf("summary lacks %q:\n%s", s, out)
		}
	}
}

func TestTrainBadFlags(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"--K", "40"}, "K=40 outside [1, 16]"},
		{[]string{"--L", "0"}, "L=0 outside [1, 512]"},
		{[]string{"--lr", "-1"}, "lr=-1"},
		{[]string{"--lr", "NaN"}, "lr=NaN"},
		{[]string{"--eps", "1.5"}, "eps=1.5 outside [0, 1]"},
		{[]string{"--batch", "0"}, "batch=0"},
		{[]string{"--hidden", "8,x"}, "--hidden"},
		{[]string{"--hidden", "-3"}, "--hidden"},
		{[]string{"--sampler", "magic"}, `unknown sampler "magic"`},
		{[]string{"--act", "sigmoid"}, "unknown activation"},
		{[]string{"--family", "sparsest"}, "unknown projection family"},
		{[]string{"--query", "odd"}, "unknown query mode"},
		{[]string{"--schedule", "step"}, "schedule"},
		{[]string{"--momentum", "1"}, "momentum=1"},
		{[]string{"--test-frac", "1"}, "--test-frac"},
		{[]string{"--prob", "lgd", "--eps", "0"}, "prob=lgd needs eps > 0"},
		{[]string{"--kernels", "tpu"}, `unknown backend "tpu"`},
		{[]string{"--log", "/nonexistent-dir/x.csv"}, "--log"},
		{[]string{"--log", "x.txt"}, "must end in .csv or .jsonl"},
		{[]string{"--data", "/no/such/file.csv"}, "/no/such/file.csv"},
		{[]string{"--epochs", "1e9"}, "--epochs"},
		{[]string{"--sampler", "uniform,ntk-static", "--query-every", "8"}, "--query-every 8 applies to the lsh sampler, which --sampler uniform,ntk-static does not include"},
		{[]string{"--sampler", "lsh", "--prob", "lgd", "--query-every", "8"}, "query-every=8 applies to the lsh sampler with prob=exact"},
		{[]string{"--syn-n", "0"}, "--syn-n 0"},
	}
	for _, c := range cases {
		_, _, err := run(t, append(append([]string{}, small...), c.args...)...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: error %v, want one containing %q", c.args, err, c.want)
		}
	}
}

// TestTrainMultiOutputFlag: a bad --multi-output is a usage error naming
// the flag and the allowed values.
func TestTrainMultiOutputFlag(t *testing.T) {
	_, stderr, err := run(t, append(append([]string{}, small...), "--multi-output", "mean")...)
	if err == nil || !strings.Contains(stderr, `-multi-output: multi-output linearization "mean": want sum or residual`) {
		t.Errorf("error %v, stderr %q", err, stderr)
	}
}

func TestTrainRaggedCSVNamesLine(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "bad.csv")
	os.WriteFile(p, []byte("1,2,3\n4,5,6\n7,8\n"), 0o644)
	_, _, err := run(t, append(append([]string{}, small...), "--data", p)...)
	if err == nil || !strings.Contains(err.Error(), "bad.csv:3") {
		t.Fatalf("error %v should name bad.csv line 3", err)
	}
	os.WriteFile(p, []byte("1,2,3\n4,nan,6\n"), 0o644)
	_, _, err = run(t, append(append([]string{}, small...), "--data", p)...)
	if err == nil || !strings.Contains(err.Error(), "bad.csv:2") || !strings.Contains(err.Error(), "field 2") {
		t.Fatalf("error %v should name line 2, field 2", err)
	}
}

func TestTrainCSVAndLogs(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "d.csv")
	var b strings.Builder
	for i := 0; i < 300; i++ {
		x1, x2 := float64(i%17)/17, float64(i%5)/5
		b.WriteString(strings.Join([]string{ftoa(2*x1 - x2), ftoa(x1), ftoa(x2)}, ",") + "\n")
	}
	os.WriteFile(p, []byte(b.String()), 0o644)
	for _, ext := range []string{".jsonl", ".csv"} {
		logp := filepath.Join(dir, "log"+ext)
		out, _, err := run(t, "--data", p, "--sampler", "lsh,uniform", "--iters", "40", "--batch", "8", "--log", logp, "--quiet")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(out, "lsh") {
			t.Fatal(out)
		}
		f, _ := os.Open(logp)
		sc := bufio.NewScanner(f)
		iters, evals := 0, 0
		for sc.Scan() {
			line := sc.Text()
			if ext == ".jsonl" {
				var rec map[string]any
				if err := json.Unmarshal([]byte(line), &rec); err != nil {
					t.Fatalf("bad JSON line %q: %v", line, err)
				}
				switch rec["kind"] {
				case "iter":
					iters++
				case "eval":
					evals++
				}
			} else if strings.HasPrefix(line, "iter,") {
				iters++
			} else if strings.HasPrefix(line, "eval,") {
				evals++
			}
		}
		f.Close()
		if iters != 80 || evals < 4 {
			t.Errorf("%s: %d iteration rows (want 80) and %d evaluation rows", ext, iters, evals)
		}
	}
}

func ftoa(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

func TestInfo(t *testing.T) {
	var out bytes.Buffer
	if err := runInfo(nil, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	_, asmWhy := asm.Supported()
	for _, s := range []string{"cpu:", "backends:", "in use:", "assembly:", asmWhy} {
		if !strings.Contains(out.String(), s) {
			t.Errorf("info lacks %q:\n%s", s, out.String())
		}
	}
	if err := runInfo([]string{"--kernels", "nope"}, &out, io.Discard); err == nil {
		t.Error("unknown backend accepted")
	}
	if err := runInfo([]string{"--measure", "--pairs", "2"}, &out, io.Discard); err == nil || !strings.Contains(err.Error(), "--pairs") {
		t.Errorf("--pairs 2: %v", err)
	}
	out.Reset()
	if err := runInfo([]string{"--measure", "--pairs", "3"}, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	_, _, errA := kernels.Select("avx2")
	_, _, errB := kernels.Select("avx512")
	want := []string{"measure:", "nothing to choose between"}
	if errA == nil && errB == nil {
		want = []string{"measure:", "step forward NT 32x1024x1024", "rehash forward NT", "SignPack", "the automatic choice is"}
	}
	for _, s := range want {
		if !strings.Contains(out.String(), s) {
			t.Errorf("info --measure lacks %q:\n%s", s, out.String())
		}
	}
}

// TestTrainXentBuiltIn: --loss xent on the built-in set trains on the
// class teacher (--syn-out classes), so the cross-entropy is a real one:
// positive, with accuracies; it used to train on the regression teacher's
// real-valued targets and print negative losses.
func TestTrainXentBuiltIn(t *testing.T) {
	out, _, err := run(t, "--syn-n", "600", "--syn-out", "3", "--loss", "xent", "--sampler", "uniform", "--iters", "60", "--quiet")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	last := strings.Fields(lines[len(lines)-1])
	if len(last) < 3 || last[0] != "uniform" {
		t.Fatalf("summary:\n%s", out)
	}
	for _, f := range last[1:3] {
		if v, err := strconv.ParseFloat(f, 64); err != nil || !(v > 0) {
			t.Errorf("loss %q is not a positive cross-entropy:\n%s", f, out)
		}
	}
	if !strings.Contains(out, "test acc") {
		t.Errorf("no accuracy column:\n%s", out)
	}
}

// --device-step takes auto, on and off (a bare flag is on, =false off) and
// names itself when the value is bad.
func TestDeviceStepFlag(t *testing.T) {
	for _, c := range []struct {
		args []string
		want engine.DeviceStepMode
	}{
		{nil, engine.DeviceStepAuto},
		{[]string{"--device-step"}, engine.DeviceStepOn},
		{[]string{"--device-step=false"}, engine.DeviceStepOff},
		{[]string{"--device-step=off"}, engine.DeviceStepOff},
		{[]string{"--device-step=ON"}, engine.DeviceStepOn},
		{[]string{"--device-step=auto"}, engine.DeviceStepAuto},
	} {
		o, err := parseTrain(append(c.args, small...), io.Discard)
		if err != nil {
			t.Fatalf("%v: %v", c.args, err)
		}
		if got := o.f.deviceStep.mode; got != c.want {
			t.Errorf("%v: mode %v, want %v", c.args, got, c.want)
		}
	}
	_, errOut, err := run(t, append([]string{"--device-step=maybe"}, small...)...)
	if err == nil || !strings.Contains(errOut, "-device-step") || !strings.Contains(errOut, "want auto, on or off") {
		t.Errorf("--device-step=maybe: err %v, stderr %q", err, errOut)
	}
	// A value after a space is a stray argument (the flag is boolean);
	// on without an accelerator is refused before anything runs.
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--device-step", "off"}, "--device-step=off"},
		{[]string{"--device-step=on"}, "--device-step=on needs an accelerator backend"},
		{[]string{"--device-step=auto", "--kernels", "generic"}, ""},
		{[]string{"--device-step=off"}, ""},
	} {
		_, errOut, err := run(t, append(c.args, small...)...)
		if c.want == "" {
			if err != nil {
				t.Errorf("%v: %v (%s)", c.args, err, errOut)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error()+errOut, c.want) {
			t.Errorf("%v: err %v, stderr %q; want %q", c.args, err, errOut, c.want)
		}
	}
}

// --query-every, an lsh setting, applies to the lsh sampler of a compared
// list and leaves the others alone (it was refused for the whole list).
func TestQueryEveryWithOtherSamplers(t *testing.T) {
	out, _, err := run(t, append([]string{"--sampler", "uniform,lsh", "--query-every", "8"}, small...)...)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"uniform", "lsh"} {
		if !strings.Contains(out, s) {
			t.Errorf("summary lacks %q:\n%s", s, out)
		}
	}
}

var fakeAccel sync.Once

// --device-step=on checks every sampler of the list before the first run
// (with an accelerator registered for the generic backend that offers
// nothing, so that the runs themselves step on the host).
func TestDeviceStepOnChecksEverySampler(t *testing.T) {
	fakeAccel.Do(func() {
		engine.RegisterAccelerator("generic", func(engine.AcceleratorRequest) (*engine.Accelerator, error) { return nil, nil })
	})
	base := append([]string{"--kernels", "generic", "--device-step=on"}, small...)
	_, _, err := run(t, append([]string{"--sampler", "uniform,ntk-static,ntk-exact"}, base...)...)
	if err == nil || !strings.Contains(err.Error(), "--sampler ntk-exact") || !strings.Contains(err.Error(), "--device-step=auto") {
		t.Errorf("ntk-exact with --device-step=on: %v", err)
	}
	_, _, err = run(t, append([]string{"--sampler", "uniform", "--momentum", "0.9"}, base...)...)
	if err == nil || !strings.Contains(err.Error(), "momentum") {
		t.Errorf("momentum with --device-step=on: %v", err)
	}
	if _, errOut, err := run(t, append([]string{"--sampler", "uniform,ntk-static"}, base...)...); err != nil {
		t.Errorf("supported samplers: %v (%s)", err, errOut)
	}
}
