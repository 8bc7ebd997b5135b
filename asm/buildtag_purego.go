//go:build purego && !noasm

package asm

const offTag = "purego"
