"""Lemmas a step may cite with ``Step(..., by=Lemma(...))``; each checks its own hypotheses.

Rayleigh's lemma (x^T A x >= λ_min(A)|x|^2 for symmetric A) needs no citation: the checker
applies it whenever λ_min appears, after checking symmetry (docs/derivations.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import sympy as sp

from plproof.errors import InvalidInput
from plproof.symbolic.realise import Unsupported

if TYPE_CHECKING:  # pragma: no cover
    from plproof.symbolic.checker import Context, StepResult
    from plproof.symbolic.model import Step


@dataclass(frozen=True)
class Induction:
    """From ``next <= c*current`` (step ``premise``, c free of t) and ``c >= 0``, conclude
    ``current <= c**index * initial`` for every integer ``index >= 0`` (docs/theory.md §2.3 S3)."""

    premise: str
    current: str
    next: str
    initial: str
    index: str = "t"

    def apply(self, ctx: Context, sid: str, lhs: str, step: Step) -> StepResult:
        from plproof.symbolic.checker import (
            INVALID,
            UNVERIFIED,
            VALID,
            StepResult,
            compose,
        )

        stmt = f"{lhs} {step.relation} {step.rhs}"
        method = "lemma: induction"

        def fail(status: str, why: str, cx: dict | None = None) -> StepResult:
            return StepResult(sid, stmt, step.relation, status, method, "", cx, detail=why)

        if self.premise not in [r.id for r in ctx.results]:
            raise InvalidInput(f"step {sid} cites premise {self.premise!r}, which is not an earlier step")
        steps = [s for s in ctx.d.steps if s.relation != "def"]
        results = [r for r in ctx.results if r.relation != "def"]
        k = [r.id for r in results].index(self.premise)
        start = k
        while start > 0 and steps[start].lhs is None:
            start -= 1
        chain = results[start:k + 1]
        if any(r.status != VALID for r in chain):
            return fail(UNVERIFIED, f"premise chain {chain[0].id}-{chain[-1].id} is not valid")
        rel = compose([r.relation for r in chain])
        if rel not in ("<=", "<", "="):
            return fail(UNVERIFIED, f"premise proves {rel}, not next <= c*current")
        try:
            nxt, cur = ctx.scalar(ctx.sym, self.next), ctx.scalar(ctx.sym, self.current)
            start_v, end_v = ctx.scalar(ctx.sym, chain[0].lhs), ctx.scalar(ctx.sym, chain[-1].rhs)
            init, t = ctx.scalar(ctx.sym, self.initial), ctx.scalar(ctx.sym, self.index)
            L, R = ctx.scalar(ctx.sym, lhs), ctx.scalar(ctx.sym, step.rhs)
        except (Unsupported, sp.ShapeError) as exc:
            return fail(UNVERIFIED, str(exc))
        if sp.simplify(start_v - nxt) != 0:
            return fail(UNVERIFIED, f"premise starts at {chain[0].lhs}, not {self.next}")
        c = sp.cancel(end_v / cur)
        if c.free_symbols & (cur.free_symbols | nxt.free_symbols | {t}):
            return fail(UNVERIFIED, f"premise end {chain[-1].rhs} is not c*{self.current} with c free of the sequence")
        if not (t.is_integer and t.is_nonnegative):
            return fail(UNVERIFIED, f"index {self.index} must be a nonnegative integer symbol")
        if step.relation not in ("<=",) or sp.simplify(L - cur) != 0 or sp.simplify(R - c ** t * init) != 0:
            return fail(UNVERIFIED, f"the induction concludes {self.current} <= ({c})**{self.index}*{self.initial}, "
                        "not this")
        if not ctx.prover([c]).nonneg(c):
            cx, _ = ctx.refute(str(c), ">=", "0", stmt + "#c")
            if cx is not None:
                cx["reason"] = f"hypothesis c = {c} >= 0 of the induction fails"
                return fail(INVALID, f"hypothesis {c} >= 0 fails", cx)
            return fail(UNVERIFIED, f"could not prove the hypothesis {c} >= 0")
        return StepResult(sid, stmt, step.relation, VALID, f"{method} (premise {chain[0].id}-{chain[-1].id}, "
                          f"{c} >= 0 proved)", ctx.symbolic_scope())
