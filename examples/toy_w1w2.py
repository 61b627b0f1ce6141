"""F(w) = w1 w2 with y = 1 from w0 = (10, 0), the toy of docs/theory.md §5.

On the ball B(w0, 0.3): K(w) = |w|^2 >= 9.7^2 = mu = 94.09, L_F = 10.3 and the Hessian [[0, 1], [1, 0]] has
norm 1; the rational expressions let plproof bound it by interval arithmetic (rigor ``verified``).

    plproof check examples/toy_w1w2.py:problem --radius 0.3 --rigor verified
"""

import sympy as sp

from plproof import Problem
from plproof.models.sympy_model import SympyModel

w1, w2 = sp.symbols("w1 w2")
model = SympyModel([w1 * w2], [w1, w2], w0=[10, 0])
problem = Problem(model, y=[1], w0=[10, 0])
