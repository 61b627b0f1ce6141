"""Plots for papers (PNG and PDF), matplotlib's Agg backend (docs/theory.md §2.5, §8, §11).

- loss against the theorem's bound rate^t L0 (log scale);
- lambda_min(K(w_t)) along the run against mu;
- ||w_t - w0|| against R (and R_fl);
- the Hessian bound epsilon against width, log-log, with the fitted slope (theory: -1/2, §8);
- the smallest certified width against n, when the certificates form a sweep.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from plproof.certificate.format import decode_number
from plproof.errors import MissingDependency


def pyplot() -> Any:
    try:
        import matplotlib
    except ImportError:
        raise MissingDependency("matplotlib is not installed: plots skipped (pip install 'plproof[plot]'); "
                                "text and tables were written") from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plain_ticks(ax: Any) -> None:
    """Plain numbers on log axes (no 3x10^2 labels running into each other)."""
    from matplotlib.ticker import NullFormatter, ScalarFormatter

    for axis in (ax.xaxis, ax.yaxis):
        axis.set_major_formatter(ScalarFormatter())
        axis.set_minor_formatter(NullFormatter())


def _save(fig: Any, out: Path, stem: str) -> list[str]:
    names = []
    for ext in ("png", "pdf"):
        fig.savefig(out / f"{stem}.{ext}", dpi=150, bbox_inches="tight")
        names.append(f"{stem}.{ext}")
    import matplotlib.pyplot as plt

    plt.close(fig)
    return names


def _hi(q: dict, name: str) -> float:
    return float(decode_number(q[name]["hi"]))


def run_plots(run: dict, q: dict, lambda_mins: list[float], every: int, out: Path, stem: str,
              source: str) -> list[str]:
    """The three plots of one certified problem: loss vs bound, lambda_min vs mu, distance vs R."""
    plt = pyplot()
    losses = np.array([float(v) for v in run["losses"]])
    t = np.arange(len(losses))
    L0, rate = _hi(q, "L0"), _hi(q, "rate")
    bound = L0 * np.power(rate, t)
    files = []
    fig, ax = plt.subplots(figsize=(5, 3.4))
    floor = np.finfo(float).tiny
    ax.semilogy(t, np.maximum(losses, floor), label=r"$\mathcal{L}(w_t)$ (recorded run, not re-checked)")
    ax.semilogy(t, np.maximum(bound, floor), "--", label=rf"bound $({rate:.4g})^t\,\mathcal{{L}}_0$")
    ax.set_xlabel("step $t$")
    ax.set_ylabel("loss")
    ax.set_title("loss against the theorem's bound (docs/theory.md §2.5)", fontsize=9)
    ax.legend(fontsize=8)
    files += _save(fig, out, f"{stem}-loss")
    if lambda_mins:
        mu = float(decode_number(q["mu"]["lo"]))
        fig, ax = plt.subplots(figsize=(5, 3.4))
        ax.plot(np.arange(len(lambda_mins)) * every, lambda_mins, "o-", ms=3,
                label=rf"$\lambda_{{\min}}(K(w_t))$ ({source})")
        ax.axhline(mu, color="C3", ls="--", label=rf"certified $\mu = {mu:.4g}$")
        ax.set_ylim(0, 1.3 * max(max(lambda_mins), mu))
        ax.set_xlabel("step $t$")
        ax.set_ylabel(r"$\lambda_{\min}(K(w_t))$")
        ax.set_title("tangent kernel along training against mu", fontsize=9)
        ax.legend(fontsize=8, loc="lower right")
        files += _save(fig, out, f"{stem}-lambda")
    dists = np.array([float(v) for v in run["distances"]])
    fig, ax = plt.subplots(figsize=(5, 3.4))
    ax.plot(t, dists, label=r"$\|w_t - w_0\|$ (recorded run, not re-checked)")
    ax.axhline(_hi(q, "R"), color="C3", ls="--", label=rf"certified radius $R = {_hi(q, 'R'):.4g}$")
    if "R_existence" in q:
        ax.axhline(_hi(q, "R_existence"), color="C2", ls=":",
                   label=rf"$\sqrt{{2\mathcal{{L}}_0/\mu}} = {_hi(q, 'R_existence'):.4g}$")
    ax.set_ylim(bottom=0)
    ax.set_xlabel("step $t$")
    ax.set_ylabel("distance from $w_0$")
    ax.set_title("distance travelled against the ball radius", fontsize=9)
    ax.legend(fontsize=8)
    files += _save(fig, out, f"{stem}-distance")
    return files


def fitted_slope(x: list[float], y: list[float]) -> float:
    """Least-squares slope of log y against log x."""
    return float(np.polyfit(np.log(x), np.log(y), 1)[0])


def width_plot(widths: list[int], eps: list[float], out: Path) -> list[str]:
    """epsilon (Hessian bound over the ball) against width, log-log, with the fitted slope."""
    plt = pyplot()
    slope = fitted_slope(widths, eps)
    fig, ax = plt.subplots(figsize=(5, 3.4))
    ax.loglog(widths, eps, "o", label=r"certified $\epsilon$ (docs/theory.md §8)")
    xs = np.array([min(widths), max(widths)], dtype=float)
    c = math.exp(np.mean(np.log(eps)) - slope * np.mean(np.log(widths)))
    ax.loglog(xs, c * xs**slope, "--", label=f"fit: slope {slope:.3f} (theory -1/2)")
    plain_ticks(ax)
    ax.set_xlabel("width $m$")
    ax.set_ylabel(r"Hessian bound $\epsilon$")
    ax.set_title("Hessian bound against width", fontsize=9)
    ax.legend(fontsize=8)
    return _save(fig, out, "hessian-vs-width")


def sweep_plot(ns: list[int], widths: list[int], out: Path) -> list[str]:
    """The smallest certified width against n."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(5, 3.4))
    ax.loglog(ns, widths, "o-")
    if len(ns) > 1:
        ax.text(0.05, 0.9, f"fitted slope {fitted_slope(ns, widths):.2f}", transform=ax.transAxes, fontsize=8)
    plain_ticks(ax)
    ax.set_xlabel("number of data points $n$")
    ax.set_ylabel("smallest certified width")
    ax.set_title("smallest certified width against n (among the certificates given)", fontsize=9)
    return _save(fig, out, "width-vs-n")
