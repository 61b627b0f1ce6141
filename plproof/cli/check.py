"""``plproof check TARGET``: is mu-PL* proved on a ball around w0 for the user's model?"""

from __future__ import annotations

import argparse
import sys
from fractions import Fraction
from pathlib import Path

import numpy as np

from plproof.routes.ball import check
from plproof.errors import InvalidInput, NotCertifiable
from plproof.cli.output import ProgressBar, add_output_options, print_json, style
from plproof.evidence import Evidence, Hypothesis, Status
from plproof.loading import DATA_FORMATS, build_problem, load_data, load_object, load_vector
from plproof.numeric.rigor import RigorLevel
from plproof.problem import Problem
from plproof.certificate.build import run_certificate
from plproof.routes.trajectory import certify_run

_MARK = {Status.HELD: "held   ", Status.FAILED: "FAILED ", Status.UNKNOWN: "unknown"}
_PAPER_MARK = {Status.HELD: "met    ", Status.FAILED: "not met", Status.UNKNOWN: "unknown"}
#: the name prefix of the paper's optional hypotheses (plproof.routes.ball._paper_hypotheses)
PAPER = "paper "
LEVELS = ["verified", "high-precision", "sampled"]


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("check", help="check mu-PL* on a ball and GD convergence for your model",
                       description="TARGET is path/to/file.py:name or package.module:name (a module in the "
                                   "working directory or on PYTHONPATH), naming a Model, a Problem, or a function "
                                   "returning one. Exit 0 certified at the --require level, 1 not (or only at a "
                                   "weaker level), 2 bad input.")
    p.add_argument("target")
    p.add_argument("--data", metavar="FILE", help=DATA_FORMATS)
    start = p.add_mutually_exclusive_group()
    start.add_argument("--w0", help="initial parameters (.npy or .csv)")
    start.add_argument("--seed", type=int, help="draw w0 standard normal with this seed")
    p.add_argument("--rigor", default="verified", choices=LEVELS, help="rigor to aim for (default verified)")
    p.add_argument("--require", choices=["exact", *LEVELS], default=None,
                   help="exit 0 only if the result reaches this level (default: the --rigor level, so a result "
                        "that holds only on samples exits 1 unless you ask for --rigor or --require sampled)")
    p.add_argument("--step", type=float, help="GD step size (default 1/beta on the ball)")
    p.add_argument("--radius", type=float, help="check this radius instead of searching")
    p.add_argument("--method", default="gd", metavar="{gd,sgd}",
                   help="gd: full-batch gradient descent (docs/theory.md §2.5); sgd: mini-batch SGD, by the ball "
                        "route with probability --confidence (docs/theory.md §3) or as a seeded run by the run route "
                        "(§12.6)")
    p.add_argument("--sampler", default="iid", choices=["iid", "epochs"],
                   help="the seeded SGD run's batches (run route): iid draws, or epochs of shuffled batches")
    p.add_argument("--sampler-seed", type=int, default=0, metavar="N",
                   help="seed of the SGD run's sampler (run route; --seed draws w0)")
    p.add_argument("--batch-size", metavar="S", help="SGD mini-batch size, an integer in [1, n] (with --method sgd)")
    p.add_argument("--confidence", metavar="C", help="probability 1 - delta of the SGD claim, in (0, 1), e.g. 0.95 "
                                                     "or 19/20 (with --method sgd)")
    p.add_argument("--route", default="ball", choices=["ball", "run", "both"],
                   help="ball: mu-PL* on B(w0, R) from w0 alone; run: certify a concrete GD run a posteriori "
                        "(docs/theory.md §12; built-in families with proved bounds); both: report both")
    p.add_argument("--max-steps", type=int, default=200_000, help="GD steps the run route may take")
    p.add_argument("--precision", default="auto", choices=["auto", "float64", "double-double"],
                   help="the run route's arithmetic: auto = float64, then double-double where float64's error "
                        "amplification stops it (docs/rigor.md §9.7)")
    p.add_argument("--bounds", default="tight", choices=["tight", "theory"],
                   help="ball bounds: structure-aware (docs/theory.md §11) or those of §4.1/§8")
    p.add_argument("--out", help="write a certificate (JSON) of the result here, whatever its verdict")
    p.add_argument("--format", default="text", choices=["text", "json"], help="text, or json (same as --json)")
    add_output_options(p)
    p.set_defaults(run=run)


def _problem(args: argparse.Namespace) -> Problem:
    obj = load_object(args.target)
    data = load_data(args.data) if args.data else None
    w0 = load_vector(args.w0) if args.w0 else None
    problem = build_problem(obj, data, w0, args.seed, source=args.data or "the data file")
    problem.source = code_file(args.target)  # recorded in a certificate whose model only its code can rebuild
    return problem


