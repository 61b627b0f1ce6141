"""The operations of a layer graph, each with its forward map and its reverse-mode derivatives on the batch.

Every value is a batch of flat arrays, shape (n, size), in a namespace of plproof.numeric.arith (float64
ndarrays, object arrays of mpmath/Fraction/arb numbers); ``shape`` is the per-example tensor shape, row-major
(torch's channel-major layout: (C, H, W), (C, L) or (features,)). An operation is a fixed smooth map
y = op(x_1, ..., x_k; theta); its :meth:`Op.backward` maps the per-example cotangent g = dF_k/dy (one row per
example k) to the cotangents dF_k/dx_i by the chain rule (docs/theory.md §0: DF row by row). The affine layers
(:class:`Affine`: dense and convolution) also give their parameter blocks of DF, of DF^T r and of K = DF DF^T.
Nothing here loops over entries in Python: gathers, matmul and broadcasting only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, ClassVar, Sequence

import numpy as np

from plproof.errors import InvalidInput
from plproof.models import activations
from plproof.numeric.arith import Arith

Shape = tuple[int, ...]
#: the parametrisations of an affine layer: "ntk" y = W u / sqrt(fan_in) + b, "standard" y = W u + b
PARAMETRISATIONS = ("ntk", "standard")


def size_of(shape: Shape) -> int:
    """The number of entries of a per-example tensor of this shape."""
    return math.prod(shape)


@dataclass(frozen=True, eq=False)
class Selection:
    """A fixed 0/1 matrix S (rows x cols) with at most ``width`` ones per row: the linear map x -> S x.

    Stored as the index table (rows x width) of the ones' columns, padded with ``cols`` (a zero column), so
    that S x = sum_j x_ext[table[:, j]] over a batch is one gather and one sum (im2col, pooling windows).
    """

    table: np.ndarray
    cols: int

    @property
    def rows(self) -> int:
        return self.table.shape[0]

    def apply(self, x: Any, ar: Arith) -> Any:
        """S x for every row of the batch x (n x cols) -> (n x rows)."""
        ext = np.concatenate([x, ar.zeros((x.shape[0], 1))], axis=1)
        picked = ext[:, self.table]
        return picked[:, :, 0] if self.table.shape[1] == 1 else picked.sum(axis=2)

    def transpose(self) -> "Selection":
        """S^T as a Selection (its rows padded to the largest number of ones in a column of S)."""
        r = np.repeat(np.arange(self.rows), self.table.shape[1])
        c = self.table.ravel()
        keep = c < self.cols
        r, c = r[keep], c[keep]
        order = np.argsort(c, kind="stable")
        r, c = r[order], c[order]
        counts = np.bincount(c, minlength=self.cols)
        width = max(int(counts.max(initial=0)), 1)
        slot = np.arange(c.size) - np.repeat(np.cumsum(counts) - counts, counts)
        table = np.full((self.cols, width), self.rows, dtype=np.int64)
        table[c, slot] = r
        return Selection(table, self.rows)


class Op:
    """A node's map y = op(x_1, ..., x_k; theta) on the batch, with its reverse-mode derivative."""

    #: indices (into the graph's parameters) of the tensors this operation reads, weight first
    params: tuple[int, ...] = ()
    #: covered by the per-layer bounds over a ball of docs/rigor.md §2.7 (plproof/theory/graph_ball.py)
    ball_bounded: ClassVar[bool] = False

    def bind(self, shapes: Sequence[Shape]) -> Shape:
        """Fix the input shapes (once, when the node joins a graph) and return the per-example output shape;
        InvalidInput when they do not fit."""
        raise NotImplementedError

    def forward(self, xs: Sequence[Any], ps: Sequence[Any], ar: Arith) -> tuple[Any, Any]:
        """(y, what backward needs) for the batch inputs xs and the parameter tensors ps."""
        raise NotImplementedError

    def backward(self, g: Any, xs: Sequence[Any], ps: Sequence[Any], saved: Any, ar: Arith) -> list[Any]:
        """The cotangents dF_k/dx_i (n x size_i) from g = dF_k/dy (n x size_out), one per input."""
        raise NotImplementedError

    def describe(self) -> dict:
        """The operation's kind and settings (JSON), enough to rebuild it."""
        return {"op": type(self).__name__}

    @property
    def smooth_obstacle(self) -> str | None:
        """Why this operation is not C^2 with bounded second derivatives, or None."""
        return None


