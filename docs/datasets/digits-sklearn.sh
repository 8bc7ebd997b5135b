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
# ntklsh on the same files: batch 32, 5 seeds (1..5), the test accuracy of
# each seed. Learning rate and schedule chosen by the median validation
# cross-entropy over 3 seeds on a 20 % split of the training file
# (`--test-frac 0.2`, grid 0.03, 0.1, 0.3, 1 × constant, cosine; see
# docs/RESULTS.md), and sklearn's own SGD setting (lr 0.05 constant, about
# the 110 epochs its stopping rule ran).
run() { # sampler lr schedule epochs
  accs=""
  for seed in 1 2 3 4 5; do
    a=$("$ntk" train --data "$out/digits_train.npz" --test "$out/digits_test.npz" --onehot 10 --loss xent \
      --hidden "$hidden" --batch 32 --epochs "$4" --lr "$2" --schedule "$3" --seed "$seed" --sampler "$1" --quiet |
      awk -v m="$1" '$1 == m { print $NF }')
    accs="$accs $a"
  done
  echo "ntklsh $1, hidden $hidden, lr $2 $3, $4 epochs: test accuracy per seed:$accs"
}
run uniform 0.1 cosine 60
run ntk-static 0.03 constant 60
run uniform 0.05 constant 110
run ntk-static 0.05 constant 110
