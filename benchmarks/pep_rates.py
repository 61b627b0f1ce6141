"""One-step GD rate on L-smooth mu-PL functions: plproof's ADZ tau (docs/theory.md §6.3) against PEPit's SDPs.

plproof evaluates ADZ's closed form in interval arithmetic (a proved enclosure of the formula); PEPit
solves the one-step performance-estimation SDP numerically: ``naive`` (PL imposed at the sampled
points, which ADZ matches) and ``expensive`` (Rubbens-Hendrickx-Taylor's stronger conditions, a
smaller worst case for h < sqrt(3)/L). Run: ``python -m benchmarks.pep_rates``.
"""

from __future__ import annotations

import contextlib
import io
import time

from benchmarks.peers import peer
from benchmarks.timing import best_of
from plproof.theory.rates import gd_one_step_rate

POINTS = [(mu, h) for mu in (0.2, 0.5) for h in (0.1, 0.5, 1.0, 1.3, 1.8, 1.95)]


def main(points: list[tuple[float, float]] = POINTS, L: float = 1.0) -> list[dict]:
    print(f"one-step GD rate tau(L={L:g}, mu, h): plproof ADZ (interval enclosure) vs PEPit SDPs")
    pepit = peer("PEPit")
    examples = None
    if pepit is not None:
        from PEPit.examples.nonconvex_optimization import (
            wc_gradient_descent_quadratic_lojasiewicz_expensive as expensive,
            wc_gradient_descent_quadratic_lojasiewicz_naive as naive,
        )
        examples = {"naive": naive, "expensive": expensive}
    print(f"  {'mu':>4} {'h':>5} {'plproof ADZ':>12} {'ms':>7} {'PEPit naive':>12} {'ms':>7} {'ratio':>8} "
          f"{'PEPit expensive':>16} {'ms':>7} {'ratio':>8}")
    rows = []
    for mu, h in points:
        t_ours = best_of(lambda: gd_one_step_rate(L, mu, h), repeat=20)
        tau = gd_one_step_rate(L, mu, h)
        row = {"mu": mu, "h": h, "plproof": tau.hi, "plproof_s": t_ours}
        line = f"  {mu:4g} {h:5g} {tau.hi:12.6f} {t_ours * 1e3:7.3f}"
        for name, fn in (examples or {}).items():
            t0 = time.perf_counter()
            with contextlib.redirect_stdout(io.StringIO()):  # PEPit prints even at verbose=-1 on some paths
                value, _ = fn(L=L, mu=mu, gamma=h, n=1, verbose=-1)
            sec = time.perf_counter() - t0
            row[name], row[f"{name}_s"] = value, sec
            line += f" {value:{12 if name == 'naive' else 16}.6f} {sec * 1e3:7.0f} {sec / t_ours:7.0f}x"
        print(line)
        rows.append(row)
    if examples:
        worst = max(abs(r["plproof"] - r["naive"]) for r in rows)
        below = all(r["expensive"] <= r["plproof"] + 1e-6 for r in rows)
        print(f"  max |ADZ - PEPit naive| = {worst:.1e}; PEPit expensive <= ADZ everywhere: {below} "
              "(ratio = PEPit time / plproof time)")
    return rows


if __name__ == "__main__":
    main()
