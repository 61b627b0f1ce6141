"""Exact worst-case rates of GD on PL classes from performance-estimation duals (docs/theory.md §6.4, §6.5).

- :func:`rate_certificate`: solve the PEP with PEPit (extra ``pep``), rationalise its dual, seal a ``rate``
  certificate that ``plproof verify`` re-checks in exact rationals without PEPit.
- :func:`plproof.rates.sweep.sweep` and :func:`plproof.rates.sweep.figure`: the rate curve over step sizes.
- :func:`plproof.rates.ball.tighter_rate`: the certified one-step rate for given mu, beta, h from the shipped
  certificates, and the hypotheses it needs on a ball.
"""

from plproof.rates.certificate import rate_certificate

__all__ = ["rate_certificate"]
