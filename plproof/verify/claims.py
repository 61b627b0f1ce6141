"""Claims as data: a theorem id (with its convention) and the re-checked numbers; the words are rendered here.

The producer stores ``claim = {"theorem", "words", "symbols"}``; the verifier renders words and symbols
from the theorem id and the evidence it re-derived, and rejects a certificate whose stored text differs.
The convention is part of the theorem id (docs/theory.md §1.4): a convention-B mu (= 2 lambda_min) can
only stand under the convention-B inequality. Printed bounds round outward (lower bounds down, upper up).
"""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_FLOOR, Context, Decimal
from fractions import Fraction

from plproof.verify.exact import Failure

#: theorem id -> (docs reference, symbols); ids end in /A or /B, the convention of docs/theory.md §1.4
THEOREMS = {
    "gd-ball/A": ("docs/theory.md §2.5",
                  "forall w in B(w0,R): 1/2 ||grad L(w)||^2 >= mu L(w);  R >= 2 sqrt(2 L0/mu)/(2 - beta eta)  =>  "
                  "exists w* in B(w0,R): F(w*) = y;  L_t <= (1 - eta mu (2 - beta eta))^t L0"),
    "gd-ball/B": ("docs/theory.md §1.4, §2.5",
                  "forall w in B(w0,R): ||grad L(w)||^2 >= mu L(w);  R >= 2 sqrt(4 L0/mu)/(2 - beta eta)  =>  "
                  "exists w* in B(w0,R): F(w*) = y;  L_t <= (1 - eta mu (2 - beta eta)/2)^t L0"),
    "sgd-ball/A": ("docs/theory.md §3",
                   "forall w in B(w0,R): 1/2 ||grad L(w)||^2 >= mu L(w), ||Hess l_i(w)|| <= beta, ||grad f_i(w)||^2 <= beta;  "
                   "eta <= mu/(beta (n beta + mu (s - 1))), R >= 2 n sqrt(2 beta L0)/(mu delta)  =>  with probability "
                   ">= 1 - delta: w_t in B(w0,R) for all t, w_t -> w*, F(w*) = y;  E[L_t 1{w_0..w_t in B}] <= "
                   "(1 - mu s eta/n)^t L0"),
    "gd-run/A": ("docs/theory.md §12.1",
                 "||w_T - w~_T|| <= e_T;  B(w_T, R_T - e_T): 1/2 ||grad L||^2 >= mu_T L, R_T - e_T > rho_bar/(sqrt(mu_T) c_T)"
                 "  =>  w_t -> w* in B(w~_T, R_T), F(w*) = y;  L_t <= (1 - 2 c_T eta mu_T)^(t-T) rho_bar^2/2"),
    "sgd-run/A": ("docs/theory.md §12.6",
                  "||w_T - w~_T|| <= e_T (w_t exact SGD with the sampler's B_t);  B(w_T, R_T - e_T): 1/2 ||grad L||^2 >= "
                  "mu_T L, R_T - e_T > rho_bar/(sqrt(mu_T) c_T), c_T = 1 - beta_T eta_c/2  =>  exists w* in B(w~_T, R_T), "
                  "F(w*) = y;  GD from w_T with eta_c: L_t <= (1 - 2 c_T eta_c mu_T)^(t-T) rho_bar^2/2"),
    "derivation": ("docs/derivations.md", ""),
    "pl-gd-rate/A": ("docs/theory.md §6.4",
                     "forall f in class(L, mu), x_0: x_{k+1} = x_k - h grad f(x_k)  =>  f(x_N) - f* <= tau (f(x_0) - f*)"),
}

#: rate certificates: the class of functions each ``inputs.class`` proves its rate for (docs/theory.md §6.4)
RATE_CLASSES = {
    "pl-cheap": "every f with L-Lipschitz gradient and 1/2 ||grad f||^2 >= mu (f - f*), f* = inf f",
    "pl-expensive": ("every f satisfying the necessary conditions of Rubbens-Hendrickx-Taylor 2025 Prop. 3.4 for "
                     "L-smooth mu-PL functions (cited, not re-proved)"),
}


def bound(x: float, side: str) -> str:
    """``x`` at 6 significant digits, rounded down for a lower bound (``lo``) and up for an upper one (``hi``)."""
    ctx = Context(prec=6, rounding=ROUND_FLOOR if side == "lo" else ROUND_CEILING)
    return f"{ctx.plus(Decimal(x)):g}"


