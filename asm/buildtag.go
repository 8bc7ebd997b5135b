//go:build !noasm && !purego

package asm

// offTag names the build tag that leaves the assembly out ("" when none
// does); dispatch_noasm.go reports it.
const offTag = ""
