"""A two-layer tanh network with biases, a 1/sqrt(m) output scaling and a linear skip, as a PyTorch module with
its own forward (needs ``pip install 'plproof[torch]'``):

    f(x) = m^{-1/2} (t^T tanh(W x + b) + c) + s^T x

``from_torch`` reads it into a layer graph (plproof.models.graph) with torch's own parameters
(hidden.weight, hidden.bias, out.weight, out.bias, skip.weight): DF and the kernel are closed forms, and the
certified step and iterates are those of plain torch GD on these tensors. Its bounds over a ball are the
verified per-layer bounds of docs/rigor.md §2.7; on these data (F(w0) = O(1)) they do not yet close the ball
theorem at any width tried (up to 65536), so the check reports "not certified" at rigor verified.

    plproof check examples/torch_bias_skip.py:problem --rigor sampled
"""

import math
from pathlib import Path

import numpy as np
import torch

from plproof import Problem, from_torch

with np.load(Path(__file__).with_name("data.npz")) as data:
    X, y = data["X"], data["y"]
WIDTH = 32


class BiasSkip(torch.nn.Module):
    """m^{-1/2} out(tanh(hidden(x))) + skip(x)."""

    def __init__(self, d: int, width: int) -> None:
        super().__init__()
        self.hidden = torch.nn.Linear(d, width)
        self.out = torch.nn.Linear(width, 1)
        self.skip = torch.nn.Linear(d, 1, bias=False)
        self.scale = 1 / math.sqrt(width)
        for p in (self.hidden.weight, self.hidden.bias, self.out.weight):  # N(0, 1): with the explicit scale,
            torch.nn.init.normal_(p)                                       # the NTK initialisation
        for p in (self.out.bias, self.skip.weight):  # start the output bias and the skip at 0
            torch.nn.init.zeros_(p)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.scale * self.out(torch.tanh(self.hidden(x))) + self.skip(x)


torch.manual_seed(0)
net = BiasSkip(X.shape[1], WIDTH).double()
model = from_torch(net, X)
problem = Problem(model, y)