def code_file(target: str) -> tuple[Path, str] | None:
    """(the file defining ``target``, its name) for ``file.py:name``, ``folder:name`` and ``package.module:name``."""
    import importlib.util

    where, _, name = target.rpartition(":")
    path = Path(where)
    if path.is_dir():
        path = path / "__init__.py"
    elif not path.is_file():
        spec = importlib.util.find_spec(where) if where and not where.endswith(".py") else None
        path = Path(spec.origin) if spec is not None and spec.origin else path
    return (path.resolve(), name) if path.is_file() else None


def _translated(problem: Problem, quiet: bool = False, rigor: RigorLevel = RigorLevel.SAMPLED) -> Problem:
    """A torch module as the built-in MLP (an nn.Sequential of bias-free Linear layers: verified bounds), else as
    its layer graph with torch's own parameters, else (asked for at rigor sampled) the black box; otherwise
    NotCertifiable naming what could not be read."""
    model = problem.model
    to_builtin = getattr(model, "to_builtin", None)
    built = to_builtin(problem.w0) if to_builtin else None
    if built is not None:
        mlp, w = built
        if not quiet:
            print("note: the torch module is checked as the equivalent built-in MLP in NTK parametrisation "
                  "(weights rescaled per layer; see plproof.models.torch_model)", file=sys.stderr)
        return Problem(mlp, problem.y, w)
    to_graph = getattr(model, "to_graph", None)
    if to_graph is None:
        return problem
    net = to_graph()
    if net is not None:
        if not quiet:
            print("note: the torch module is checked as its layer graph, with torch's own parameters",
                  file=sys.stderr)
        return Problem(net, problem.y, problem.w0)
    if rigor > RigorLevel.SAMPLED:
        raise NotCertifiable(f"{model.graph_obstacle}; --rigor sampled checks it as a black box")
    return problem


def sgd_options(args: argparse.Namespace) -> tuple[dict, dict]:
    """check()'s and certify_run()'s SGD arguments from the command line (range checks are theirs): the ball route
    needs --batch-size and --confidence; the run route --batch-size, with --confidence for SGD past T."""
    if args.method not in ("gd", "sgd"):
        raise InvalidInput(f"unknown --method {args.method!r}: use gd (full-batch gradient descent) or sgd")
    if args.method == "gd":
        if args.batch_size is not None or args.confidence is not None:
            raise InvalidInput("--batch-size and --confidence apply to --method sgd only")
        return {}, {}
    out: dict = {"method": "sgd", "batch_size": None, "confidence": None}
    for key, flag, parse in (("batch_size", "--batch-size", int), ("confidence", "--confidence", Fraction)):
        text = getattr(args, key)
        if text is not None:
            try:
                out[key] = parse(text)
            except (ValueError, ZeroDivisionError):
                what = "an integer in [1, n]" if key == "batch_size" else "a number in (0, 1)"
                raise InvalidInput(f"{flag} must be {what}, got {text!r}") from None
        if out[key] is None and (key == "batch_size" or args.route != "run"):
            raise InvalidInput(f"--method sgd needs {flag}")
    run = {**out, "seed": args.sampler_seed, "sampler": args.sampler,
           "confidence": None if out["confidence"] is None else float(out["confidence"])}
    return out, run


def run(args: argparse.Namespace) -> int:
    as_json = args.json or args.format == "json"
    sgd, sgd_run = sgd_options(args)
    problem = _translated(_problem(args), args.quiet, RigorLevel.parse(args.rigor))
    required = RigorLevel.parse(args.require or args.rigor)
    if not args.quiet:
        print(f"checking {args.target}: n = {problem.n} equations, m = {problem.m} parameters, "
              f"requested rigor {args.rigor} ...", file=sys.stderr, flush=True)
    results = []
    with ProgressBar(None, f"plproof check {args.target}", quiet=args.quiet) as bar:
        if args.route in ("ball", "both"):
            bar.step("ball route")
            results.append(check(problem, args.rigor, step=args.step, radius=args.radius, bounds=args.bounds, **sgd))
        if args.route in ("run", "both"):
            bar.step("run route")
            try:
                results.append(certify_run(problem, step=args.step, max_steps=args.max_steps, rigor=args.rigor,
                                           precision=args.precision, **sgd_run))
            except NotCertifiable as exc:
                if args.route == "run":
                    raise
                print(f"plproof check: run route not available here: {exc}", file=sys.stderr)
    certified = [ev for ev in results if ev.certified]
    best = max(certified, key=lambda ev: ev.rigor) if certified else results[0]  # the strongest result
    written = _write(best, problem, args.out) if args.out else None
    accepted = best.certified and best.rigor >= required
    if as_json:
        docs = [{**_json(ev), "proved": proved(ev), "certificate": str(written) if ev is best and written else None}
                for ev in results]
        print_json(docs if len(docs) > 1 else docs[0])
    elif args.quiet:
        print(verdict_line(best))
    else:
        print("\n\n".join(f"route: {ev.route}\n{render(ev, problem)}" for ev in results))
        if written:
            print(f"certificate: {written} (verdict {best.verdict.value}, rigor {best.rigor.label})")
    if best.certified and not accepted:
        print(f"plproof check: the result holds at rigor {best.rigor.label} only, below the required "
              f"{required.label}: exit 1 (--require {best.rigor.label} accepts it)", file=sys.stderr)
    return 0 if accepted else 1


