"""Tangent kernel of a two-layer tanh net: plproof's structured kernel vs torch.func (vmap + jacrev).

plproof: K = m^{-1} [(X X^T) o (D diag(v^2) D^T) + A A^T] (docs/theory.md §8), never forming J.
torch: per-example Jacobians by ``vmap(jacrev(functional_call))``, then K = J J^T, float64, CPU.
Run: ``python -m benchmarks.kernel_torch``.
"""

from __future__ import annotations

import numpy as np

from benchmarks.peers import peer
from benchmarks.timing import best_of
from plproof import TwoLayer
from plproof.data import unit_inputs

SIZES = ((100, 10, 1_000), (200, 10, 10_000), (1_000, 10, 1_000), (200, 50, 5_000))


def torch_kernel(torch: object, X: np.ndarray, W0: np.ndarray, v0: np.ndarray) -> object:
    """A closure computing K(w0) with torch.func on the net m^{-1/2} v^T tanh(W x)."""
    from torch.func import functional_call, jacrev, vmap

    width = W0.shape[0]

    class Net(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.W = torch.nn.Parameter(torch.from_numpy(W0.copy()))
            self.v = torch.nn.Parameter(torch.from_numpy(v0.copy()))

        def forward(self, x: object) -> object:
            return torch.tanh(self.W @ x) @ self.v / width**0.5

    net = Net()
    params = {k: p.detach() for k, p in net.named_parameters()}
    Xt = torch.from_numpy(X)

    def f(p: dict, x: object) -> object:
        return functional_call(net, p, (x,))

    def kernel() -> object:
        jac = vmap(jacrev(f), in_dims=(None, 0))(params, Xt)
        J = torch.cat([jac[k].reshape(X.shape[0], -1) for k in params], dim=1)
        return J @ J.T

    return kernel


def main(sizes: tuple[tuple[int, int, int], ...] = SIZES) -> list[dict]:
    print("two-layer tanh tangent kernel K(w0), float64 on CPU: plproof structured vs torch.func vmap(jacrev)")
    torch = peer("torch")
    if torch is not None:
        print(f"  torch {torch.__version__}, {torch.get_num_threads()} threads")
    print(f"  {'n':>5} {'d':>4} {'width':>7} {'params':>8} {'plproof ms':>11} {'torch ms':>10} {'torch/plproof':>14} "
          f"{'rel diff':>9}")
    rows = []
    for n, d, width in sizes:
        model = TwoLayer(unit_inputs(n, d, 0), width, "tanh", seed=0)
        w0 = model.default_w0()
        t_ours = best_of(lambda: model.kernel(w0), repeat=3)
        row = {"n": n, "d": d, "width": width, "plproof_s": t_ours}
        line = f"  {n:5d} {d:4d} {width:7d} {model.n_params:8d} {t_ours * 1e3:11.1f}"
        if torch is not None:
            kernel = torch_kernel(torch, model.X, model.W0, model.v0)
            t_torch = best_of(kernel, repeat=3)
            K_ours = model.kernel(w0)
            diff = float(np.max(np.abs(kernel().numpy() - K_ours)) / np.max(np.abs(K_ours)))
            row.update(torch_s=t_torch, rel_diff=diff)
            line += f" {t_torch * 1e3:10.1f} {t_torch / t_ours:13.2f}x {diff:9.1e}"
        print(line)
        rows.append(row)
    return rows


if __name__ == "__main__":
    main()