@dataclass(eq=False)
class Input(Op):
    """The graph's input: the example x_k itself (shape fixed at construction)."""

    ball_bounded = True

    shape: Shape

    def describe(self) -> dict:
        return {"op": "Input", "shape": list(self.shape)}


@dataclass(eq=False)
class Affine(Op):
    """y = c W U(x) + b: a weight W (O x C) shared over the P positions of U(x) (C x P), optional bias b (O).

    c = fan_in^{-1/2} (C = fan_in) in the NTK parametrisation, 1 in the standard one; b is not scaled.
    U is the identity for a dense layer (P = 1) and the im2col :class:`Selection` of a convolution. With
    G_k = dF_k/dy (O x P) for example k: dF_k/dx = U^T(c W^T G_k), dF_k/dW = c G_k U_k^T, dF_k/db = G_k 1, and
    the kernel block K_W[k, l] = c^2 <G_k U_k^T, G_l U_l^T> = c^2 sum_{p,q} (G_k^T G_l)_{pq} (U_k^T U_l)_{pq}
    (docs/theory.md §14; §8 for P = 1), formed by whichever of the two sides is cheaper.
    """

    out_features: int
    weight: int
    bias: int | None
    parametrisation: str
    in_shape: Shape = field(default=(), repr=False)

    def __post_init__(self) -> None:
        if self.parametrisation not in PARAMETRISATIONS:
            raise InvalidInput(f"unknown parametrisation {self.parametrisation!r}: use one of "
                               f"{', '.join(PARAMETRISATIONS)}")
        self.params = (self.weight,) if self.bias is None else (self.weight, self.bias)

    # the unfold U and its layout: overridden by convolutions
    fan_in: int = field(default=0, init=False, repr=False)
    positions: int = field(default=1, init=False, repr=False)

    @property
    def overlap(self) -> int:
        """nu >= the most (offset, position) pairs of U reading one input entry: ||U(x)||_F <= sqrt(nu) ||x||
        (docs/rigor.md §2.7 G6); 1 for a dense layer."""
        return 1

    def unfold(self, x: Any, ar: Arith) -> Any:
        """U(x) for the batch: n x C x P."""
        return x[:, :, None]

    def fold(self, gu: Any, ar: Arith) -> Any:
        """U^T for the batch: n x C x P -> n x size_in."""
        return gu[:, :, 0]

    def weight_shape(self) -> Shape:
        """The weight tensor's own shape (torch's)."""
        return (self.out_features, self.fan_in)

    def _root(self, ar: Arith) -> Any:
        """sqrt(fan_in) in namespace ar (an exact int when fan_in is a square), or None for the standard form."""
        if self.parametrisation == "standard":
            return None
        root = math.isqrt(self.fan_in)
        return root if root * root == self.fan_in else ar.sqrt(ar.asarray(float(self.fan_in)))

    def _scaled(self, v: Any, ar: Arith) -> Any:
        root = self._root(ar)
        return v if root is None else v / root

    def forward(self, xs: Sequence[Any], ps: Sequence[Any], ar: Arith) -> tuple[Any, Any]:
        U = self.unfold(xs[0], ar)
        W = ps[0].reshape(self.out_features, self.fan_in)
        Y = self._scaled(W @ U, ar)
        if self.bias is not None:
            Y = Y + ps[1][:, None]
        return Y.reshape(U.shape[0], -1), U

    def backward(self, g: Any, xs: Sequence[Any], ps: Sequence[Any], saved: Any, ar: Arith) -> list[Any]:
        W = ps[0].reshape(self.out_features, self.fan_in)
        G = g.reshape(g.shape[0], self.out_features, self.positions)
        return [self.fold(self._scaled(W.T @ G, ar), ar)]

    def jacobian_blocks(self, g: Any, U: Any, ar: Arith) -> list[Any]:
        """[dF/dW (n x O C), dF/db (n x O)] from g = dF/dy (n x O P) and U = U(x) (n x C x P)."""
        G = g.reshape(g.shape[0], self.out_features, self.positions)
        n = G.shape[0]
        blocks = [self._scaled(G @ U.swapaxes(1, 2), ar).reshape(n, -1)]
        if self.bias is not None:
            blocks.append(G[:, :, 0] if self.positions == 1 else G.sum(axis=2))
        return blocks

    def vjp_blocks(self, g: Any, U: Any, ar: Arith) -> list[Any]:
        """[sum_k dF_k/dW, sum_k dF_k/db] for g = sum-seeded cotangents (DF^T r when the seed is r)."""
        G = g.reshape(g.shape[0], self.out_features, self.positions)
        n, C = G.shape[0], U.shape[1]
        Gm = G.swapaxes(0, 1).reshape(self.out_features, n * self.positions)
        Um = U.swapaxes(1, 2).reshape(n * self.positions, C)
        blocks = [self._scaled(Gm @ Um, ar).reshape(-1)]
        if self.bias is not None:
            blocks.append(Gm.sum(axis=1))
        return blocks

    def kernel_blocks(self, g: Any, U: Any, ar: Arith) -> list[Any]:
        """[K_W, K_b] (each n x n): the contributions of W and b to K = DF DF^T, J never formed for P = 1."""
        G = g.reshape(g.shape[0], self.out_features, self.positions)
        n, O, C, P = G.shape[0], self.out_features, U.shape[1], self.positions
        if P == 1:
            Gs, Us = G[:, :, 0], U[:, :, 0]
            GG = Gs @ Gs.T
            KW = GG * (Us @ Us.T)
        elif n * n * P * P * (O + C) < O * C * (n * P + n * n):  # the position-pair side is cheaper
            Gp = G.swapaxes(1, 2).reshape(n * P, O)
            Up = U.swapaxes(1, 2).reshape(n * P, C)
            KW = ((Gp @ Gp.T) * (Up @ Up.T)).reshape(n, P, n, P).sum(axis=(1, 3))
        else:
            JW = (G @ U.swapaxes(1, 2)).reshape(n, -1)
            KW = JW @ JW.T
        if self.parametrisation == "ntk":
            KW = KW / self.fan_in
        if self.bias is None:
            return [KW]
        Gb = G[:, :, 0] if P == 1 else G.sum(axis=2)
        return [KW, GG if P == 1 else Gb @ Gb.T]

    def describe(self) -> dict:
        return {"op": type(self).__name__, "out_features": self.out_features, "weight": self.weight,
                "bias": self.bias, "parametrisation": self.parametrisation}


