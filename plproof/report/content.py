"""What a report says, whatever its format: paragraphs of text and maths, tables, figure captions.

A paragraph is a list of segments ``(kind, text)``: ``t`` plain text, ``m`` inline LaTeX maths, ``d`` display
maths, ``c`` code (paths, digests). :mod:`plproof.report.text` renders them as Markdown, LaTeX or HTML with
MathML. Claims are rendered from the structured claim (``claim.theorem``) and the re-checked evidence,
never from the claim's words; every printed bound is rounded outward (a lower bound down, an upper bound up)
from the exact stored value, so printing never makes a bound stronger.
"""

from __future__ import annotations

from plproof.errors import PlproofError

import hashlib
import re
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_EVEN, Context, Decimal

from plproof.certificate.format import canonical_json, decode_number
from plproof.symbolic.render import Unprintable, expr_latex, name_latex, statement_latex

Seg = tuple[str, str]
Para = list[Seg]


def t(s: str) -> Seg:
    return ("t", s)


def m(s: str) -> Seg:
    return ("m", s)


def d(s: str) -> Seg:
    return ("d", s)


def c(s: str) -> Seg:
    return ("c", s)


@dataclass
class Table:
    """A captioned table: ``align`` per column is ``l``, ``r`` (numbers) or ``p`` (wrapped text sharing the
    rest of the line; a ``long`` table, which may break across pages, gives each its share in ``widths``)."""

    label: str
    caption: Para
    head: list[str]
    align: str
    rows: list[list[Para]]
    widths: dict[int, float] = field(default_factory=dict)
    long: bool = False


@dataclass
class Figure:
    """A figure written as ``stem.png`` and ``stem.pdf``, with its caption and a stable label."""

    stem: str
    label: str
    caption: Para


@dataclass
class Entry:
    """One certificate of the report: its name (the file stem), the certificate, the re-check outcome,
    the folder it was read from, and its figures once drawn."""

    name: str
    cert: dict
    status: str
    base: object = None
    figures: list[Figure] = field(default_factory=list)

    @property
    def slug(self) -> str:
        """The name in lower-case letters, digits and hyphens (file stems of its figures)."""
        return re.sub(r"[^a-z0-9]+", "-", self.name.lower()).strip("-")[:48].rstrip("-")

    @property
    def label(self) -> str:
        """Stable across runs and reorderings: the name and the first 8 hex digits of the digest."""
        return f"plproof-{self.slug}-{self.cert['digest'].split(':')[-1][:8]}"


# ---------------------------------------------------------------- numbers
def _rounded(v: object, side: str) -> Decimal | float:
    """A stored number at 6 significant digits, rounded down for ``lo`` and up for ``hi`` (exactly, from
    its rational value); integers below 10^7 and infinities as they are."""
    x = decode_number(v)
    if isinstance(x, float):
        return x
    if x.denominator == 1 and abs(x.numerator) < 10**7:
        return Decimal(x.numerator)
    rounding = {"lo": ROUND_FLOOR, "hi": ROUND_CEILING}.get(side, ROUND_HALF_EVEN)
    return Context(prec=6, rounding=rounding).divide(Decimal(x.numerator), Decimal(x.denominator))


def _digits(dec: Decimal) -> str:
    text = f"{dec:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def number(v: object, side: str = "nearest") -> str:
    """A stored number as LaTeX at 6 significant digits: rounded down for ``lo``, up for ``hi``."""
    dec = _rounded(v, side)
    if isinstance(dec, float):
        return r"\infty" if dec > 0 else r"-\infty"
    exp = dec.adjusted() if dec else 0
    if -4 <= exp < 7:
        return _digits(dec)
    mant = _digits(dec.scaleb(-exp))
    return (f"{mant} \\times " if mant != "1" else "") + f"10^{{{exp}}}"


def plain_number(v: object, side: str = "nearest") -> str:
    """The same number as plain text (legends, notes)."""
    dec = _rounded(v, side)
    return f"{dec.normalize():g}" if isinstance(dec, Decimal) else str(dec)


def q(cert: dict, name: str, side: str) -> str:
    """Quantity ``name`` of the evidence as LaTeX: its ``lo`` or ``hi`` side rounded outward, or ``nearest``
    (the ``hi`` side rounded to nearest, for values stated with an approximately-equal sign)."""
    stored = cert["evidence"]["quantities"][name]
    return number(stored["hi" if side == "nearest" else side], side)


