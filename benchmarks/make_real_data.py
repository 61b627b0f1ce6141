"""Make tests/data/real/*.npz from three of scikit-learn's bundled small data sets (developers only).

Run: ``PYTHONPATH=/path/to/sklearn python -m benchmarks.make_real_data`` (scikit-learn is not a dependency of
plproof; install it anywhere, e.g. ``pip install --target /tmp/skl scikit-learn``). The preprocessing is
stated in tests/data/real/README.md.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from sklearn import datasets

OUT = Path(__file__).resolve().parent.parent / "tests" / "data" / "real"
N = 100
SEED = 2026
SCALE = 0.1
#: name -> (loader, how the target becomes y)
SETS = {"wine": (datasets.load_wine, "label"), "diabetes": (datasets.load_diabetes, "regression"),
        "breast_cancer": (datasets.load_breast_cancer, "label")}


def prepare(X: np.ndarray, t: np.ndarray, kind: str, seed: int = SEED, n: int = N) -> tuple[np.ndarray, np.ndarray]:
    """Standardise the features over the whole set, pick n rows in a seeded shuffled order, unit-normalise
    the rows; targets: class 0 -> +SCALE, every other class -> -SCALE, or a regression target mapped affinely
    onto [-SCALE, SCALE] (min and max over the chosen rows)."""
    Z = (X - X.mean(axis=0)) / X.std(axis=0)
    rows = np.random.default_rng(seed).permutation(len(Z))[:n]
    Z = Z[rows]
    Z /= np.linalg.norm(Z, axis=1, keepdims=True)
    t = t[rows].astype(np.float64)
    if kind == "label":
        y = np.where(t == 0, SCALE, -SCALE)
    else:
        y = SCALE * (2 * (t - t.min()) / (t.max() - t.min()) - 1)
    return Z, y


def main() -> None:
    for name, (load, kind) in SETS.items():
        data = load()
        X, y = prepare(np.asarray(data.data, dtype=np.float64), np.asarray(data.target), kind)
        np.savez(OUT / f"{name}.npz", X=X, y=y)
        print(f"{name}: X {X.shape}, y in [{y.min():.3g}, {y.max():.3g}] ({kind}), "
              f"{int((y > 0).sum())} positive targets")


if __name__ == "__main__":
    main()
