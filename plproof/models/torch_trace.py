"""A PyTorch module read into a layer graph (plproof.models.graph) by torch.fx, parameters one-to-one.

The module is traced symbolically (torch.fx.symbolic_trace; where that fails, an nn.Sequential is read
child by child from the module tree). Each traced call becomes an operation of the graph; the graph's
parameter tensors are the module's ``named_parameters()`` in torch's order and shapes (trainable ones in
w, frozen ones fixed), so w, DF, GD steps and iterates are the user's own. Smoothness is read from the
traced calls: a call that is not C^2 is named as such, any other call outside the supported set is named
as unsupported (docs/theory.md §9).
"""

from __future__ import annotations

import math
import operator
from dataclasses import dataclass, field
from typing import Any, Callable

from plproof.errors import InvalidInput
from plproof.models.graph import LayerGraph

#: torch.nn modules that are not C^2 (kinks or jumps in sigma'' or lower; docs/theory.md §9), by class name prefix
NON_SMOOTH_MODULES = ("ReLU", "ReLU6", "LeakyReLU", "PReLU", "RReLU", "ELU", "CELU", "SELU", "Hardtanh",
                      "Hardswish", "Hardsigmoid", "Hardshrink", "Softshrink", "Softsign", "Threshold", "MaxPool",
                      "AdaptiveMaxPool", "FractionalMaxPool", "LPPool", "MaxUnpool")
#: functions and tensor methods that are not C^2, by name (torch.<name>, torch.nn.functional.<name>, x.<name>())
NON_SMOOTH_CALLS = frozenset({
    "relu", "relu6", "leaky_relu", "prelu", "rrelu", "elu", "selu", "celu", "hardtanh", "hardswish", "hardsigmoid",
    "hardshrink", "softshrink", "softsign", "threshold", "clamp", "clamp_min", "clamp_max", "clip", "abs", "absolute",
    "sign", "sgn", "maximum", "minimum", "max", "min", "amax", "amin", "floor", "ceil", "round", "trunc", "where",
    "heaviside", "max_pool1d", "max_pool2d", "max_pool3d", "adaptive_max_pool1d", "adaptive_max_pool2d", "sort",
    "topk", "relu_", "clamp_", "abs_"})
#: smooth activations of the registry by torch name (function, method or module class)
ACTIVATION_CALLS = {"tanh": "tanh", "sigmoid": "sigmoid", "sin": "sin", "softplus": "softplus", "gelu": "gelu",
                    "Tanh": "tanh", "Sigmoid": "sigmoid", "Softplus": "softplus", "GELU": "gelu"}
#: the batch size, wherever a traced call reads it (x.size(0), x.shape[0])
BATCH = object()


@dataclass
class Trace:
    """What reading a module gave: the graph (None when something stopped it), and what stopped it."""

    graph: LayerGraph | None
    unsupported: list[str] = field(default_factory=list)
    non_smooth: list[str] = field(default_factory=list)

    @property
    def obstacle(self) -> str | None:
        """Why there is no graph, naming every unsupported module and function; None when there is one."""
        if self.graph is not None:
            return None
        parts = []
        if self.unsupported:
            parts.append(f"unsupported: {', '.join(dict.fromkeys(self.unsupported))}")
        if self.non_smooth:
            parts.append(f"not C^2: {', '.join(dict.fromkeys(self.non_smooth))}")
        return ("the module is outside what plproof reads into a layer graph (dense, 1-D/2-D convolution, average "
                f"pooling, flatten/view, tanh/sigmoid/softplus/gelu/sin, scaling, +, -, cat): {'; '.join(parts)}")

    @property
    def smooth_obstacle(self) -> str | None:
        """The first part that is not twice differentiable, or None."""
        if self.non_smooth:
            return f"{self.non_smooth[0]} is not twice differentiable"
        return None if self.graph is None else self.graph.smooth_obstacle


class _Unsupported(Exception):
    """A traced call outside the supported set (collected, so that the refusal names them all)."""


def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def _at(name: str) -> str:
    return f" (at {name!r})" if name else ""


def _call_name(target: Any) -> str:
    """torch.xxx / F.xxx / operator.xxx / x.xxx() as its plain name."""
    return target if isinstance(target, str) else getattr(target, "__name__", repr(target))


