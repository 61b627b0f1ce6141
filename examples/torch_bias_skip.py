"""Two PyTorch modules with their own forward (needs ``pip install 'plproof[torch]'``), both certified at rigor
``verified`` by the ball route:

* ``BiasSkip``, a two-layer tanh network with biases, a 1/sqrt(m) output scaling and a linear skip,
  f(x) = m^{-1/2} (t^T tanh(W x + b) + c) + s^T x;
* ``ResidualMLP``, a residual tanh MLP with biases, h1 = tanh(W1 x + b1), h2 = h1 + tanh(m^{-1/2} W2 h1 + b2),
  f(x) = m^{-1/2} (t^T h2 + c).

The output layer and the skip start at 0, so F(w0) = 0 exactly (the residual at w0 is the targets, not an
O(1) random function). ``from_torch`` reads each into a layer graph with torch's own parameters (hidden.weight,
hidden.bias, out.weight, ...): DF and the kernel are closed forms, the certified step and iterates are those of
plain torch GD on these tensors, and the bounds over the ball are the verified per-layer bounds of
docs/rigor.md §2.7. The targets are the data's scaled by 1/100 (the ball theorem needs ||y|| small against
sqrt(lambda_min) / epsilon, and epsilon falls like m^{-1/2}).

    plproof check examples/torch_bias_skip.py:problem
    plproof check examples/torch_bias_skip.py:residual_problem
    plproof check examples/torch_bias_skip.py:run_problem --route run   # T6 of the GD run (docs/rigor.md §10)
    python examples/torch_widths.py   # the smallest certified widths beside the empirical GD widths
"""

import math
from pathlib import Path

import numpy as np
import torch

from plproof import Problem, from_torch

with np.load(Path(__file__).with_name("data.npz")) as data:
    X, Y = data["X"], data["y"]
y = Y / 100
WIDTH = 32


class BiasSkip(torch.nn.Module):
    """m^{-1/2} out(tanh(hidden(x))) + skip(x)."""

    def __init__(self, d: int, width: int) -> None:
        super().__init__()
        self.hidden = torch.nn.Linear(d, width)
        self.out = torch.nn.Linear(width, 1)
        self.skip = torch.nn.Linear(d, 1, bias=False)
        self.scale = 1 / math.sqrt(width)
        for p in (self.hidden.weight, self.hidden.bias):  # N(0, 1): with the explicit scale, the NTK initialisation
            torch.nn.init.normal_(p)
        for p in (self.out.weight, self.out.bias, self.skip.weight):  # F(w0) = 0
            torch.nn.init.zeros_(p)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.scale * self.out(torch.tanh(self.hidden(x))) + self.skip(x)


class ResidualMLP(torch.nn.Module):
    """h1 = tanh(first(x)); h2 = h1 + tanh(m^{-1/2} block(h1)); m^{-1/2} out(h2)."""

    def __init__(self, d: int, width: int) -> None:
        super().__init__()
        self.first = torch.nn.Linear(d, width)
        self.block = torch.nn.Linear(width, width)
        self.out = torch.nn.Linear(width, 1)
        self.scale = 1 / math.sqrt(width)
        for p in (self.first.weight, self.first.bias, self.block.weight):
            torch.nn.init.normal_(p)
        for p in (self.block.bias, self.out.weight, self.out.bias):  # F(w0) = 0
            torch.nn.init.zeros_(p)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = torch.tanh(self.first(x))
        h = h + torch.tanh(self.scale * self.block(h))
        return self.scale * self.out(h)


def problem_at(width: int, module: type = BiasSkip) -> Problem:
    """The example at ``width`` (torch seed 0), for either module."""
    torch.manual_seed(0)
    return Problem(from_torch(module(X.shape[1], width).double(), X), y)


problem = problem_at(WIDTH)
model = problem.model
residual_problem = problem_at(WIDTH, ResidualMLP)
#: the data's own targets: the ball theorem fails at w0 (from 10x the targets above), the run route certifies GD
run_problem = Problem(model, Y)
