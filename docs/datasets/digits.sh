#!/usr/bin/env bash
# scikit-learn's digits (sklearn.datasets.load_digits: 1797 8×8 images of the
# handwritten digits 0–9, pixel values 0–16, shipped in the Debian package
# python3-sklearn) saved for ntklsh as NumPy and as Parquet:
#   data/digits.npz      arrays x (1797×64 float64) and y (1797 int64 labels)
#   data/digits.parquet  columns p00..p63 (float32) and y (int64), written
#                        from the .npz by docs/datasets/npz2parquet
# The rows are in load_digits order (row i is load_digits().data[i]); both
# files hold the same numbers. Train on either, e.g.
#   ntklsh train --data data/digits.parquet --loss xent --test-frac 0.2 --seed 1
# and the split is data.Split's with that seed (eval --split test reproduces it).
# The fixed split of docs/datasets/digits-sklearn.sh converts the same way:
#   go run ./docs/datasets/npz2parquet -prefix p data/digits_train.npz data/digits_train.parquet
#   bash docs/datasets/digits.sh
# Needs apt (Debian/Ubuntu) for python3-sklearn and Go for the converter.
set -euo pipefail
cd "$(dirname "$0")/../.."
mkdir -p data
py=python3
if ! $py -c 'import sklearn.datasets, numpy' 2>/dev/null; then
	py=/usr/bin/python3
	if ! $py -c 'import sklearn.datasets, numpy' 2>/dev/null; then
		sudo=; [ "$(id -u)" -ne 0 ] && sudo=sudo
		$sudo apt-get update -qq && $sudo apt-get install -y -qq python3-sklearn python3-numpy
	fi
fi
$py - <<'PY'
import numpy as np
from sklearn.datasets import load_digits
d = load_digits()
x = np.ascontiguousarray(d.data, dtype=np.float64)
y = np.ascontiguousarray(d.target, dtype=np.int64)
assert x.shape == (1797, 64) and y.shape == (1797,)
np.savez("data/digits.npz", x=x, y=y)
print("data/digits.npz: x %s, y %s, classes %s" % (x.shape, y.shape, np.bincount(y).tolist()))
PY
go run ./docs/datasets/npz2parquet -prefix p -target y data/digits.npz data/digits.parquet
