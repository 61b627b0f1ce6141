"""Reports for papers: ``make_report(paths, fmt, out)`` writes text, a booktabs table and plots.

Each certificate is re-checked by :func:`plproof.verify.verify` first and the report states the outcome:
an invalid certificate is listed as such and none of its numbers are reported; one that cannot be
re-checked here is reported with that mark. Runs drawn from a certificate's ``record`` (the confirming
GD run) were not re-checked by the verifier, and the figures say so. Without matplotlib the text and
tables are still written and the plots are skipped with a note.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from plproof.certificate.format import canonical_json, load_certificate
from plproof.errors import InvalidInput, MissingDependency
from plproof.report import plots, text

FORMATS = {"md": ("report.md", text.markdown), "latex": ("report.tex", text.latex),
           "html": ("report.html", text.html_page)}


@dataclass
class ReportResult:
    """The files written (relative to the output folder) and notes such as skipped plots."""

    out: Path
    files: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    invalid: list[str] = field(default_factory=list)


def _lambda_mins(cert: dict, base: Path) -> tuple[list[float], int, str]:
    """lambda_min(K(w_t)) along the recorded run: as recorded, else recomputed in float64 for the plot."""
    run = cert["record"]["trajectory"]
    if run.get("lambda_mins"):
        return [float(v) for v in run["lambda_mins"]], int(run.get("lambda_min_every") or 1), "recorded"
    from plproof.models.linear import Linear
    from plproof.numeric.runners import gradient_descent
    from plproof.problem import Problem
    from plproof.verify.families import rebuild

    from plproof.verify.exact import Failure, Unverifiable

    try:
        fam, y, w0 = rebuild(cert["inputs"], base)
    except (Failure, Unverifiable):
        return [], 1, "not available"
    model = Linear(fam.X) if fam.spec["family"] == "linear" else fam.model
    if not hasattr(model, "kernel") or fam.spec["family"] in ("mlp", "sympy"):
        return [], 1, "not available"
    steps = len(run["losses"]) - 1
    every = max(1, steps // 50)
    traj = gradient_descent(Problem(model, y, w0), float(run["step"]), steps, lambda_min_every=every)
    return traj.lambda_mins, every, "float64 re-run for this plot, sampled"


def _data_key(cert: dict) -> str:
    model = cert["inputs"]["model"]
    same = {k: model.get(k) for k in ("family", "activation", "train", "init", "X")}
    return hashlib.sha256(canonical_json([same, cert["inputs"]["y"]]).encode()).hexdigest()


def make_report(paths: list[str | Path], fmt: str, out: str | Path, *, recheck: bool = True) -> ReportResult:
    """Write ``report.<md|tex|html>``, one booktabs table per certificate and the plots into ``out``."""
    if fmt not in FORMATS:
        raise InvalidInput(f"unknown report format {fmt!r}: use one of {', '.join(FORMATS)}")
    from plproof.verify import verify

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    result = ReportResult(out)
    entries: list[tuple[str, dict, str]] = []
    for path in map(Path, paths):
        cert = load_certificate(path)
        if recheck:
            check = verify(path)
            if check.outcome == "invalid":
                result.invalid.append(f"{path}: INVALID: {check.reason}")
                continue
            status = (f"valid, re-checked at rigor {check.level}" if check.valid
                      else f"NOT RE-CHECKED here ({check.reason})")
        else:
            status = "not re-checked (--no-recheck)"
        entries.append((path.stem, cert, status))
    result.notes += [f"{line}; left out of the report" for line in result.invalid]
    for i, (name, cert, _) in enumerate(entries):
        table = f"table-{i + 1}-{name}.tex"
        (out / table).write_text(text.latex_table(cert, f"plproof-{i + 1}"), encoding="utf-8")
        result.files.append(table)
    figures: list[str] = []
    try:
        figures = _all_plots(entries, [Path(p).parent for p in paths], out, result.notes)
    except MissingDependency as exc:
        result.notes.append(str(exc))
    name, render = FORMATS[fmt]
    pngs = [f for f in figures if f.endswith(".png")]
    (out / name).write_text(render(entries, pngs, result.notes), encoding="utf-8")
    result.files += [name] + figures
    return result


def _all_plots(entries: list[tuple[str, dict, str]], bases: list[Path], out: Path, notes: list[str]) -> list[str]:
    files: list[str] = []
    groups: dict[str, dict[int, float]] = {}
    sweep: dict[int, int] = {}
    for (name, cert, _), base in zip(entries, bases):
        if cert["kind"] != "problem" or cert["evidence"]["verdict"] != "certified":
            continue
        ev, model = cert["evidence"], cert["inputs"]["model"]
        if cert["record"].get("trajectory"):
            lams, every, source = _lambda_mins(cert, base)
            files += plots.run_plots(cert["record"]["trajectory"], ev["quantities"], lams, every, out, name,
                                     source)
        if "width" in model and "epsilon" in ev["quantities"]:
            eps = float(ev["quantities"]["epsilon"]["hi"])
            if eps > 0:
                groups.setdefault(_data_key(cert), {})[int(model["width"])] = eps
            n = int(model["n_outputs"])
            sweep[n] = min(sweep.get(n, model["width"]), int(model["width"]))
    best = max(groups.values(), key=len, default={})
    if len(best) >= 2:
        widths = sorted(best)
        files += plots.width_plot(widths, [best[w] for w in widths], out)
    else:
        notes.append("Hessian bound against width: needs certified two-layer certificates of one data set "
                     "at two or more widths")
    if len(sweep) >= 2:
        ns = sorted(sweep)
        files += plots.sweep_plot(ns, [sweep[n] for n in ns], out)
    else:
        notes.append("smallest certified width against n: needs a sweep (certified certificates at two or more n)")
    return files


__all__ = ["FORMATS", "ReportResult", "make_report"]
