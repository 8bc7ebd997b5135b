//go:build noasm

package asm

const offTag = "noasm"
