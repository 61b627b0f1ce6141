"""A layer graph (the definition of f(x; theta)) and the network model F(w) = (f(x_k; w))_k on fixed inputs.

:class:`LayerGraph` records nodes (an operation of plproof.models.graph.ops and its input nodes, in topological
order) and parameter tensors (name, shape; trainable, or fixed at a given value). :class:`Network` is the
Model: w is the trainable tensors flattened row-major in the graph's order, and one definition evaluates
in every namespace of plproof.numeric.arith. DF, DF^T r and K = DF DF^T come from one reverse pass over the
graph on the whole batch (docs/theory.md §0, §14): the output's per-example cotangent (1 for DF and K, r_k for
DF^T r) is pulled back node by node, and each affine layer turns its cotangent into its parameter blocks.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np

from plproof.errors import InvalidInput
from plproof.models import activations
from plproof.models.ball import SampledBall
from plproof.models.base import HeldParameters, Model, bound_sets, check_finite_matrix, closed_form_family
from plproof.models.graph.ops import (PARAMETRISATIONS, Activate, Add, Affine, AvgPool, Concat, Conv, Dense, Input,
                                      Op, Reshape, Scale, Shape, size_of)
from plproof.models.two_layer import check_seed
from plproof.numeric.arith import Arith
from plproof.numeric.rigor import RigorLevel


@dataclass(frozen=True)
class Param:
    """A parameter tensor of the graph: trainable (a block of w), or ``fixed`` at the given value."""

    name: str
    shape: Shape
    fixed: np.ndarray | None = None

    @property
    def size(self) -> int:
        return size_of(self.shape)


@dataclass(frozen=True)
class Node:
    """One operation applied to the outputs of earlier nodes; ``shape`` is its per-example output shape."""

    op: Op
    inputs: tuple[int, ...]
    shape: Shape


def _tuple(value: "int | Sequence[int]", dims: int, what: str) -> Shape:
    out = (value,) * dims if isinstance(value, (int, np.integer)) else tuple(value)
    if len(out) != dims or not all(isinstance(v, (int, np.integer)) for v in out):
        raise InvalidInput(f"{what} must be an int or {dims} ints, got {value!r}")
    return tuple(int(v) for v in out)


class LayerGraph:
    """A directed acyclic graph of smooth operations: the definition of one network f(x; theta).

    Build it by calls that return node ids: ``g = LayerGraph((1, 8, 8)); h = g.conv(g.input, 4, 3, padding=1);
    h = g.activation(h, "tanh"); ...``. ``parametrisation`` is the default of the affine layers: "ntk"
    (y = W u / sqrt(fan_in) + b, weights drawn N(0, 1)) or "standard" (y = W u + b, weights drawn
    N(0, 1/fan_in)); biases are never scaled and are drawn like their layer's weights. The output is the last
    node, one number per example.
    """

    def __init__(self, input_shape: "int | Sequence[int]", parametrisation: str = "ntk") -> None:
        shape = _tuple(input_shape, 1, "input_shape") if isinstance(input_shape, (int, np.integer)) \
            else tuple(int(v) for v in input_shape)
        if not shape or min(shape) < 1:
            raise InvalidInput(f"input_shape must be positive sizes, e.g. (d,) or (1, 8, 8), got {input_shape!r}")
        if parametrisation not in PARAMETRISATIONS:
            raise InvalidInput(f"unknown parametrisation {parametrisation!r}: use one of {', '.join(PARAMETRISATIONS)}")
        self.parametrisation = parametrisation
        self.nodes: list[Node] = [Node(Input(shape), (), shape)]
        self.params: list[Param] = []

    # ------------------------------------------------------------------ building
    @property
    def input(self) -> int:
        """The id of the input node."""
        return 0

    @property
    def input_shape(self) -> Shape:
        return self.nodes[0].shape

    @property
    def output(self) -> int:
        """The id of the output node (the last one)."""
        return len(self.nodes) - 1

    def shape(self, node: int) -> Shape:
        """The per-example shape of a node's output."""
        return self.nodes[node].shape

    def node(self, op: Op, *inputs: int) -> int:
        """Append ``op`` applied to the given nodes; returns the new node's id."""
        if not inputs or any(not isinstance(i, (int, np.integer)) or not 0 <= i < len(self.nodes) for i in inputs):
            raise InvalidInput(f"inputs must be ids of existing nodes (0..{len(self.nodes) - 1}), got {inputs}")
        if any(p >= len(self.params) for p in op.params):
            raise InvalidInput("the operation reads a parameter the graph does not have")
        shape = op.bind([self.nodes[i].shape for i in inputs])
        self.nodes.append(Node(op, tuple(int(i) for i in inputs), shape))
        return len(self.nodes) - 1

    def parameter(self, name: str, shape: Shape, fixed: Any = None) -> int:
        """Declare a parameter tensor (trainable unless ``fixed`` gives its value); returns its index."""
        if any(p.name == name for p in self.params):
            raise InvalidInput(f"a parameter named {name!r} exists already")
        value = None
        if fixed is not None:
            value = np.array(fixed, dtype=np.float64).reshape(shape)
            if not np.isfinite(value).all():
                raise InvalidInput(f"the fixed value of {name!r} has NaN or Inf")
            value.flags.writeable = False
        self.params.append(Param(name, tuple(int(s) for s in shape), value))
        return len(self.params) - 1

    def _affine(self, op: Affine, x: int, name: str | None, bias: bool, kind: str,
                tensors: tuple[int, int | None] | None) -> int:
        """Bind ``op`` to x's shape and append it, reading the declared ``tensors`` (weight, bias or None) or
        new ones ``name.weight``/``name.bias``. A tensor is read by one layer only (K sums per-layer blocks)."""
        shape = op.bind([self.shape(x)])
        if tensors is None:
            label = name or f"{kind}{sum(isinstance(n.op, type(op)) for n in self.nodes)}"
            tensors = (self.parameter(f"{label}.weight", op.weight_shape()),
                       self.parameter(f"{label}.bias", (op.out_features,)) if bias else None)
        op.weight, op.bias = tensors
        op.params = (op.weight,) if op.bias is None else (op.weight, op.bias)
        expected = (op.weight_shape(), (op.out_features,))
        for j, want in zip(op.params, expected):
            if not 0 <= j < len(self.params) or self.params[j].shape != want:
                raise InvalidInput(f"the {kind} layer needs a tensor of shape {want}, got parameter {j}"
                                   f"{f' of shape {self.params[j].shape}' if 0 <= j < len(self.params) else ''}")
            if any(j in n.op.params for n in self.nodes):
                raise InvalidInput(f"parameter {self.params[j].name!r} is read by two layers (weight sharing)")
        self.nodes.append(Node(op, (x,), shape))
        return len(self.nodes) - 1

    def dense(self, x: int, out_features: int, bias: bool = True, parametrisation: str | None = None,
              name: str | None = None, tensors: tuple[int, int | None] | None = None) -> int:
        """y = c W x + b on flat x (torch.nn.Linear): weight ``name.weight`` (out x in), bias ``name.bias``, or
        the declared parameters ``tensors`` = (weight index, bias index or None)."""
        op = Dense(int(out_features), 0, None, parametrisation or self.parametrisation)
        return self._affine(op, x, name, bias, "dense", tensors)

    def conv(self, x: int, out_channels: int, kernel: "int | Sequence[int]", stride: "int | Sequence[int]" = 1,
             padding: "int | Sequence[int]" = 0, bias: bool = True, parametrisation: str | None = None,
             name: str | None = None, tensors: tuple[int, int | None] | None = None) -> int:
        """A 1-D or 2-D convolution of x (channels, spatial...) (torch.nn.Conv1d/2d, zero padding); weight
        (out, in, kernel...) as in torch; ``tensors`` as for :meth:`dense`."""
        dims = len(self.shape(x)) - 1
        if dims not in (1, 2):
            raise InvalidInput(f"a convolution takes (channels, length) or (channels, height, width), "
                               f"got {self.shape(x)}")
        op = Conv(int(out_channels), 0, None, parametrisation or self.parametrisation,
                  kernel=_tuple(kernel, dims, "kernel"), stride=_tuple(stride, dims, "stride"),
                  padding=_tuple(padding, dims, "padding"))
        return self._affine(op, x, name, bias, "conv", tensors)

    def avg_pool(self, x: int, kernel: "int | Sequence[int]", stride: "int | Sequence[int] | None" = None,
                 padding: "int | Sequence[int]" = 0) -> int:
        """Average pooling over windows (stride defaults to the kernel, as in torch)."""
        dims = len(self.shape(x)) - 1
        k = _tuple(kernel, dims, "kernel")
        return self.node(AvgPool(k, k if stride is None else _tuple(stride, dims, "stride"),
                                 _tuple(padding, dims, "padding")), x)

    def reshape(self, x: int, shape: "Sequence[int]") -> int:
        """The same entries with a new per-example shape (one entry may be -1, as in torch)."""
        shape = tuple(int(s) for s in shape)
        if shape.count(-1) == 1:
            known = size_of(tuple(s for s in shape if s != -1))
            shape = tuple(size_of(self.shape(x)) // max(known, 1) if s == -1 else s for s in shape)
        return self.node(Reshape(shape), x)

    def flatten(self, x: int) -> int:
        """The per-example tensor as a flat vector (torch.flatten(x, 1))."""
        return self.reshape(x, (size_of(self.shape(x)),))

    def activation(self, x: int, activation: "str | activations.Activation") -> int:
        """sigma(x) elementwise, sigma from plproof.models.ACTIVATIONS."""
        return self.node(Activate(activations.get(activation)), x)

    def scale(self, x: int, factor: float, divide: bool = False) -> int:
        """x * factor, or x / factor with ``divide``."""
        return self.node(Scale(float(factor), divide), x)

    def add(self, *xs: int) -> int:
        """x_1 + ... + x_k (a residual connection)."""
        return self.node(Add(), *xs)

    def concat(self, xs: Sequence[int], dim: int = 0) -> int:
        """Concatenation along the per-example axis ``dim`` (torch.cat(..., dim=dim + 1) on a batch)."""
        return self.node(Concat(int(dim)), *xs)

    # ------------------------------------------------------------------ properties
    @property
    def trainable(self) -> list[int]:
        """Indices of the trainable parameters, in the graph's order (the order of the blocks of w)."""
        return [j for j, p in enumerate(self.params) if p.fixed is None]

    @property
    def n_params(self) -> int:
        return sum(self.params[j].size for j in self.trainable)

    @property
    def smooth_obstacle(self) -> str | None:
        """Why f is not C^2 in (x, theta), naming the node; None when every operation is smooth."""
        for k, node in enumerate(self.nodes):
            why = node.op.smooth_obstacle
            if why:
                return f"node {k} ({type(node.op).__name__}): {why}"
        return None

    @property
    def ball_obstacle(self) -> str | None:
        """The first node whose operation the per-layer bounds over a ball do not cover (docs/rigor.md §2.7), or None."""
        for k, node in enumerate(self.nodes):
            if not node.op.ball_bounded:
                return (f"node {k} ({type(node.op).__name__}) has no proved bound over the ball (covered: the "
                        "operations of plproof.models.graph.ops)")
        return None

    def init(self, seed: int) -> np.ndarray:
        """w0 drawn from default_rng(seed): N(0, 1) entries (NTK) or N(0, 1/fan_in) (standard), per layer."""
        rng = np.random.default_rng(check_seed(seed))
        std = {}
        for node in self.nodes:
            if isinstance(node.op, Affine):
                s = 1.0 if node.op.parametrisation == "ntk" else float(np.sqrt(1.0 / node.op.fan_in))
                std.update({j: s for j in node.op.params})
        return np.concatenate([rng.standard_normal(self.params[j].size) * std.get(j, 1.0) for j in self.trainable])

    def describe(self) -> dict:
        """The graph as JSON: input shape, parameters (fixed values inline) and nodes with their inputs."""
        return {"input_shape": list(self.input_shape), "parametrisation": self.parametrisation,
                "params": [{"name": p.name, "shape": list(p.shape),
                            **({} if p.fixed is None else {"fixed": p.fixed.tolist()})} for p in self.params],
                "nodes": [{**n.op.describe(), "inputs": list(n.inputs)} for n in self.nodes[1:]]}

    @classmethod
    def from_description(cls, desc: Mapping[str, Any]) -> "LayerGraph":
        """The graph :meth:`describe` wrote."""
        g = cls(tuple(desc["input_shape"]), desc.get("parametrisation", "ntk"))
        for p in desc["params"]:
            g.parameter(p["name"], tuple(p["shape"]), p.get("fixed"))
        for spec in desc["nodes"]:
            g.node(_op_of(spec), *spec["inputs"])
        return g

    def __repr__(self) -> str:
        ops = ", ".join(type(n.op).__name__ for n in self.nodes[1:])
        return f"LayerGraph(input {self.input_shape}: {ops}; {self.n_params} parameters)"


def _op_of(spec: Mapping[str, Any]) -> Op:
    """The operation a node description (ops' ``describe``) names."""
    kind = spec["op"]
    tup = {k: tuple(spec[k]) for k in ("kernel", "stride", "padding", "shape") if k in spec}
    if kind == "Dense":
        return Dense(spec["out_features"], spec["weight"], spec["bias"], spec["parametrisation"])
    if kind == "Conv":
        return Conv(spec["out_features"], spec["weight"], spec["bias"], spec["parametrisation"], **tup)
    simple = {"AvgPool": lambda: AvgPool(tup["kernel"], tup["stride"], tup["padding"]),
              "Reshape": lambda: Reshape(tup["shape"]),
              "Activate": lambda: Activate(activations.get(spec["activation"])),
              "Scale": lambda: Scale(float(spec["factor"]), bool(spec["divide"])), "Add": Add,
              "Concat": lambda: Concat(int(spec["dim"]))}
    if kind not in simple:
        raise InvalidInput(f"unknown graph operation {kind!r}")
    return simple[kind]()


@closed_form_family
class Network(HeldParameters, SampledBall, Model):
    """F(w) = (f(x_k; w))_{k=1..n} for a layer :class:`LayerGraph` f on fixed inputs X (docs/theory.md §0).

    w holds the graph's trainable tensors flattened row-major in the graph's order (for a traced torch
    module: torch's ``named_parameters()`` order and shapes). DF, DF^T r and K are closed forms of the graph
    (reverse mode on the batch); K sums per-layer blocks without forming DF for dense layers. F, DF and K
    evaluate in float64, mpmath, exact rationals (graphs without transcendental activations; NTK layers
    with square fan-in) and arb balls. The bounds over a ball are the per-layer bounds of docs/rigor.md §2.7,
    ``verified``, where every operation is covered (:attr:`ball_obstacle` names the first that is not: then
    ``sampled``); a subclass that redefines F or its derivatives inherits none (closed_form_obstacle). The run
    route certifies GD of a Network with verified bounds (docs/rigor.md §10, layer graphs): its step in
    midpoint-radius arithmetic, where the graph's operations evaluate like in every other namespace.

    Parameters
    ----------
    X : array_like, shape (n, d)
        Inputs, one row per example; each row is reshaped to the graph's input shape (d = its size).
    graph : LayerGraph
        The network's definition; its output must be one number per example.
    w0 : array_like, optional
        The starting parameters; default ``graph.init(seed)``.
    seed : int, default 0
        Seed of the default w0.
    """

    family = "graph"

    @property
    def ball_obstacle(self) -> str | None:
        """The first node whose operation the per-layer bounds over a ball (docs/rigor.md §2.7) do not cover, or None."""
        return self.graph.ball_obstacle

    @property
    def ball_bound_sets(self) -> Mapping[str, str]:  # type: ignore[override]
        """The per-layer bounds of docs/rigor.md §2.7 where every operation is covered, else the sampled ones."""
        return bound_sets("plproof.theory.graph_ball:GraphBounds" if self.ball_obstacle is None
                          else "plproof.models.ball:HessianGridBounds")

    @property
    def ball_rigor(self) -> RigorLevel:  # type: ignore[override]
        """``verified`` where every operation is covered by docs/rigor.md §2.7, else ``sampled`` (see ball_obstacle)."""
        return RigorLevel.VERIFIED if self.ball_obstacle is None else RigorLevel.SAMPLED

    def __init__(self, X: Any, graph: LayerGraph, w0: Any = None, seed: int = 0) -> None:
        """Fix the inputs and the starting point; see the class docstring."""
        if not isinstance(graph, LayerGraph):
            raise InvalidInput(f"graph must be a plproof LayerGraph, got {type(graph).__name__}")
        self.X = check_finite_matrix(X, "X")
        if self.X.shape[1] != size_of(graph.input_shape):
            raise InvalidInput(f"X has {self.X.shape[1]} features per row but the graph's input shape "
                               f"{graph.input_shape} has {size_of(graph.input_shape)} entries")
        if size_of(graph.shape(graph.output)) != 1:
            raise InvalidInput(f"the graph's output must be one number per example, got shape "
                               f"{graph.shape(graph.output)}: end with a dense layer to 1 output")
        if graph.n_params == 0:
            raise InvalidInput("the graph has no trainable parameters")
        self.graph = graph
        self._w0 = graph.init(seed) if w0 is None else np.array(w0, dtype=np.float64)
        if self._w0.shape != (graph.n_params,) or not np.isfinite(self._w0).all():
            raise InvalidInput(f"w0 must be {graph.n_params} finite numbers, got shape {self._w0.shape}")

    @property
    def smooth_obstacle(self) -> str | None:
        """Why F is not C^2 (the first non-smooth node), or None."""
        return self.graph.smooth_obstacle

    def tensors(self, w: np.ndarray, ar: Arith) -> list[Any]:
        """Every parameter tensor of the graph (trainable ones from w, fixed ones converted), flat."""
        out, start = [], 0
        for p in self.graph.params:
            if p.fixed is None:
                out.append(w[start:start + p.size])
                start += p.size
            else:
                out.append(ar.asarray(p.fixed.ravel()))
        return out

    # ------------------------------------------------------------------ forward and reverse passes
    def _forward(self, w: np.ndarray, ar: Arith) -> tuple[list[Any], list[Any], list[Any]]:
        """(node values, what each node saved for its backward map, the parameter tensors)."""
        ps = self.tensors(w, ar)
        values, saved = [ar.asarray(self.X)], [None]
        for node in self.graph.nodes[1:]:
            y, s = node.op.forward([values[i] for i in node.inputs], [ps[j] for j in node.op.params], ar)
            values.append(y)
            saved.append(s)
        return values, saved, ps

    def cotangents(self, w: np.ndarray, seed: Any, ar: Arith) -> tuple[list[Any], list[Any], list[Any]]:
        """(node values, what each node saved, cotangents): cot[v]_k = seed_k dF_k/dy_v for every node v but the input
        (reverse mode over the graph, one row per example; None where the output does not depend on y_v)."""
        values, saved, ps = self._forward(w, ar)
        cot: list[Any] = [None] * len(values)
        cot[-1] = seed
        for k in range(len(values) - 1, 0, -1):
            node, g = self.graph.nodes[k], cot[k]
            if g is None or all(i == 0 for i in node.inputs):
                continue  # the inputs X need no cotangent
            grads = node.op.backward(g, [values[i] for i in node.inputs], [ps[j] for j in node.op.params], saved[k], ar)
            for i, gi in zip(node.inputs, grads):
                if i:
                    cot[i] = gi if cot[i] is None else cot[i] + gi
        return values, saved, cot

    def _pullback(self, w: np.ndarray, seed: Any, ar: Arith) -> list[tuple[Affine, Any, Any]]:
        """[(affine op, its cotangent g, its unfolded input U)] for the output cotangent ``seed``:
        g_k = seed_k dF_k/dy for every affine node y."""
        _, saved, cot = self.cotangents(w, seed, ar)
        return [(node.op, cot[k], saved[k]) for k, node in enumerate(self.graph.nodes)
                if isinstance(node.op, Affine) and cot[k] is not None]

    def _blocks(self, w: np.ndarray, seed: Any, kind: str, ar: Arith) -> dict[int, Any]:
        """Trainable parameter index -> its block (``jacobian_blocks``, ``vjp_blocks`` or ``kernel_blocks`` of
        its affine layer) for the output cotangent ``seed``; a tensor the output does not depend on has none."""
        trainable = set(self.graph.trainable)
        found = {}
        for op, g, U in self._pullback(w, seed, ar):
            found.update((j, b) for j, b in zip(op.params, getattr(op, kind)(g, U, ar)) if j in trainable)
        return found

    def _ones(self, ar: Arith) -> Any:
        return ar.asarray(np.ones((self.n_outputs, 1)))

    def _F(self, w: np.ndarray, ar: Arith) -> np.ndarray:
        return self._forward(w, ar)[0][-1][:, 0]

    def _jacobian(self, w: np.ndarray, ar: Arith) -> np.ndarray:
        """DF = [dF/dtheta_j]_j, each block c G_k U_k^T (or G_k 1) of an affine layer (docs/theory.md §0)."""
        blocks = self._blocks(w, self._ones(ar), "jacobian_blocks", ar)
        return np.concatenate([blocks.get(j, ar.zeros((self.n_outputs, self.graph.params[j].size)))
                               for j in self.graph.trainable], axis=1)

    def _vjp(self, w: np.ndarray, r: np.ndarray, ar: Arith) -> np.ndarray:
        """DF^T r: the reverse pass seeded with r, summed over examples per layer."""
        blocks = self._blocks(w, r.reshape(-1, 1), "vjp_blocks", ar)
        return np.concatenate([blocks.get(j, ar.zeros(self.graph.params[j].size)) for j in self.graph.trainable])

    def _kernel(self, w: np.ndarray, ar: Arith) -> np.ndarray:
        """K = sum over trainable tensors of their kernel blocks (dense layers: c^2 (G G^T) o (U U^T), no DF)."""
        K = ar.zeros((self.n_outputs, self.n_outputs))
        for block in self._blocks(w, self._ones(ar), "kernel_blocks", ar).values():
            K = K + block
        return K

    def describe(self) -> dict:
        return {**super().describe(), "graph": self.graph.describe(), "X": self.X.tolist()}

