"""Sweeps: a grid of ball certifications of two-layer nets (widths x seeds x n x activations) on Dask.

Each point is ``check()`` of docs/theory.md §2.5/§11 on a fixed data set (synthetic, or the user's
:class:`DataSet`); one certificate per
point is written atomically as it finishes, and the summary (CSV, fitted slopes, plot) is rebuilt
from the certificates on disk, so an interrupted sweep resumes where it stopped: a point is done iff
its certificate file exists and loads. Theory predicts the Hessian bound epsilon ~ (||v0||_inf + R)
/ sqrt(width), i.e. slope -1/2 up to the sqrt(2 ln 2m) growth of ||v0||_inf (docs/theory.md §8).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
import math
import os
import statistics
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Callable

import numpy as np

from plproof.certificate import from_evidence, load_certificate, write_certificate
from plproof.certificate.format import atomic_write, decode_number
from plproof.routes.ball import check
from plproof.data import uniform_targets, unit_inputs
from plproof.errors import CertificateError, InvalidInput, MissingDependency, PlproofError
from plproof.models import TwoLayer, activations
from plproof.models.base import check_finite_matrix, check_positive_int
from plproof.models.two_layer import check_init
from plproof.numeric.rigor import RigorLevel
from plproof.problem import Problem
from plproof.report.plots import plain_ticks, pyplot, fitted_slope

SETTINGS_FILE = "sweep.json"
CERT_DIR = "certificates"
SUMMARY_CSV = "summary.csv"
SUMMARY_JSON = "summary.json"
PLOT_FILE = "sweep.png"
BOUNDS = ("tight", "theory")
#: CSV columns: the grid point, the verdict, and the ends of the enclosures that are proved
COLUMNS = ("key", "n", "width", "seed", "activation", "verdict", "rigor", "lambda0_lo", "mu_lo", "beta_hi",
           "epsilon_hi", "delta_hi", "R", "R_fl", "rate_hi", "certificate")
#: (CSV column, evidence quantity, end of the enclosure that is a proved bound)
QUANTITY_COLUMNS = (("lambda0_lo", "lambda0", "lo"), ("mu_lo", "mu", "lo"), ("beta_hi", "beta", "hi"),
                    ("epsilon_hi", "epsilon", "hi"), ("delta_hi", "delta", "hi"), ("R", "R", "hi"),
                    ("R_fl", "R_fl", "hi"), ("rate_hi", "rate", "hi"))


@dataclass(frozen=True, order=True)
class SweepPoint:
    """One grid point: data size n, activation, model seed and width."""

    n: int
    activation: str
    seed: int
    width: int

    @property
    def key(self) -> str:
        return f"n{self.n}-{self.activation}-s{self.seed}-w{self.width}"


@dataclass(frozen=True, eq=False)
class DataSet:
    """A user's data set for a sweep: inputs X (n x d, finite) and targets y (n,); ``source`` names it.

    Two data sets are the same when their arrays are (compared by :attr:`digest`), wherever they came from.
    """

    X: np.ndarray
    y: np.ndarray
    source: str = ""

    def __post_init__(self) -> None:
        X = check_finite_matrix(self.X, "X")
        y = np.asarray(self.y, dtype=np.float64)
        if y.shape != (X.shape[0],) or not np.isfinite(y).all():
            raise InvalidInput(f"y must be {X.shape[0]} finite numbers, one per row of X, got shape {y.shape}")
        object.__setattr__(self, "X", X)
        object.__setattr__(self, "y", y)

    @property
    def digest(self) -> str:
        """sha256 of the shapes and float64 bytes of X and y."""
        h = hashlib.sha256(repr((self.X.shape, self.y.shape)).encode())
        h.update(np.ascontiguousarray(self.X).tobytes())
        h.update(np.ascontiguousarray(self.y).tobytes())
        return h.hexdigest()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, DataSet) and other.digest == self.digest

    def __hash__(self) -> int:
        return hash(self.digest)


def _axis(values: Any, name: str, smallest: int) -> tuple[int, ...]:
    """A grid axis: distinct integers >= ``smallest``, sorted."""
    vals = tuple(values)
    if not vals:
        raise InvalidInput(f"{name} is empty: give at least one value")
    for v in vals:
        if isinstance(v, bool) or not isinstance(v, int) or v < smallest:
            raise InvalidInput(f"{name} must be integers >= {smallest}, got {v!r}")
    return tuple(sorted(set(vals)))


@dataclass(frozen=True)
class SweepSpec:
    """The grid (widths, seeds, ns, activations) and the settings every point shares.

    Data for size n: ``unit_inputs(n, d, data_seed)`` and ``uniform_targets(n, scale, data_seed)``, or
    the user's ``data`` (then ``ns`` is its number of rows and ``d`` its number of columns; ``scale``
    and ``data_seed`` do not apply); ``seed`` is the seed of the network's initialisation.
    """

    widths: tuple[int, ...]
    seeds: tuple[int, ...] = (0,)
    ns: tuple[int, ...] = (8,)
    activations: tuple[str, ...] = ("tanh",)
    d: int = 16
    scale: float = 0.01
    data_seed: int = 2026
    init: str = "symmetric"
    rigor: str = "verified"
    bounds: str = "tight"
    confirm: bool = True
    data: DataSet | None = None

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        if self.data is not None:
            set_(self, "ns", (self.data.X.shape[0],))
            set_(self, "d", self.data.X.shape[1])
        for name, smallest in (("widths", 1), ("seeds", 0), ("ns", 1)):
            set_(self, name, _axis(getattr(self, name), name, smallest))
        if not self.activations:
            raise InvalidInput("activations is empty: give at least one activation name")
        set_(self, "activations", tuple(sorted({activations.get(a).name for a in self.activations})))
        check_positive_int(self.d, "d")
        if not (isinstance(self.scale, (int, float)) and math.isfinite(self.scale) and self.scale > 0):
            raise InvalidInput(f"the target scale must be a positive number, got {self.scale!r}")
        set_(self, "rigor", RigorLevel.parse(self.rigor).label)
        if self.bounds not in BOUNDS:
            raise InvalidInput(f"unknown bounds {self.bounds!r}: use one of {', '.join(BOUNDS)}")
        for w in self.widths:
            check_init(self.init, w)

    def points(self) -> list[SweepPoint]:
        """Every grid point, in a fixed order (n, activation, seed, width)."""
        return sorted(SweepPoint(n, a, s, w) for n in self.ns for a in self.activations
                      for s in self.seeds for w in self.widths)

    def problem(self, point: SweepPoint) -> Problem:
        """The two-layer problem of one grid point."""
        if self.data is not None:
            X, y = self.data.X, self.data.y
        else:
            X = unit_inputs(point.n, self.d, self.data_seed)
            y = uniform_targets(point.n, self.scale, self.data_seed)
        return Problem(TwoLayer(X, point.width, point.activation, point.seed, init=self.init), y)

    def settings(self) -> dict:
        """What fixes each point's answer besides its coordinates: a resumed sweep must match it."""
        skip = {"widths", "seeds", "ns", "activations", "data"}
        if self.data is not None:
            skip |= {"scale", "data_seed"}
        out = {f.name: getattr(self, f.name) for f in fields(self) if f.name not in skip}
        if self.data is not None:
            out["data"] = {"sha256": self.data.digest, "n": int(self.data.X.shape[0])}
        return out


