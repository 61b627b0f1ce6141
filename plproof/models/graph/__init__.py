"""Networks built from smooth operations: a layer graph evaluated in every arithmetic (docs/theory.md §0, §14).

ops: the operations (dense, convolution, pooling, reshape, activation, scaling, addition, concatenation),
each with its reverse-mode derivative; network: the LayerGraph that wires them and the Network model on data.
"""

from plproof.models.graph.network import LayerGraph, Network

__all__ = ["LayerGraph", "Network"]
