#!/bin/bash
cd /work/wt-avoport/asm
for i in 1 2 3 4 5 6; do
  for v in before after; do
    [ $((i%2)) = 0 ] && v=$([ $v = before ] && echo after || echo before)
    NTKLSH_KERNELS=avx2 /tmp/avoport-$v.test -test.run XXX -test.bench 'SgemmKernel$/impl=avx2$' -test.count 1 >> /tmp/avoport-bench/sg-$v.txt 2>&1
    NTKLSH_KERNELS=avx2 /tmp/avoport-$v.test -test.run XXX -test.bench 'Sgemm$/././impl=avx2$/threads=1$' -test.count 1 >> /tmp/avoport-bench/sg-$v.txt 2>&1
    /tmp/avoport-$v.test -test.run XXX -test.bench 'Vector$/./impl=avx(2|512)$' -test.count 1 >> /tmp/avoport-bench/vec-$v.txt 2>&1
  done
done
echo done > /tmp/avoport-bench/finished
