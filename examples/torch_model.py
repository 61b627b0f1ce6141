"""A two-layer tanh network as a PyTorch nn.Sequential (needs ``pip install 'plproof[torch]'``).

torch's layers carry no NTK factor, so the output weights are t = m^{-1/2} v: the module computes the same
f(x) = m^{-1/2} v^T tanh(W x) as examples/sympy_model.py. As a TorchModel its parameters are torch's (W, t)
and its ball bounds can only be ``sampled``. A Sequential of bias-free Linear layers and smooth activations
translates into the built-in MLP (TorchModel.to_builtin: W_1 = T_1, v = sqrt(m) t), certified ``verified``;
plain GD on the translation is torch GD with step eta on W and eta / m on t.

    plproof check examples/torch_model.py:problem      # the CLI checks the built-in translation
    plproof check examples/torch_model.py:builtin_problem
"""

from pathlib import Path

import numpy as np
import torch

from plproof import Problem, TwoLayer
from plproof.models.torch_model import TorchModel

with np.load(Path(__file__).with_name("data.npz")) as data:
    X, y = data["X"], data["y"]
WIDTH = 8
init = TwoLayer(X, WIDTH, seed=1)

net = torch.nn.Sequential(
    torch.nn.Linear(X.shape[1], WIDTH, bias=False), torch.nn.Tanh(), torch.nn.Linear(WIDTH, 1, bias=False)
).double()
with torch.no_grad():
    net[0].weight.copy_(torch.from_numpy(init.W0))
    net[2].weight.copy_(torch.from_numpy(init.v0[None, :] / np.sqrt(WIDTH)))

model = TorchModel(net, X)
problem = Problem(model, y)
mlp, w_mlp = model.to_builtin()
builtin_problem = Problem(mlp, y, w_mlp)
