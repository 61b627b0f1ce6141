"""``plproof sweep``: a grid of two-layer certifications on Dask, one certificate per point, summary and plot."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from plproof.cli.output import add_output_options, print_json, style
from plproof.errors import InvalidInput
from plproof.loading import DATA_FORMATS, load_data
from plproof.sweep import PLOT_FILE, SUMMARY_CSV, DataSet, SweepSpec, run_sweep


def int_list(text: str) -> list[int]:
    """``"8,16,2^6"`` -> [8, 16, 64]; ``"2^3..2^6"`` -> [8, 16, 32, 64] (powers of two); ``"0..3"`` -> 0,1,2,3."""
    out: list[int] = []
    for part in text.split(","):
        part = part.strip()
        try:
            if ".." in part:
                lo, hi = part.split("..")
                if "^" in lo:
                    base, k0 = lo.split("^")
                    k1 = hi.split("^")[1] if "^" in hi else None
                    if int(base) != 2 or k1 is None:
                        raise ValueError
                    out += [2**k for k in range(int(k0), int(k1) + 1)]
                else:
                    out += list(range(int(lo), int(hi) + 1))
            elif "^" in part:
                base, k = part.split("^")
                out.append(int(base) ** int(k))
            else:
                out.append(int(part))
        except ValueError:
            raise argparse.ArgumentTypeError(f"cannot read {part!r}: use integers, 2^k, 2^a..2^b or a..b") from None
    return out


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("sweep", help="certify a grid of two-layer nets on Dask; certificates, CSV and a plot",
                       description="Run check() (the ball route, docs/theory.md §2.5, §11) over a grid of widths x "
                                   "seeds x n x activations on a fixed synthetic data set, or on your own with "
                                   "--data. One certificate per point is written as it finishes; rerunning with "
                                   "the same --out resumes.")
    p.add_argument("--widths", type=int_list, required=True, help="widths, e.g. 2^3..2^12 or 16,32,64")
    p.add_argument("--seeds", type=int_list, default=[0], help="initialisation seeds (default 0)")
    p.add_argument("--data", metavar="FILE", help=f"your data set instead of the synthetic one: {DATA_FORMATS}")
    p.add_argument("--n", dest="ns", type=int_list, default=None, help="synthetic data: numbers of points (default 8)")
    p.add_argument("--activations", default="tanh", help="comma-separated activations (default tanh)")
    p.add_argument("--d", type=int, default=None, help="synthetic data: input dimension (default 16)")
    p.add_argument("--scale", type=float, default=None,
                   help="synthetic data: targets uniform in [-scale, scale] (default 0.01)")
    p.add_argument("--data-seed", type=int, default=None, help="synthetic data: its seed (default 2026)")
    p.add_argument("--init", choices=("standard", "symmetric"), default="symmetric",
                   help="initialisation (default symmetric: F(w0) = 0)")
    p.add_argument("--rigor", default="verified", choices=("verified", "high-precision", "sampled"))
    p.add_argument("--bounds", default="tight", choices=("tight", "theory"))
    p.add_argument("--no-confirm", action="store_true", help="skip the confirming GD run of each certified point")
    p.add_argument("--out", required=True, help="output folder (certificates/, summary.csv, sweep.png)")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--scheduler", help="address of a running Dask scheduler (its workers need plproof installed)")
    where.add_argument("--workers", type=int, help="workers of the local cluster (default: number of cores)")
    where.add_argument("--serial", action="store_true", help="run in this process, without Dask")
    p.add_argument("--no-plot", action="store_true", help="write the CSV and JSON summary only")
    add_output_options(p)
    p.set_defaults(run=run)


def _spec(args: argparse.Namespace) -> SweepSpec:
    synthetic = {"ns": args.ns, "d": args.d, "scale": args.scale, "data_seed": args.data_seed}
    flags = {"ns": "--n", "d": "--d", "scale": "--scale", "data_seed": "--data-seed"}
    common = dict(widths=args.widths, seeds=args.seeds, activations=[a for a in args.activations.split(",") if a.strip()],
                  init=args.init, rigor=args.rigor, bounds=args.bounds, confirm=not args.no_confirm)
    if args.data:
        given = [flags[k] for k, v in synthetic.items() if v is not None]
        if given:
            raise InvalidInput(f"{', '.join(given)} describe the synthetic data set: drop them with --data "
                               "(your data fixes n and d)")
        X, y = load_data(args.data)
        if X is None:
            raise InvalidInput(f"{args.data} holds no inputs X: a sweep builds each two-layer net from X, so give X and y")
        return SweepSpec(**common, data=DataSet(X, y, args.data))
    defaults = {"ns": [8], "d": 16, "scale": 0.01, "data_seed": 2026}
    return SweepSpec(**common, **{k: defaults[k] if v is None else v for k, v in synthetic.items()})


def run(args: argparse.Namespace) -> int:
    if args.workers is not None and args.workers < 1:
        raise InvalidInput(f"--workers must be at least 1, got {args.workers}")
    spec = _spec(args)
    out = Path(args.out)
    total = len(spec.points())
    talk = not (args.quiet or args.json)

    def progress(point, row, error) -> None:
        status = row["verdict"] if row else f"failed ({type(error).__name__}: {error})"
        if talk:
            print(f"  {point.key}: {status}", flush=True)

    if talk:
        print(f"sweep of {total} points into {out}", flush=True)
    result = run_sweep(spec, out, scheduler=args.scheduler, workers=args.workers, serial=args.serial,
                       plot_summary=not args.no_plot, on_result=progress)
    certified = sum(r["verdict"] == "certified" for r in result.rows)
    code = max((exc.exit_code for exc in result.failed.values()), default=0)
    for key, exc in result.failed.items():
        print(f"plproof sweep: {key}: {type(exc).__name__}: {exc}", file=sys.stderr)
    if args.json:
        print_json({"out": str(out), "computed": result.computed, "reused": result.reused,
                    "failed": {k: str(e) for k, e in result.failed.items()}, "certified": certified,
                    "rows": result.rows, "fits": result.fits, "files": result.files, "notes": result.notes})
        return code
    line = (f"{len(result.computed)} computed, {len(result.reused)} already done, {len(result.failed)} failed; "
            f"{certified} of {len(result.rows)} certified"
            + ("" if spec.rigor == "verified" else f" at rigor {spec.rigor} (estimates, not proved)"))
    print(style(line, "red" if result.failed else "green"))
    if args.quiet:
        return code
    for fit in result.fits:
        print(f"  n={fit['n']} {fit['activation']}: {fit['quantity']} ~ width^{fit['slope']:.3f} "
              f"({fit['points']} certified points)")
    for note in result.notes:
        print(f"note: {note}", file=sys.stderr)
    print(f"summary: {out / SUMMARY_CSV}" + ("" if args.no_plot else f", plot: {out / PLOT_FILE}"))
    return code