class _Reader:
    """Builds the graph from traced calls; a call it cannot read is recorded and replaced by its first input."""

    def __init__(self, torch: Any, module: Any, input_size: int) -> None:
        self.torch, self.nn = torch, torch.nn
        self.graph = LayerGraph((input_size,), "standard")
        self.index: dict[str, int] = {}  # torch's parameter name -> the graph's tensor index
        for name, p in module.named_parameters():
            fixed = None if p.requires_grad else p.detach().cpu().double().numpy()
            self.index[name] = self.graph.parameter(name, tuple(p.shape), fixed)
        self.unsupported: list[str] = []
        self.non_smooth: list[str] = []

    # ------------------------------------------------------------------ reading
    def read(self, module: Any, x: "_GraphNode", prefix: str) -> "_GraphNode":
        """Append ``module`` applied to node x; its names qualified by ``prefix``. Traced by torch.fx; where that
        fails, an nn.Sequential (torch's own forward) is read child by child, anything else is named."""
        fx = self.torch.fx
        try:
            gm = fx.symbolic_trace(module)
        except Exception as exc:  # noqa: BLE001 - any tracing failure: read the module tree instead
            if type(module) is not self.nn.Sequential:
                self.scan_tree(module, prefix)
                self.unsupported.append(f"{type(module).__name__}{_at(prefix)}: torch.fx cannot trace its forward "
                                        f"({type(exc).__name__}: {exc})".splitlines()[0])
                return x
            for name, child in module.named_children():
                x = self.read_child(child, x, _join(prefix, name))
            return x
        env: dict[Any, Any] = {}

        def value(a: Any) -> Any:
            if isinstance(a, fx.Node):
                return env[a]
            if isinstance(a, (list, tuple)):
                return type(a)(value(v) for v in a)
            return a

        out = x
        for node in gm.graph.nodes:
            try:
                if node.op == "placeholder":
                    if env:
                        raise _Unsupported(f"a second input {node.target!r}{_at(prefix)}")
                    env[node] = x
                elif node.op == "get_attr":
                    name = _join(prefix, node.target)
                    if name not in self.index:
                        raise _Unsupported(f"the tensor attribute {name!r} (a buffer or constant)")
                    env[node] = _Param(self.index[name])
                elif node.op == "call_module":
                    env[node] = self.read_child(gm.get_submodule(node.target), value(node.args[0]),
                                                _join(prefix, node.target))
                elif node.op in ("call_function", "call_method"):
                    env[node] = self.call(node.target, value(list(node.args)), value(dict(node.kwargs)),
                                          node.op == "call_method")
                elif node.op == "output":
                    out = value(node.args[0])
                    if not _is_node(out):
                        raise _Unsupported(f"an output that is not one tensor{_at(prefix)}")
            except _Unsupported as why:
                self.unsupported.append(str(why))
                env[node] = next((a for a in value(list(node.args)) if _is_node(a)), x)
            except InvalidInput as why:  # shapes that do not fit; after an unsupported call, a consequence of it
                if not self.unsupported:
                    self.unsupported.append(f"{node.format_node()}{_at(prefix)}: {why}".splitlines()[0])
                env[node] = x
        return out if _is_node(out) else x

    def read_child(self, sub: Any, x: Any, name: str) -> Any:
        """A submodule applied to x: a torch layer by :meth:`call_module`, a user module by :meth:`read`."""
        if type(sub).__module__.startswith("torch.") and type(sub) is not self.nn.Sequential:
            try:
                return self.call_module(sub, name, [x])
            except _Unsupported as why:
                self.unsupported.append(str(why))
                return x
        return self.read(sub, x, name)

    # ------------------------------------------------------------------ helpers
    def tensors(self, prefix: str, sub: Any) -> tuple[int, int | None]:
        """The graph's indices of ``prefix.weight`` and ``prefix.bias`` of a torch layer."""
        at = f"{prefix}." if prefix else ""
        return self.index[f"{at}weight"], None if sub.bias is None else self.index[f"{at}bias"]

    def activation(self, name: str, x: int) -> "_GraphNode":
        return _GraphNode(self.graph.activation(x, ACTIVATION_CALLS[name]))

    # ------------------------------------------------------------------ modules
    def call_module(self, sub: Any, prefix: str, args: list[Any]) -> Any:
        """A torch.nn layer (a leaf of the trace) applied to args[0]."""
        nn, g, where = self.nn, self.graph, _at(prefix)
        cls = type(sub)
        x = args[0] if args else None
        if cls.__name__.startswith(NON_SMOOTH_MODULES) and cls.__module__.startswith("torch."):
            self.non_smooth.append(f"{cls.__name__}{where}")
            return x
        if cls is nn.Linear:
            return _GraphNode(g.dense(x, sub.out_features, tensors=self.tensors(prefix, sub)))
        if cls in (nn.Conv1d, nn.Conv2d):
            if sub.groups != 1 or any(d != 1 for d in sub.dilation) or sub.padding_mode != "zeros" or \
                    isinstance(sub.padding, str):
                raise _Unsupported(f"{cls.__name__}{where} with groups, dilation, padding mode or string padding")
            return _GraphNode(g.conv(x, sub.out_channels, sub.kernel_size, sub.stride, sub.padding,
                                     tensors=self.tensors(prefix, sub)))
        if cls in (nn.AvgPool1d, nn.AvgPool2d):
            if sub.ceil_mode or not sub.count_include_pad or getattr(sub, "divisor_override", None) is not None:
                raise _Unsupported(f"{cls.__name__}{where} with ceil_mode, count_include_pad=False or a divisor")
            return _GraphNode(g.avg_pool(x, sub.kernel_size, sub.stride, sub.padding))
        if cls is nn.Flatten:
            if sub.start_dim != 1 or sub.end_dim != -1:
                raise _Unsupported(f"Flatten{where} with start_dim != 1 or end_dim != -1")
            return _GraphNode(g.flatten(x))
        if cls in (nn.Identity, nn.Dropout):  # the module is in eval mode: dropout is the identity
            return x
        if cls.__name__ in ACTIVATION_CALLS and cls.__module__.startswith("torch."):
            self.check_activation(cls.__name__, {"beta": getattr(sub, "beta", 1.0),
                                                 "approximate": getattr(sub, "approximate", "none")}, where)
            return self.activation(cls.__name__, x)
        self.scan_tree(sub, prefix)
        raise _Unsupported(f"{cls.__name__}{where}")

    def check_activation(self, name: str, kwargs: dict, where: str) -> None:
        """Softplus(beta=1) and GELU(approximate='none') only: the registry's softplus and gelu."""
        if kwargs.get("beta", 1) != 1 or kwargs.get("approximate", "none") != "none":
            raise _Unsupported(f"{name}{where} with beta != 1 or approximate != 'none'")

    def scan_tree(self, sub: Any, prefix: str) -> None:
        """Name the non-smooth layers and activation functions inside a module that is not read further."""
        for name, inner in sub.named_modules():
            full = ".".join(p for p in (prefix, name) if p)
            at = f" (at {full!r})" if full else ""
            cls = type(inner)
            if cls.__name__.startswith(NON_SMOOTH_MODULES) and cls.__module__.startswith("torch."):
                self.non_smooth.append(f"{cls.__name__}{at}")
            act = getattr(inner, "activation", None)  # e.g. TransformerEncoderLayer(activation=F.relu)
            if callable(act) and getattr(act, "__name__", "") in NON_SMOOTH_CALLS:
                self.non_smooth.append(f"the activation {act.__name__} of {cls.__name__}{at}")

    # ------------------------------------------------------------------ functions and methods
    def call(self, target: Any, args: list[Any], kwargs: dict, method: bool) -> Any:
        g, name = self.graph, _call_name(target)
        label = f"x.{name}()" if method else (f"torch.{name}" if not isinstance(target, str) and
                                              getattr(target, "__module__", "") != "_operator" else name)
        if name in NON_SMOOTH_CALLS:
            self.non_smooth.append(label)
            return args[0]
        x = args[0] if args else None
        if name in ("tanh", "sigmoid", "sin", "gelu", "softplus") and _is_node(x):
            self.check_activation(name, kwargs, f" ({label})")
            return self.activation(name, x)
        if name in ("add", "iadd", "sub", "isub") and len(args) == 2:
            a, b = args
            if _is_node(a) and _is_node(b):
                alpha = kwargs.get("alpha", 1)
                b = b if alpha == 1 else g.scale(b, float(alpha))
                return _GraphNode(g.add(a, b if name in ("add", "iadd") else g.scale(b, -1.0)))
            if _number(b) and b == 0 or _number(a) and a == 0:
                return a if _is_node(a) else b
            if not (_is_node(a) or _is_node(b)):
                return _arith(name, a, b)
            raise _Unsupported(f"{label} of a tensor and a constant (a shift)")
        if name in ("mul", "imul", "truediv", "div", "itruediv") and len(args) == 2:
            a, b = args
            if _is_node(a) and _number(b):
                return _GraphNode(g.scale(a, float(b), divide=name not in ("mul", "imul")))
            if _is_node(b) and _number(a) and name in ("mul", "imul"):
                return _GraphNode(g.scale(b, float(a)))
            if not (_is_node(a) or _is_node(b)):
                return _arith(name, a, b)
            raise _Unsupported(f"{label} of two tensors (or by a tensor constant)")
        if name == "neg" and _is_node(x):
            return _GraphNode(g.scale(x, -1.0))
        if name in ("cat", "concat", "concatenate"):
            xs, dim = x, kwargs.get("dim", args[1] if len(args) > 1 else 0)
            rank = len(g.shape(xs[0])) + 1
            if dim % rank == 0:
                raise _Unsupported(f"{label} along the batch axis")
            return _GraphNode(g.concat(list(xs), dim % rank - 1))
        if name in ("view", "reshape", "flatten", "squeeze", "unsqueeze", "size", "getattr", "getitem"):
            return self.shape_call(name, label, args, kwargs)
        if name == "linear":
            return self.functional_affine("linear", args, kwargs, label)
        if name in ("conv1d", "conv2d"):
            return self.functional_affine(name, args, kwargs, label)
        if name in ("avg_pool1d", "avg_pool2d") and _is_node(x):
            extra = dict(zip(("ceil_mode", "count_include_pad", "divisor_override"), args[4:]), **kwargs)  # by position
            if extra.get("ceil_mode") or extra.get("count_include_pad") is False or extra.get("divisor_override"):
                raise _Unsupported(f"{label} with ceil_mode, count_include_pad=False or a divisor")
            k = args[1] if len(args) > 1 else kwargs["kernel_size"]
            s = args[2] if len(args) > 2 else kwargs.get("stride")
            p = args[3] if len(args) > 3 else kwargs.get("padding", 0)
            return _GraphNode(g.avg_pool(x, k, s or None, p))
        if name in ("dropout", "contiguous", "clone", "float", "double", "to"):
            return x
        raise _Unsupported(label)

    def functional_affine(self, name: str, args: list[Any], kwargs: dict, label: str) -> int:
        """F.linear / F.conv1d / F.conv2d with parameters of the module (get_attr) as weight and bias."""
        g = self.graph
        x, W = args[0], args[1] if len(args) > 1 else kwargs.get("weight")
        b = args[2] if len(args) > 2 else kwargs.get("bias")
        if not (isinstance(W, _Param) and (b is None or isinstance(b, _Param))):
            raise _Unsupported(f"{label} with a weight that is not a parameter of the module")
        tensors = (W.index, None if b is None else b.index)
        shape = g.params[W.index].shape
        if name == "linear":
            return _GraphNode(g.dense(x, shape[0], tensors=tensors))
        opts = {k: kwargs.get(k, args[i] if len(args) > i else d) for i, (k, d) in
                enumerate((("stride", 1), ("padding", 0), ("dilation", 1), ("groups", 1)), start=3)}
        if opts["groups"] != 1 or opts["dilation"] not in (1, (1,), (1, 1)) or isinstance(opts["padding"], str):
            raise _Unsupported(f"{label} with groups, dilation or string padding")
        return _GraphNode(g.conv(x, shape[0], shape[2:], opts["stride"], opts["padding"], tensors=tensors))

    def shape_call(self, name: str, label: str, args: list[Any], kwargs: dict) -> Any:
        """Reshapes and the batch size: per-example shapes, the batch axis kept first."""
        g, x = self.graph, args[0]
        if name == "size" or name == "getattr" and args[1] == "shape":
            dim = args[1] if name == "size" and len(args) > 1 else None
            if not _is_node(x):
                raise _Unsupported(label)
            if name == "getattr" or dim is None:
                return _Shape(x)
            return BATCH if dim == 0 else g.shape(x)[dim - 1]
        if name == "getitem":
            if isinstance(x, _Shape):
                return BATCH if args[1] == 0 else g.shape(x.node)[args[1] - 1]
            raise _Unsupported("indexing a tensor")
        if name == "flatten":
            start = args[1] if len(args) > 1 else kwargs.get("start_dim", 0)
            if start == 1 or len(g.shape(x)) == 1 and g.shape(x) == (1,):
                return _GraphNode(g.flatten(x))
            raise _Unsupported(f"{label} with start_dim != 1")
        if name in ("squeeze", "unsqueeze"):
            dim = args[1] if len(args) > 1 else kwargs.get("dim")
            shape = list(g.shape(x))
            if name == "squeeze" and dim is not None and dim != 0:
                axis = dim % (len(shape) + 1) - 1
                if shape[axis] != 1:
                    return x  # torch's squeeze of an axis longer than 1 leaves it
                return _GraphNode(g.reshape(x, tuple(shape[:axis] + shape[axis + 1:]) or (1,)))
            if name == "unsqueeze" and dim is not None and dim != 0:
                axis = dim % (len(shape) + 2) - 1
                return _GraphNode(g.reshape(x, tuple(shape[:axis] + [1] + shape[axis:])))
            raise _Unsupported(f"{label} over the batch axis")
        dims = list(args[1:]) if len(args) > 2 or not isinstance(args[1], (tuple, list)) else list(args[1])
        if dims == [-1]:
            if math.prod(g.shape(x)) != 1:
                raise _Unsupported(f"{label}(-1) mixing examples")
            return _GraphNode(g.reshape(x, (1,)))
        if dims[0] is not BATCH and not (_number(dims[0]) and isinstance(dims[0], int)):
            raise _Unsupported(f"{label} with a computed batch size")
        if not all(_number(d) and isinstance(d, int) for d in dims[1:]):
            raise _Unsupported(f"{label} with computed sizes")
        return _GraphNode(g.reshape(x, tuple(dims[1:]) or (1,)))