# ---------------------------------------------------------------- quantities and premises
#: quantity -> (symbol, what it is); symbols of convention A (docs/theory.md §1.4)
QUANTITIES: dict[str, tuple[str, str]] = {
    "lambda0": (r"\lambda_{\min}(K(w_0))", "smallest eigenvalue of the tangent kernel at w0"),
    "L0": (r"\mathcal{L}(w_0)", "loss at w0"),
    "residual_norm_w0": (r"\lVert F(w_0) - y\rVert", "residual at w0"),
    "jacobian_norm_w0": (r"\lVert DF(w_0)\rVert", "Jacobian norm at w0"),
    "R": ("R", "radius of the ball"),
    "step": (r"\eta", "GD step"),
    "delta": (r"\delta(R)", "Jacobian change over the ball"),
    "epsilon": (r"\epsilon(R)", "Hessian bound over the ball"),
    "mu": (r"\mu", "PL* constant on the ball (inf of the smallest kernel eigenvalue)"),
    "L_F": ("L_F", "sup of the Jacobian norm over the ball"),
    "beta": (r"\beta", "smoothness of the loss on the ball and sublevel set"),
    "beta_ball": (r"\beta_{B}", "smoothness of the loss on the whole ball"),
    "R_fl": (r"R_{\mathrm{fl}}", "radius the theorem needs"),
    "rate": (r"\rho", "loss contraction factor per step"),
    "rate_exact": (r"\tau", "one-step factor from the exact PEP certificate (docs/theory.md §6.5)"),
    "R_v1": (r"R_{\mathrm{v1}}", "radius of LZB v1 (for comparison)"),
    "R_v2": (r"R_{\mathrm{v2}}", "radius of LZB v2 (for comparison)"),
    "R_existence": (r"\sqrt{2\mathcal{L}(w_0)/\mu}", "distance from w0 within which a solution lies"),
    "T": ("T", "steps of the stored run"),
    "e_T": ("e_T", "distance of the exact iterate from the stored one at T"),
    "R_T": ("R_T", "radius of the terminal ball"),
    "lambda_T": (r"\lambda_{\min}(K(\tilde w_T))", "smallest kernel eigenvalue at the stored iterate"),
    "jacobian_norm_T": (r"\lVert DF(\tilde w_T)\rVert", "Jacobian norm at the stored iterate"),
    "residual_norm_T": (r"\lVert F(\tilde w_T) - y\rVert", "residual at the stored iterate"),
    "mu_T": (r"\mu_T", "PL* constant on the terminal ball"),
    "L_F_T": (r"L_{F,T}", "sup of the Jacobian norm over the terminal ball"),
    "rho_bar": (r"\bar\rho", "residual bound at the exact iterate at T"),
    "beta_T": (r"\beta_T", "smoothness on the terminal ball"),
    "c_T": (r"c_T", r"1 - beta_T eta/2"),
    "row_norm_w0": (r"\max_i\lVert\nabla f_i(w_0)\rVert", "largest per-example gradient at w0"),
    "grad_bound": (r"\sup_B\max_i\lVert\nabla f_i\rVert", "largest per-example gradient on the ball"),
    "R_sgd": (r"R_{\mathrm{sgd}}", "radius the SGD theorem needs (docs/theory.md §3)"),
    "eta_star": (r"\eta^*", "largest step of the SGD theorem"),
    "mu_mean": (r"\mu/n", "PL* constant of the mean loss"),
    "step_mean": (r"s\eta", "SGD step on the batch-mean gradient (mean loss)"),
    "step_mse": (r"s\eta/2", "SGD learning rate with torch.nn.MSELoss()"),
    "batch_size": ("s", "mini-batch size (exact)"),
    "confidence": (r"1 - \delta", "probability of the SGD claim"),
    "continuation_step": (r"\eta_c", "GD step of the continuation past T (docs/theory.md §12.6)"),
    "tau": (r"\tau", "worst-case factor f(x_N) - f* <= tau (f(x_0) - f*) proved by the PEP certificate (§6.4)"),
    "descent": (r"\rho_{\mathrm{desc}}", "the descent lemma's factor for the same steps (for comparison)"),
}
#: what a quantity means in an SGD ball certificate where it differs from GD's (docs/theory.md §3)
SGD_MEANINGS = {"step": "SGD step on the sum loss", "beta": "smoothness of every example's loss on the ball",
                "rate": "expected loss contraction factor per step"}
