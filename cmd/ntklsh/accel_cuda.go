//go:build cuda

package main

// The cuda package registers its kernels backend and its accelerator
// (engine.RegisterAccelerator) when linked in.
import _ "github.com/ntklsh/ntklsh/cuda"
