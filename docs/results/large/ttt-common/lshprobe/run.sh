#!/bin/bash
# lsh with the clipped recipe (lr 1.08 cosine, clip 1) against uniform, Levitus and t3, seed 1
common="--hidden 1024 --batch 32 --epochs 5 --schedule cosine --clip-norm 1 --lr 1.08 --eval-every 200 --diag-subset 500 --quiet --seed 1"
ntklsh train --data data/levitus.csv --max-rows 150000 $common --rehash auto \
  --sampler uniform,ntk-drift,lsh --query-every 8 --family sparse --L 32 --log lev.csv > lev.txt 2>&1
ntklsh train --syn-n 144000 --syn-d 16 --syn-tail 3 $common --rehash auto \
  --sampler uniform,ntk-drift,lsh --query-every 8 --family sparse --L 32 --log t3.csv > t3.txt 2>&1
echo done > DONE
