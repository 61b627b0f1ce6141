"""Deep fully connected network in NTK parametrisation (docs/theory.md §4.2, §13).

a_0 = x, z_1 = W_1 a_0, z_l = h_{l-1}^{-1/2} W_l a_{l-1} (l >= 2), a_l = sigma(z_l),
f(x) = h_L^{-1/2} v^T a_L. No biases; inputs are not rescaled (normalise x yourself), so
``MLP(X, [m])`` is exactly ``TwoLayer(X, m)`` with the same seed.
Parameters: (vec W_1, ..., vec W_L, v), row-major.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from plproof.errors import InvalidInput
from plproof.models import activations
from plproof.models.base import Model, bound_sets, check_finite_matrix, check_positive_int, closed_form_family
from plproof.models.two_layer import check_init, check_seed, draw_layer, draw_output
from plproof.numeric.arith import Arith


@closed_form_family
class MLP(Model):
    """Deep fully connected network in NTK parametrisation, without biases (docs/theory.md §4.2, §13).

    a_0 = x, z_1 = W_1 a_0, z_l = h_{l-1}^{-1/2} W_l a_{l-1} (l = 2..L), a_l = sigma(z_l) and
    f(x) = h_L^{-1/2} v^T a_L, with W_l in R^{h_l x h_{l-1}} (h_0 = d), v in R^{h_L}; F(w) = (f(x_k))_k with
    w = (vec W_1, ..., vec W_L, v), row-major. DF and DF^T r by backpropagation; the ball bounds are the
    layer-by-layer Hessian and Jacobian-change bounds of docs/rigor.md §2 (docs/theory.md §13). ``MLP(X, [m])``
    is ``TwoLayer(X, m)`` with the same seed. These closed forms hold for MLP with a built-in activation and
    for subclasses that change none of its formulas (plproof.models.base.closed_form_obstacle); otherwise the
    model is differentiated from its own F.

    Parameters
    ----------
    X : array_like, shape (n, d)
        Inputs, one row per data point (finite; not rescaled, normalise them yourself).
    widths : sequence of int
        The hidden widths [h_1, ..., h_L], each >= 1 (at least one layer).
    activation : str or Activation, default "tanh"
        sigma, by name from plproof.models.ACTIVATIONS (as for :class:`~plproof.models.two_layer.TwoLayer`:
        tanh, sigmoid, softplus, sin, gelu certify; a user-built Activation: rigor ``sampled`` at best).
    seed : int, default 0
        Seed of the initialisation: W_1, ..., W_L, then v, every weight N(0, 1) from default_rng(seed).
    init : {"standard", "symmetric"}, default "standard"
        ``standard``: i.i.d. N(0, 1). ``symmetric``: the last layer's neurons in equal pairs with output
        weights (a, -a), so that F(w0) = 0 (needs an even last width).
    """

    family = "mlp"
    #: the layer-by-layer bounds of docs/rigor.md §2.3 (docs/theory.md §13), for both bound-set names
    ball_bound_sets = bound_sets("plproof.theory.ball:MLPBounds")
    array_generic = True

    def __init__(self, X: Any, widths: Sequence[int], activation: "str | activations.Activation" = "tanh",
                 seed: int = 0, init: str = "standard") -> None:
        """Draw the weights from ``seed``; see the class docstring for the parameters."""
        self.X = check_finite_matrix(X, "X")
        try:
            listed = list(widths)
        except TypeError:
            listed = []
        if isinstance(widths, str) or not listed:
            raise InvalidInput(f"widths must be a non-empty list of layer widths, e.g. [64, 64], got {widths!r}")
        self.widths = [check_positive_int(h, "each width") for h in listed]
        self.activation = activations.get(activation)
        self.seed = check_seed(seed)
        self.init = init
        symmetric = check_init(init, self.widths[-1])
        rng = np.random.default_rng(self.seed)
        fan_in = [self.X.shape[1]] + self.widths[:-1]
        self.weights0 = [draw_layer(rng, h, f, symmetric and l == len(self.widths) - 1)
                         for l, (h, f) in enumerate(zip(self.widths, fan_in))]
        self.v0 = draw_output(rng, self.widths[-1], symmetric)
        self._shapes = [(h, f) for h, f in zip(self.widths, fan_in)]

    @property
    def n_outputs(self) -> int:
        return self.X.shape[0]

    @property
    def n_params(self) -> int:
        return sum(h * f for h, f in self._shapes) + self.widths[-1]

    @property
    def is_smooth(self) -> bool:
        return self.activation.smooth

    def default_w0(self) -> np.ndarray:
        return np.concatenate([W.ravel() for W in self.weights0] + [self.v0])

    def split(self, w: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
        """([W_1, ..., W_L], v) from the parameter vector."""
        mats, start = [], 0
        for h, f in self._shapes:
            mats.append(w[start:start + h * f].reshape(h, f))
            start += h * f
        return mats, w[start:]

    def _forward(self, w: np.ndarray, ar: Arith, order: int) -> tuple[list, list, list, np.ndarray, Any]:
        """Activations a_l, derivatives sigma'(z_l), layer scales c_l, v and the output scale."""
        mats, v = self.split(w)
        acts, derivs, scales = [ar.asarray(self.X)], [], []
        for l, W in enumerate(mats):
            c = 1 if l == 0 else 1 / ar.sqrt(ar.asarray(float(self._shapes[l][1])))
            values = self.activation.derivatives((acts[-1] @ W.T) * c, ar, order)
            acts.append(values[0])
            derivs.append(values[1] if order else None)
            scales.append(c)
        return acts, derivs, scales, v, 1 / ar.sqrt(ar.asarray(float(self.widths[-1])))

    def _F(self, w: np.ndarray, ar: Arith) -> np.ndarray:
        acts, _, _, v, out = self._forward(w, ar, 0)
        return (acts[-1] @ v) * out

    def _backprop(self, w: np.ndarray, ar: Arith, r: np.ndarray | None) -> list[np.ndarray]:
        """Per-layer blocks of DF (r is None, n x params) or of DF^T r (params), output layer last."""
        acts, derivs, scales, v, out = self._forward(w, ar, 1)
        mats, _ = self.split(w)
        n = self.n_outputs
        blocks = [acts[-1] * out if r is None else (acts[-1].T @ r) * out]
        G = derivs[-1] * (v * out)  # d f / d z_L, n x h_L
        if r is not None:
            G = G * r[:, None]
        for l in range(len(mats) - 1, -1, -1):
            Gc = G * scales[l]
            blocks.append((Gc[:, :, None] * acts[l][:, None, :]).reshape(n, -1) if r is None
                          else (Gc.T @ acts[l]).ravel())
            if l:
                G = (Gc @ mats[l]) * derivs[l - 1]
        return blocks[::-1]

    def _jacobian(self, w: np.ndarray, ar: Arith) -> np.ndarray:
        return np.concatenate(self._backprop(w, ar, None), axis=1)

    def _vjp(self, w: np.ndarray, r: np.ndarray, ar: Arith) -> np.ndarray:
        return np.concatenate(self._backprop(w, ar, r))

    def describe(self) -> dict:
        return {**super().describe(), "X": self.X.tolist(), "widths": list(self.widths),
                "activation": self.activation.name, "seed": self.seed, "init": self.init}
