"""A two-layer tanh network with biases as a pure JAX function f(params, x) over a dict of parameters (needs
``pip install 'plproof[jax]'``): f(x) = m^{-1/2} (v . tanh(W x + b)) + c.

JaxModel flattens the pytree (ravel_pytree: leaves in key order, row-major), evaluates in float64, and takes DF
by jax.jacrev; its bounds over a ball are ``sampled`` (docs/rigor.md §2.5).

    plproof check examples/jax_model.py:problem --rigor sampled
"""

from pathlib import Path

import jax.numpy as jnp
import numpy as np

from plproof import Problem
from plproof.models.jax_model import JaxModel

with np.load(Path(__file__).with_name("data.npz")) as data:
    X, y = data["X"], data["y"]
WIDTH = 64


def f(params: dict, x: jnp.ndarray) -> jnp.ndarray:
    """One output for one input row x."""
    hidden = jnp.tanh(params["W"] @ x + params["b"])
    return params["v"] @ hidden / jnp.sqrt(WIDTH) + params["c"]


rng = np.random.default_rng(0)
params = {"W": rng.standard_normal((WIDTH, X.shape[1])), "b": rng.standard_normal(WIDTH),
          "v": rng.standard_normal(WIDTH), "c": np.zeros(())}
model = JaxModel(f, params, X)
problem = Problem(model, y)