def _q(ev: dict, name: str, side: str) -> str:
    return bound(float(ev["quantities"][name][side]), side)


def _failed(ev: dict) -> str:
    names = [p["name"] for p in ev["premises"] if p["status"] != "held"]
    return ", ".join(names) or "none"


def _continued(ev: dict, st: dict) -> str:
    """What an SGD run certificate says of SGD continued past T (docs/theory.md §12.6)."""
    if "eta_S" not in ev["quantities"]:
        return "SGD continued past T is not covered"
    return (f"with probability >= {st['confidence']}, SGD continued from w_T with fresh i.i.d. uniform batches of "
            f"{st['batch_size']} and any step eta <= {_q(ev, 'eta_S', 'lo')} converges to a global minimiser within "
            f"{_q(ev, 'R_S', 'hi')} of w~_T, with E[L(w_(T+t)) 1{{w_T..w_(T+t) in the ball}}] <= "
            f"(1 - {_q(ev, 'k_S', 'lo')} eta)^t L(w_T) "
            "(docs/theory.md §3, §12.6)")


def render(theorem: str, ev: dict, title: str = "") -> tuple[str, str]:
    """The claim's words and symbols for ``theorem`` from the re-derived evidence ``ev``."""
    if theorem not in THEOREMS:
        raise Failure(f"claim: unknown theorem {theorem!r} (known: {', '.join(THEOREMS)})")
    words, symbols = _render(theorem, ev, title)
    if ev.get("rigor") == "sampled" and ev.get("verdict") == "certified":
        words = f"estimated from samples, not proved: {words}"  # the words follow the level (docs/theory.md §10)
    return words, symbols


def _render(theorem: str, ev: dict, title: str) -> tuple[str, str]:
    ref, symbols = THEOREMS[theorem]
    verdict = ev.get("verdict")
    if theorem == "derivation":
        return title, ""
    if theorem.startswith("pl-gd-rate"):
        st = ev["setting"]
        return (f"for {RATE_CLASSES[st['class']]}, with L = {st['L']} and mu = {st['mu']}: N = {st['steps']} GD "
                f"steps x_(k+1) = x_k - h grad f(x_k) with h = {st['step']} give f(x_N) - f* <= tau (f(x_0) - f*) with "
                f"tau = {st['tau']} <= {_q(ev, 'tau', 'hi')}, proved exactly; the descent lemma gives "
                f"{float(Fraction(st['descent'])):.6g} ({ref})"), symbols
    if verdict == "not certifiable":
        return f"PL* cannot be certified for this problem: {_failed(ev)} fails ({ref})", symbols
    if theorem.startswith("gd-ball"):
        if verdict != "certified" and "R" not in ev["quantities"]:  # stopped before any radius (lambda0 unproved)
            return f"not certified: {_failed(ev)} (hypotheses of {ref})", symbols
        at = f"R = {_q(ev, 'R', 'hi')} and eta = {_q(ev, 'step', 'hi')}"
        if verdict != "certified":
            return f"not certified at {at}: {_failed(ev)} (hypotheses of {ref})", symbols
        form = "1/2 ||grad L||^2 >= mu L" if theorem.endswith("/A") else "||grad L||^2 >= mu L (convention B)"
        return (f"L(w) = 1/2 ||F(w) - y||^2 is mu-PL* on B(w0, R) ({form}) with mu >= {_q(ev, 'mu', 'lo')} at {at}; "
                f"a solution of F(w) = y lies in the ball, and GD from w0 with step eta stays in it with "
                f"L(w_t) <= {_q(ev, 'rate', 'hi')}^t L(w0) ({ref})" + (
                    f"; by the exact one-step certificate, L(w_t) <= {_q(ev, 'rate_exact', 'hi')}^t L(w0) "
                    "(docs/theory.md §6.5)" if "rate_exact" in ev["quantities"] else "")), symbols
    if theorem.startswith("sgd-ball"):
        return _sgd_words(ev, ref), symbols
    sgd = ev.get("setting", {}).get("method") == "sgd"
    if sgd != (theorem == "sgd-run/A"):
        raise Failure(f"claim: theorem {theorem!r} does not describe this {'SGD' if sgd else 'GD'} run")
    if verdict != "certified":
        return f"not certified: {_failed(ev)} ({ref})", symbols
    T = int(ev["quantities"]["T"]["hi"])
    if sgd:
        st = ev["setting"]
        how = "i.i.d. uniform with repetition" if st["sampler"] == "iid" else "in epochs of a shuffled permutation"
        return (f"the exact SGD iterates w_(t+1) = w_t - eta sum_(i in B_t) grad l_i(w_t) from w0 with eta = "
                f"{_q(ev, 'step', 'hi')}, the batches B_t of {st['batch_size']} of the n = {st['n']} indices drawn "
                f"{how} ({st['sampler']!r}) from seed {st['seed']} by numpy's Generator(PCG64), satisfy "
                f"||w_T - w~_T|| <= {_q(ev, 'e_T', 'hi')} for the stored float iterate w~_T at T = {T}; a global "
                f"minimiser w* with F(w*) = y lies within {_q(ev, 'R_T', 'hi')} of w~_T, and exact GD from w_T with "
                f"step eta_c = {_q(ev, 'continuation_step', 'hi')} converges to it with L(w_t) <= "
                f"{_q(ev, 'rate', 'hi')}^(t - {T}) rho_bar^2/2 for t >= {T} ({ref}); " + _continued(ev, st)), symbols
    return (f"exact GD from w0 with step eta = {_q(ev, 'step', 'hi')} converges to w* with F(w*) = y and "
            f"||w* - w~_T|| <= {_q(ev, 'R_T', 'hi')}, w~_T the stored float iterate at T = {T}; "
            f"||w_T - w~_T|| <= {_q(ev, 'e_T', 'hi')} and L(w_t) <= {_q(ev, 'rate', 'hi')}^(t - {T}) "
            f"rho_bar^2/2 for t >= {T} ({ref})"), symbols


