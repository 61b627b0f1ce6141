"""Hypothesis settings profiles: ``ci`` (fast, derandomised default) and ``thorough`` (certification runs).

Select one with ``pytest --hypothesis-profile thorough`` (the plproof pytest plugin registers both).
When no profile is chosen, the plugin runs properties marked ``plproof`` under ``ci`` (in any
project, not only this repository); other tests keep Hypothesis's defaults. Neither profile uses the
example database, so a run depends only on the profile and the seed: ``ci`` draws its examples from
each test's source (derandomised), ``thorough`` from ``--hypothesis-seed``.
"""

from __future__ import annotations

from hypothesis import HealthCheck, settings

CI = "ci"
THOROUGH = "thorough"
PROFILES = (CI, THOROUGH)

_QUIET = [HealthCheck.too_slow, HealthCheck.data_too_large]


def register() -> None:
    """Register ``ci`` (25 examples per property) and ``thorough`` (1000 per property); loads neither."""
    settings.register_profile(CI, max_examples=25, deadline=None, derandomize=True, database=None,
                              suppress_health_check=_QUIET)
    settings.register_profile(THOROUGH, max_examples=1000, deadline=None, database=None,
                              suppress_health_check=_QUIET)