def compute_point(spec: SweepSpec, point: SweepPoint) -> dict:
    """Certify one grid point (docs/theory.md §2.5) and return its sealed certificate (runs on a worker)."""
    problem = spec.problem(point)
    evidence = check(problem, spec.rigor, bounds=spec.bounds, confirm=spec.confirm)
    return from_evidence(evidence, problem)


def certificate_path(out: Path, point: SweepPoint) -> Path:
    return out / CERT_DIR / f"{point.key}.json"


def _loads(path: Path) -> dict | None:
    """The certificate at ``path`` if it exists and loads, else None (so the point is computed again)."""
    if not path.exists():
        return None
    try:
        return load_certificate(path)
    except CertificateError:
        return None


def row_of(point: SweepPoint, cert: dict, path: Path) -> dict:
    """One CSV row from a certificate: the verdict and the proved ends of its enclosures."""
    ev = cert["evidence"]
    producer = cert.get("record", {}).get("producer", {})
    if producer.get("verdict") == "certified" and ev["verdict"] != "certified" and \
            producer["evidence"]["rigor"] in ("sampled", "high-precision"):
        ev = producer["evidence"]  # a sweep at a weaker rigor reports the estimate asked for, labelled by its rigor
    q = ev["quantities"]
    row: dict[str, Any] = {**asdict(point), "key": point.key, "verdict": ev["verdict"], "rigor": ev["rigor"],
                           "certificate": str(path)}
    for column, name, end in QUANTITY_COLUMNS:
        row[column] = float(decode_number(q[name][end])) if name in q else None
    return row


