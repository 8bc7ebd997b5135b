#!/bin/bash
# the oracle at other learning rates (seed 1): does "true" reach uniform's level in fewer iterations elsewhere?
for lr in 0.5 2.3; do
  ntklsh train --syn-n 45000 --syn-d 16 --syn-tail 3 --hidden 1024 --batch 32 --epochs 5 --schedule cosine \
    --clip-norm 1 --lr $lr --rehash auto --sampler true --eval-every 100 --diag-subset 0 \
    --quiet --seed 1 --log true-lr$lr.csv > true-lr$lr.txt 2>&1
done
echo done > DONE2