#: the same for a seeded SGD run certificate (docs/theory.md §12.6): after T its rate is the GD continuation's
SGD_RUN_MEANINGS = {"step": "SGD step of the stored run", "rate": "loss contraction factor per step of the GD continuation"}
#: the order of the rows of a problem table (then any other quantity)
PROBLEM_ORDER = ("lambda0", "L0", "mu", "beta", "L_F", "epsilon", "delta", "R", "R_fl", "step", "rate")

#: premise names of the verifier -> a paragraph
PREMISES: dict[str, Para] = {
    "m >= n": [m(r"m \ge n"), t(" (at least as many parameters as equations)")],
    "F is C^2": [m("F"), t(" is "), m("C^2")],
    "lambda0 > 0": [m(r"\lambda_{\min}(K(w_0)) > 0")],
    "mu > 0 on the ball": [m(r"\mu > 0"), t(" on the ball")],
    "0 < eta beta < 2": [m(r"0 < \eta\beta < 2")],
    "R >= R_fl": [m(r"R \ge R_{\mathrm{fl}}")],
    "mu_T > 0": [m(r"\mu_T > 0")],
    "0 < beta_T eta < 2": [m(r"0 < \beta_T\eta < 2")],
    "R_T - e_T > rho_bar/(sqrt(mu_T) c_T)": [m(r"R_T - e_T > \bar\rho/(\sqrt{\mu_T}\,c_T)")],
}


def premise(name: str) -> Para:
    return PREMISES.get(name, [t(name)])


def joined(paras: list[Para], word: str = "and") -> Para:
    """``a, b and c`` from paragraphs."""
    out: Para = []
    for i, p in enumerate(paras):
        if i:
            out.append(t(f" {word} " if i == len(paras) - 1 else ", "))
        out += p
    return out


# ---------------------------------------------------------------- model and data
def data_key(cert: dict) -> str:
    """8 hex digits naming the data set (X and y) of a certificate: certificates share data iff equal."""
    model = cert["inputs"]["model"]
    return hashlib.sha256(canonical_json([model.get("X"), cert["inputs"]["y"]]).encode()).hexdigest()[:8]


def model_words(cert: dict) -> Para:
    """The model and its data, as a reader needs them in a caption."""
    model = cert["inputs"]["model"]
    fam, n, p = model.get("family"), model.get("n_outputs"), model.get("n_params")
    X = model.get("X")
    d_in = X["shape"][1] if isinstance(X, dict) and len(X.get("shape", [])) == 2 else None
    data = [t(f"; data set {data_key(cert)}: "), m(f"n = {n}"), t(" points")] + (
        [t(" in "), m(f"d = {d_in}")] if d_in and fam != "linear" else [])
    if fam == "linear":
        return [t("linear model "), m(r"F(w) = Xw"), t(f" with X of size {n}×{p}")] + data
    if fam in ("two_layer", "random_features"):
        train = {"both": "both layers trained", "hidden": "hidden layer trained",
                 "output": "output layer trained"}.get(model.get("train", "output"), "")
        kind = "random-features" if fam == "random_features" else "two-layer"
        return [t(f"{kind} {model.get('activation')} network of width "), m(f"m = {model.get('width')}"),
                t(f" ({model.get('init', 'standard')} init, {train}; {p} parameters)")] + data
    if fam == "mlp":
        return [t(f"{model.get('activation')} MLP with hidden widths {model.get('widths')} ({p} parameters)")] + data
    if fam == "sympy" and model.get("outputs"):
        try:
            from plproof.models.sympy_model import SympyModel  # rebuilds the stored expression trees

            outs = [expr_latex(str(e)) for e in SympyModel.from_description(model).exprs]
        except (Unprintable, PlproofError):
            outs = []
        if outs:
            return [t("SymPy model "), m(r"F(w) = \begin{pmatrix}" + r" \\ ".join(outs) + r"\end{pmatrix}"
                                            if len(outs) > 1 else f"F(w) = {outs[0]}"),
                    t(f" in {p} parameters, {n} equations")]
    return [t(f"{model.get('class', fam)} model ({p} parameters, {n} equations)")]


# ---------------------------------------------------------------- claims
def _convention(cert: dict) -> str:
    theorem = cert["claim"]["theorem"]
    return theorem.rsplit("/", 1)[-1] if "/" in theorem else "A"


