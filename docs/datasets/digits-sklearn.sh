#!/usr/bin/env bash
# scikit-learn's digits on a fixed split, the MLPClassifier reference, and
# ntklsh on the same split (docs/RESULTS.md, "Classification: digits").
#
#   apt-get install -y python3-sklearn     # Debian bookworm: scikit-learn 1.2.1, digits ship inside it
#   bash docs/datasets/digits-sklearn.sh [OUT_DIR] [HIDDEN]
#
# Writes OUT_DIR/digits_train.npz and OUT_DIR/digits_test.npz (default
# OUT_DIR=data; arrays x, y) and prints the MLPClassifier test accuracies,
# then trains ntklsh (hidden ReLU layer of HIDDEN units, default 64) with the
# softmax cross-entropy, uniform and ntk-static sampling, on the same files.
set -euo pipefail
out=${1:-data}
hidden=${2:-64}
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$out"
py=python3
$py -c "import sklearn" 2>/dev/null || py=/usr/bin/python3   # Debian's python3-sklearn
$py "$here/digits-sklearn.py" "$out" "$hidden"
ntk=${NTKLSH:-ntklsh}
# Batch 32, 60 epochs, cosine schedule, lr 0.1 (chosen on a validation
# split carved from train, see RESULTS.md), 5 seeds.
for seed in 1 2 3 4 5; do
  "$ntk" train --data "$out/digits_train.npz" --test "$out/digits_test.npz" --onehot 10 --loss xent \
    --hidden "$hidden" --batch 32 --epochs 60 --lr 0.1 --schedule cosine --seed "$seed" \
    --sampler uniform,ntk-static --quiet
done
