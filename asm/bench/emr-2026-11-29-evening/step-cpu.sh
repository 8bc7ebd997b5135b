#!/bin/bash
# Per-step CPU time (user+sys) of BenchmarkStepWidth1024 at GOMAXPROCS 1:
# (cpu(N=2200) - cpu(N=200)) / 2000, so setup, the one rehash and time spent
# waiting for a CPU on the loaded machine cancel. Old/new binaries, avx2/avx512,
# order rotated per round.
cd /tmp/avx512b/cpu
configs=("old avx2" "new avx2" "old avx512" "new avx512")
for r in $(seq 1 ${ROUNDS:-6}); do
  for i in 0 1 2 3; do
    c=(${configs[$(( (i + r) % 4 ))]})
    for s in uniform ntk-static lsh-structured-L64; do
      t=()
      for n in 200 2200; do
        t+=($( { NTKLSH_KERNELS=${c[1]} /usr/bin/time -f "%U %S" /tmp/avx512b/bench-${c[0]}.test -test.run XXX -test.bench "^BenchmarkStepWidth1024\$/^$s\$" -test.benchtime ${n}x -test.cpu 1 > /dev/null; } 2>&1 | tail -1 | awk '{print $1+$2}'))
      done
      echo "${c[0]} ${c[1]} $s $(awk -v a=${t[0]} -v b=${t[1]} 'BEGIN{printf "%.1f", (b-a)/2000*1e6}')" >> steps.txt
    done
  done
  uptime >> load.txt
done
echo done > finished