def _failed(cert: dict) -> list[Para]:
    return [premise(p["name"]) for p in cert["evidence"].get("premises", []) if p["status"] != "held"]


def _ball_claim(cert: dict) -> list[Para]:
    ev, conv = cert["evidence"], _convention(cert)
    ref = "docs/theory.md §2.5" + (", §1.4" if conv == "B" else "")
    verdict = ev["verdict"]
    if verdict == "not certifiable":
        why = cert.get("record", {}).get("producer", {}).get("reason")
        one = len(_failed(cert)) == 1
        return [[t("Not certifiable: the premise" + ("" if one else "s") + " ")] + joined(_failed(cert))
                + [t(f" of the theorem of {ref} fail{'s' if one else ''}, so PL* cannot be certified for this "
                     "problem.")] + ([t(f" Producer's note (not re-checked): {why}.")] if why else [])]
    at = [m(rf"R \approx {q(cert, 'R', 'nearest')}"), t(" and step "), m(rf"\eta \approx {q(cert, 'step', 'nearest')}")]
    if verdict != "certified":
        return [[t("Not certified: at ")] + at + [t(", ")] + joined(_failed(cert))
                + [t(f" could not be proved (theorem of {ref}), so nothing is claimed.")]]
    half, four, rate = (r"\tfrac12", "2", r"1-\eta\mu(2-\beta\eta)") if conv == "A" else (
        "", "4", r"1-\tfrac12\eta\mu(2-\beta\eta)")
    return [
        [t(f"Certified ({ref}, convention {conv}): the square loss "),
         m(r"\mathcal{L}(w) = \tfrac12\lVert F(w) - y\rVert^2"), t(" is "), m(r"\mu"), t("-PL* on the ball "),
         m(r"B(w_0, R)"), t(", "), m(rf"R \approx {q(cert, 'R', 'nearest')}"), t(","),
         d(rf"{half}\lVert\nabla\mathcal{{L}}(w)\rVert^2 \ge \mu\,\mathcal{{L}}(w) \quad \text{{for all }} "
           rf"w \in B(w_0, R), \qquad \mu \ge {q(cert, 'mu', 'lo')}."),
         t("As "), m(rf"R \ge R_{{\mathrm{{fl}}}} = 2\sqrt{{{four}\mathcal{{L}}(w_0)/\mu}}\,/\,(2 - \beta\eta)"),
         t(" with "), m(rf"\beta \le {q(cert, 'beta', 'hi')}"), t(", a solution of "), m("F(w) = y"),
         t(" lies in the ball, and gradient descent from "), m("w_0"), t(" with step "),
         m(rf"\eta \approx {q(cert, 'step', 'nearest')}"), t(" stays in it with"),
         d(rf"\mathcal{{L}}(w_t) \le \bigl({rate}\bigr)^{{t}}\,\mathcal{{L}}(w_0) \le "
           rf"{q(cert, 'rate', 'hi')}^{{\,t}}\,\mathcal{{L}}(w_0).")]
        + ([t("By the exact one-step certificate of docs/theory.md §6.5 (re-checked in rationals), "),
            m(rf"\mathcal{{L}}(w_t) \le {q(cert, 'rate_exact', 'hi')}^{{\,t}}\,\mathcal{{L}}(w_0)"), t(".")]
           if "rate_exact" in cert["evidence"]["quantities"] else [])]


def _run_claim(cert: dict) -> list[Para]:
    ev = cert["evidence"]
    if ev["verdict"] != "certified":
        return [[t("Not certified (docs/theory.md §12.1): ")] + joined(_failed(cert))
                + [t(" could not be proved for the stored run, so nothing is claimed.")]]
    T = q(cert, "T", "hi")
    return [[t("Certified (docs/theory.md §12.1): exact gradient descent from "), m("w_0"), t(" with step "),
             m(rf"\eta \approx {q(cert, 'step', 'nearest')}"), t(" converges to a global minimiser "), m("w^*"),
             t(" ("), m("F(w^*) = y"), t("); the stored float iterate "), m(r"\tilde w_T"), t(" at "),
             m(f"T = {T}"), t(" satisfies"),
             d(rf"\lVert w_T - \tilde w_T\rVert \le {q(cert, 'e_T', 'hi')}, \qquad "
               rf"\lVert w^* - \tilde w_T\rVert \le {q(cert, 'R_T', 'hi')},"),
             t("and for "), m(rf"t \ge {T}"),
             d(rf"\mathcal{{L}}(w_t) \le {q(cert, 'rate', 'hi')}^{{\,t - {T}}}\,\bar\rho^2/2, \qquad "
               rf"\bar\rho \le {q(cert, 'rho_bar', 'hi')}.")]]


