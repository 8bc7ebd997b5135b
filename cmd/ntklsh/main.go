// Command ntklsh trains neural networks with importance-sampled SGD whose
// samples come from locality-sensitive hash tables over the NTK
// linearization, and compares it with the baselines.
//
//	ntklsh train [flags]   train (with no --data: the built-in synthetic set,
//	                       comparing uniform, lsh, ntk-static and true)
//	ntklsh info            CPU features and the kernel backend in use
//
// The commands are listed in one table, commands, which both the usage text
// and the dispatch read.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
)

// subcommand is one subcommand of ntklsh.
type subcommand struct {
	name    string
	summary string
	run     func(args []string, stdout, stderr io.Writer) error
}

// commands is the command table: usage text and dispatch both read it.
var commands = []subcommand{
	{"train", "train a model (no --data: built-in synthetic teacher data set)", runTrain},
	{"predict", "write predictions of a checkpointed model for a data file (CSV)",
		func(args []string, stdout, _ io.Writer) error { return runPredict(args, stdout) }},
	{"eval", "print the loss (and accuracy) of a checkpointed model on a data file",
		func(args []string, stdout, _ io.Writer) error { return runEval(args, stdout) }},
	{"info", "CPU features and the kernel backend in use", runInfo},
	{"experiment", "reproduce the paper's experiments (kl, lsh-ablation, convergence, all) with CSV and plots", runExperiment},
}

func lookupCommand(name string) (subcommand, bool) {
	for _, c := range commands {
		if c.name == name {
			return c, true
		}
	}
	return subcommand{}, false
}

func usage(w io.Writer) {
	fmt.Fprint(w, "usage: ntklsh <command> [flags]\n\ncommands:\n")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, c := range commands {
		fmt.Fprintf(tw, "  %s\t%s\n", c.name, c.summary)
	}
	tw.Flush()
	fmt.Fprint(w, "\nRun \"ntklsh <command> -h\" for the flags of a command.\n")
}

// exitCode maps a command's error to the process exit status: 0 on
// success, 2 for bad usage, 130 after an interrupt, 1 otherwise.
func exitCode(err error) int {
	switch {
	case err == nil:
		return 0
	case errors.Is(err, errUsage):
		return 2
	case errors.Is(err, errInterrupted):
		return 130
	}
	return 1
}

// dispatch runs the command named by args[0] and returns the exit status.
func dispatch(args []string, stdout, stderr io.Writer) int {
	if len(args) < 1 {
		usage(stderr)
		return 2
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		usage(stdout)
		return 0
	}
	c, ok := lookupCommand(args[0])
	if !ok {
		fmt.Fprintf(stderr, "ntklsh: unknown command %q\n", args[0])
		usage(stderr)
		return 2
	}
	err := c.run(args[1:], stdout, stderr)
	if err != nil && !errors.Is(err, errInterrupted) {
		// Several problems (errors.Join) are reported on one line.
		fmt.Fprintf(stderr, "ntklsh %s: %s\n", c.name, strings.ReplaceAll(err.Error(), "\n", "; "))
	}
	return exitCode(err)
}

func main() {
	os.Exit(dispatch(os.Args[1:], os.Stdout, os.Stderr))
}
