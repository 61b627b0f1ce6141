"""Hypothesis settings profiles: ``ci`` (fast default) and ``thorough`` (certification runs)."""

from __future__ import annotations

from hypothesis import HealthCheck, settings

CI = "ci"
THOROUGH = "thorough"


def register() -> None:
    """Register the profiles; ``ci`` is loaded unless ``--hypothesis-profile`` picks another."""
    settings.register_profile(CI, max_examples=25, deadline=None, derandomize=True,
                              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    settings.register_profile(THOROUGH, max_examples=1000, deadline=None,
                              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