@dataclass
class SweepResult:
    """Rows of every finished point, what this run computed or reused, failures, fits and files."""

    rows: list[dict]
    computed: list[str] = field(default_factory=list)
    reused: list[str] = field(default_factory=list)
    failed: dict[str, PlproofError] = field(default_factory=dict)
    fits: list[dict] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def slope(self, quantity: str, n: int | None = None, activation: str | None = None) -> float | None:
        """The fitted log-log slope of ``quantity`` against width for one group (only "epsilon" is fitted)."""
        for fit in self.fits:
            if fit["quantity"] == quantity and n in (None, fit["n"]) and activation in (None, fit["activation"]):
                return fit["slope"]
        return None


def _certified(rows: list[dict]) -> list[dict]:
    return [r for r in rows if r["verdict"] == "certified"]


def fit_slopes(rows: list[dict]) -> list[dict]:
    """Per (n, activation): the log-log slope against width of the certified Hessian bound epsilon (upper end),
    which theory predicts near -1/2 (docs/theory.md §8). mu is not fitted: it saturates at the kernel's
    lambda_min as the width grows, so no power law describes it."""
    fits = []
    groups = sorted({(r["n"], r["activation"]) for r in rows})
    for n, act in groups:
        cert = [r for r in _certified(rows) if (r["n"], r["activation"]) == (n, act)]
        for quantity, column in (("epsilon", "epsilon_hi"),):
            pts = [(r["width"], r[column]) for r in cert if r[column] and r[column] > 0]
            if len({w for w, _ in pts}) >= 2:
                fits.append({"n": n, "activation": act, "quantity": quantity, "points": len(pts),
                             "slope": fitted_slope([w for w, _ in pts], [v for _, v in pts])})
    return fits


def smallest_certified_widths(rows: list[dict]) -> dict[tuple[str, int], list[int]]:
    """(activation, n) -> the smallest certified width in the grid, one per seed that certified somewhere."""
    best: dict[tuple[str, int, int], int] = {}
    for r in _certified(rows):
        k = (r["activation"], r["n"], r["seed"])
        best[k] = min(best.get(k, r["width"]), r["width"])
    out: dict[tuple[str, int], list[int]] = {}
    for (act, n, _), w in sorted(best.items()):
        out.setdefault((act, n), []).append(w)
    return out


def _write_csv(rows: list[dict], path: Path) -> None:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    for r in rows:
        writer.writerow({k: ("" if r[k] is None else r[k]) for k in COLUMNS})
    atomic_write(path, buf.getvalue().encode("utf-8"))


def _ticks(axis: Any, values: list[int]) -> None:
    """Major ticks at the grid's values (at most 8 of them), labelled as plain integers."""
    from matplotlib.ticker import FixedLocator, NullFormatter, ScalarFormatter

    vals = sorted(set(values))
    if not vals:
        return
    step = max(1, math.ceil(len(vals) / 8))
    axis.set_major_locator(FixedLocator(vals[::step]))
    axis.set_major_formatter(ScalarFormatter())
    axis.set_minor_formatter(NullFormatter())


