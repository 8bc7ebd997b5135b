"""scikit-learn's digits (1797 8×8 images, 10 classes) on a fixed split, and
the reference accuracy of a plain MLPClassifier of the shape ntklsh trains.

Writes OUT/digits_train.npz and OUT/digits_test.npz (arrays x: N×64 float64
raw pixel values 0..16, y: N int64 labels 0..9) for `ntklsh train --data
… --test … --onehot 10 --loss xent`, which standardizes the features with
the training split's mean and population std (std 1 for a constant pixel)
exactly as StandardScaler does; the MLP below is fitted on the same
standardized features. Prints one line per run and the median test
accuracy per setting.

Split: train_test_split(test_size=0.25, random_state=0, stratify=y):
1347 train / 450 test.
"""
import json
import sys

import numpy as np
import sklearn
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import StandardScaler
import warnings
from sklearn.exceptions import ConvergenceWarning

out = sys.argv[1] if len(sys.argv) > 1 else "data"
hidden = int(sys.argv[2]) if len(sys.argv) > 2 else 64
seeds = range(5)

X, y = load_digits(return_X_y=True)
Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.25, random_state=0, stratify=y)
np.savez(f"{out}/digits_train.npz", x=Xtr, y=ytr)
np.savez(f"{out}/digits_test.npz", x=Xte, y=yte)
print(f"# scikit-learn {sklearn.__version__}, numpy {np.__version__}; digits {X.shape}, train {Xtr.shape[0]}, test {Xte.shape[0]}")

sc = StandardScaler().fit(Xtr)
Str, Ste = sc.transform(Xtr), sc.transform(Xte)

settings = {
    # The library's defaults: adam, lr 1e-3, batch min(200, n), alpha 1e-4
    # (an L2 penalty), max_iter 200 epochs with early stopping on the
    # training loss (tol 1e-4, 10 epochs).
    "default (adam)": dict(),
    # Plain SGD like ntklsh's: no L2, constant lr, batch 32, no momentum.
    "sgd, batch 32, lr 0.05, no momentum, alpha 0": dict(solver="sgd", batch_size=32, learning_rate_init=0.05, momentum=0.0,
                                                        alpha=0.0, max_iter=200),
}
for name, kw in settings.items():
    accs = []
    for s in seeds:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            m = MLPClassifier(hidden_layer_sizes=(hidden,), activation="relu", random_state=s, **kw).fit(Str, ytr)
        acc = m.score(Ste, yte)
        accs.append(acc)
        print(json.dumps({"setting": name, "hidden": hidden, "seed": s, "epochs": m.n_iter_, "test_acc": round(acc, 4)}))
    print(f"{name}: hidden {hidden}, median test accuracy {np.median(accs):.4f} over seeds {list(seeds)} (min {min(accs):.4f}, max {max(accs):.4f})")
