// Command ntklsh trains neural networks with importance-sampled SGD whose
// samples come from locality-sensitive hash tables over the NTK
// linearization, and compares it with the baselines.
//
//	ntklsh train [flags]   train (with no --data: the built-in synthetic set,
//	                       comparing uniform, lsh, ntk-static and true)
//	ntklsh info            CPU features and the kernel backend in use
package main

import (
	"fmt"
	"os"
)

func usage() {
	fmt.Fprint(os.Stderr, `usage: ntklsh <command> [flags]

commands:
  train   train a model (no --data: built-in synthetic teacher data set)
  predict write predictions of a checkpointed model for a data file (CSV)
  eval    print the loss (and accuracy) of a checkpointed model on a data file
  info    CPU features and the kernel backend in use
  experiment  reproduce the paper's experiments (kl, lsh-ablation, convergence, all) with CSV and plots

Run "ntklsh <command> -h" for the flags of a command.
`)
}

func main() {
	if len(os.Args) < 2 {
		usage()
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "train":
		err = runTrain(os.Args[2:], os.Stdout, os.Stderr)
	case "predict":
		err = runPredict(os.Args[2:], os.Stdout)
	case "eval":
		err = runEval(os.Args[2:], os.Stdout)
	case "info":
		err = runInfo(os.Args[2:], os.Stdout)
	case "experiment":
		err = runExperiment(os.Args[2:], os.Stdout, os.Stderr)
	case "-h", "-help", "--help", "help":
		usage()
		return
	default:
		fmt.Fprintf(os.Stderr, "ntklsh: unknown command %q\n", os.Args[1])
		usage()
		os.Exit(2)
	}
	if err != nil {
		if err != errInterrupted {
			fmt.Fprintf(os.Stderr, "ntklsh %s: %v\n", os.Args[1], err)
		}
		if err == errUsage {
			os.Exit(2)
		}
		if err == errInterrupted {
			os.Exit(130)
		}
		os.Exit(1)
	}
}
