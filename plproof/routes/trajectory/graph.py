"""The run route on a layer-graph Network (docs/rigor.md §10, layer graphs): what it checks beyond the ball bounds.

The generic recipe (:class:`~plproof.routes.trajectory.generic.MidRadGD`) takes a Network as it is: the graph's
F, DF^T r and K evaluate in midpoint-radius arithmetic (plproof.verify.midrad) like in every other namespace, and
its ball bounds are the per-layer bounds of docs/rigor.md §2.7 (plproof.theory.graph_ball.GraphBounds), re-centred
at anchors and at w~_T. The verifier re-runs the same step on the graph rebuilt from the certificate and bounds
the balls by its own plproof.verify.graph. A graph is taken when both sides cover every node.
"""

from __future__ import annotations

from plproof.models.graph import Network
from plproof.models.graph.ops import Activate
from plproof.verify.mlp import SIGMA


def graph_obstacle(model: Network) -> str | None:
    """Why the run route cannot certify this Network although its ball bounds are verified, or None: a node that is
    not C^2, or an activation whose graph bounds the verifier does not re-check (plproof.verify.graph)."""
    why = model.smooth_obstacle
    if why:
        return f"{why}, so no Hessian bound over a ball exists (docs/theory.md §9)"
    for k, node in enumerate(model.graph.nodes):
        if isinstance(node.op, Activate) and node.op.activation.name not in SIGMA:
            return (f"node {k}: activation {node.op.activation.name!r} has no graph bounds in the independent verifier "
                    f"(plproof.verify.graph: {', '.join(SIGMA)}), so its run certificate could not be re-checked")
    return None