def plot(rows: list[dict], fits: list[dict], path: Path) -> Path:
    """Three panels, one above the other: smallest certified width vs n; certified mu vs width (points joined,
    no fit: mu saturates at lambda_min); the Hessian bound epsilon vs width, log-log with its fitted slope."""
    plt = pyplot()
    from matplotlib.ticker import LogLocator

    fig, axes = plt.subplots(3, 1, figsize=(6.4, 11.5))
    ax = axes[0]
    smallest = smallest_certified_widths(rows)
    for i, act in enumerate(sorted({r["activation"] for r in rows})):
        per_n = {n: ws for (a, n), ws in smallest.items() if a == act}
        for n, ws in per_n.items():
            ax.loglog([n] * len(ws), ws, "o", color=f"C{i}", alpha=0.3, ms=5)
        if per_n:
            ns = sorted(per_n)
            ax.loglog(ns, [statistics.median(per_n[n]) for n in ns], "s-", color=f"C{i}", ms=5,
                      label=f"{act}: median over seeds")
    _ticks(ax.xaxis, [r["n"] for r in rows])
    _ticks(ax.yaxis, [w for ws in smallest.values() for w in ws])
    ax.set_xlabel("number of data points $n$")
    ax.set_ylabel("smallest certified width in the grid")
    ax.set_title("smallest certified width against n", fontsize=9)
    panels = ((axes[1], "mu", "mu_lo", r"certified $\mu$ (lower end)", "certified mu against width"),
              (axes[2], "epsilon", "epsilon_hi", r"Hessian bound $\epsilon$ (upper end)",
               r"Hessian bound against width (theory: $(\|v_0\|_\infty + R)/\sqrt{m}$," "\n"
               r"with $\|v_0\|_\infty \approx \sqrt{2\ln 2m}$)"))
    groups = sorted({(r["n"], r["activation"]) for r in _certified(rows)})
    for i, (n, act) in enumerate(groups):  # mu: the points, joined; no power law (it saturates at lambda_min)
        pts = sorted((r["width"], r["mu_lo"]) for r in _certified(rows) if (r["n"], r["activation"]) == (n, act)
                     and r["mu_lo"])
        if len({w for w, _ in pts}) >= 2:
            axes[1].loglog([p[0] for p in pts], [p[1] for p in pts], "o-", color=f"C{i}", ms=4,
                           label=f"n={n} {act} (no fit: mu saturates at lambda_min)")
    for ax, quantity, column, label, title in panels:
        if quantity == "mu":
            _ticks(ax.xaxis, [r["width"] for r in rows])
            ax.set_xlabel("width $m$")
            ax.set_ylabel(label)
            ax.set_title(title, fontsize=9)
            continue
        for i, fit in enumerate(f for f in fits if f["quantity"] == quantity):
            pts = sorted((r["width"], r[column]) for r in _certified(rows)
                         if (r["n"], r["activation"]) == (fit["n"], fit["activation"]))
            ws, vs = [p[0] for p in pts], [p[1] for p in pts]
            ax.loglog(ws, vs, "o", color=f"C{i}", ms=4)
            c = math.exp(statistics.fmean(math.log(v) for v in vs) - fit["slope"]
                         * statistics.fmean(math.log(w) for w in ws))
            ends = [min(ws), max(ws)]
            ax.loglog(ends, [c * w ** fit["slope"] for w in ends], "--", color=f"C{i}",
                      label=f"n={fit['n']} {fit['activation']}: fitted slope {fit['slope']:.3f}")
            if quantity == "epsilon" and i == 0:
                ax.loglog(ends, [vs[0] * (w / ws[0]) ** -0.5 for w in ends], ":", color="grey",
                          label="reference slope -1/2")
        _ticks(ax.xaxis, [r["width"] for r in rows])
        ax.set_xlabel("width $m$")
        ax.set_ylabel(label)
        ax.set_title(title, fontsize=9)
    for i, ax in enumerate(axes):
        if not ax.lines:
            why = "no certified point" if i == 0 else "fewer than two certified widths in every group"
            ax.text(0.5, 0.5, why, ha="center", transform=ax.transAxes)
            continue
        ax.legend(fontsize=7)
        if i:
            plain_ticks(ax)
            ax.yaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    plt.close(fig)
    atomic_write(path, buf.getvalue())
    return path


def write_summary(rows: list[dict], out: Path, with_plot: bool = True) -> tuple[list[dict], list[str], list[str]]:
    """summary.csv, summary.json (fits, smallest certified widths) and the plot; returns (fits, files, notes)."""
    fits = fit_slopes(rows)
    _write_csv(rows, out / SUMMARY_CSV)
    smallest = [{"activation": a, "n": n, "widths": ws} for (a, n), ws in smallest_certified_widths(rows).items()]
    atomic_write(out / SUMMARY_JSON, (json.dumps({"fits": fits, "smallest_certified_widths": smallest,
                                                  "points": len(rows)}, indent=1) + "\n").encode("utf-8"))
    files, notes = [str(out / SUMMARY_CSV), str(out / SUMMARY_JSON)], []
    if with_plot and rows:
        try:
            files.append(str(plot(rows, fits, out / PLOT_FILE)))
        except MissingDependency as exc:
            notes.append(str(exc))
    return fits, files, notes