@dataclass(eq=False)
class Dense(Affine):
    """A dense layer y = c W x + b on flat inputs (torch.nn.Linear): W is out_features x in_features."""

    ball_bounded = True

    def bind(self, shapes: Sequence[Shape]) -> Shape:
        (shape,) = shapes
        if len(shape) != 1:
            raise InvalidInput(f"a dense layer takes flat inputs (features,), got shape {shape}: flatten first")
        self.in_shape, self.fan_in = shape, shape[0]
        return (self.out_features,)


def window_starts(size: int, kernel: int, stride: int, padding: int) -> np.ndarray:
    """The first (padded) input coordinate of each output position along one axis; InvalidInput if none fits."""
    count = (size + 2 * padding - kernel) // stride + 1
    if kernel < 1 or stride < 1 or padding < 0 or count < 1:
        raise InvalidInput(f"a window of {kernel} with stride {stride} and padding {padding} does not fit an axis "
                           f"of length {size}")
    return np.arange(count) * stride - padding


def window_table(spatial: Shape, kernel: Shape, stride: Shape, padding: Shape) -> tuple[np.ndarray, Shape]:
    """(T, output spatial shape): T[offset, position] is the flat spatial index read, or -1 where padded.

    offsets run over the kernel window, positions over the output grid, both row-major.
    """
    starts = [window_starts(s, k, st, p) for s, k, st, p in zip(spatial, kernel, stride, padding)]
    coords = [st[None, :] + np.arange(k)[:, None] for st, k in zip(starts, kernel)]  # per axis: kernel x out
    flat = np.zeros((1, 1), dtype=np.int64)
    valid = np.ones((1, 1), dtype=bool)
    for axis, c in enumerate(coords):
        ok = (c >= 0) & (c < spatial[axis])
        flat = (flat[:, None, :, None] * spatial[axis] + c[None, :, None, :]).reshape(flat.shape[0] * c.shape[0], -1)
        valid = (valid[:, None, :, None] & ok[None, :, None, :]).reshape(flat.shape)
    return np.where(valid, flat, -1), tuple(len(s) for s in starts)


