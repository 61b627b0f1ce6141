"""Model families (docs/theory.md §0, §7, §8): each maps m parameters to n outputs."""

from plproof.models.activations import ACTIVATIONS, Activation
from plproof.models.base import Model
from plproof.models.linear import Linear
from plproof.models.mlp import MLP
from plproof.models.two_layer import RandomFeatures, TwoLayer

__all__ = ["ACTIVATIONS", "Activation", "Linear", "MLP", "Model", "RandomFeatures", "TwoLayer"]
