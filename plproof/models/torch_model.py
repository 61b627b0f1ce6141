"""A PyTorch module on fixed inputs as a model (extra ``torch``): F(w) = module_w(X) (docs/theory.md §0).

Parameters are the module's trainable tensors flattened in ``named_parameters()`` order. :func:`from_torch`
reads the module into a layer graph (plproof.models.torch_trace) with the same parameters, whose DF and K are
closed forms in every arithmetic, and refuses a module it cannot read, naming what it could not, unless asked
for the black box. The black box is :class:`TorchModel`: F, DF and the kernel in float64, DF by
``torch.func.jacrev`` over ``functional_call``, ball bounds ``sampled`` (docs/theory.md §10); its smoothness is
read from the traced calls (or the module tree where tracing fails), and :meth:`TorchModel.to_builtin`
translates an nn.Sequential of bias-free Linear layers into the built-in MLP.
"""

from __future__ import annotations

import copy
import math
from typing import Any

import numpy as np

from plproof.errors import InvalidInput, MissingDependency, NotCertifiable
from plproof.models.ball import SampledBall
from plproof.models.base import HeldParameters, Model, check_finite_matrix
from plproof.models.graph import Network
from plproof.models.mlp import MLP
from plproof.models.torch_trace import trace_module
from plproof.numeric.arith import FLOAT64, Arith

#: torch activation -> built-in activation name (docs/theory.md §8)
_BUILTIN_ACTIVATIONS = {"Tanh": "tanh", "Sigmoid": "sigmoid", "Softplus": "softplus", "GELU": "gelu"}


def _torch() -> Any:
    try:
        import torch
        import torch.func  # noqa: F401
    except ImportError:
        raise MissingDependency("TorchModel needs PyTorch: pip install 'plproof[torch]'") from None
    return torch


