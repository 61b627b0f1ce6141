"""The rate curve: certified tau over a grid of step sizes, as data, a text table and a matplotlib figure.

:func:`sweep` makes (and optionally writes) one ``rate`` certificate per step size (needs PEPit);
:func:`rows` reads certificates back (no PEPit) so that a report can draw the curve from committed files:
``figure(rows(paths))`` returns a matplotlib Figure with the certified points, the ADZ closed form
(docs/theory.md §6.3) and the descent-lemma factor 1 - mu h (2 - L h) (§6.1).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any, Iterable, Sequence

#: the step sizes of the shipped grid (times 1/L): 12 points in (0, 2/L), including the ADZ breakpoint 1/L
STEP_GRID = tuple(Fraction(s) for s in ("1/10", "3/10", "1/2", "4/5", "1", "23/20", "13/10", "3/2", "8/5", "9/5",
                                          "19/10", "39/20"))
#: mu/L of the shipped grid
MU_GRID = (Fraction(1, 20), Fraction(1, 5), Fraction(1, 2))


@dataclass(frozen=True)
class RatePoint:
    """One certified point of a rate curve (tau exact; the SDP value and the textbook rates are floats)."""

    cls: str
    L: Fraction
    mu: Fraction
    step: Fraction
    steps: int
    tau: Fraction
    sdp: float
    descent: float
    adz: float | None
    path: str | None = None

    @property
    def gain(self) -> float:
        """descent-lemma factor minus certified tau (> 0: the certificate is tighter)."""
        return self.descent - float(self.tau)


def point(cert: dict, path: str | None = None) -> RatePoint:
    """The RatePoint of a ``rate`` certificate (its inputs, hints and record)."""
    i, rec = cert["inputs"], cert["record"]
    return RatePoint(i["class"], Fraction(i["L"]), Fraction(i["mu"]), Fraction(i["step"]), int(i["steps"]),
                     Fraction(cert["hints"]["tau"]), float(rec["sdp"]["value"]),
                     float(rec["references"]["descent_lemma"]), rec["references"].get("adz"), path)


def file_name(cls: str, mu: Fraction, step: Fraction, steps: int) -> str:
    """``pl-cheap-N1-mu1_5-h3_10.json``: the name of a grid certificate."""
    frac = lambda q: str(q).replace("/", "_")  # noqa: E731
    return f"{cls}-N{steps}-mu{frac(mu)}-h{frac(step)}.json"


def sweep(cls: str = "pl-cheap", *, L: Any = 1, mu: Any = "1/5", steps: int = 1,
          step_sizes: Iterable[Any] | None = None, tolerance: float = 1e-6, out: str | Path | None = None,
          solver: str = "CLARABEL") -> list[RatePoint]:
    """One certificate per step size (default :data:`STEP_GRID` / L), written to ``out`` if given."""
    from plproof.certificate.format import write_certificate
    from plproof.rates.certificate import exact, rate_certificate

    L = exact(L, "L")
    grid = [exact(h, "step") for h in step_sizes] if step_sizes is not None else [s / L for s in STEP_GRID]
    points = []
    for h in grid:
        cert = rate_certificate(cls, L=L, mu=mu, step=h, steps=steps, tolerance=tolerance, solver=solver)
        path = None
        if out is not None:
            path = str(write_certificate(cert, Path(out) / file_name(cls, exact(mu, "mu") / L, h * L, steps)))
        points.append(point(cert, path))
    return points


#: the shipped families: (class, N)
FAMILIES = (("pl-cheap", 1), ("pl-cheap", 2), ("pl-expensive", 1))


def write_grid(out: str | Path, *, tolerance: float = 1e-6) -> list[RatePoint]:
    """Certificates for every family of FAMILIES at mu/L in MU_GRID and h L in STEP_GRID (L = 1), written to
    ``out`` with an ``index.json`` of the points: how certificates/rates/ was made (needs PEPit)."""
    from plproof.certificate.format import write_json

    points = [p for cls, steps in FAMILIES for mu in MU_GRID
              for p in sweep(cls, mu=mu, steps=steps, tolerance=tolerance, out=out)]
    write_json({"tolerance": tolerance,
                "points": [{"path": Path(p.path).name, "class": p.cls, "steps": p.steps, "mu": str(p.mu), "L": str(p.L),
                            "step": str(p.step), "tau": str(p.tau), "sdp": p.sdp, "descent_lemma": p.descent,
                            "adz": p.adz} for p in points if p.path]}, Path(out) / "index.json")
    return points


def rows(paths: Iterable[str | Path]) -> list[RatePoint]:
    """RatePoints of written certificates, each verified first (no PEPit needed); invalid ones raise."""
    from plproof.certificate.format import load_certificate
    from plproof.errors import CertificateError
    from plproof.verify import verify

    out = []
    for p in paths:
        result = verify(p)
        if not result.valid:
            raise CertificateError(f"{p}: {result.summary()}")
        out.append(point(load_certificate(p), str(p)))
    return sorted(out, key=lambda r: (r.cls, r.steps, r.mu / r.L, r.step * r.L))


def table(points: Sequence[RatePoint]) -> str:
    """Step, certified tau, SDP value, ADZ (one step), descent-lemma factor and the gain, one row per point."""
    from plproof.cli.output import table as text_table

    head = ("class", "N", "mu/L", "h L", "certified tau", "SDP value", "ADZ^N", "descent lemma", "gain")
    body = [(p.cls, p.steps, f"{float(p.mu / p.L):g}", f"{float(p.step * p.L):g}", f"{float(p.tau):.9f}",
             f"{p.sdp:.9f}", "" if p.adz is None else f"{p.adz:.9f}", f"{p.descent:.6f}", f"{p.gain:.6f}")
            for p in points]
    return text_table(head, body)


def adz(mu_over_L: float, hL: float) -> float:
    """The ADZ one-step factor at L = 1 (docs/theory.md §6.3), as a float for plotting."""
    from plproof.numeric.scalars import FLOATS
    from plproof.theory.rates import adz_rate

    return float(adz_rate(FLOATS, 1.0, float(mu_over_L), float(hL)))


def figure(points: Sequence[RatePoint], ax: Any = None) -> Any:
    """A matplotlib Figure: certified tau against h L per (class, N, mu/L), with ADZ^N (one-step closed form,
    to the N) and the descent-lemma factor as lines. Needs matplotlib (extra ``plot``)."""
    try:
        import matplotlib.pyplot as plt
    except ImportError:
        from plproof.errors import MissingDependency

        raise MissingDependency("the rate figure needs matplotlib: pip install 'plproof[plot]'") from None
    if ax is None:
        fig, ax = plt.subplots(figsize=(7, 4.5))
    else:
        fig = ax.figure
    series: dict[tuple, list[RatePoint]] = {}
    for p in points:
        series.setdefault((p.cls, p.steps, p.mu / p.L), []).append(p)
    dense = [2 * k / 400 for k in range(1, 400)]
    for k, ((cls, steps, m), pts) in enumerate(sorted(series.items())):
        colour = f"C{k % 10}"
        pts = sorted(pts, key=lambda p: p.step * p.L)
        ax.plot([float(p.step * p.L) for p in pts], [float(p.tau) for p in pts], "o", color=colour, ms=4,
                label=f"{cls}, N = {steps}, mu/L = {float(m):g}: certified")
        ax.plot(dense, [(1 - float(m) * h * (2 - h)) ** steps for h in dense], ":", color=colour, lw=1)
        if cls == "pl-cheap":
            ax.plot(dense, [adz(m, h) ** steps for h in dense], "-", color=colour, lw=0.8)
    ax.set_xlabel("h L")
    ax.set_ylabel("worst-case factor tau")
    ax.set_xlim(0, 2)
    ax.set_ylim(0, 1.02)
    ax.set_title("GD on L-smooth mu-PL functions: certified tau (dots), ADZ^N (lines), descent lemma (dotted)")
    ax.title.set_fontsize(9)
    ax.legend(fontsize=7, loc="lower left")
    fig.tight_layout()
    return fig


__all__ = ["FAMILIES", "MU_GRID", "STEP_GRID", "RatePoint", "figure", "file_name", "point", "rows", "sweep", "table",
           "write_grid"]
