"""Figures for papers (PNG, and PDF for LaTeX; matplotlib's Agg backend), each with a caption, not a title.

Per certificate of the ball theorem (docs/theory.md §2.5):

- the radius search: mu(R), beta(R) and R_fl(R) against R by the verifier's bounds, with the closing
  region and the certificate's R marked (why a ball closes or does not; §2.5, §11.4);
- for a certified one with a recorded run: the loss against the bound rho^t L(w0), lambda_min(K(w_t))
  against mu, and ||w_t - w0|| against R. The run is the producer's (``record.trajectory``), not re-checked
  by the verifier, and the captions say so.

Across certificates: the Hessian bound epsilon against width for certificates of one family on one data set
(log-log; the slope -1/2 of docs/theory.md §8 fitted from three widths on), and the smallest certified width
against n for one family (no fit: the data differ with n). Every axis gets labelled ticks (a log axis inside
one decade gets plain ones).
"""

from __future__ import annotations

import math
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from plproof.certificate.format import decode_number
from plproof.errors import MissingDependency
from plproof.report.content import Entry, Figure, Para, data_key, m, model_words, number, plain_number, t

SIZE = (5.0, 3.3)


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


def readable_ticks(ax: Any) -> None:
    """Labelled ticks on every log axis: one with fewer than two powers of 10 in view gets the ticks 1, 2, 5 x 10^k
    in view, or, inside a factor of about 2.5, 3-6 plain linear ticks."""
    from matplotlib.ticker import FixedLocator, FormatStrFormatter, MaxNLocator, NullFormatter, NullLocator

    for axis, limits in ((ax.xaxis, ax.get_xlim()), (ax.yaxis, ax.get_ylim())):
        lo, hi = sorted(limits)
        if axis.get_scale() != "log" or lo <= 0 or math.floor(math.log10(hi)) - math.ceil(math.log10(lo)) >= 1:
            continue
        decades = range(math.floor(math.log10(lo)), math.ceil(math.log10(hi)) + 1)
        ticks = [v for k in decades for v in (10.0**k, 2 * 10.0**k, 5 * 10.0**k) if lo <= v <= hi]
        if len(ticks) < 2:
            ticks = [v for v in MaxNLocator(5).tick_values(lo, hi) if lo <= v <= hi]
        axis.set_major_locator(FixedLocator(ticks))
        axis.set_major_formatter(FormatStrFormatter("%g"))
        axis.set_minor_locator(NullLocator())
        axis.set_minor_formatter(NullFormatter())


def unreadable(fig: Any) -> list[str]:
    """The axes of ``fig`` without a label or with fewer than two labelled ticks in view (for tests)."""
    fig.canvas.draw()
    problems = []
    for i, ax in enumerate(fig.axes):
        for name, axis, (lo, hi) in (("x", ax.xaxis, ax.get_xlim()), ("y", ax.yaxis, ax.get_ylim())):
            siblings = ax.get_shared_x_axes().get_siblings(ax) if name == "x" else [ax]
            if len(siblings) > 1 and not axis.get_label_text() and any(s.xaxis.get_label_text() for s in siblings):
                continue  # a panel above another that labels the shared x axis
            lo, hi = sorted((lo, hi))
            shown = [tk for tk in axis.get_major_ticks() if tk.label1.get_visible() and tk.label1.get_text()
                     and lo <= tk.get_loc() <= hi]
            if not axis.get_label_text():
                problems.append(f"axes {i}: the {name} axis has no label")
            if len(shown) < 2:
                problems.append(f"axes {i}: the {name} axis has {len(shown)} labelled ticks")
    return problems


#: the file types of the figures: PNG for every report, PDF too for LaTeX
EXTENSIONS = {"md": ("png",), "html": ("png",), "latex": ("png", "pdf")}


def _save(fig: Any, out: Path, stem: str, exts: tuple[str, ...]) -> None:
    for ax in fig.axes:
        readable_ticks(ax)
    for ext in exts:
        fig.savefig(out / f"{stem}.{ext}", dpi=150)
    import matplotlib.pyplot as plt

    plt.close(fig)


def _stored(cert: dict, name: str, side: str) -> object:
    return cert["evidence"]["quantities"][name][side]


