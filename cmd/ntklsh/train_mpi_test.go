//go:build mpi

package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// mpiTimeout bounds every mpirun of these tests: a job that hangs (a rank
// left waiting in a collective) is killed and fails its test.
const mpiTimeout = 120 * time.Second

// mpirun runs this binary as the ntklsh command on np ranks, killed after
// mpiTimeout.
func mpirun(t *testing.T, np int, args ...string) *exec.Cmd {
	t.Helper()
	if _, err := exec.LookPath("mpirun"); err != nil {
		t.Skip("mpirun not found (apt-get install openmpi-bin)")
	}
	a := []string{"--allow-run-as-root", "-np", fmt.Sprint(np)}
	if np > 2 {
		a = append(a, "--oversubscribe")
	}
	ctx, cancel := context.WithTimeout(context.Background(), mpiTimeout)
	t.Cleanup(cancel)
	cmd := exec.CommandContext(ctx, "mpirun", append(append(a, os.Args[0]), args...)...)
	cmd.Env = append(os.Environ(), "NTKLSH_RUN_MAIN=1")
	cmd.WaitDelay = 5 * time.Second
	return cmd
}

func writeShards(t *testing.T, dir string, ragged int) {
	t.Helper()
	for r := 0; r < 2; r++ {
		var b strings.Builder
		b.WriteString("y,a,b\n")
		for i := 0; i < 100; i++ {
			fmt.Fprintf(&b, "%d,%d,%d\n", (i*7+r)%5, i%3, (i*r)%4)
		}
		if r == ragged {
			b.WriteString("1,2\n")
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("s-%d.csv", r)), []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// ntklshLines are the lines of the command's own messages.
func ntklshLines(out string) []string {
	var l []string
	for _, s := range strings.Split(out, "\n") {
		if strings.HasPrefix(s, "ntklsh ") {
			l = append(l, s)
		}
	}
	return l
}

// TestDistributedBadShard: a ragged shard or a missing one stops every
// rank with one message naming the rank and the file.
func TestDistributedBadShard(t *testing.T) {
	dir := t.TempDir()
	writeShards(t, dir, 1)
	for _, c := range []struct {
		np   int
		want string
	}{
		{2, "ntklsh train: rank 1: " + filepath.Join(dir, "s-1.csv") + ":102: has 2 fields, want 3"},
		{3, "ntklsh train: rank 1: " + filepath.Join(dir, "s-1.csv") + ":102: has 2 fields, want 3"}, // rank 2 has no shard: "(and 1 more ranks failed)"
	} {
		cmd := mpirun(t, c.np, "train", "--distributed", "mpi", "--sampler", "uniform", "--data", filepath.Join(dir, "s-{rank}.csv"), "--iters", "20", "--quiet")
		out, err := cmd.CombinedOutput()
		if err == nil {
			t.Fatalf("np %d: no error:\n%s", c.np, out)
		}
		lines := ntklshLines(string(out))
		if len(lines) != 1 || !strings.HasPrefix(lines[0], c.want) || c.np == 3 && !strings.HasSuffix(lines[0], "(and 1 more ranks failed)") {
			t.Errorf("np %d: messages %q, want one starting %q", c.np, lines, c.want)
		}
	}
	writeShards(t, dir, -1)
	out, err := mpirun(t, 3, "train", "--distributed", "mpi", "--sampler", "uniform", "--data", filepath.Join(dir, "s-{rank}.csv"), "--iters", "20", "--quiet").CombinedOutput()
	lines := ntklshLines(string(out))
	if err == nil || len(lines) != 1 || !strings.Contains(lines[0], "rank 2: ") || !strings.Contains(lines[0], "s-2.csv: no such file") {
		t.Errorf("missing shard: %v, messages %q", err, lines)
	}
}

var distRunFlags = []string{"train", "--sampler", "lsh", "--syn-n", "1500", "--syn-d", "6", "--hidden", "8", "--batch", "16", "--momentum", "0.5",
	"--rehash-every", "40", "--eval-every", "50", "--diag-subset", "50", "--quiet"}

// TestDistributedOneRankBitIdentical: mpirun -np 1 ... --distributed mpi
// ends with the weights of the single-process run.
func TestDistributedOneRankBitIdentical(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "single"), filepath.Join(dir, "mpi")
	if out, err := command(append(distRunFlags, "--iters", "150", "--checkpoint", a)...).CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if out, err := mpirun(t, 1, append(distRunFlags, "--iters", "150", "--checkpoint", b, "--distributed", "mpi")...).CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if !slices.Equal(params(t, a), params(t, b)) {
		t.Error("one rank's final weights differ from the single-process run's")
	}
}

// TestDistributedResume: a 2-rank run checkpointed at iteration 100 and
// resumed to 200 ends with the weights of the uninterrupted 2-rank run; a
// resume with 3 ranks is refused with one message saying how many to use.
func TestDistributedResume(t *testing.T) {
	dir := t.TempDir()
	full, part := filepath.Join(dir, "full"), filepath.Join(dir, "part")
	if out, err := mpirun(t, 2, append(distRunFlags, "--iters", "200", "--checkpoint", full, "--distributed", "mpi", "--dist-check", "10")...).CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if out, err := mpirun(t, 2, append(distRunFlags, "--iters", "100", "--checkpoint", part, "--distributed", "mpi")...).CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	out, err := mpirun(t, 3, append(distRunFlags, "--iters", "200", "--resume", part, "--distributed", "mpi")...).CombinedOutput()
	lines := ntklshLines(string(out))
	if err == nil || len(lines) != 1 || !strings.Contains(lines[0], "written by a run of 2 ranks") || !strings.Contains(lines[0], "resume it with mpirun -np 2") {
		t.Errorf("resume with 3 ranks: %v, messages %q", err, lines)
	}
	if out, err := mpirun(t, 2, append(distRunFlags, "--iters", "200", "--resume", part, "--distributed", "mpi")...).CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if !slices.Equal(params(t, full), params(t, part)) {
		t.Error("the resumed 2-rank run's weights differ from the uninterrupted run's")
	}
}

// TestDistributedOptions: keep-stepping, the gn step size and clipping
// (with the flags' momentum) under mpirun: one rank ends with the weights
// of the single-process run, two ranks finish with the parameters
// identical on both (--dist-check 10 compares their hashes every 10
// steps and fails the run when they differ).
func TestDistributedOptions(t *testing.T) {
	for _, opt := range [][]string{{"--keep-stepping", "2"}, {"--step-size", "gn", "--lr", "1"}, {"--clip-norm", "0.5"}} {
		dir := t.TempDir()
		a, b := filepath.Join(dir, "single"), filepath.Join(dir, "mpi")
		flags := append(append(slices.Clone(distRunFlags), opt...), "--iters", "60")
		if out, err := command(append(flags, "--checkpoint", a)...).CombinedOutput(); err != nil {
			t.Fatalf("%v: %v\n%s", opt, err, out)
		}
		if out, err := mpirun(t, 1, append(flags, "--checkpoint", b, "--distributed", "mpi")...).CombinedOutput(); err != nil {
			t.Fatalf("%v: %v\n%s", opt, err, out)
		}
		if !slices.Equal(params(t, a), params(t, b)) {
			t.Errorf("%v: one rank's final weights differ from the single-process run's", opt)
		}
		if out, err := mpirun(t, 2, append(flags, "--distributed", "mpi", "--dist-check", "10")...).CombinedOutput(); err != nil {
			t.Errorf("%v: two ranks: %v\n%s", opt, err, out)
		}
	}
}

// TestDistributedRefusals: the options --distributed does not support are
// refused with one message naming the flag.
func TestDistributedRefusals(t *testing.T) {
	for _, c := range []struct {
		flags []string
		want  string
	}{
		{[]string{"--device-step"}, "--device-step is not supported with --distributed"},
		{[]string{"--step-size", "newton", "--hidden", "0", "--momentum", "0"}, "--step-size newton is not supported with --distributed"},
		{[]string{"--background-rehash"}, "--background-rehash is not supported with --distributed"},
		{[]string{"--rehash", "auto", "--momentum", "0"}, "--rehash auto is not supported with --distributed"},
	} {
		out, err := mpirun(t, 2, append(append(slices.Clone(distRunFlags), c.flags...), "--iters", "20", "--distributed", "mpi")...).CombinedOutput()
		lines := ntklshLines(string(out))
		if err == nil || len(lines) != 1 || !strings.Contains(lines[0], c.want) {
			t.Errorf("%v: %v, messages %q, want one with %q", c.flags, err, lines, c.want)
		}
	}
}

// writeBadShards writes shard files s-0.csv (clean) and s-1.csv, whose
// rows 5, 15, 25, … hold bad (but parseable) values: bad returns a row's
// fields (y, a, b, c).
func writeBadShards(t *testing.T, dir string, bad func(i int) string) {
	t.Helper()
	for r := 0; r < 2; r++ {
		var b strings.Builder
		b.WriteString("y,a,b,c\n")
		for i := 0; i < 100; i++ {
			x := []float64{float64(i%7) / 7, float64((i*3)%5) / 5, float64((i*r+1)%4) / 4}
			if r == 1 && i%10 == 5 {
				b.WriteString(bad(i) + "\n")
				continue
			}
			fmt.Fprintf(&b, "%g,%g,%g,%g\n", x[0]+x[1]-x[2], x[0], x[1], x[2])
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("s-%d.csv", r)), []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestDistributedFailures: a rank whose data make training fail stops
// every rank, within the timeout, with a non-zero exit and one message
// naming the rank and its file — a divergence that every rank sees (the
// loss is global) traced to the rank whose gradient share went non-finite
// first, and a failure only one rank sees (its sampler's score overflows)
// by MPI_Abort after that rank printed its message (Open MPI's own
// MPI_ABORT banner is not checked: mpirun sometimes loses it).
func TestDistributedFailures(t *testing.T) {
	for _, c := range []struct {
		name, sampler string
		bad           func(i int) string
		want          []string
	}{
		{"divergence", "uniform", func(int) string { return "3e38,1e10,0,0" },
			[]string{"ntklsh train: rank 1: ", "s-1.csv: its share of the minibatch gradient was not finite at step 1; training diverged at iteration 0"}},
		{"one rank alone", "loss", func(int) string { return "0,3e38,3e38,3e38" },
			[]string{"ntklsh train: rank 1 of 2 (", "s-1.csv): iteration 0: sampler loss: score of point", "aborting the job"}},
	} {
		dir := t.TempDir()
		writeBadShards(t, dir, c.bad)
		start := time.Now()
		out, err := mpirun(t, 2, "train", "--distributed", "mpi", "--sampler", c.sampler, "--data", filepath.Join(dir, "s-{rank}.csv"),
			"--standardize=false", "--hidden", "8", "--batch", "16", "--iters", "50", "--quiet").CombinedOutput()
		el := time.Since(start)
		t.Logf("%s: %v", c.name, el.Round(time.Millisecond))
		lines := ntklshLines(string(out))
		ok := err != nil && len(lines) == 1 && el < mpiTimeout/2
		for _, w := range c.want {
			ok = ok && len(lines) == 1 && strings.Contains(lines[0], w)
		}
		if !ok {
			t.Errorf("%s: %v after %v, messages %q, want one with %q\n%s", c.name, err, el.Round(time.Millisecond), lines, c.want, out)
		}
	}
}