def _write(ev: Evidence, problem: Problem, path: str) -> Path:
    """The certificate of ``ev`` (certified or not: it states the verdict) written to ``path``."""
    from plproof.certificate import from_evidence, write_certificate

    return write_certificate(from_evidence(ev, problem) if ev.route in ("ball", "sgd-ball") else
                             run_certificate(ev, problem), path)


def proved(ev: Evidence) -> bool:
    """Certified at a level that proves the claim (verified or exact), not only estimated."""
    return ev.certified and ev.rigor >= RigorLevel.VERIFIED


def _json(ev: Evidence) -> dict:
    """Evidence as JSON; bulky arrays (run checkpoints) are left to the certificate file."""
    out = ev.to_json()
    out["hints"] = {k: v for k, v in out["hints"].items() if not isinstance(v, np.ndarray)}
    return out


def verdict_line(ev: Evidence) -> str:
    """``verdict: ...`` in words that follow the level reached: CERTIFIED only when proved."""
    if ev.certified and not proved(ev):
        word = "HOLDS ON SAMPLES" if ev.rigor is RigorLevel.SAMPLED else "HOLDS IN HIGH-PRECISION ESTIMATES"
        head = style(f"{word}, NOT PROVED", "yellow")
    else:
        head = style(ev.verdict.value.upper(), "green" if ev.certified else "red")
    return f"verdict: {head} (rigor {ev.rigor.label}): {ev.reason}"


GD_NAMES = [("lambda0", "lambda_min K(w0)"), ("mu", "mu on the ball"), ("beta", "beta (smoothness)"),
            ("L_F", "sup ||DF|| on the ball"), ("epsilon", "Hessian bound"), ("L0", "L(w0)"),
            ("R", "radius used"), ("R_fl", "radius needed (R_fl)"), ("R_v1", "LZB v1 radius"),
            ("R_v2", "LZB v2 radius"), ("step", "GD step"), ("rate", "rate per step")]
#: the SGD ball route's quantities (docs/theory.md §3), the mean-loss form last
SGD_NAMES = [("batch_size", "batch size s"), ("confidence", "confidence 1 - delta"), ("lambda0", "lambda_min K(w0)"),
             ("mu", "mu on the ball"), ("row_norm_w0", "max ||grad f_i(w0)||"), ("grad_bound", "sup ||grad f_i|| on ball"),
             ("beta", "beta (per example)"), ("epsilon", "Hessian bound"), ("L0", "L(w0), sum form"),
             ("R", "radius used"), ("R_sgd", "radius needed (R_sgd)"), ("eta_star", "eta* (sum loss)"),
             ("step", "SGD step (sum loss)"), ("rate", "rate per step"), ("mu_mean", "mean loss: mu/n"),
             ("step_mean", "mean loss: step s eta"), ("step_mse", "torch MSELoss lr s eta/2")]


def render(ev: Evidence, problem: Problem) -> str:
    """A readable account: quantities with rigor, hypotheses, the GD run, the verdict."""
    lines = [f"model: {problem.model.describe().get('family', type(problem.model).__name__)}, "
             f"n = {problem.n}, m = {problem.m}"]
    for key, label in SGD_NAMES if ev.route == "sgd-ball" else GD_NAMES:
        if key in ev.quantities:
            lines.append(f"  {label:<24} {ev.quantities[key]}")
    needed = [h for h in ev.hypotheses if not h.name.startswith(PAPER)]
    paper = [h for h in ev.hypotheses if h.name.startswith(PAPER)]
    if needed:
        lines.append("hypotheses:")
        lines += [_hyp_line(h, _MARK) for h in needed]
    if paper:
        lines.append("the paper's own radii (LZB v1/v2; optional, not needed for this verdict):")
        lines += [_hyp_line(h, _PAPER_MARK) for h in paper]
    label = "conclusion" if proved(ev) else "conclusion (not proved)"
    for c in ev.conclusions:
        lines.append(f"{label}: {c}")
    if ev.trajectory:
        lines.append(ev.trajectory.describe())
    for note in ev.notes:
        lines.append(f"note: {note}")
    if ev.assumptions:
        lines.append("assumptions: " + "; ".join(ev.assumptions))
    lines.append(verdict_line(ev))
    return "\n".join(lines)


def _hyp_line(h: Hypothesis, marks: dict[Status, str]) -> str:
    margin = f"  margin {h.margin}" if h.margin is not None else ""
    return f"  [{marks[h.status]}] {h.name}{margin}"
