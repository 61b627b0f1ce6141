"""Output of checked derivations: readable text, JSON and LaTeX.

The JSON shape is ``{"derivation", "valid", "claim", "steps": [{"id", "statement", "relation",
"status", "method", "scope", "counterexample", "source", ...}]}`` (docs/derivations.md); the
certificate module may embed :func:`derivation_to_json` as is.

LaTeX is printed from the expression as written (:func:`expr_latex`), not from SymPy's canonical form:
matrix products are not commutative, so ``DF(w).T*(F(w) - y)`` must stay ``DF(w)^T (F(w) - y)``. The
printer reads the derivation language (Python syntax, ``^`` a power) with :mod:`ast` and typesets it as a
reader writes it: transposes ``A^T``, norms ``||v||``, ``grad`` as nabla, ``lambda_min(K)``, ``eye(n)`` as
``I_n``, ``inv(A)`` as ``A^{-1}``, names such as ``L0``, ``eta_star`` and ``mubar`` with sub- and superscripts.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from typing import Any, Iterable

from plproof.symbolic.checker import VALID, CheckResult

_MARK = {"valid": "ok", "invalid": "WRONG", "unverified": "??"}
_LATEX_MARK = {"valid": r"\checkmark", "invalid": r"\times", "unverified": r"?"}
#: relation of a step -> LaTeX
RELATIONS = {"=": "=", "<=": r"\le", ">=": r"\ge", "<": "<", ">": ">", "def": ":=", "!=": r"\ne"}


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


# ---------------------------------------------------------------- the LaTeX printer
GREEK = ("alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa", "lambda", "mu",
         "nu", "xi", "pi", "rho", "sigma", "tau", "upsilon", "phi", "chi", "psi", "omega", "Gamma", "Delta",
         "Theta", "Lambda", "Xi", "Pi", "Sigma", "Phi", "Psi", "Omega")
_CONSTANTS = {"oo": r"\infty", "pi": r"\pi"}
#: name suffixes typeset as accents or marks on the base (``mubar`` -> bar mu, ``Lstar`` -> L^star)
_ACCENTS = {"bar": r"\bar{%s}", "hat": r"\hat{%s}", "tilde": r"\tilde{%s}", "star": r"%s^{\star}"}
_SUBSCRIPTS = {"inf": r"\infty", "min": r"\min", "max": r"\max", "fl": r"\mathrm{fl}"}
_FUNCTIONS = {"sin": r"\sin", "cos": r"\cos", "tan": r"\tan", "tanh": r"\tanh", "exp": r"\exp", "log": r"\log",
              "ln": r"\ln", "det": r"\det", "trace": r"\operatorname{tr}", "max": r"\max", "min": r"\min",
              "Max": r"\max", "Min": r"\min", "sinh": r"\sinh", "cosh": r"\cosh"}
# precedence levels: a child of lower level than its context is parenthesised
_ADD, _MUL, _NEG, _POW, _ATOM = 1, 2, 3, 4, 5


class Unprintable(ValueError):
    """Text outside the derivation language (it could not have been checked either)."""


@dataclass(frozen=True)
class Tex:
    """A piece of LaTeX maths with its precedence level, an estimate of its printed width (in em at
    text size) and whether it is tall (a fraction, a sum): tall groups get growing delimiters."""

    s: str
    level: int = _ATOM
    width: float = 1.0
    tall: bool = False


def name_latex(name: str) -> str:
    """A symbol's name as a reader writes it: ``eta`` -> eta, ``L0`` -> L_0, ``eta_star`` -> eta^star,
    ``mubar`` -> bar mu, ``winf`` -> w_infinity, ``LF`` -> L_F, ``DF`` -> DF, ``EL1`` -> E_{L1}."""
    if not name:
        return ""
    if name in _CONSTANTS:
        return _CONSTANTS[name]
    if name in GREEK:
        return "\\" + name
    if "_" in name:
        base, _, sub = name.partition("_")
        base_tex = name_latex(base)
        if sub in _ACCENTS:
            return _ACCENTS[sub] % base_tex
        return f"{base_tex}_{{{_SUBSCRIPTS.get(sub) or name_latex(sub)}}}"
    greek = max((g for g in GREEK if name.startswith(g)), key=len, default=None)
    base = greek or name[0]
    rest = name[len(base):]
    base_tex = "\\" + base if greek else base
    if not rest:
        return base_tex
    if rest in _ACCENTS:
        return _ACCENTS[rest] % base_tex
    if base == "D" and len(rest) == 1 and rest.isupper():
        return "D" + rest  # the Jacobian DF of a map F
    if rest in GREEK or rest in _SUBSCRIPTS or len(rest) <= 3:
        sub = _SUBSCRIPTS.get(rest) or ("\\" + rest if rest in GREEK else rest)
        return f"{base_tex}_{{{sub}}}"
    return rf"\mathit{{{name}}}"


def _glyphs(tex: str) -> float:
    """Estimated width (em) of a typeset name: capitals 0.8, other letters and digits 0.55, a Greek letter
    0.6, subscripts and superscripts at 70%."""
    width, scale = 0.0, 1.0
    for token in re.findall(r"\\[a-zA-Z]+|[_^]\{|.", tex):
        if token in ("_{", "^{"):
            scale = 0.7
        elif token == "}":
            scale = 1.0
        elif token.startswith("\\"):
            width += scale * {r"\min": 1.4, r"\max": 1.4, r"\infty": 1.0, r"\star": 0.6}.get(
                token, 0.6 if token[1:] in GREEK else 0.0)
        elif token.isalnum():
            width += scale * (0.8 if token.isupper() else 0.55)
    return width


class _Printer:
    """Python AST of a derivation expression -> :class:`Tex`, the factors of every product in order."""

    def node(self, n: ast.AST) -> Tex:
        method = getattr(self, "_" + type(n).__name__, None)
        if method is None:
            raise Unprintable(f"no LaTeX form for {type(n).__name__}")
        return method(n)

    # ---- helpers
    @staticmethod
    def paren(t: Tex) -> Tex:
        left, right = (r"\left(", r"\right)") if t.tall else ("(", ")")
        return Tex(f"{left}{t.s}{right}", _ATOM, t.width + 0.8, t.tall)

    def at_least(self, t: Tex, level: int) -> Tex:
        return self.paren(t) if t.level < level else t

    def operand(self, t: Tex, level: int) -> Tex:
        """A right operand of a sum or product: parenthesised below ``level``, and always when negated."""
        return self.paren(t) if t.level < level or t.level == _NEG else t

    def args(self, n: ast.Call) -> list[Tex]:
        return [self.node(a) for a in n.args]

    def call(self, head: str, args: list[Tex], head_width: float) -> Tex:
        inner = Tex(", ".join(a.s for a in args), _ADD, sum(a.width for a in args) + 0.45 * (len(args) - 1),
                    any(a.tall for a in args))
        p = self.paren(inner)
        return Tex(head + p.s, _ATOM, head_width + p.width, p.tall)

    # ---- leaves
    def _Name(self, n: ast.Name) -> Tex:
        return Tex(name_latex(n.id), _ATOM, _glyphs(name_latex(n.id)))

    def _Constant(self, n: ast.Constant) -> Tex:
        if isinstance(n.value, bool) or not isinstance(n.value, (int, float)):
            raise Unprintable(f"constant {n.value!r}")
        text = repr(n.value)
        return Tex(text, _ATOM, 0.5 * len(text))

    # ---- operators
    def _UnaryOp(self, n: ast.UnaryOp) -> Tex:
        inner = self.node(n.operand)
        if isinstance(n.op, ast.USub):
            inner = self.at_least(inner, _POW if inner.level == _NEG else _MUL)
            return Tex("-" + inner.s, _NEG, inner.width + 0.8, inner.tall)
        if isinstance(n.op, ast.UAdd):
            return inner
        raise Unprintable("logical operators")

    def _BinOp(self, n: ast.BinOp) -> Tex:
        op = type(n.op)
        if op is ast.Div:  # a fraction multiplies like a product and is parenthesised under a power
            num, den = self.node(n.left), self.node(n.right)
            return Tex(rf"\frac{{{num.s}}}{{{den.s}}}", _MUL, max(num.width, den.width) + 0.3, True)
        if op in (ast.Pow, ast.BitXor):
            base = self.at_least(self.node(n.left), _ATOM)
            exp = self.node(n.right)
            if isinstance(n.right, ast.BinOp) and isinstance(n.right.op, ast.Div) and all(
                    isinstance(e, ast.Constant) for e in (n.right.left, n.right.right)):  # t^{3/2}, not a \frac
                exp = Tex(f"{n.right.left.value}/{n.right.right.value}", _ATOM, 1.5)
            return Tex(f"{{{base.s}}}^{{{exp.s}}}", _POW, base.width + 0.7 * exp.width, base.tall)
        left, right = self.node(n.left), self.node(n.right)
        if op is ast.Mult:
            left = self.at_least(left, _NEG if left.level == _NEG else _MUL)
            right = self.operand(right, _MUL)
            sep = _juxtapose(left, right)
            return Tex(f"{left.s}{sep}{right.s}", _MUL, left.width + right.width + _SPACE[sep], left.tall or right.tall)
        if op in (ast.Add, ast.Sub):
            right = self.operand(right, _ADD if op is ast.Add else _MUL)
            sign = " + " if op is ast.Add else " - "
            return Tex(f"{left.s}{sign}{right.s}", _ADD, left.width + right.width + 1.25, left.tall or right.tall)
        if op is ast.MatMult:
            return self._BinOp(ast.BinOp(n.left, ast.Mult(), n.right))
        raise Unprintable(f"operator {op.__name__}")

    def _Compare(self, n: ast.Compare) -> Tex:
        ops = {ast.Eq: "=", ast.LtE: r"\le", ast.GtE: r"\ge", ast.Lt: "<", ast.Gt: ">", ast.NotEq: r"\ne"}
        parts = [self.node(n.left)]
        text = parts[0].s
        for op, right in zip(n.ops, n.comparators):
            if type(op) not in ops:
                raise Unprintable(f"comparison {type(op).__name__}")
            r = self.node(right)
            parts.append(r)
            text += f" {ops[type(op)]} {r.s}"
        return Tex(text, 0, sum(p.width for p in parts) + 1.35 * len(n.ops), any(p.tall for p in parts))

    # ---- attributes and calls
    def _Attribute(self, n: ast.Attribute) -> Tex:
        if n.attr != "T":
            raise Unprintable(f"attribute .{n.attr}")
        base = self.at_least(self.node(n.value), _ATOM)
        return Tex(f"{{{base.s}}}^{{\\top}}", _POW, base.width + 0.6, base.tall)

    def _Tuple(self, n: ast.Tuple) -> Tex:
        parts = [self.node(e) for e in n.elts]
        return self.paren(Tex(", ".join(p.s for p in parts), _ADD, sum(p.width for p in parts), False))

    def _List(self, n: ast.List) -> Tex:
        return self._Tuple(ast.Tuple(n.elts))

    def _Call(self, n: ast.Call) -> Tex:
        if n.keywords:
            raise Unprintable("keyword arguments")
        if isinstance(n.func, ast.Attribute):
            return self.method(n.func.value, n.func.attr, n.args)
        if not isinstance(n.func, ast.Name):
            raise Unprintable("call of an expression")
        f, args = n.func.id, self.args(n)
        one = args[0] if len(args) == 1 else None
        if f in ("grad", "hessian", "D") and one is not None:
            head = {"grad": r"\nabla ", "hessian": r"\nabla^{2} ", "D": r"D"}[f]
            arg = one if one.level == _ATOM and f != "D" else self.paren(one)
            level, width = (_ATOM if f == "D" else _MUL), arg.width + (1.5 if f == "hessian" else 0.9)
            return Tex(head + arg.s, level, width, arg.tall)
        if f == "norm" and one is not None:
            left, right = (r"\left\lVert ", r"\right\rVert") if one.tall else (r"\lVert ", r"\rVert")
            return Tex(left + one.s + right, _ATOM, one.width + 1.0, one.tall)
        if f in ("abs", "Abs") and one is not None:
            left, right = (r"\left\lvert ", r"\right\rvert") if one.tall else (r"\lvert ", r"\rvert")
            return Tex(left + one.s + right, _ATOM, one.width + 0.6, one.tall)
        if f == "sqrt" and one is not None:
            return Tex(rf"\sqrt{{{one.s}}}", _ATOM, one.width + 0.9, True)
        if f in ("lambda_min", "lambda_max") and one is not None:
            return self.call(rf"\lambda_{{\{f[7:]}}}", [one], 1.6)
        if f == "eye" and one is not None:
            return Tex(f"I_{{{one.s}}}", _ATOM, 0.6 + 0.5 * one.width)
        if f == "inv" and one is not None:
            base = self.at_least(one, _ATOM)
            return Tex(f"{{{base.s}}}^{{-1}}", _POW, base.width + 0.8, base.tall)
        if f == "Matrix" and one is not None:
            return self.matrix(n.args[0])
        if f == "Sum" and len(n.args) == 2 and isinstance(n.args[1], ast.Tuple) and len(n.args[1].elts) == 3:
            var, lo, hi = (self.node(e) for e in n.args[1].elts)
            body = self.at_least(args[0], _MUL)
            return Tex(rf"\sum_{{{var.s}={lo.s}}}^{{{hi.s}}} {body.s}", _MUL, body.width + 1.8, True)
        if f in _FUNCTIONS:
            return self.call(_FUNCTIONS[f], args, 1.5)
        return self.call(name_latex(f), args, _glyphs(name_latex(f)))

    def method(self, obj: ast.AST, attr: str, args: list[ast.AST]) -> Tex:
        base = self.node(obj)
        if attr == "subs" and len(args) == 2:
            old, new = self.node(args[0]), self.node(args[1])
            base = self.at_least(base, _ATOM)
            return Tex(rf"{base.s}\big|_{{{old.s} = {new.s}}}", _ATOM, base.width + 0.7 * (old.width + new.width) + 1)
        if attr in ("det", "trace") and not args:
            return self.call(_FUNCTIONS[attr], [base], 1.5)
        if attr == "doit" and not args:
            return base
        raise Unprintable(f"method .{attr}()")

    def matrix(self, rows: ast.AST) -> Tex:
        """A matrix; a column vector ``Matrix([a, b])`` as a reader writes it inline, ``(a, b)^T``."""
        if not isinstance(rows, (ast.List, ast.Tuple)):
            raise Unprintable("Matrix of an expression")
        if not any(isinstance(r, (ast.List, ast.Tuple)) for r in rows.elts):
            entries = self._Tuple(ast.Tuple(rows.elts))
            return Tex(f"{entries.s}^{{\\top}}", _POW, entries.width + 0.6)
        table = [[self.node(e) for e in (r.elts if isinstance(r, (ast.List, ast.Tuple)) else [r])] for r in rows.elts]
        body = r" \\ ".join(" & ".join(c.s for c in row) for row in table)
        width = sum(max(row[j].width if j < len(row) else 0 for row in table) + 1 for j in range(max(map(len, table))))
        return Tex(rf"\begin{{pmatrix}} {body} \end{{pmatrix}}", _ATOM, width + 1, True)


_SPACE = {" ": 0.05, r"\, ": 0.2, r" \cdot ": 1.2}


def _juxtapose(left: Tex, right: Tex) -> str:
    """What stands between two factors: nothing between plain symbols, a thin space around brackets and
    fractions, a dot before a number."""
    if right.s[:1].isdigit():
        return r" \cdot "
    plain = not (left.tall or right.tall) and "(" not in left.s + right.s
    return " " if plain else r"\, "


def _parse(text: str) -> ast.AST:
    try:
        return ast.parse(text.strip().replace("^", "**"), mode="eval").body
    except SyntaxError:
        raise Unprintable(f"not an expression of the derivation language: {text!r}") from None


def expr_tex(text: str) -> Tex:
    """``text`` (the derivation language) as :class:`Tex`; :class:`Unprintable` outside the language."""
    return _Printer().node(_parse(text))


def expr_latex(text: str) -> str:
    """LaTeX maths for an expression of the derivation language, products in the order written."""
    return expr_tex(text).s


def statement_latex(lhs: str | None, relation: str, rhs: str) -> str:
    """``lhs rel rhs`` as LaTeX maths (``def`` as ``:=``); no lhs: ``rel rhs`` continuing a chain."""
    rel = RELATIONS[relation]
    return f"{expr_latex(lhs)} {rel} {expr_latex(rhs)}" if lhs else f"{rel} {expr_latex(rhs)}"


#: width (em at 10 pt) an ``align*`` line may use for ``lhs rel rhs`` beside the step mark
ALIGN_WIDTH = 24.0


def _terms(n: ast.AST) -> list[tuple[str, ast.AST]]:
    """A sum split into its signed top-level terms."""
    if isinstance(n, ast.BinOp) and isinstance(n.op, (ast.Add, ast.Sub)):
        return _terms(n.left) + [("+" if isinstance(n.op, ast.Add) else "-", n.right)]
    return [("+", n)]


def _broken(rhs: str, budget: float) -> list[str]:
    """The right-hand side in pieces of at most ``budget`` em: a long sum breaks before a + or -."""
    whole = expr_tex(rhs)
    if whole.width <= budget:
        return [whole.s]
    p = _Printer()
    pieces: list[str] = []
    line, used = "", 0.0
    for k, (sign, term) in enumerate(_terms(_parse(rhs))):
        t = p.node(term) if k == 0 else p.operand(p.node(term), _MUL if sign == "-" else _ADD)
        if line and used + t.width + 1.25 > budget:
            pieces.append(line)
            line, used = "", 2.0  # the continuation rows are indented by a \qquad
        line += (f" {sign} " if line or sign == "-" or pieces else "") + t.s
        used += t.width + 1.25
    return pieces + [line]


#: a left-hand side wider than this (em) is set on a row of its own
LONG_LHS = 10.0


def align_lines(steps: Iterable[tuple[str, str | None, str, str, str]]) -> list[str]:
    """``align*`` rows for steps ``(id, lhs, relation, rhs, status)`` with a mark and the id per step. The
    right-hand sides share :data:`ALIGN_WIDTH` with the widest left-hand side; a longer one continues on
    the next rows, indented; a left-hand side wider than :data:`LONG_LHS` stands on a row of its own."""
    steps = list(steps)
    lefts = [expr_tex(lhs) if lhs else Tex("", width=0.0) for _, lhs, _, _, _ in steps]
    column = max((t.width for t in lefts if t.width <= LONG_LHS), default=0.0)
    rows = []
    for left, (sid, _, relation, rhs, status) in zip(lefts, steps):
        pieces = _broken(rhs, ALIGN_WIDTH - column - 1.6)
        mark = f"&& {_LATEX_MARK[status]}\\ \\text{{{_text(sid)}}}"
        if left.width > LONG_LHS:  # in the column it would push every step right
            rows.append(rf"  \mathrlap{{{left.s}}} \\")
            left = Tex("", width=0.0)
        for k, piece in enumerate(pieces):
            head = f"  {left.s} &{RELATIONS[relation]} " if k == 0 else r"  &\qquad "
            rows.append(head + piece + (f" {mark}" if k == len(pieces) - 1 else "") + r" \\")
    if rows:
        rows[-1] = rows[-1].removesuffix(r" \\")
    return rows


def _text(s: str) -> str:
    """Plain text inside ``\\text{}``."""
    return "".join({"\\": r"\textbackslash{}", "_": r"\_", "&": r"\&", "%": r"\%", "#": r"\#", "$": r"\$",
                    "{": r"\{", "}": r"\}", "^": r"\^{}", "~": r"\~{}"}.get(ch, ch) for ch in s)


def derivation_to_latex(result: CheckResult) -> str:
    """An ``align*`` block (needs amsmath and mathtools; page breaks allowed inside it), one row per step
    with a status mark and the step's id; products keep their order (:func:`expr_latex`)."""
    lines = [r"% " + result.derivation.title, r"% needs \usepackage{amsmath,amssymb,mathtools}",
             r"{\allowdisplaybreaks", r"\begin{align*}"]
    lines += align_lines((s.id, s.lhs or None, s.relation, s.rhs, s.status) for s in result.steps)
    lines.append(r"\end{align*}}")
    lines.append(f"% {'valid' if result.valid else 'not valid'}: {result.claim_detail}")
    return "\n".join(lines)