@dataclass(eq=False)
class Conv(Affine):
    """A 1-D or 2-D convolution (torch.nn.Conv1d/Conv2d, cross-correlation, one group, no dilation).

    y[o, p] = c sum_{c', j} W[o, c', j] x_pad[c', s p + j] + b[o]: U(x) gathers each window (im2col, a
    :class:`Selection`), so the layer is :class:`Affine` with C = C_in prod(kernel) and P output positions.
    """

    ball_bounded = True

    kernel: Shape = ()
    stride: Shape = ()
    padding: Shape = ()
    in_channels: int = field(default=0, init=False, repr=False)
    gather: Selection | None = field(default=None, init=False, repr=False)
    scatter: Selection | None = field(default=None, init=False, repr=False)

    def bind(self, shapes: Sequence[Shape]) -> Shape:
        (shape,) = shapes
        dims = len(self.kernel)
        if len(shape) != dims + 1 or len(self.stride) != dims or len(self.padding) != dims:
            raise InvalidInput(f"a {dims}-D convolution takes (channels, {dims} spatial axes), got shape {shape}")
        spatial = shape[1:]
        T, out_spatial = window_table(spatial, self.kernel, self.stride, self.padding)
        area, K = size_of(spatial), T.shape[0]
        channel = np.arange(shape[0])[:, None, None] * area
        table = np.where(T[None] >= 0, channel + T[None], size_of(shape))  # (C_in, K, P): rows (c', j), cols p
        self.in_shape, self.in_channels = shape, shape[0]
        self.fan_in, self.positions = shape[0] * K, T.shape[1]
        self.gather = Selection(table.reshape(-1, 1), size_of(shape))
        self.scatter = self.gather.transpose()
        return (self.out_features,) + out_spatial

    @property
    def overlap(self) -> int:
        """The most windows reading one input entry: the number of ones in the fullest column of the gather."""
        return self.scatter.table.shape[1]

    def unfold(self, x: Any, ar: Arith) -> Any:
        return self.gather.apply(x, ar).reshape(x.shape[0], self.fan_in, self.positions)

    def fold(self, gu: Any, ar: Arith) -> Any:
        return self.scatter.apply(gu.reshape(gu.shape[0], -1), ar)

    def weight_shape(self) -> Shape:
        return (self.out_features, self.in_channels) + tuple(self.kernel)

    def describe(self) -> dict:
        return {**super().describe(), "kernel": list(self.kernel), "stride": list(self.stride),
                "padding": list(self.padding)}


