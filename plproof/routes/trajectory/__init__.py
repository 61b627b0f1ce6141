"""The trajectory (run) route, docs/theory.md §12: the float recipe, its error bounds, the terminal ball, the driver."""

from plproof.routes.trajectory.certify import certify_run, default_sgd_step, default_step
from plproof.routes.trajectory.recipe import plain_run

__all__ = ["certify_run", "default_sgd_step", "default_step", "plain_run"]
