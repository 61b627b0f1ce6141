"""Model families (docs/theory.md §0, §7, §8): each maps m parameters to n outputs."""

from plproof.models.activations import ACTIVATIONS, Activation
from plproof.models.base import Model
from plproof.models.linear import Linear
from plproof.models.mlp import MLP
from plproof.models.callable_model import CallableModel
from plproof.models.sympy_model import SympyModel
from plproof.models.torch_model import TorchModel
from plproof.models.two_layer import RandomFeatures, TwoLayer

__all__ = ["ACTIVATIONS", "Activation", "CallableModel", "Linear", "MLP", "Model", "RandomFeatures",
           "SympyModel", "TorchModel", "TwoLayer"]