@dataclass(eq=False)
class AvgPool(Op):
    """Average pooling over 1-D or 2-D windows (torch.nn.AvgPool1d/2d, count_include_pad=True): y = S x / |window|."""

    ball_bounded = True

    kernel: Shape
    stride: Shape
    padding: Shape
    gather: Selection | None = field(default=None, init=False, repr=False)
    scatter: Selection | None = field(default=None, init=False, repr=False)

    def bind(self, shapes: Sequence[Shape]) -> Shape:
        (shape,) = shapes
        dims = len(self.kernel)
        if len(shape) != dims + 1:
            raise InvalidInput(f"a {dims}-D pooling takes (channels, {dims} spatial axes), got shape {shape}")
        T, out_spatial = window_table(shape[1:], self.kernel, self.stride, self.padding)
        area = size_of(shape[1:])
        table = np.where(T[None] >= 0, np.arange(shape[0])[:, None, None] * area + T[None], size_of(shape))
        self.gather = Selection(np.swapaxes(table, 1, 2).reshape(-1, T.shape[0]), size_of(shape))
        self.scatter = self.gather.transpose()
        return (shape[0],) + out_spatial

    @property
    def window(self) -> int:
        return size_of(self.kernel)

    @property
    def overlap(self) -> int:
        """nu >= the most windows containing one input entry (ones in the fullest column of S)."""
        return self.scatter.table.shape[1]

    def forward(self, xs: Sequence[Any], ps: Sequence[Any], ar: Arith) -> tuple[Any, Any]:
        return self.gather.apply(xs[0], ar) / self.window, None

    def backward(self, g: Any, xs: Sequence[Any], ps: Sequence[Any], saved: Any, ar: Arith) -> list[Any]:
        return [self.scatter.apply(g, ar) / self.window]

    def describe(self) -> dict:
        return {"op": "AvgPool", "kernel": list(self.kernel), "stride": list(self.stride),
                "padding": list(self.padding)}


@dataclass(eq=False)
class Reshape(Op):
    """A new per-example shape with the same entries in the same (row-major) order: flatten, view, reshape."""

    ball_bounded = True

    shape: Shape

    def bind(self, shapes: Sequence[Shape]) -> Shape:
        (shape,) = shapes
        if size_of(shape) != size_of(self.shape):
            raise InvalidInput(f"cannot reshape {shape} ({size_of(shape)} entries) to {self.shape}")
        return self.shape

    def forward(self, xs: Sequence[Any], ps: Sequence[Any], ar: Arith) -> tuple[Any, Any]:
        return xs[0], None

    def backward(self, g: Any, xs: Sequence[Any], ps: Sequence[Any], saved: Any, ar: Arith) -> list[Any]:
        return [g]

    def describe(self) -> dict:
        return {"op": "Reshape", "shape": list(self.shape)}


@dataclass(eq=False)
class Activate(Op):
    """y = sigma(x) elementwise, sigma from the activation registry (plproof.models.activations); dy = sigma'(x) dx."""

    ball_bounded = True

    activation: activations.Activation

    def bind(self, shapes: Sequence[Shape]) -> Shape:
        return shapes[0]

    def forward(self, xs: Sequence[Any], ps: Sequence[Any], ar: Arith) -> tuple[Any, Any]:
        return self.activation.derivatives(xs[0], ar, 1)

    def backward(self, g: Any, xs: Sequence[Any], ps: Sequence[Any], saved: Any, ar: Arith) -> list[Any]:
        return [g * saved]

    @property
    def smooth_obstacle(self) -> str | None:
        if not self.activation.smooth:
            return f"activation {self.activation.name!r} is not C^2"
        if not activations.is_builtin(self.activation):
            return f"user activation {self.activation.name!r}: S1-S3 not proved"
        return None

    def describe(self) -> dict:
        return {"op": "Activate", "activation": self.activation.name}


