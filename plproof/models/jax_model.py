"""A pure JAX function on fixed inputs as a model (extra ``jax``): F(w) = (f(params(w), x_k))_k (docs/theory.md §0).

``f(params, x)`` maps a pytree of parameters and one input row to one number; w is the pytree's leaves
flattened by ``jax.flatten_util.ravel_pytree`` (leaf order and row-major layout), in float64 (JAX's x64 mode
is switched on). DF by ``jax.jacrev``, DF^T r by ``jax.vjp``, Hessian-vector products forward over reverse;
the kernel is DF DF^T. Ball bounds are ``sampled`` (docs/theory.md §10), as for a torch module. Smoothness is
read from the traced program (the jaxpr, nested calls included): a primitive with a kink (max, abs, sign,
select, ...) makes F not C^2 as far as plproof can tell, which also flags smooth functions built on them
(jax.nn.softplus is logaddexp, written with max).
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from plproof.errors import InvalidInput, MissingDependency, NotCertifiable
from plproof.models.ball import SampledBall
from plproof.models.base import HeldParameters, Model, check_finite_matrix
from plproof.numeric.arith import Arith

#: jaxpr primitives that are not C^2 (kinks, jumps, piecewise selection; docs/theory.md §9)
NON_SMOOTH_PRIMITIVES = frozenset({
    "max", "min", "abs", "sign", "floor", "ceil", "round", "select_n", "clamp", "sort", "argmax", "argmin",
    "reduce_max", "reduce_min", "cummax", "cummin", "top_k", "rem", "nextafter", "is_finite", "stop_gradient"})


def _jax() -> Any:
    try:
        import jax
        from jax import flatten_util  # noqa: F401
    except ImportError:
        raise MissingDependency("JaxModel needs JAX: pip install 'plproof[jax]'") from None
    jax.config.update("jax_enable_x64", True)
    return jax


def non_smooth_primitives(jaxpr: Any) -> list[str]:
    """The primitives of ``jaxpr`` (and of every jaxpr nested in its equations) that are not C^2, in order."""
    found = []
    for eqn in jaxpr.eqns:
        if eqn.primitive.name in NON_SMOOTH_PRIMITIVES:
            found.append(eqn.primitive.name)
        for param in eqn.params.values():
            for sub in param if isinstance(param, (list, tuple)) else (param,):
                inner = getattr(sub, "jaxpr", sub)
                if hasattr(inner, "eqns"):
                    found.extend(non_smooth_primitives(inner))
    return list(dict.fromkeys(found))


class JaxModel(HeldParameters, SampledBall, Model):
    """F(w) = (f(params(w), x_k))_{k=1..n} for a pure JAX f(params, x); float64, ball bounds ``sampled``."""

    family = "jax"

    def __init__(self, f: Callable[[Any, Any], Any], params: Any, X: Any) -> None:
        jax = _jax()
        jnp = jax.numpy
        if not callable(f):
            raise InvalidInput(f"f must be a function f(params, x), got {type(f).__name__}")
        self.X = check_finite_matrix(X, "X")
        self.f = f
        flat, self._unravel = jax.flatten_util.ravel_pytree(jax.tree_util.tree_map(
            lambda a: jnp.asarray(a, dtype=jnp.float64), params))
        self._w0 = np.array(flat, dtype=np.float64)
        if self._w0.size == 0 or not np.isfinite(self._w0).all():
            raise InvalidInput("params must hold at least one finite number")
        X_j = jnp.asarray(self.X)

        def rows(w: Any) -> Any:
            out = jax.vmap(lambda x: f(self._unravel(w), x))(X_j)
            return out.reshape(out.shape[0], -1)

        try:
            shape = jax.eval_shape(rows, jax.ShapeDtypeStruct(self._w0.shape, jnp.float64)).shape
            jaxpr = jax.make_jaxpr(rows)(self._w0).jaxpr
        except Exception as exc:  # the user's function: report it as bad input, keep the cause
            raise InvalidInput(f"f failed on params and a row of X: {type(exc).__name__}: {exc}".splitlines()[0]) \
                from exc
        if shape[1] != 1:
            raise InvalidInput(f"f(params, x) must return one number per input row (shape () or (1,)), got {shape[1]}")
        fn = lambda w: rows(w)[:, 0]  # noqa: E731

        def hvp(w: Any, V: Any) -> Any:  # row i: H_i V_i, forward over reverse
            def row(e: Any, v: Any) -> Any:
                return jax.jvp(jax.grad(lambda u: fn(u) @ e), (w,), (v,))[1]

            return jax.vmap(row)(jnp.eye(self.X.shape[0]), V)

        self._jit_F, self._jit_J = jax.jit(fn), jax.jit(jax.jacrev(fn))
        self._jit_vjp = jax.jit(lambda w, r: jax.vjp(fn, w)[1](r)[0])
        self._jit_hvp = jax.jit(hvp)
        kinks = non_smooth_primitives(jaxpr)
        self.smooth_obstacle = f"f uses {', '.join(kinks)}, which {'is' if len(kinks) == 1 else 'are'} not C^2" \
            if kinks else None

    def params(self, w: Any) -> Any:
        """The pytree of parameters held by the vector w."""
        return self._unravel(np.asarray(w, dtype=np.float64))

    @staticmethod
    def _float(w: np.ndarray, ar: Arith) -> np.ndarray:
        if ar.dtype != np.float64:
            raise NotCertifiable(f"a JAX function evaluates in float64 only, not {ar.name}: use rigor sampled")
        return np.asarray(w, dtype=np.float64)

    @staticmethod
    def _finite(a: Any, what: str) -> np.ndarray:
        out = np.array(a, dtype=np.float64)
        if not np.isfinite(out).all():
            raise InvalidInput(f"{what} have NaN or Inf: fix f or start from other parameters")
        return out

    def _F(self, w: np.ndarray, ar: Arith) -> np.ndarray:
        return self._finite(self._jit_F(self._float(w, ar)), "f's outputs")

    def _jacobian(self, w: np.ndarray, ar: Arith) -> np.ndarray:
        return self._finite(self._jit_J(self._float(w, ar)), "the Jacobian's entries")

    def _vjp(self, w: np.ndarray, r: np.ndarray, ar: Arith) -> np.ndarray:
        """DF^T r by one reverse pass."""
        grad = self._jit_vjp(self._float(w, ar), np.asarray(r, dtype=np.float64))
        return self._finite(grad, "the gradient's entries")

    def hessian_vector_products(self, w: np.ndarray, V: np.ndarray) -> np.ndarray:
        """Row i: H_{F_i}(w) V_i, forward over reverse (jvp of the gradient of e_i . F), all rows in one vmap."""
        return np.array(self._jit_hvp(np.asarray(w, dtype=np.float64), np.asarray(V, dtype=np.float64)))

    def describe(self) -> dict:
        name = getattr(self.f, "__qualname__", type(self.f).__name__)
        return {**super().describe(), "f": f"{getattr(self.f, '__module__', '?')}.{name}", "X": self.X.tolist()}
