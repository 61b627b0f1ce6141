"""Two-layer network f(x; W, v) = m^{-1/2} v^T sigma(W x) in NTK parametrisation (docs/theory.md §8).

Parameters are ``(vec W, v)`` (row-major W, m x d), or only ``vec W`` (``train="hidden"``) or only
``v`` (``train="output"``: the random-features model). The kernel is formed without the Jacobian:
K = ((X X^T) o (D diag(v^2) D^T) + A A^T) / m with A = sigma(X W^T), D = sigma'(X W^T).
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from plproof.errors import InvalidInput
from plproof.models import activations
from plproof.models.base import Model, bound_sets, check_finite_matrix, check_positive_int, closed_form_family
from plproof.models.linear import CONSTANT_KERNEL_BOUNDS
from plproof.numeric.arith import FLOAT64, Arith

TRAIN_MODES = ("both", "hidden", "output")
INITS = ("standard", "symmetric")
#: bytes the activation formulas of one block of neurons may take in :meth:`TwoLayer.residual_and_vjp`
STEP_BLOCK_BYTES = 2**21
#: the fused float64 step keeps the activations of all neurons up to this size, else forms them twice
KEEP_BYTES = 2**30
#: tight: T1-T3 of docs/theory.md §11.3-§11.4; theory: the per-neuron formula of §8 with §4.1
TWO_LAYER_BOUNDS = bound_sets("plproof.theory.ball:TwoLayerTightBounds", "plproof.theory.ball:TwoLayerTheoryBounds")


def draw_layer(rng: np.random.Generator, rows: int, cols: int, symmetric: bool) -> np.ndarray:
    """Standard normal rows x cols; ``symmetric`` repeats each drawn row once (pairs of equal rows)."""
    try:
        if not symmetric:
            return rng.standard_normal((rows, cols))
        return np.repeat(rng.standard_normal((rows // 2, cols)), 2, axis=0)
    except MemoryError:
        raise InvalidInput(f"a {rows} x {cols} weight matrix does not fit in memory "
                           f"({rows * cols * 8 / 2**30:.3g} GiB): use a smaller width") from None


def draw_output(rng: np.random.Generator, width: int, symmetric: bool) -> np.ndarray:
    """Standard normal output weights; ``symmetric`` gives pairs (a, -a) so that F(w0) = 0."""
    if not symmetric:
        return rng.standard_normal(width)
    half = rng.standard_normal(width // 2)
    return np.stack([half, -half], axis=1).ravel()


def check_seed(seed: Any) -> int:
    """``seed`` as an int >= 0 (what numpy's default_rng accepts), or an InvalidInput."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise InvalidInput(f"seed must be an integer >= 0, got {seed!r}")
    return int(seed)


def check_init(init: str, last_width: int) -> bool:
    """Validate ``init`` and return whether it is the symmetric one (which needs an even width)."""
    if init not in INITS:
        raise InvalidInput(f"unknown init {init!r}: use one of {', '.join(INITS)}")
    if init == "symmetric" and last_width % 2:
        raise InvalidInput(f"init='symmetric' pairs neurons, so the width must be even, got {last_width}")
    return init == "symmetric"


@closed_form_family
class TwoLayer(Model):
    """Two-layer network f(x; W, v) = m^{-1/2} v^T sigma(W x) in NTK parametrisation (docs/theory.md §8).

    W in R^{m x d} (m = ``width``), v in R^m, F(w) = (f(x_k; W, v))_{k=1..n}. With Z = X W^T, A = sigma(Z),
    D = sigma'(Z): DF has the blocks m^{-1/2} v_i sigma'(z_ki) x_k (for W) and m^{-1/2} A (for v), and
    K = ((X X^T) o (D diag(v^2) D^T) + A A^T) / m (docs/theory.md §8). The per-neuron Hessian gives the ball
    bounds of docs/theory.md §8 and the structure-aware T1-T3 of docs/theory.md §11. These closed forms hold
    for TwoLayer with a built-in activation and for subclasses that change none of its formulas
    (plproof.models.base.closed_form_obstacle); otherwise the model is differentiated from its own F.

    Parameters
    ----------
    X : array_like, shape (n, d)
        Inputs, one row per data point (finite; not rescaled, normalise them yourself).
    width : int
        m >= 1, the number of hidden neurons.
    activation : str or Activation, default "tanh"
        sigma, by name from plproof.models.ACTIVATIONS: tanh, sigmoid, softplus, sin and gelu are C^2 with
        the proved constants S1-S3 of docs/theory.md §8; relu, leaky_relu and abs are not C^2 and never
        certify. A user-built Activation is evaluated, but it has no proved constants: the model then gets
        no closed forms and is checked at rigor ``sampled`` at best.
    seed : int, default 0
        Seed of the initialisation: W0 then v0 drawn from numpy's default_rng(seed).
    train : {"both", "hidden", "output"}, default "both"
        Which weights are parameters: w = (vec W row-major, v) (m d + m of them), only vec W (v frozen at
        v0), or only v (W frozen at W0: the random-features model, linear in w).
    init : {"standard", "symmetric"}, default "standard"
        ``standard``: every weight i.i.d. N(0, 1). ``symmetric``: neurons in equal pairs with output
        weights (a, -a), so that F(w0) = 0 (needs an even width).
    """

    family = "two_layer"
    array_generic = True

    def __init__(self, X: Any, width: int, activation: "str | activations.Activation" = "tanh",
                 seed: int = 0, train: str = "both", init: str = "standard") -> None:
        """Draw W0, v0 from ``seed``; see the class docstring for the parameters."""
        self.X = check_finite_matrix(X, "X")
        self.width = check_positive_int(width, "width")
        self.activation = activations.get(activation)
        if train not in TRAIN_MODES:
            raise InvalidInput(f"unknown train mode {train!r}: use one of {', '.join(TRAIN_MODES)}")
        self.train = train
        self.seed = check_seed(seed)
        self.init = init
        symmetric = check_init(init, self.width)
        rng = np.random.default_rng(self.seed)
        self.W0 = draw_layer(rng, self.width, self.input_dim, symmetric)
        self.v0 = draw_output(rng, self.width, symmetric)

    @property
    def input_dim(self) -> int:
        return self.X.shape[1]

    @property
    def n_outputs(self) -> int:
        return self.X.shape[0]

    @property
    def n_params(self) -> int:
        return {"both": self.width * (self.input_dim + 1), "hidden": self.width * self.input_dim,
                "output": self.width}[self.train]

    @property
    def is_smooth(self) -> bool:
        return self.activation.smooth or self.train == "output"

    @property
    def ball_bound_sets(self) -> Mapping[str, str]:  # type: ignore[override]
        """Constant-kernel bounds when only v is trained (F is linear in v), else the two-layer sets."""
        return CONSTANT_KERNEL_BOUNDS if self.train == "output" else TWO_LAYER_BOUNDS

    def default_w0(self) -> np.ndarray:
        return self.join(self.W0, self.v0)

    def split(self, w: np.ndarray, ar: Arith | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(W, v) from the parameter vector; frozen blocks come from the initialisation."""
        md = self.width * self.input_dim
        conv = ar.asarray if ar is not None else np.asarray
        if self.train == "both":
            return w[:md].reshape(self.width, self.input_dim), w[md:]
        if self.train == "hidden":
            return w.reshape(self.width, self.input_dim), conv(self.v0)
        return conv(self.W0), w

    def join(self, W: np.ndarray, v: np.ndarray) -> np.ndarray:
        """The parameter vector holding the trained blocks of (W, v)."""
        parts = {"both": (W.ravel(), v), "hidden": (W.ravel(),), "output": (v,)}[self.train]
        return np.concatenate(parts)

    def _features(self, w: np.ndarray, ar: Arith, order: int) -> tuple[Any, ...]:
        W, v = self.split(w, ar)
        X = ar.asarray(self.X)
        scale = 1 / ar.sqrt(ar.asarray(float(self.width)))
        return (X, v, scale) + self.activation.derivatives(X @ W.T, ar, order)

    def _F(self, w: np.ndarray, ar: Arith) -> np.ndarray:
        _, v, scale, A = self._features(w, ar, 0)
        return (A @ v) * scale

    def _jacobian(self, w: np.ndarray, ar: Arith) -> np.ndarray:
        X, v, scale, A, D = self._features(w, ar, 1)
        blocks = []
        if self.train in ("both", "hidden"):
            JW = (D * v)[:, :, None] * X[:, None, :]
            blocks.append(JW.reshape(self.n_outputs, -1) * scale)
        if self.train in ("both", "output"):
            blocks.append(A * scale)
        return np.concatenate(blocks, axis=1) if len(blocks) > 1 else blocks[0]

    def _vjp(self, w: np.ndarray, r: np.ndarray, ar: Arith) -> np.ndarray:
        """DF^T r without forming DF: (s v_i sum_k r_k sigma'(z_ki) x_k)_i and s A^T r."""
        X, v, scale, A, D = self._features(w, ar, 1)
        parts = []
        if self.train in ("both", "hidden"):
            parts.append(((D * r[:, None]).T @ X * v[:, None]).ravel() * scale)
        if self.train in ("both", "output"):
            parts.append((A.T @ r) * scale)
        return np.concatenate(parts) if len(parts) > 1 else parts[0]

    def residual_and_vjp(self, w: np.ndarray, y: np.ndarray, weights: np.ndarray | None = None,
                         block_bytes: int = STEP_BLOCK_BYTES,
                         keep_bytes: int = KEEP_BYTES) -> tuple[np.ndarray, np.ndarray]:
        """(r, DF(w)^T (c o r)), r = F(w) - y, in float64: one GD step's work (docs/theory.md §2, §8), or an SGD
        step's with c the batch's counts per data point (``weights``; default all ones). Neurons go in blocks whose
        activation formulas take about ``block_bytes``; sigma(Z), sigma'(Z) (Z = X W^T) are formed once and kept for
        the gradient while they take at most ``keep_bytes`` (16 n m bytes, 8 n m when only v is trained), else formed
        again per block for the gradient (memory O(n d + m d + n b), twice the activations' work)."""
        W, v = self.split(np.asarray(w, dtype=np.float64))
        X, n, m = self.X, self.n_outputs, self.width
        order = 0 if self.train == "output" else 1
        step = max(1, block_bytes // (64 * n))  # an activation's formulas hold up to 8 n x b float64 arrays
        starts = range(0, m, step)

        def features(lo: int) -> tuple[np.ndarray, ...]:
            return self.activation.derivatives(X @ W[lo:lo + step].T, FLOAT64, order)

        kept = [features(lo) for lo in starts] if 8 * (order + 1) * n * m <= keep_bytes else None
        scale = 1 / np.sqrt(float(m))
        r = sum(((kept[i] if kept else features(lo))[0] @ v[lo:lo + step] for i, lo in enumerate(starts)),
                np.zeros(n)) * scale - y
        rc = r if weights is None else r * weights
        gW, gv = np.empty_like(W), np.empty_like(v)
        for i, lo in enumerate(starts):
            f = kept[i] if kept else features(lo)
            if order:
                gW[lo:lo + step] = ((f[1] * rc[:, None]).T @ X) * (v[lo:lo + step, None] * scale)
            gv[lo:lo + step] = (f[0].T @ rc) * scale
        return r, self.join(gW, gv)

    def _kernel(self, w: np.ndarray, ar: Arith) -> np.ndarray:
        X, v, scale, A, D = self._features(w, ar, 1)
        K = ar.zeros((self.n_outputs, self.n_outputs))
        if self.train in ("both", "hidden"):
            Dv = D * v
            K = K + (X @ X.T) * (Dv @ Dv.T)
        if self.train in ("both", "output"):
            K = K + A @ A.T
        return K * (scale * scale)

    def describe(self) -> dict:
        return {**super().describe(), "X": self.X.tolist(), "width": self.width,
                "activation": self.activation.name, "seed": self.seed, "train": self.train, "init": self.init}


@closed_form_family
class RandomFeatures(TwoLayer):
    """Random features f(x; v) = m^{-1/2} v^T sigma(W0 x): W0 fixed, only v trained (docs/theory.md §7, §8).

    TwoLayer with ``train="output"``: F(v) = m^{-1/2} A v with A = sigma(X W0^T) is linear in v, so
    DF = m^{-1/2} A, K = A A^T / m is constant and every Hessian is 0 (epsilon = 0 on every ball; the
    "only v trained" case of docs/theory.md §8 and the linear model of docs/theory.md §7). These closed forms
    hold for RandomFeatures with a built-in activation and for subclasses that change none of its formulas
    (plproof.models.base.closed_form_obstacle).

    Parameters
    ----------
    X : array_like, shape (n, d)
        Inputs, one row per data point (finite).
    width : int
        m >= 1, the number of random features (= the number of parameters).
    activation : str or Activation, default "tanh"
        sigma, as for :class:`TwoLayer` (a user-built Activation: rigor ``sampled`` at best).
    seed : int, default 0
        Seed of the initialisation: W0 (fixed) then v0 (the default starting point).
    init : {"standard", "symmetric"}, default "standard"
        As for :class:`TwoLayer`: i.i.d. N(0, 1), or equal neuron pairs with v0 = (a, -a) so that F(v0) = 0.
    """

    family = "random_features"

    def __init__(self, X: Any, width: int, activation: "str | activations.Activation" = "tanh",
                 seed: int = 0, init: str = "standard") -> None:
        """Draw W0, v0 from ``seed``; see the class docstring for the parameters."""
        super().__init__(X, width, activation, seed, train="output", init=init)

    def describe(self) -> dict:
        out = super().describe()
        del out["train"]
        return out
