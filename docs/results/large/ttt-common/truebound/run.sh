#!/bin/bash
# Iterations to target of sampling by the exact per-example gradient norms ("true", an O(N·P)
# oracle) against uniform and ntk-drift (auto refresh), all with clipping at lr 1.08 cosine (§0.8's recipe).
for s in 1 2 3; do
  ntklsh train --syn-n 45000 --syn-d 16 --syn-tail 3 --hidden 1024 --batch 32 --epochs 5 --schedule cosine \
    --clip-norm 1 --lr 1.08 --rehash auto --sampler uniform,ntk-drift,ntk-static,true --eval-every 100 --diag-subset 0 \
    --quiet --seed $s --log seed$s.csv > seed$s.txt 2>&1
done
echo done > DONE
