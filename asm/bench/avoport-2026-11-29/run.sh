#!/bin/bash
cd /work/wt-avoport/asm
for i in $(seq 1 12); do
  for v in before after; do
    [ $((i%2)) = 0 ] && v=$([ $v = before ] && echo after || echo before)
    NTKLSH_KERNELS=avx2 /tmp/avoport-$v.test -test.run XXX -test.bench 'SgemmKernel$/impl=avx2$' -test.benchtime 0.5s -test.count 1 >> /tmp/avoport-bench/k2-$v.txt 2>&1
    NTKLSH_KERNELS=avx2 /tmp/avoport-$v.test -test.run XXX -test.bench 'Sgemm$/./1024x1024x1024/impl=avx2$/threads=1$' -test.count 1 >> /tmp/avoport-bench/k2-$v.txt 2>&1
  done
done
echo done > /tmp/avoport-bench/finished2