@dataclass(eq=False)
class Scale(Op):
    """y = a x, or y = x / a with ``divide``: a fixed float constant (exactly that binary64 number)."""

    ball_bounded = True

    factor: float
    divide: bool = False

    def __post_init__(self) -> None:
        if not (math.isfinite(self.factor) and (self.factor != 0 or not self.divide)):
            raise InvalidInput(f"a scaling constant must be finite (and non-zero to divide by), got {self.factor!r}")

    def bind(self, shapes: Sequence[Shape]) -> Shape:
        return shapes[0]

    def _apply(self, v: Any, ar: Arith) -> Any:
        a = ar.asarray(self.factor)
        return v / a if self.divide else v * a

    def forward(self, xs: Sequence[Any], ps: Sequence[Any], ar: Arith) -> tuple[Any, Any]:
        return self._apply(xs[0], ar), None

    def backward(self, g: Any, xs: Sequence[Any], ps: Sequence[Any], saved: Any, ar: Arith) -> list[Any]:
        return [self._apply(g, ar)]

    def describe(self) -> dict:
        return {"op": "Scale", "factor": self.factor, "divide": self.divide}


@dataclass(eq=False)
class Add(Op):
    """y = x_1 + ... + x_k (residual connections), all of one shape; each x_i receives the cotangent g."""

    ball_bounded = True

    def bind(self, shapes: Sequence[Shape]) -> Shape:
        if len(shapes) < 2 or any(s != shapes[0] for s in shapes):
            raise InvalidInput(f"an addition takes two or more inputs of one shape, got {list(shapes)}")
        return shapes[0]

    def forward(self, xs: Sequence[Any], ps: Sequence[Any], ar: Arith) -> tuple[Any, Any]:
        total = xs[0]
        for x in xs[1:]:
            total = total + x
        return total, None

    def backward(self, g: Any, xs: Sequence[Any], ps: Sequence[Any], saved: Any, ar: Arith) -> list[Any]:
        return [g] * len(xs)


@dataclass(eq=False)
class Concat(Op):
    """Concatenation along the per-example axis ``dim`` (torch.cat(dim=dim + 1) on the batch): a permutation of
    the stacked flat inputs, the identity for dim = 0; the backward map inverts it and splits."""

    ball_bounded = True

    dim: int
    order: np.ndarray | None = field(default=None, init=False, repr=False)
    sizes: tuple[int, ...] = field(default=(), init=False, repr=False)

    def bind(self, shapes: Sequence[Shape]) -> Shape:
        ranks = {len(s) for s in shapes}
        if len(shapes) < 2 or len(ranks) != 1 or not 0 <= self.dim < ranks.pop():
            raise InvalidInput(f"cannot concatenate shapes {list(shapes)} along axis {self.dim}")
        rest = {s[:self.dim] + s[self.dim + 1:] for s in shapes}
        if len(rest) != 1:
            raise InvalidInput(f"cannot concatenate shapes {list(shapes)} along axis {self.dim}: other axes differ")
        self.sizes = tuple(size_of(s) for s in shapes)
        starts = np.cumsum((0,) + self.sizes[:-1])
        order = np.concatenate([np.arange(a, a + size_of(s)).reshape(s) for a, s in zip(starts, shapes)],
                               axis=self.dim).ravel()
        self.order = None if np.array_equal(order, np.arange(order.size)) else order
        out = list(shapes[0])
        out[self.dim] = sum(s[self.dim] for s in shapes)
        return tuple(out)

    def forward(self, xs: Sequence[Any], ps: Sequence[Any], ar: Arith) -> tuple[Any, Any]:
        stacked = np.concatenate(list(xs), axis=1)
        return (stacked if self.order is None else stacked[:, self.order]), None

    def backward(self, g: Any, xs: Sequence[Any], ps: Sequence[Any], saved: Any, ar: Arith) -> list[Any]:
        stacked = g if self.order is None else g[:, np.argsort(self.order)]
        ends = np.cumsum(self.sizes).tolist()
        return [stacked[:, a:b] for a, b in zip([0] + ends[:-1], ends)]

    def describe(self) -> dict:
        return {"op": "Concat", "dim": self.dim}