class TorchModel(HeldParameters, SampledBall, Model):
    """F(w) = module(X) with the module's trainable parameters set to w; float64, ball bounds ``sampled``."""

    family = "torch"

    def __init__(self, module: Any, X: Any) -> None:
        torch = _torch()
        if not isinstance(module, torch.nn.Module):
            raise InvalidInput(f"module must be a torch.nn.Module, got {type(module).__name__}")
        self.X = check_finite_matrix(X, "X")
        self.module = copy.deepcopy(module).to(torch.float64).eval()  # eval: dropout off, batch-norm frozen
        self._X = torch.from_numpy(self.X)
        named = [(k, p) for k, p in self.module.named_parameters() if p.requires_grad]
        if not named:
            raise InvalidInput("the module has no trainable parameters (requires_grad=True)")
        self.param_names = [k for k, _ in named]
        self._shapes = [tuple(p.shape) for _, p in named]
        self._w0 = torch.cat([p.detach().reshape(-1) for _, p in named]).numpy().copy()
        try:
            with torch.no_grad():
                out = self.module(self._X)
        except Exception as exc:  # the user's module: report it as bad input, keep the cause
            raise InvalidInput(f"the module failed on X ({self.X.shape[0]} x {self.X.shape[1]}): "
                               f"{type(exc).__name__}: {exc}".splitlines()[0]) from exc
        if out.numel() != self.X.shape[0] or out.dim() > 2:
            raise InvalidInput(f"the module must map X ({self.X.shape[0]} x {self.X.shape[1]}) to one output per row, "
                               f"shape ({self.X.shape[0]},) or ({self.X.shape[0]}, 1); got {tuple(out.shape)}")
        self._finite(out.numpy().reshape(-1), "the module's outputs")
        self.traced = trace_module(self.module, self.X.shape[1])
        self.smooth_obstacle = self.traced.smooth_obstacle

    @staticmethod
    def _finite(a: np.ndarray, what: str) -> np.ndarray:
        if not np.isfinite(a).all():
            raise InvalidInput(f"{what} have NaN or Inf (first at index {int(np.argmax(~np.isfinite(a.ravel())))}): "
                               "fix the module or start from other parameters")
        return a

    def _forward(self, w: Any) -> Any:
        """module(X) with parameters from the flat tensor w, as a vector of length n."""
        torch = _torch()
        params, start = {}, 0
        for name, shape in zip(self.param_names, self._shapes):
            size = math.prod(shape)
            params[name] = w[start:start + size].reshape(shape)
            start += size
        return torch.func.functional_call(self.module, params, (self._X,)).reshape(-1)

    def _tensor(self, w: np.ndarray, ar: Arith) -> Any:
        if ar.dtype != np.float64:
            raise NotCertifiable(f"a torch module evaluates in float64 only, not {ar.name}: use rigor sampled, or an "
                                 "nn.Sequential of bias-free Linear layers and smooth activations (to_builtin)")
        return _torch().from_numpy(np.array(w, dtype=np.float64))  # a writable copy: w may be read-only

    def _F(self, w: np.ndarray, ar: Arith) -> np.ndarray:
        with _torch().no_grad():
            return self._finite(self._forward(self._tensor(w, ar)).numpy(), "the module's outputs")

    def _jacobian(self, w: np.ndarray, ar: Arith) -> np.ndarray:
        J = _torch().func.jacrev(self._forward)(self._tensor(w, ar))
        return self._finite(J.detach().numpy(), "the Jacobian's entries")

    def hessian_vector_products(self, w: np.ndarray, V: np.ndarray) -> np.ndarray:
        """Row i: H_{F_i}(w) V_i = grad_w (grad F_i(w) . V_i), reverse over reverse, all rows in one vmap."""
        torch = _torch()
        grad = torch.func.grad
        wt = self._tensor(np.asarray(w, dtype=np.float64), FLOAT64)

        def row(e: Any, v: Any) -> Any:  # e = e_i selects output i
            return grad(lambda x: grad(lambda u: self._forward(u) @ e)(x) @ v)(wt)

        V_t = torch.from_numpy(np.asarray(V, dtype=np.float64))
        return torch.func.vmap(row)(torch.eye(self.n_outputs, dtype=torch.float64), V_t).detach().numpy()

    # ------------------------------------------------------------------ translation to a layer graph
    @property
    def graph_obstacle(self) -> str | None:
        """Why the module was not read into a layer graph (naming every unsupported part), or None."""
        return self.traced.obstacle

    def to_graph(self) -> Network | None:
        """The module as a :class:`~plproof.models.graph.Network` with the same parameters w (torch's order and
        shapes) and the same w0, or None when it was not read (:attr:`graph_obstacle`).

        F(w0) of the graph is compared with torch's: a deviation beyond 1e-10 relative (the two differ only in
        float rounding, and where torch's Softplus switches to the identity above its threshold) is refused.
        """
        if self.traced.graph is None:
            return None
        net = Network(self.X, self.traced.graph, self._w0)
        mine, theirs = net.F(self._w0), self.F(self._w0)
        gap = float(np.abs(mine - theirs).max())
        if not gap <= 1e-10 * max(1.0, float(np.abs(theirs).max())):
            raise NotCertifiable(f"the layer graph read from the module computes F(w0) {gap:.3g} away from torch's "
                                 "(beyond rounding): check with from_torch(..., sampled=True) and report the module")
        return net

    # ------------------------------------------------------------------ translation to the built-in MLP
    @property
    def builtin_obstacle(self) -> str | None:
        """Why :meth:`to_builtin` cannot translate this module, or None when it can."""
        plan = self._builtin_plan()
        return plan if isinstance(plan, str) else None

    def _builtin_plan(self) -> tuple[list[int], str] | str:
        """(hidden widths, activation name) of an nn.Sequential Linear/act/.../Linear(h, 1), or the obstacle."""
        nn = _torch().nn
        seq = self.module
        if not isinstance(seq, nn.Sequential) or type(seq).forward is not nn.Sequential.forward:
            return "only an nn.Sequential is translated to the built-in MLP"
        layers = list(seq)
        linears, acts = layers[0::2], layers[1::2]
        if len(layers) < 3 or len(layers) % 2 == 0:
            return "the Sequential must alternate Linear and activation layers, ending with Linear(h, 1)"
        if not all(type(l) is nn.Linear for l in linears):
            return "every other layer must be nn.Linear (Linear, activation, Linear, ..., Linear(h, 1))"
        if any(l.bias is not None for l in linears):
            return "the built-in MLP has no biases: use nn.Linear(..., bias=False)"
        if len(self.param_names) != len(linears):
            return "all Linear weights must be trainable"
        if linears[0].in_features != self.X.shape[1] or linears[-1].out_features != 1:
            return "the first Linear must take the data's features and the last must be Linear(h, 1)"
        kinds = {type(a).__name__ for a in acts}
        if len(kinds) != 1 or not kinds <= set(_BUILTIN_ACTIVATIONS):
            return f"the activations must all be one of {', '.join(_BUILTIN_ACTIVATIONS)} to translate"
        act = acts[0]
        if getattr(act, "beta", 1.0) != 1.0 or getattr(act, "approximate", "none") != "none":
            return "only Softplus(beta=1) and GELU(approximate='none') match the built-in activations"
        return [l.out_features for l in linears[:-1]], _BUILTIN_ACTIVATIONS[kinds.pop()]

    def builtin_scale(self) -> np.ndarray:
        """c with w_builtin = c * w_torch: 1 on W_1, sqrt(fan-in) on later layers (the NTK factors of plproof.models.mlp)."""
        plan = self._builtin_plan()
        if isinstance(plan, str):
            raise InvalidInput(f"cannot translate to the built-in MLP: {plan}")
        blocks = [np.full(math.prod(shape), 1.0 if l == 0 else math.sqrt(shape[1]))
                  for l, shape in enumerate(self._shapes)]
        return np.concatenate(blocks)

    def to_builtin(self, w: Any = None) -> tuple[MLP, np.ndarray] | None:
        """(MLP, w_builtin) computing the same F, or None when the module is not such a Sequential.

        torch: z_1 = T_1 x, z_l = T_l a_{l-1}, f = t^T a_L; MLP: z_l = h_{l-1}^{-1/2} W_l a_{l-1}, f = h_L^{-1/2} v^T a_L,
        so W_1 = T_1, W_l = sqrt(h_{l-1}) T_l, v = sqrt(h_L) t (see :meth:`builtin_scale`). F is the same; the
        kernel and GD are the NTK-parametrised ones: GD with step eta on the MLP is torch GD with the per-layer
        steps eta / c^2 (eta on T_1, eta / h_{l-1} on T_l). torch's Softplus switches to the identity above its
        threshold (error < e^-threshold); the MLP uses the exact softplus.
        """
        plan = self._builtin_plan()
        if isinstance(plan, str):
            return None
        widths, activation = plan
        w_torch = self._w0 if w is None else np.asarray(w, dtype=np.float64)
        if w_torch.shape != (self.n_params,):
            raise InvalidInput(f"w must have length {self.n_params}, got shape {w_torch.shape}")
        return MLP(self.X, widths, activation), self.builtin_scale() * w_torch

    def describe(self) -> dict:
        return {**super().describe(), "module": " ".join(repr(self.module).split()), "parameters": self.param_names,
                "X": self.X.tolist()}


def from_torch(module: Any, X: Any, *, sampled: bool = False) -> Model:
    """``module`` on inputs X as a plproof model with torch's own parameters w (named_parameters() order).

    The module read into a layer graph (:meth:`TorchModel.to_graph`: closed-form DF and K in every arithmetic);
    where it cannot be read, NotCertifiable naming each unsupported module or function, unless ``sampled``:
    then the black box :class:`TorchModel` (float64, derivatives by torch.func, rigor ``sampled`` at best).
    """
    model = TorchModel(module, X)
    net = model.to_graph()
    if net is not None:
        return net
    if sampled:
        return model
    raise NotCertifiable(f"{model.graph_obstacle}; from_torch(module, X, sampled=True) checks it as a black box "
                         "at rigor sampled")