@dataclass(frozen=True)
class _Param:
    """A parameter tensor of the module read by get_attr (its index in the graph)."""

    index: int


@dataclass(frozen=True)
class _Shape:
    """x.shape of a traced tensor (indexing it gives the batch size or a per-example size)."""

    node: int


class _GraphNode(int):
    """A graph node id (an int subclass, so that trace-time integer constants never pass for tensors)."""


def _is_node(v: Any) -> bool:
    return type(v) is _GraphNode


def _number(v: Any) -> bool:
    """A trace-time real constant (not a tensor, not the batch size)."""
    return isinstance(v, (int, float)) and not isinstance(v, bool) and not _is_node(v)


_ARITH: dict[str, Callable[[Any, Any], Any]] = {
    "add": operator.add, "iadd": operator.add, "sub": operator.sub, "isub": operator.sub, "mul": operator.mul,
    "imul": operator.mul, "truediv": operator.truediv, "div": operator.truediv, "itruediv": operator.truediv}


def _arith(name: str, a: Any, b: Any) -> Any:
    """Arithmetic on trace-time constants (sizes, floats)."""
    if a is BATCH or b is BATCH:
        return BATCH
    return _ARITH[name](a, b)


def trace_module(module: Any, input_size: int) -> Trace:
    """The layer graph of ``module`` on inputs of ``input_size`` features (the module in float64, eval mode)."""
    import torch
    import torch.fx  # noqa: F401 - the reader's tracer

    reader = _Reader(torch, module, input_size)
    out = reader.read(module, _GraphNode(reader.graph.input), "")
    if not reader.unsupported and out != reader.graph.output:
        reader.unsupported.append("an output that is not the last operation")
    return _result(reader)


def _result(reader: _Reader) -> Trace:
    g = reader.graph
    if reader.unsupported or reader.non_smooth:
        return Trace(None, reader.unsupported, reader.non_smooth)
    if math.prod(g.shape(g.output)) != 1:
        return Trace(None, [f"an output of {math.prod(g.shape(g.output))} numbers per example (one is needed)"])
    return Trace(g)
