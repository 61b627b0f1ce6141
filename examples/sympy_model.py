"""A two-layer tanh network as SymPy expressions: f(x; W, v) = m^{-1/2} v^T tanh(W x) (docs/theory.md §8).

The same network as examples/numpy_model.py, examples/torch_model.py and the built-in TwoLayer(X, 8, seed=1):
all four give the same tangent kernel at w0. Hessian and Jacobian norms over the ball come from interval
arithmetic on the symbolic Hessian (rigor ``verified``). examples/data.npz holds 3 unit-norm points of R^3
and targets y within 0.004 of F(w0): at width 8 the ball theorem (docs/theory.md §4.1) closes only that
close to the initial outputs.

    plproof check examples/sympy_model.py:problem --rigor verified
"""

from pathlib import Path

import numpy as np
import sympy as sp

from plproof import Problem, TwoLayer
from plproof.models.sympy_model import SympyModel

with np.load(Path(__file__).with_name("data.npz")) as data:
    X, y = data["X"], data["y"]
WIDTH = 8
w0 = TwoLayer(X, WIDTH, seed=1).default_w0()  # (vec W0 row-major, v0), standard normal

x = sp.symbols(f"x0:{X.shape[1]}")
W = sp.Matrix(WIDTH, X.shape[1], lambda i, j: sp.Symbol(f"W{i}_{j}"))
v = sp.symbols(f"v0:{WIDTH}")
f = sum(v[i] * sp.tanh(sum(W[i, j] * x[j] for j in range(len(x)))) for i in range(WIDTH)) / sp.sqrt(WIDTH)

model = SympyModel(f, [*W, *v], inputs=x, data=X, w0=w0)
problem = Problem(model, y)
