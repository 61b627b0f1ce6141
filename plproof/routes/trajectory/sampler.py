"""The mini-batch sampler of a seeded SGD run, specified exactly (docs/theory.md §12.6).

With a fixed seed, SGD w_{t+1} = w_t - eta sum_{i in B_t} grad l_i(w_t) is a deterministic iteration, and its
run certificate names the batches B_t by this specification alone, so that the verifier regenerates them with
its own code (plproof/verify/sampler.py). Both algorithms draw from one generator
``rng = numpy.random.Generator(numpy.random.PCG64(seed))``, created once for the run:

* ``"iid"``: step t's batch is ``rng.integers(0, n, size=s)`` (int64, one call per step, in step order): s
  indices i.i.d. uniform on {0, ..., n-1}, with repetition (an index drawn twice counts twice in the sum).
* ``"epochs"`` (without replacement, what data loaders do): each epoch draws ``rng.permutation(n)`` and cuts it
  into consecutive batches of s, ceil(n/s) steps per epoch; when s does not divide n the epoch's last batch is
  the short remainder of n - s (ceil(n/s) - 1) indices (it is kept, as PyTorch's ``drop_last=False``), so
  every index is used exactly once per epoch.
"""

from __future__ import annotations

import hashlib
import itertools
from dataclasses import dataclass, field
from typing import Any, Iterator

import numpy as np

from plproof.errors import InvalidInput

ALGORITHMS = ("iid", "epochs")
#: the generator every algorithm draws from, as certificates name it
GENERATOR = "numpy.random.Generator(PCG64)"
#: version of this specification (bumped if the way batches are drawn ever changes)
VERSION = 1


def _int(value: Any, name: str, low: int, high: float = float("inf")) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not low <= value <= high:
        rng = f"in [{low}, {int(high)}]" if high != float("inf") else f">= {low}"
        raise InvalidInput(f"{name} must be an integer {rng}, got {value!r}")
    return int(value)


@dataclass(frozen=True)
class Sampler:
    """Mini-batches of s of the n indices, drawn by ``algorithm`` from ``seed`` (module docstring)."""

    algorithm: str
    seed: int
    batch_size: int
    n: int
    _state: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.algorithm not in ALGORITHMS:
            raise InvalidInput(f"unknown sampler {self.algorithm!r}: use one of {', '.join(ALGORITHMS)}")
        n = _int(self.n, "the number of data points n", 1)
        object.__setattr__(self, "n", n)
        object.__setattr__(self, "seed", _int(self.seed, "the sampler seed", 0))
        object.__setattr__(self, "batch_size", _int(self.batch_size, "the batch size", 1, n))

    @property
    def steps_per_epoch(self) -> int:
        """ceil(n/s) for ``epochs``; 1 for ``iid`` (no epochs)."""
        return -(-self.n // self.batch_size) if self.algorithm == "epochs" else 1

    def stream(self) -> Iterator[np.ndarray]:
        """The batches B_0, B_1, ... from a fresh generator, one per step without end (nothing is kept)."""
        rng, s = np.random.Generator(np.random.PCG64(self.seed)), self.batch_size
        perm = np.empty(0, dtype=np.int64)
        for t in itertools.count():
            if self.algorithm == "iid":
                yield np.asarray(rng.integers(0, self.n, size=s), dtype=np.int64)
                continue
            j = t % self.steps_per_epoch
            if j == 0:
                perm = rng.permutation(self.n)
            yield np.asarray(perm[j * s:(j + 1) * s], dtype=np.int64)

    def batches(self, t0: int, k: int) -> list[np.ndarray]:
        """The index arrays B_{t0}, ..., B_{t0+k-1} (drawn in step order once, then kept)."""
        t0, k = _int(t0, "t0", 0), _int(k, "k", 0)
        st = self._state
        if not st:
            st.update(stream=self.stream(), drawn=[])
        while len(st["drawn"]) < t0 + k:
            st["drawn"].append(next(st["stream"]))
        return [b.copy() for b in st["drawn"][t0:t0 + k]]

    def spec(self, T: int) -> dict:
        """The certificate's record of the sampler for steps 0..T-1, with the sha256 of their batches."""
        return {"algorithm": self.algorithm, "seed": self.seed, "batch_size": self.batch_size, "n": self.n,
                "generator": GENERATOR, "version": VERSION, "batches_sha256": self.digest(T)}

    def digest(self, T: int) -> str:
        """sha256 of the batches of steps 0..T-1 as concatenated little-endian int64."""
        h = hashlib.sha256()
        for b in self.batches(0, T):
            h.update(b.astype("<i8").tobytes())
        return h.hexdigest()

    def describe(self) -> str:
        how = "i.i.d. uniform with repetition" if self.algorithm == "iid" else "epochs of a shuffled permutation"
        return f"{self.algorithm} ({how}), seed {self.seed}, batch size {self.batch_size} of n = {self.n}"
