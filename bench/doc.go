// Package bench holds the end-to-end throughput benchmarks of the engine
// (no library code): rehash points/s and hash codes/s, lsh draws/s and
// query preparations/s at N = 10^4..10^6, and training iterations/s per
// sampler, for every kernel backend compiled in and usable. Each benchmark
// reports its throughput with b.ReportMetric, so benchstat can compare two
// commits; see README.md in this directory.
package bench
