"""A two-layer tanh network as a NumPy function of w: f(x; W, v) = m^{-1/2} v^T tanh(W x) (docs/theory.md §8).

The same network as examples/sympy_model.py. The Jacobian is by complex step (np.tanh accepts complex
input); on mpmath object arrays the function switches to mpmath.tanh, so the confirming GD run can use
high precision. Bounds over the ball can only be ``sampled`` for a black-box function.

    plproof check examples/numpy_model.py:problem --rigor sampled
"""

from pathlib import Path

import mpmath
import numpy as np

from plproof import Problem, TwoLayer
from plproof.models.callable_model import CallableModel

with np.load(Path(__file__).with_name("data.npz")) as data:
    X, y = data["X"], data["y"]
WIDTH = 8
D = X.shape[1]
w0 = TwoLayer(X, WIDTH, seed=1).default_w0()  # (vec W0 row-major, v0), standard normal


_mp_tanh = np.frompyfunc(mpmath.tanh, 1, 1)


def network(w: np.ndarray) -> np.ndarray:
    """F(w)_i = m^{-1/2} v^T tanh(W x_i) for every row x_i of X (float, complex or mpmath entries)."""
    W, v = w[: WIDTH * D].reshape(WIDTH, D), w[WIDTH * D:]
    if w.dtype == object:
        return _mp_tanh(X @ W.T) @ v / mpmath.sqrt(WIDTH)
    return np.tanh(X @ W.T) @ v / np.sqrt(WIDTH)


model = CallableModel(network, WIDTH * (D + 1), w0=w0)
problem = Problem(model, y)
