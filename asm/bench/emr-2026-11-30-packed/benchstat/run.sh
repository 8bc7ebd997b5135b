#!/bin/bash
# Fresh avx512/avx2 ratios and packed-once B, 6 interleaved rounds; Intel Xeon cpuid family 6 model 0xCF, 2 vCPUs.
# From the repository root: bash asm/bench/emr-2026-11-30-packed/benchstat/run.sh
set -e
d=asm/bench/emr-2026-11-30-packed/benchstat
go test -c -o /tmp/asm.test ./asm
rm -f $d/vector.txt $d/packed.txt $d/sgemm.txt
uptime > $d/uptime.txt
for i in 1 2 3 4 5 6; do
  (cd asm && /tmp/asm.test -test.run XXX -test.bench '^BenchmarkVector$' -test.benchtime 200ms) >> $d/vector.txt
  (cd asm && /tmp/asm.test -test.run XXX -test.bench '^BenchmarkSgemmPackedB$' -test.benchtime 40x) >> $d/packed.txt
  (cd asm && /tmp/asm.test -test.run XXX -test.bench '^BenchmarkSgemm$/./1024x1024x1024/impl=avx(2|512)/threads=1$' -test.benchtime 20x) >> $d/sgemm.txt
done
uptime >> $d/uptime.txt
