#!/bin/bash
while [ ! -f /tmp/avoport-bench/finished ]; do sleep 2; done
cd /work/wt-avoport/asm
for i in 1 2 3 4 5 6; do
  for v in before after; do
    [ $((i%2)) = 0 ] && v=$([ $v = before ] && echo after || echo before)
    /tmp/avoport-$v.test -test.run XXX -test.bench 'Vector$/(Axpy|ReLU|ReLUMask|SignPack)$' -test.benchtime 0.5s -test.count 1 >> /tmp/avoport-bench/vec2-$v.txt 2>&1
  done
done
echo done > /tmp/avoport-bench/finished-vec
