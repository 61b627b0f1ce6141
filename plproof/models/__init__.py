"""Model families (docs/theory.md §0, §7, §8): each maps m parameters to n outputs.

Names load lazily, so importing one family's formula module does not load the adapters (torch, SymPy).
"""

from plproof._lazy import attach

__getattr__, __dir__, __all__ = attach(__name__, {
    "ACTIVATIONS": "plproof.models.activations", "Activation": "plproof.models.activations",
    "Model": "plproof.models.base", "Linear": "plproof.models.linear", "MLP": "plproof.models.mlp",
    "CallableModel": "plproof.models.callable_model", "SympyModel": "plproof.models.sympy_model",
    "TorchModel": "plproof.models.torch_model", "from_torch": "plproof.models.torch_model",
    "JaxModel": "plproof.models.jax_model", "RandomFeatures": "plproof.models.two_layer",
    "TwoLayer": "plproof.models.two_layer",
    "LayerGraph": "plproof.models.graph", "Network": "plproof.models.graph",
})