def _derivation_claim(cert: dict) -> list[Para]:
    ev, der = cert["evidence"], cert["inputs"]["derivation"]
    ref = der.get("reference") or "docs/derivations.md"
    head: Para = [t(f"{der.get('title') or cert['claim']['words']} ({ref}): "),
                  t("valid, " if ev["verdict"] == "valid" else "NOT valid, "),
                  t(f"{len(ev.get('steps', []))} steps checked exactly (table below).")]
    hyps = der.get("assumptions", {}).get("hypotheses", [])
    paras = [head]
    if hyps:
        paras.append([t("Under the hypotheses")] + [_display(_statement(h["statement"])) for h in hyps])
    claim = der.get("claim")
    if claim:
        proved = ev.get("claim_proved")
        paras.append([t("the claim" if hyps else "Claim"), t(" is proved by a chain of valid steps:" if proved else
                                                              " is NOT proved:"),
                      _display(_step_statement(claim.get("lhs"), claim["relation"], claim["rhs"]))])
    return paras


def _statement(text: str) -> Seg:
    """A hypothesis (an expression or comparison of the derivation language) as maths, or as code if the
    printer does not know its syntax."""
    try:
        return m(expr_latex(text))
    except Unprintable:
        return c(text)


def _step_statement(lhs: str | None, relation: str, rhs: str) -> Seg:
    try:
        return m(statement_latex(lhs, relation, rhs))
    except Unprintable:
        return c(f"{lhs or ''} {relation} {rhs}")


def _display(seg: Seg) -> Seg:
    return d(seg[1]) if seg[0] == "m" else seg


def _property_claim(cert: dict) -> list[Para]:
    """A property's claim is its test code (pinned by sha256); its words and symbols are the author's
    description, shown as such."""
    inp, ev, rec = cert["inputs"], cert["evidence"], cert.get("record", {})
    head: Para = [t("Property test "), c(f"{inp['code']['path'].rsplit('/', 1)[-1]}::{inp['test']}"),
                  t(f" {ev['verdict']} on {rec.get('examples', inp.get('max_examples'))} examples (profile "
                    f"{inp.get('profile')}, seed {inp.get('seed')}; rigor {cert['rigor']}: examples, not a proof"
                    f"{'; ' + inp['reference'] if inp.get('reference') else ''}). The test's own description: "),
                  t(" ".join(cert["claim"]["words"].split()))]
    symbols = cert["claim"].get("symbols")
    return [head + ([t(" In symbols: "), c(symbols), t(".")] if symbols else [])]


def claim(cert: dict) -> list[Para]:
    """The claim of a certificate as paragraphs of text and maths, from its theorem id and evidence."""
    theorem = cert["claim"]["theorem"]
    if theorem.startswith("gd-ball/"):
        return _ball_claim(cert)
    if theorem.startswith("gd-run/"):
        return _run_claim(cert)
    if cert["kind"] == "derivation":
        return _derivation_claim(cert)
    if cert["kind"] == "property":
        return _property_claim(cert)
    return [[t(f"{cert['claim']['words']} (verdict {cert['evidence']['verdict']}).")]]


def facts(entry: Entry) -> Para:
    """Model, verdict, rigor, the re-check and the digest."""
    cert = entry.cert
    out: Para = []
    if cert["kind"] in ("problem", "run"):
        out += [t("Model: ")] + model_words(cert) + [t(". ")]
    out += [t(f"Verdict: {cert['evidence']['verdict']}; overall rigor {cert['rigor']} (docs/theory.md §10). "
              f"Independent re-check: {entry.status}. Certificate ")]
    return out + [c(cert["digest"]), t(".")]


# ---------------------------------------------------------------- tables
def _cell_number(qd: dict, side: str) -> Para:
    return [m(number(qd[side], side))] if side in qd else [t("–")]


