#!/bin/bash
cd /work/main
O=/work/kbench; rm -rf $O; mkdir -p $O
go test -c -o $O/asm.test ./asm || exit 1
git log --oneline -1 > $O/commit.txt; uptime > $O/uptime-start.txt
for r in 1 2 3 4 5 6; do
  $O/asm.test -test.run XXX -test.bench '^BenchmarkSgemm$/./1024x/impl=avx/threads=1' -test.benchtime 300ms >> $O/bench.txt
  $O/asm.test -test.run XXX -test.bench '^BenchmarkSgemmEngine$/(train|rehash)-/./impl=avx' -test.benchtime 300ms >> $O/bench.txt
  $O/asm.test -test.run XXX -test.bench '^BenchmarkSRP$/./././impl=avx' -test.benchtime 2x >> $O/bench.txt
  $O/asm.test -test.run XXX -test.bench '^BenchmarkVector$' -test.benchtime 100ms >> $O/bench.txt
  $O/asm.test -test.run XXX -test.bench '^BenchmarkSgemmKernel$' -test.benchtime 100ms >> $O/bench.txt
done
uptime > $O/uptime-end.txt
echo done > $O/DONE