def _sgd_words(ev: dict, ref: str) -> str:
    """The SGD ball claim (docs/theory.md §3) in words, from the re-derived numbers and the setting, stated exactly."""
    s, conf = ev["setting"]["batch_size"], _exact(Fraction(ev["setting"]["confidence"]))
    if "R" not in ev["quantities"]:  # stopped at the centre (lambda0 > 0 not proved)
        return f"SGD with mini-batches of size s = {s} not certified: {_failed(ev)} (hypotheses of {ref})"
    at = f"R = {_q(ev, 'R', 'hi')}, batch size s = {s} and step eta = {_q(ev, 'step', 'hi')}"
    if ev.get("verdict") != "certified":
        return f"SGD not certified at {at}, confidence {conf}: {_failed(ev)} (hypotheses of {ref})"
    return (f"with probability >= {conf}, SGD on L(w) = sum_i 1/2 (f_i(w) - y_i)^2 from w0 with mini-batches of size "
            f"s = {s} drawn i.i.d. uniformly and step eta = {_q(ev, 'step', 'hi')} stays in "
            f"B(w0, {_q(ev, 'R_sgd', 'hi')}) and converges to a w* in it with F(w*) = y, and "
            f"E[L(w_t) 1{{w_0..w_t in the ball}}] <= {_q(ev, 'rate', 'hi')}^t L(w0): on B(w0, R), R = {_q(ev, 'R', 'hi')}, "
            f"L is mu-PL* with mu >= {_q(ev, 'mu', 'lo')} and each l_i is beta-smooth with beta <= {_q(ev, 'beta', 'hi')} "
            f"and ||grad f_i||^2 <= beta; for the mean loss L/n: mu/n >= {_q(ev, 'mu_mean', 'lo')}, the same iterates "
            f"with step {_q(ev, 'step_mean', 'hi')} on the batch-mean gradient, or learning rate "
            f"{_q(ev, 'step_mse', 'hi')} with torch.nn.MSELoss() ({ref})")


def _exact(q: Fraction) -> str:
    """q as a terminating decimal where it has one (19/20 -> 0.95), else as p/q."""
    den = q.denominator
    for p in (2, 5):
        while den % p == 0:
            den //= p
    if den != 1:
        return f"{q.numerator}/{q.denominator}"
    digits = 0
    while (q * 10**digits).denominator != 1:
        digits += 1
    return str(Decimal(int(q * 10**digits)).scaleb(-digits))