def quantity_table(entry: Entry) -> Table:
    """The re-checked quantities: symbol, meaning, lower and upper bound (outward rounded), rigor."""
    cert = entry.cert
    qs = cert["evidence"]["quantities"]
    order = [k for k in PROBLEM_ORDER if k in qs] + [k for k in qs if k not in PROBLEM_ORDER]
    rows = []
    for k in order:
        plain = r"\mathrm{" + k.replace("_", r"\_") + "}"  # a name the table does not know, shown as it is
        sym, what = QUANTITIES.get(k, (name_latex(k) if re.fullmatch(r"[A-Za-z0-9]+_?[A-Za-z0-9]*", k) else plain, ""))
        if k == "mu" and _convention(cert) == "B":
            what += " (convention B: twice it)"
        if cert["claim"]["theorem"].startswith("sgd-ball/"):
            what = SGD_MEANINGS.get(k, what)
        elif cert["claim"]["theorem"].startswith("sgd-run/"):
            what = SGD_RUN_MEANINGS.get(k, what)
        rows.append([[m(sym)], [t(what)], _cell_number(qs[k], "lo"), _cell_number(qs[k], "hi"), [t(qs[k]["rigor"])]])
    caption = [t(f"Re-checked quantities of {entry.name} (a lower bound of an infimum, an upper bound of a "
                 "supremum, both sides of an enclosed value; rounded outward to 6 digits). Certificate "),
               c(cert["digest"][:15]), t(".")]
    return Table(f"tab:{entry.label}", caption, ["quantity", "meaning", "lower", "upper", "rigor"], "lprrl", rows)


_STATUS = {"valid": "valid", "invalid": "INVALID", "unverified": "unverified"}


def derivation_table(entry: Entry) -> Table:
    """One row per step: id, statement (maths, products in order), justification, how it was checked."""
    rows = []
    producer = {p["id"]: p for p in entry.cert.get("record", {}).get("producer", {}).get("steps", [])}
    for s in entry.cert["evidence"].get("steps", []):
        s = {**producer.get(s["id"], {}), **s}  # how the producer proved it (method, scope) is its record
        how = f"{_STATUS.get(s['status'], s['status'])}: {s.get('method', '')}" + (
            f"; {s['scope']}" if s.get("scope") else "")
        kind, statement = _step_statement(s.get("lhs"), s["relation"], s["rhs"])
        rows.append([[t(s["id"])], [(kind, r"\displaystyle " + statement if kind == "m" else statement)],
                     [t(s.get("justification") or "")], [t(how)]])
    caption = [t(f"Steps of the derivation {entry.name}, each checked exactly (docs/derivations.md). Certificate "),
               c(entry.cert["digest"][:15]), t(".")]
    return Table(f"tab:{entry.label}", caption, ["step", "statement", "justification", "check"], "lppp", rows,
                 widths={1: 0.47, 2: 0.15, 3: 0.2}, long=True)


def property_table(entry: Entry) -> Table:
    """What was run: the test, its code's sha256, profile and seed, and the recorded examples and margin."""
    cert = entry.cert
    inp, rec = cert["inputs"], cert.get("record", {})
    margin = rec.get("smallest_margin")
    rows = [[[t("test")], [c(inp["test"])]],
            [[t("code sha256")], [c(inp["code"]["sha256"][:16])]],
            [[t("profile, seed")], [t(f"{inp.get('profile')}, {inp.get('seed')}")]],
            [[t("examples (recorded, not re-checked)")], [t(str(rec.get("examples", "–")))]],
            [[t("smallest margin (recorded, not re-checked)")],
             [m(number(margin)) if margin is not None else t("–")]]]
    caption = [t(f"Property test {entry.name}: re-run by the verifier with the recorded code; rigor "
                 f"{cert['rigor']}. Certificate "), c(cert["digest"][:15]), t(".")]
    return Table(f"tab:{entry.label}", caption, ["item", "value"], "pp", rows)


def table(entry: Entry) -> Table | None:
    """The table of an entry (None where the certificate has nothing to tabulate)."""
    kind = entry.cert["kind"]
    if kind in ("problem", "run"):
        return quantity_table(entry) if entry.cert["evidence"].get("quantities") else None
    if kind == "derivation":
        return derivation_table(entry)
    if kind == "property":
        return property_table(entry)
    return None


def plain(p: Para) -> str:
    """A paragraph as plain text (maths as its LaTeX source), for alt texts and logs."""
    return "".join(s for _, s in p)


__all__ = ["Entry", "Figure", "Para", "Seg", "Table", "c", "claim", "d", "data_key", "facts", "m",
           "model_words", "number", "plain", "plain_number", "q", "t", "table"]
