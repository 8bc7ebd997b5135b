#!/bin/bash
# Weights packed once (asm.PackedB / nn.PackWeights): in-process pairs against OpenBLAS and
# packed-once against per-product rehashes. Intel Xeon cpuid family 6 model 0xCF, 2 vCPUs, nothing else running.
# From the repository root:  bash asm/bench/emr-2026-11-30-packed/run.sh
set -e
out=asm/bench/emr-2026-11-30-packed
go build -tags cblas -o /tmp/cblaspeer ./asm/bench/cblaspeer
go test -c -o /tmp/bench.test ./bench
(uptime; grep -m1 'model name' /proc/cpuinfo; grep -m1 '^model' /proc/cpuinfo; go version) > $out/machine.txt
OPENBLAS_CORETYPE=SkylakeX /tmp/cblaspeer -cases 1024,engine -pairs 20 -raw $out/cblas-raw.tsv > $out/cblas.txt 2>&1
(cd bench && /tmp/bench.test -test.run XXX -test.bench 'RehashPackedWeights/.*/.*/pairs' -test.benchtime 10x -test.cpu 1,2 -test.count 3) > $out/rehash-pairs.txt 2>&1
uptime >> $out/machine.txt
