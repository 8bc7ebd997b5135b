// Command fmapeak measures, on one core, the effective clock (a chain of
// dependent 1-cycle integer adds) and the AVX2 FMA throughput (twelve
// independent chains of vfmadd231ps on ymm registers), the two figures
// asm/PERF.md uses for "% of FMA peak".
//
//	go run ./asm/bench/fmapeak
package main