def _claim_folder(spec: SweepSpec, out: Path) -> None:
    """Record the settings in ``out``, or refuse if it holds a sweep with other settings."""
    out.mkdir(parents=True, exist_ok=True)
    settings_path = out / SETTINGS_FILE
    settings = spec.settings()
    if settings_path.exists():
        try:
            old = json.loads(settings_path.read_text("utf-8"))
        except (OSError, ValueError):
            old = None
        if old is not None and old != settings:
            changed = sorted(k for k in settings if old.get(k) != settings[k])
            raise InvalidInput(f"{out} holds a sweep with other settings ({', '.join(changed)}): "
                               "use another output folder or the same settings")
    atomic_write(settings_path, (json.dumps(settings, indent=1) + "\n").encode("utf-8"))


def _dask_client(scheduler: str | None, workers: int | None) -> tuple[Any, Any]:
    """A Client on ``scheduler``, or on a new process LocalCluster with ``workers`` (default: cores)."""
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise MissingDependency("Dask is not installed: install it with pip install 'plproof[sweep]', "
                                "or run the sweep in this process with --serial") from None
    if scheduler:
        try:
            return Client(scheduler, timeout="20s"), None
        except (OSError, TimeoutError) as exc:
            raise InvalidInput(f"cannot reach the Dask scheduler at {scheduler} ({exc}): check the address") from None
    cluster = LocalCluster(n_workers=workers or os.cpu_count() or 1, threads_per_worker=1, processes=True,
                           dashboard_address=":0", silence_logs=logging.ERROR)
    return Client(cluster), cluster


def run_sweep(spec: SweepSpec, out: str | os.PathLike, *, scheduler: str | None = None, workers: int | None = None,
              serial: bool = False, plot_summary: bool = True,
              on_result: Callable[[SweepPoint, dict | None, PlproofError | None], None] | None = None) -> SweepResult:
    """Run every grid point not already done in ``out``, streaming certificates and the summary to disk.

    Dask: a new LocalCluster of ``workers`` processes (default: the number of cores), or the cluster at
    ``scheduler``; ``serial=True`` runs in this process without Dask. ``on_result(point, row, error)``
    is called as each point finishes. Certificates are written by this process, so remote workers need
    no shared disk.
    """
    out = Path(out)
    _claim_folder(spec, out)
    points = spec.points()
    rows: dict[str, dict] = {}
    result = SweepResult(rows=[])
    pending = []
    for p in points:
        cert = _loads(certificate_path(out, p))
        if cert is None:
            pending.append(p)
        else:
            rows[p.key] = row_of(p, cert, certificate_path(out, p))
            result.reused.append(p.key)

    def finish(point: SweepPoint, cert: dict | None, error: PlproofError | None) -> None:
        row = None
        if cert is not None:
            path = write_certificate(cert, certificate_path(out, point))
            row = rows[point.key] = row_of(point, cert, path)
            result.computed.append(point.key)
            _write_csv(sorted(rows.values(), key=_order), out / SUMMARY_CSV)
        else:
            result.failed[point.key] = error
        if on_result is not None:
            on_result(point, row, error)

    try:
        if serial:
            for p in pending:
                cert, error = _attempt(lambda: compute_point(spec, p))
                finish(p, cert, error)
        elif pending:
            _run_on_dask(spec, pending, scheduler, workers, finish)
    finally:
        result.rows = sorted(rows.values(), key=_order)
        result.fits, result.files, result.notes = write_summary(result.rows, out, plot_summary)
    return result


def _order(row: dict) -> tuple:
    return (row["n"], row["activation"], row["seed"], row["width"])


def _attempt(fn: Callable[[], dict]) -> tuple[dict | None, PlproofError | None]:
    """Run ``fn``; a plproof error at one point is recorded for that point, anything else propagates."""
    try:
        return fn(), None
    except PlproofError as exc:
        return None, exc


def _run_on_dask(spec: SweepSpec, pending: list[SweepPoint], scheduler: str | None, workers: int | None,
                 finish: Callable[[SweepPoint, dict | None, PlproofError | None], None]) -> None:
    client, cluster = _dask_client(scheduler, workers)
    from distributed import as_completed

    futures: dict[Any, SweepPoint] = {}
    try:
        futures = {client.submit(compute_point, spec, p, pure=False): p for p in pending}
        for fut in as_completed(list(futures)):
            point = futures.pop(fut)
            finish(point, *_attempt(fut.result))
    finally:
        if futures:
            client.cancel(list(futures))
        client.close()
        if cluster is not None:
            cluster.close()
