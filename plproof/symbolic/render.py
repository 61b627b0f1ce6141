"""Output of checked derivations: readable text, JSON and a LaTeX ``align`` block.

The JSON shape is ``{"derivation", "valid", "claim", "steps": [{"id", "statement", "relation",
"status", "method", "scope", "counterexample", "source", ...}]}`` (docs/derivations.md); the
certificate module may embed :func:`derivation_to_json` as is.
"""

from __future__ import annotations

from typing import Any

import sympy as sp

from plproof.symbolic.checker import VALID, CheckResult

_MARK = {"valid": "ok", "invalid": "WRONG", "unverified": "??"}
_LATEX_MARK = {"valid": r"\checkmark", "invalid": r"\times", "unverified": r"?"}


def derivation_to_json(result: CheckResult) -> dict[str, Any]:
    """A checked derivation as a JSON-serialisable dict."""
    d = result.derivation
    return {
        "derivation": d.name or d.title,
        "title": d.title,
        "reference": d.reference,
        "convention": d.assumptions.convention,
        "valid": result.valid,
        "claim": None if d.claim is None else {
            "statement": f"{d.claim.lhs} {d.claim.relation} {d.claim.rhs}",
            "proved": result.claim_proved, "detail": result.claim_detail},
        "hypotheses": [{"statement": h.statement, "justification": h.justification, "source": h.source}
                       for h in d.assumptions.hypotheses],
        "steps": [{
            "id": s.id, "statement": s.statement, "relation": s.relation, "status": s.status,
            "method": s.method, "scope": s.scope, "counterexample": s.counterexample, "source": s.source,
            "justification": s.justification, "corrected": s.corrected, "detail": s.detail,
        } for s in result.steps],
        "notes": list(d.notes),
        "seconds": round(result.seconds, 3),
    }


def derivation_to_text(result: CheckResult) -> str:
    """A readable proof: one line per step with its status, then the verdict."""
    d = result.derivation
    lines = [f"{d.title}" + (f"  [{d.reference}]" if d.reference else "")]
    for h in d.assumptions.hypotheses:
        lines.append(f"  hypothesis: {h.statement}" + (f"   ({h.justification})" if h.justification else ""))
    width = max(len(s.statement) for s in result.steps)
    for s in result.steps:
        where = f" [{s.source}]" if s.source else ""
        lines.append(f"  {s.id:>6} {_MARK[s.status]:>5}  {s.statement:<{width}}  {s.method}"
                     + (f"; {s.scope}" if s.scope else "") + where)
        if s.counterexample:
            lines.append(f"{'':>15}counterexample: {_cx(s.counterexample)}")
        if s.corrected:
            lines.append(f"{'':>15}corrected: {s.corrected}")
        if s.detail and s.status != VALID:
            lines.append(f"{'':>15}{s.detail}")
    lines.append(f"  claim: {'proved' if result.claim_proved else 'NOT proved'}: {result.claim_detail}")
    lines.append(f"  => {'VALID' if result.valid else 'NOT VALID'} ({result.seconds:.2f} s)")
    return "\n".join(lines)


def _cx(cx: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in cx.items())


def _tex(text: str) -> str:
    try:
        from plproof.symbolic.realise import compile_statement  # noqa: F401 - same parser rules
        return sp.latex(sp.sympify(text.replace(".T", "^T"), evaluate=False))
    except (sp.SympifyError, SyntaxError, TypeError, AttributeError, ValueError):
        return r"\texttt{" + text.replace("_", r"\_").replace("**", "^") + "}"


def derivation_to_latex(result: CheckResult) -> str:
    """An ``align*`` block, one line per step, with a status mark per step."""
    rel = {"=": "=", "<=": r"\le", ">=": r"\ge", "<": "<", ">": ">", "def": ":="}
    lines = [r"% " + result.derivation.title, r"\begin{align*}"]
    for s in result.steps:
        lhs = _tex(s.lhs) if s.lhs else ""
        lines.append(f"  {lhs} &{rel[s.relation]} {_tex(s.rhs)} && {_LATEX_MARK[s.status]}"
                     f"\\ \\text{{{s.id}}} \\\\")
    lines.append(r"\end{align*}")
    lines.append(f"% {'valid' if result.valid else 'not valid'}: {result.claim_detail}")
    return "\n".join(lines)