def _f(cert: dict, name: str, side: str) -> float:
    return float(decode_number(_stored(cert, name, side)))


def fitted_slope(x: list[float], y: list[float]) -> float:
    """Least-squares slope of log y against log x."""
    return float(np.polyfit(np.log(x), np.log(y), 1)[0])


# ---------------------------------------------------------------- the recorded run
def lambda_mins(entry: Entry) -> tuple[list[float], int, str]:
    """lambda_min(K(w_t)) along the recorded run: as recorded, else recomputed in float64 for the plot
    (linear and two-layer models), else none; with the sampling interval and where the values come from."""
    run = entry.cert["record"]["trajectory"]
    if run.get("lambda_mins"):
        return [float(v) for v in run["lambda_mins"]], int(run.get("lambda_min_every") or 1), "recorded"
    from plproof.models.linear import Linear
    from plproof.numeric.runners import gradient_descent
    from plproof.problem import Problem
    from plproof.verify.exact import Failure, Unverifiable
    from plproof.verify.families import rebuild

    try:
        fam, y, w0 = rebuild(entry.cert["inputs"], entry.base)
    except (Failure, Unverifiable):
        return [], 1, "not available"
    if fam.spec["family"] not in ("linear", "two_layer", "random_features"):
        return [], 1, "not available"
    model = Linear(fam.X) if fam.spec["family"] == "linear" else fam.model
    steps = len(run["losses"]) - 1
    every = max(1, steps // 50)
    traj = gradient_descent(Problem(model, y, w0), float(run["step"]), steps, lambda_min_every=every)
    return traj.lambda_mins, every, "recomputed in float64 for this figure"


def _bound_label(cert: dict) -> str:
    """The legend of the certified rate bound rho^t L(w0)."""
    return rf"bound $\rho^t\mathcal{{L}}(w_0)$, $\rho \leq {plain_number(_stored(cert, 'rate', 'hi'), 'hi')}$"


def _run_words(entry: Entry) -> Para:
    run = entry.cert["record"]["trajectory"]
    return [t(f" for {entry.name} (")] + model_words(entry.cert) + [
        t("; step "), m(rf"\eta \approx {number(run['step'])}"),
        t(f", {run['steps']} steps in {run['arithmetic']}). The run is the producer's, recorded in the certificate "
          "and not re-checked by the verifier.")]


def run_figures(entry: Entry, out: Path, exts: tuple[str, ...]) -> list[Figure]:
    """Loss against the bound, lambda_min(K(w_t)) against mu, distance against R, for one certified problem."""
    plt = pyplot()
    cert, run = entry.cert, entry.cert["record"]["trajectory"]
    losses = np.array([float(v) for v in run["losses"]])
    steps = np.arange(len(losses))
    L0, rate = _f(cert, "L0", "hi"), _f(cert, "rate", "hi")
    bound = L0 * np.power(rate, steps)
    reached = losses > 0  # a run in exact or high-precision arithmetic can reach 0, which a log axis cannot show
    figures = []

    fig, ax = plt.subplots(figsize=SIZE, layout="constrained")
    ax.semilogy(steps[reached], losses[reached], label=r"$\mathcal{L}(w_t)$, recorded run")
    ax.semilogy(steps, np.maximum(bound, np.finfo(float).tiny), "--",
                label=_bound_label(cert))
    ax.set_ylim(bottom=0.1 * min([bound[-1], *losses[reached]]))
    ax.set_xlabel("step $t$")
    ax.set_ylabel(r"loss $\mathcal{L}(w_t)$")
    ax.legend(fontsize=8)
    _save(fig, out, f"{entry.slug}-loss", exts)
    zero = ([t(f" From step {int(steps[~reached][0])} on the recorded loss is 0 and is not drawn.")]
            if (~reached).any() else [])
    figures.append(Figure(f"{entry.slug}-loss", f"fig:{entry.label}-loss",
                          [t("Loss of gradient descent against the certified bound "),
                           m(r"\mathcal{L}(w_t) \le \rho^t\,\mathcal{L}(w_0)"), t(", "),
                           m(rf"\rho \le {number(_stored(cert, 'rate', 'hi'), 'hi')}"),
                           t(" (docs/theory.md §2.5),")] + _run_words(entry) + zero))

    lams, every, source = lambda_mins(entry)
    if lams:
        mu = _f(cert, "mu", "lo")
        fig, ax = plt.subplots(figsize=SIZE, layout="constrained")
        ax.plot(np.arange(len(lams)) * every, lams, "o-", ms=3, label=r"$\lambda_{\min}(K(w_t))$")
        ax.axhline(mu, color="C3", ls="--", label=rf"certified $\mu \geq {plain_number(_stored(cert, 'mu', 'lo'), 'lo')}$")
        ax.set_ylim(0, 1.25 * max(max(lams), mu))
        ax.set_xlabel("step $t$")
        ax.set_ylabel(r"$\lambda_{\min}(K(w_t))$")
        ax.legend(fontsize=8, loc="lower right")
        _save(fig, out, f"{entry.slug}-lambda", exts)
        figures.append(Figure(f"{entry.slug}-lambda", f"fig:{entry.label}-lambda",
                              [t("Smallest eigenvalue of the tangent kernel along gradient descent ("), t(source),
                               t(f", every {every} steps) against the certified PL* constant "),
                               m(rf"\mu \ge {number(_stored(cert, 'mu', 'lo'), 'lo')}"),
                               t(" on the ball,")] + _run_words(entry)))

    dist = np.array([float(v) for v in run["distances"]])
    R = _f(cert, "R", "hi")
    fig, ax = plt.subplots(figsize=SIZE, layout="constrained")
    ax.plot(steps, dist, label=r"$\|w_t - w_0\|$, recorded run")
    ax.axhline(R, color="C3", ls="--", label=rf"certified radius $R \approx {R:.4g}$")
    if "R_existence" in cert["evidence"]["quantities"]:
        ax.axhline(_f(cert, "R_existence", "hi"), color="C2", ls=":",
                   label=rf"$\sqrt{{2\mathcal{{L}}(w_0)/\mu}} \leq {_f(cert, 'R_existence', 'hi'):.4g}$")
    ax.set_ylim(0, 1.1 * max(R, float(dist.max())))
    ax.set_xlabel("step $t$")
    ax.set_ylabel(r"distance $\|w_t - w_0\|$")
    ax.legend(fontsize=8, loc="lower right")
    _save(fig, out, f"{entry.slug}-distance", exts)
    figures.append(Figure(f"{entry.slug}-distance", f"fig:{entry.label}-distance",
                          [t("Distance travelled by gradient descent against the certified radius "),
                           m(rf"R \approx {number(R)}"), t(" (the run never leaves "), m("B(w_0, R)"),
                           t(") and the distance "), m(r"\sqrt{2\mathcal{L}(w_0)/\mu}"),
                           t(" within which a solution lies,")] + _run_words(entry)))
    return figures


def sgd_figures(entry: Entry, out: Path, exts: tuple[str, ...]) -> list[Figure]:
    """For a certified SGD ball certificate with recorded seeded runs: their losses and mean against the expectation
    bound rate^t L(w0), their distances ||w_t - w0|| against R_sgd (docs/theory.md §3)."""
    plt = pyplot()
    cert, rec = entry.cert, entry.cert["record"]["trajectory"]
    every, runs = int(rec["every"]), rec["runs"]
    mean = np.array([float(v) for v in rec["mean_losses"]])
    steps = np.arange(len(mean))
    L0, rate = _f(cert, "L0", "hi"), _f(cert, "rate", "hi")
    bound = L0 * np.power(rate, steps)
    k, s = len(runs), rec["batch_size"]
    words = [t(f" for {entry.name} (")] + model_words(cert) + [
        t(f"; {k} runs with seeds {rec['seeds'][0]}..{rec['seeds'][-1]}, batches of {s} indices drawn i.i.d. "
          "uniformly, step "), m(rf"\eta \approx {number(rec['step'])}"),
        t(f", {rec['steps']} steps in {rec['arithmetic']}). The runs are the producer's, recorded in the certificate "
          "and not re-checked by the verifier; they illustrate, they do not prove.")]
    figures = []

    fig, ax = plt.subplots(figsize=SIZE, layout="constrained")
    for i, run in enumerate(runs):
        losses = np.array([float(v) for v in run["losses"]])
        shown = losses > 0
        ax.semilogy((np.arange(len(losses)) * every)[shown], losses[shown], color="0.75", lw=0.6,
                    label="single runs" if i == 0 else None)
    ax.semilogy(steps[mean > 0], mean[mean > 0], color="C0", label=rf"mean of {k} runs $\approx E[\mathcal{{L}}(w_t)]$")
    ax.semilogy(steps, np.maximum(bound, np.finfo(float).tiny), "--", color="C3",
                label=_bound_label(cert))
    ax.set_xlabel("step $t$")
    ax.set_ylabel(r"loss $\mathcal{L}(w_t)$")
    ax.legend(fontsize=8)
    _save(fig, out, f"{entry.slug}-sgd-loss", exts)
    figures.append(Figure(f"{entry.slug}-sgd-loss", f"fig:{entry.label}-sgd-loss",
                          [t("Loss of seeded SGD runs and their mean against the certified expectation bound "),
                           m(r"E[\mathcal{L}(w_t)\,1\{w_0..w_t \in B\}] \le \rho^t\,\mathcal{L}(w_0)"), t(", "),
                           m(rf"\rho \le {number(_stored(cert, 'rate', 'hi'), 'hi')}"),
                           t(" (docs/theory.md §3),")] + words))

    R_sgd = _f(cert, "R_sgd", "hi")
    fig, ax = plt.subplots(figsize=SIZE, layout="constrained")
    far = 0.0
    for i, run in enumerate(runs):
        dist = np.array([float(v) for v in run["distances"]])
        far = max(far, float(dist.max()))
        ax.plot(np.arange(len(dist)) * every, dist, color="C0", lw=0.7, alpha=0.6,
                label=r"$\|w_t - w_0\|$, single runs" if i == 0 else None)
    ax.axhline(R_sgd, color="C3", ls="--", label=rf"certified radius $R_{{\mathrm{{sgd}}}} \approx {R_sgd:.4g}$")
    ax.set_yscale("log")
    ax.set_ylim(max(far, R_sgd) * 1e-4, 3 * max(far, R_sgd))
    ax.set_xlabel("step $t$")
    ax.set_ylabel(r"distance $\|w_t - w_0\|$")
    ax.legend(fontsize=8, loc="lower right")
    _save(fig, out, f"{entry.slug}-sgd-distance", exts)
    conf = float(Fraction(cert["inputs"]["sgd"]["confidence"]))
    figures.append(Figure(f"{entry.slug}-sgd-distance", f"fig:{entry.label}-sgd-distance",
                          [t("Distance travelled by seeded SGD runs against the certified radius "),
                           m(rf"R_{{\mathrm{{sgd}}}} \approx {number(R_sgd)}"),
                           t(f": with probability at least {conf:g} a run never leaves "),
                           m(r"B(w_0, R_{\mathrm{sgd}})"),
                           t(" (log scale),")] + words))
    return figures


def trajectory_figures(entry: Entry, out: Path, exts: tuple[str, ...]) -> list[Figure]:
    """For a certified run certificate (GD or seeded SGD, docs/theory.md §12): the computed run's loss with the
    certified bound after T, and the tube radius e_t >= ||w_t - w~_t|| against the terminal radius R_T."""
    cert = entry.cert
    trace = cert["record"]["producer"]["run"].get("trace")
    if not trace or not trace["e"]:
        return []
    plt = pyplot()
    sgd = cert["claim"]["theorem"].startswith("sgd-")
    T, R_T, e_T = int(_f(cert, "T", "hi")), _f(cert, "R_T", "hi"), _f(cert, "e_T", "hi")
    rate, rho_bar = _f(cert, "rate", "hi"), _f(cert, "rho_bar", "hi")
    run = cert["inputs"]["run"]
    what = "SGD" if sgd else "GD"
    words = [t(f" for {entry.name} (")] + model_words(cert) + [
        t(f"; {what} step "), m(rf"\eta \approx {number(run['step'])}"), t(f", T = {T}")] + (
        [t(f", sampler {run['sampler']['algorithm']} with seed {run['sampler']['seed']} and batch size "
           f"{run['sampler']['batch_size']}")] if sgd else []) + [
        t("). The computed run and the radii before T are the producer's record, not re-checked by the verifier; "),
        m("e_T"), t(" (the dot), "), m("R_T"), t(" and the bound after T are the certificate's, re-checked.")]
    figures = []

    fig, ax = plt.subplots(figsize=SIZE, layout="constrained")
    res = np.array([*trace["residual"], _f(cert, "residual_norm_T", "hi")], dtype=float)
    ax.semilogy([*trace["residual_steps"], T], res**2 / 2, "-" if len(res) > 12 else "o-", ms=3,
                label=r"$\mathcal{L}(\tilde w_t)$, computed run")
    after = np.arange(T, T + max(T // 2, 10) + 1)
    bound = np.maximum(rho_bar**2 / 2 * np.power(rate, after - T), np.finfo(float).tiny)
    ax.semilogy(after, bound, "--", color="C3",
                label=rf"certified: $\mathcal{{L}}(w_t) \leq \rho^{{t-T}}\bar\rho^2/2$, $\rho \leq {rate:.4g}$")
    ax.axvline(T, color="grey", lw=0.8, ls=":")
    ax.set_xlabel("step $t$")
    ax.set_ylabel(r"loss $\mathcal{L}$")
    ax.legend(fontsize=8)
    _save(fig, out, f"{entry.slug}-run-loss", exts)
    start = ("exact GD with the continuation step from the exact SGD iterate " if sgd
             else "exact GD from the exact iterate ")
    refs = " (docs/theory.md §12.1, §12.6)," if sgd else " (docs/theory.md §12.1),"
    figures.append(Figure(f"{entry.slug}-run-loss", f"fig:{entry.label}-run-loss",
                          [t(f"Loss along the computed {what} run up to the step T at which the terminal ball closed; "
                             "from T on, the certified bound "), m(r"\mathcal{L}(w_t) \le \rho^{t-T}\,\bar\rho^2/2"),
                           t(" for " + start), m("w_T"), t(refs)]
                          + words))

    fig, ax = plt.subplots(figsize=SIZE, layout="constrained")
    e = np.array(trace["e"], dtype=float)
    steps = np.arange(len(e)) * int(trace["e_every"])
    ax.semilogy(steps[e > 0], e[e > 0], label=r"$e_t \geq \|w_t - \tilde w_t\|$ (producer)")
    ax.plot([T], [e_T], "o", color="C0", ms=4, label=r"$e_T$ re-derived by the verifier")
    ax.axhline(R_T, color="C3", ls="--", label=rf"terminal radius $R_T \approx {R_T:.4g}$")
    switched = cert["hints"].get("float_from")  # a double-double run that went on in float64 (docs/rigor.md §9.8)
    if switched is not None:
        ax.axvline(switched, color="grey", lw=0.8, ls=":", label=f"double-double before step {switched}, float64 after")
    ax.set_xlabel("step $t$")
    ax.set_ylabel("distance")
    ax.legend(fontsize=8, loc="center right")
    _save(fig, out, f"{entry.slug}-run-tube", exts)
    figures.append(Figure(f"{entry.slug}-run-tube", f"fig:{entry.label}-run-tube",
                          [t(f"The exact {what} iterates "), m("w_t"), t(" stay within "), m("e_t"),
                           t(" of the computed ones "), m(r"\tilde w_t"),
                           t(" (the float defects amplified by the contraction bounds, docs/theory.md §12.1); at "),
                           m("T"), t(", "),
                           m(rf"e_T \le {number(e_T)}"), t(" is far inside the ball "), m(r"B(\tilde w_T, R_T)"),
                           t(" that holds a global minimiser,")]
                          + ([t(f" the run in double-double before step {switched} and in float64 after (the dotted "
                                "line; docs/rigor.md §9.8),")] if switched is not None else [])
                          + words))
    return figures


# ---------------------------------------------------------------- the radius search
def radius_curves(entry: Entry, radii: np.ndarray) -> dict[str, np.ndarray] | None:
    """mu(R), beta(R) and R_fl(R) at ``radii`` from the verifier's ball bounds and the certificate's re-checked
    centre (lambda_min(K(w0)) >= s, ||DF(w0)|| <= J, L(w0)) and step eta, by the formulas of docs/theory.md
    §2.5 and §11.4: mu = (sqrt(s) - delta(R))_+^2, beta = (J + delta(R))^2 + kappa(R, ||r0||),
    R_fl = 2 sqrt(2 L0/mu)/(2 - beta eta); in floats, for a picture. None where the certificate has no
    centre or its model cannot be rebuilt here."""

    from plproof.verify.exact import Failure, Unverifiable
    from plproof.verify.families import rebuild
    from plproof.verify.problem import at_radius

    cert = entry.cert
    qs, hints = cert["evidence"]["quantities"], cert["hints"]
    if not {"lambda0", "jacobian_norm_w0", "L0", "residual_norm_w0", "step"} <= set(qs) or "bounds" not in hints:
        return None
    try:
        fam, _, w0 = rebuild(cert["inputs"], entry.base)
        X_norm = decode_number(hints["X_norm"]) if "X_norm" in hints else None
        ball = fam.ball(hints["bounds"], w0, X_norm, [])
    except (Failure, Unverifiable):
        return None
    centre = [Fraction(_f(cert, name, side)) for name, side in (("lambda0", "lo"), ("jacobian_norm_w0", "hi"),
                                                                   ("residual_norm_w0", "hi"), ("L0", "hi"))]
    eta = Fraction(_f(cert, "step", "hi"))
    mu, beta, R_fl = (np.empty(len(radii)) for _ in range(3))
    for i, R in enumerate(radii):  # the verifier's own formulas (plproof.verify.problem.at_radius), as floats
        _, m, _, b, _, _, r_fl = at_radius(ball, *centre, Fraction(float(R)), eta)
        mu[i], beta[i], R_fl[i] = float(m), float(b), math.inf if r_fl is None else float(r_fl)
    scale = 2.0 if cert["claim"]["theorem"].endswith("/B") else 1.0  # convention B states 2 lambda_min
    return {"R": radii, "mu": scale * mu, "beta": beta, "R_fl": R_fl}


def radius_figure(entry: Entry, out: Path, exts: tuple[str, ...]) -> Figure | None:
    """mu(R) and beta(R) (top), R_fl(R) against the line R_fl = R (bottom): the ball closes where R_fl(R) <= R."""
    cert = entry.cert
    R_cert = _f(cert, "R", "hi") if "R" in cert["evidence"]["quantities"] else None
    if R_cert is None:
        return None
    at = radius_curves(entry, np.array([R_cert]))
    if at is None:
        return None
    needed = float(at["R_fl"][0]) if math.isfinite(at["R_fl"][0]) else R_cert
    lo, hi = min(R_cert, needed), max(R_cert, needed)  # the picture spans the radius tried and the one needed
    radii = np.logspace(math.log10(lo) - 2, math.log10(hi) + 1.5, 90)
    curves = radius_curves(entry, radii)
    plt = pyplot()
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(5.0, 5.2), sharex=True, layout="constrained")
    positive = curves["mu"] > 0
    top.loglog(radii[positive], curves["mu"][positive], label=r"$\mu(R)$")
    top.loglog(radii, curves["beta"], "--", label=r"$\beta(R)$")
    top.set_ylabel("constant on the ball")
    top.legend(fontsize=8)
    finite = np.isfinite(curves["R_fl"])
    bottom.loglog(radii[finite], curves["R_fl"][finite], label=r"$R_{\mathrm{fl}}(R)$")
    bottom.loglog(radii, radii, ":", color="grey", label=r"$R_{\mathrm{fl}} = R$")
    closes = finite & (curves["R_fl"] <= radii)
    if closes.any():
        bottom.fill_between(radii, radii.min(), np.max(curves["R_fl"][finite]) * 10 + radii.max(), where=closes,
                            color="C2", alpha=0.12, label="ball closes")
    bottom.set_ylim(radii.min(), max(radii.max(), *curves["R_fl"][finite]) * 3)
    for ax in (top, bottom):
        ax.axvline(R_cert, color="C3", lw=1)
    bottom.text(R_cert, radii.min() * 1.5, " certificate's $R$", color="C3", fontsize=8)
    bottom.set_xlabel("radius $R$ of the ball $B(w_0, R)$")
    bottom.set_ylabel("radius needed")
    bottom.legend(fontsize=8, loc="lower right")
    stem = f"{entry.slug}-radius"
    _save(fig, out, stem, exts)
    verdict = cert["evidence"]["verdict"]
    outcome = ([t(" The certificate's radius "), m(rf"R \approx {number(R_cert)}"), t(" closes.")]
               if verdict == "certified" else [t(f" No radius closes near the one tried (verdict: {verdict}).")]
               if not closes.any() else [t(f" Verdict at the certificate's radius: {verdict}.")])
    caption = ([t("The radius search for "), t(entry.name), t(" (")] + model_words(cert)
               + [t("; step "), m(rf"\eta \approx {number(_stored(cert, 'step', 'hi'))}"),
                  t("). Top: the PL* constant "), m(r"\mu(R) = (\sqrt{\lambda_0} - \delta(R))_+^2"),
                  t(" and the smoothness "), m(r"\beta(R)"), t(" on "), m("B(w_0, R)"),
                  t("; bottom: the radius the theorem needs, "),
                  m(r"R_{\mathrm{fl}}(R) = 2\sqrt{2\mathcal{L}(w_0)/\mu(R)}\,/\,(2 - \beta(R)\eta)"),
                  t(", against "), m("R"), t(". The ball closes where "), m(r"R_{\mathrm{fl}}(R) \le R"),
                  t(" (docs/theory.md §2.5, §11.4). The curves are the verifier's bounds evaluated in floats "
                    "for this figure; only the certificate's radius is proved.")] + outcome)
    return Figure(stem, f"fig:{entry.label}-radius", caption)


# ---------------------------------------------------------------- across certificates
def _ball(cert: dict, method: str) -> bool:
    """A certificate of the ball theorem of ``method`` (gd: docs/theory.md §2.5, sgd: §3)."""
    return cert["kind"] == "problem" and cert["claim"]["theorem"].startswith(f"{method}-ball/")


def _family(cert: dict) -> tuple:
    model = cert["inputs"]["model"]
    X = model.get("X", {})
    return (model.get("family"), model.get("activation"), model.get("train"), model.get("init"),
            X.get("shape", [0, 0])[-1] if isinstance(X, dict) else None)


def width_figure(entries: list[Entry], out: Path, notes: list[str], exts: tuple[str, ...]) -> list[Figure]:
    """epsilon against width for certified two-layer certificates that share a data set (and family); several
    initialisations at one width are all drawn and all fitted."""
    groups: dict[tuple, dict[int, list[float]]] = {}
    for e in entries:
        model = e.cert["inputs"].get("model", {})
        if not _ball(e.cert, "gd") or e.cert["evidence"]["verdict"] != "certified" or "width" not in model:
            continue
        eps = _f(e.cert, "epsilon", "hi")
        if eps > 0:
            groups.setdefault((*_family(e.cert), data_key(e.cert)), {}).setdefault(int(model["width"]), []).append(eps)
    groups = {k: v for k, v in groups.items() if len(v) >= 2}
    if not groups:
        notes.append("Hessian bound against width: needs certified two-layer certificates of one data set at two "
                     "or more widths")
        return []
    plt = pyplot()
    fig, ax = plt.subplots(figsize=SIZE, layout="constrained")
    fits: Para = []
    for i, (key, points) in enumerate(sorted(groups.items(), key=lambda kv: -len(kv[1]))):
        widths = [w for w in sorted(points) for _ in points[w]]
        eps = [v for w in sorted(points) for v in points[w]]
        ax.loglog(widths, eps, "o", color=f"C{i}", label=f"{key[1]}, data {key[-1]}")
        if len(points) >= 3:
            slope = fitted_slope(widths, eps)
            xs = np.array([widths[0], widths[-1]], dtype=float)
            const = math.exp(np.mean(np.log(eps)) - slope * np.mean(np.log(widths)))
            ax.loglog(xs, const * xs**slope, "--", color=f"C{i}", label=f"fit: slope {slope:.2f}")
            fits += [t(f"; data {key[-1]}: fitted slope {slope:.3f} over {len(points)} widths")]
    plain_ticks(ax)
    ax.set_xlabel("width $m$")
    ax.set_ylabel(r"Hessian bound $\epsilon$")
    ax.legend(fontsize=8)
    _save(fig, out, "hessian-vs-width", exts)
    caption = ([t("Certified Hessian bound "), m(r"\epsilon \ge \max_k \sup_{B(w_0,R)}\lVert\nabla^2 f_k\rVert"),
                t(" against the width "), m("m"), t(" of two-layer networks, one series per data set (same inputs "),
                m("X"), t(", targets "), m("y"), t(", activation and initialisation); theory: "),
                m(r"\epsilon = O((\lVert v_0\rVert_\infty + R)/\sqrt{m})"),
                t(" (docs/theory.md §8). Slopes are fitted from three widths on")] + fits + [t(".")])
    return [Figure("hessian-vs-width", "fig:plproof-hessian-vs-width", caption)]


def width_vs_n_figure(entries: list[Entry], out: Path, notes: list[str], exts: tuple[str, ...]) -> list[Figure]:
    """The smallest certified width among those given, against n, for one family tried at two or more widths
    per n (a sweep); no slope is fitted, since the data sets differ with n."""
    tried: dict[tuple, dict[int, dict[int, bool]]] = {}
    for e in entries:
        model = e.cert["inputs"].get("model", {})
        if _ball(e.cert, "gd") and "width" in model:
            per_n = tried.setdefault(_family(e.cert), {}).setdefault(int(model["n_outputs"]), {})
            width, certified = int(model["width"]), e.cert["evidence"]["verdict"] == "certified"
            per_n[width] = per_n.get(width, False) or certified
    sweeps = {}
    for fam, per_n in tried.items():
        best = {n: min(w for w, ok in ws.items() if ok) for n, ws in per_n.items() if len(ws) >= 2 and any(ws.values())}
        if len(best) >= 2:
            sweeps[fam] = best
    if not sweeps:
        notes.append("smallest certified width against n: needs a sweep (one family at two or more n, each tried "
                     "at two or more widths)")
        return []
    plt = pyplot()
    fig, ax = plt.subplots(figsize=SIZE, layout="constrained")
    for i, (fam, best) in enumerate(sorted(sweeps.items(), key=str)):
        ns = sorted(best)
        ax.loglog(ns, [best[n] for n in ns], "o-", color=f"C{i}", label=f"{fam[1]}, d = {fam[4]}")
    plain_ticks(ax)
    ax.set_xlabel("number of data points $n$")
    ax.set_ylabel("smallest certified width")
    ax.legend(fontsize=8)
    _save(fig, out, "width-vs-n", exts)
    caption = [t("Smallest certified width among the widths given, against the number of data points "), m("n"),
               t(", for two-layer networks of one family (activation, initialisation, input dimension); each "
                 "point is from certificates of one data set, and the data sets differ across "), m("n"),
               t(", so no slope is fitted.")]
    return [Figure("width-vs-n", "fig:plproof-width-vs-n", caption)]


def all_figures(entries: list[Entry], out: Path, notes: list[str], exts: tuple[str, ...]) -> list[Figure]:
    """Draw every figure as files of ``exts``: per-entry ones go to ``entry.figures``; the cross-certificate
    ones are returned."""
    for e in entries:
        if e.cert["kind"] == "run" and e.cert["evidence"]["verdict"] == "certified":
            e.figures += trajectory_figures(e, out, exts)
        recorded = e.cert["evidence"]["verdict"] == "certified" and e.cert.get("record", {}).get("trajectory")
        if _ball(e.cert, "sgd") and recorded:
            e.figures += sgd_figures(e, out, exts)
        if not _ball(e.cert, "gd"):
            continue
        radius = radius_figure(e, out, exts)
        e.figures += [radius] if radius else []
        if recorded:
            e.figures += run_figures(e, out, exts)
    return width_figure(entries, out, notes, exts) + width_vs_n_figure(entries, out, notes, exts)
