//go:build !race

package asm

const raceEnabled = false

func raceRead32([]float32)                     {}
func raceWrite32([]float32)                    {}
func raceWrite64([]float64)                    {}
func raceWriteU32([]uint32)                    {}
func raceReadRows32(int, int, []float32, int)  {}
func raceWriteRows32(int, int, []float32, int) {}
