"""``plproof check TARGET``: is mu-PL* proved on a ball around w0 for the user's model?"""

from __future__ import annotations

import argparse
import json
import sys

import numpy as np

from plproof.check import check
from plproof.run import certify_run, run_certificate
from plproof.evidence import Evidence, Status, Verdict
from plproof.loading import build_problem, load_data, load_object, load_vector
from plproof.problem import Problem

_MARK = {Status.HELD: "held   ", Status.FAILED: "FAILED ", Status.UNKNOWN: "unknown"}


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("check", help="check mu-PL* on a ball and GD convergence for your model",
                       description="TARGET is path/to/file.py:name or package.module:name, naming a Model, "
                                   "a Problem, or a function returning one. Exit 0 certified, 1 not, 2 bad input.")
    p.add_argument("target")
    p.add_argument("--data", help=".npz with arrays X and y, .npy (y) or .csv (X columns, then y)")
    start = p.add_mutually_exclusive_group()
    start.add_argument("--w0", help="initial parameters (.npy or .csv)")
    start.add_argument("--seed", type=int, help="draw w0 standard normal with this seed")
    p.add_argument("--rigor", default="verified", choices=["verified", "high-precision", "sampled"])
    p.add_argument("--step", type=float, help="GD step size (default 1/beta on the ball)")
    p.add_argument("--radius", type=float, help="check this radius instead of searching")
    p.add_argument("--route", default="ball", choices=["ball", "run", "both"],
                   help="ball: mu-PL* on B(w0, R) from w0 alone; run: certify a concrete GD run a posteriori "
                        "(docs/theory.md §12; two-layer tanh nets); both: report both")
    p.add_argument("--max-steps", type=int, default=200_000, help="GD steps the run route may take")
    p.add_argument("--bounds", default="tight", choices=["tight", "theory"],
                   help="ball bounds: structure-aware (docs/theory.md §11) or those of §4.1/§8")
    p.add_argument("--out", help="write a certificate (JSON) here")
    p.add_argument("--format", default="text", choices=["text", "json"])
    p.set_defaults(run=run)


def _problem(args: argparse.Namespace) -> Problem:
    obj = load_object(args.target)
    data = load_data(args.data) if args.data else None
    w0 = load_vector(args.w0) if args.w0 else None
    return build_problem(obj, data, w0, args.seed)


def _translated(problem: Problem) -> Problem:
    """A torch nn.Sequential the built-in MLP family can express, as that MLP (so it can be verified)."""
    to_builtin = getattr(problem.model, "to_builtin", None)
    built = to_builtin(problem.w0) if to_builtin else None
    if built is None:
        return problem
    mlp, w = built
    print("note: the torch module is checked as the equivalent built-in MLP in NTK parametrisation "
          "(weights rescaled per layer; see plproof.models.torch_model)", file=sys.stderr)
    return Problem(mlp, problem.y, w)


def run(args: argparse.Namespace) -> int:
    problem = _translated(_problem(args))
    print(f"checking {args.target}: n = {problem.n} equations, m = {problem.m} parameters, "
          f"rigor {args.rigor} ...", file=sys.stderr, flush=True)
    results = []
    if args.route in ("ball", "both"):
        results.append(check(problem, args.rigor, step=args.step, radius=args.radius, bounds=args.bounds))
    if args.route in ("run", "both"):
        results.append(certify_run(problem, step=args.step, max_steps=args.max_steps, rigor=args.rigor))
    certified = next((ev for ev in results if ev.verdict is Verdict.CERTIFIED), None)
    if args.out and certified is not None:
        from plproof.certificate import from_evidence, write_certificate

        cert = from_evidence(certified, problem) if certified.route == "ball" else run_certificate(certified, problem)
        write_certificate(cert, args.out)
    if args.format == "json":
        print(json.dumps([_json(ev) for ev in results] if len(results) > 1 else _json(results[0]), indent=2))
    else:
        print("\n\n".join(f"route: {ev.route}\n{render(ev, problem)}" for ev in results))
    return 0 if certified is not None else 1


def _json(ev: Evidence) -> dict:
    """Evidence as JSON; bulky arrays (run checkpoints) are left to the certificate file."""
    out = ev.to_json()
    out["hints"] = {k: v for k, v in out["hints"].items() if not isinstance(v, np.ndarray)}
    return out


def render(ev: Evidence, problem: Problem) -> str:
    """A readable account: quantities with rigor, hypotheses, the GD run, the verdict."""
    lines = [f"model: {problem.model.describe().get('family', type(problem.model).__name__)}, "
             f"n = {problem.n}, m = {problem.m}"]
    names = [("lambda0", "lambda_min K(w0)"), ("mu", "mu on the ball"), ("beta", "beta (smoothness)"),
             ("L_F", "sup ||DF|| on the ball"), ("epsilon", "Hessian bound"), ("L0", "L(w0)"),
             ("R", "radius used"), ("R_fl", "radius needed (R_fl)"), ("R_v1", "LZB v1 radius"),
             ("R_v2", "LZB v2 radius"), ("step", "GD step"), ("rate", "rate per step")]
    for key, label in names:
        if key in ev.quantities:
            lines.append(f"  {label:<24} {ev.quantities[key]}")
    if ev.hypotheses:
        lines.append("hypotheses:")
        for h in ev.hypotheses:
            margin = f"  margin {h.margin}" if h.margin is not None else ""
            lines.append(f"  [{_MARK[h.status]}] {h.name}{margin}")
    for c in ev.conclusions:
        lines.append(f"conclusion: {c}")
    if ev.trajectory:
        t = ev.trajectory
        lines.append(f"GD run: {t.steps} steps in {t.arithmetic}, loss {t.losses[0]:.3e} -> {t.final_loss:.3e}, "
                     f"max ||w_t - w0|| = {max(t.distances):.3e}")
    for note in ev.notes:
        lines.append(f"note: {note}")
    if ev.assumptions:
        lines.append("assumptions: " + "; ".join(ev.assumptions))
    lines.append(f"verdict: {ev.verdict.value.upper()} (rigor {ev.rigor.label}): {ev.reason}")
    return "\n".join(lines)
