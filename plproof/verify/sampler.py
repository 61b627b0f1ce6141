"""The verifier's own regeneration of the mini-batches of a seeded SGD run certificate (docs/theory.md §12.6).

From ``inputs.run.sampler`` alone (algorithm, seed, batch size s, n, generator, version): one
``numpy.random.Generator(numpy.random.PCG64(seed))`` for the run; ``iid``: step t's batch is
``integers(0, n, size=s)``, one call per step; ``epochs``: each epoch ``permutation(n)`` cut into consecutive
batches of s, the last one short when s does not divide n. The sha256 of the batches (little-endian int64,
steps 0..T-1) must be the certificate's: a different seed, size, algorithm, or a numpy whose streams differ,
is caught before any step is re-run.
"""

from __future__ import annotations

import hashlib
from typing import Iterator

import numpy as np

from plproof.verify.exact import Failure

GENERATOR = "numpy.random.Generator(PCG64)"
VERSION = 1
KEYS = {"algorithm", "seed", "batch_size", "n", "generator", "version", "batches_sha256"}
#: the most steps whose batches the verifier regenerates (an edited T cannot make it draw without end)
MAX_STEPS = 10**7


def _batches(algorithm: str, seed: int, s: int, n: int, T: int) -> Iterator[np.ndarray]:
    rng = np.random.Generator(np.random.PCG64(seed))
    per_epoch = -(-n // s)
    perm = np.empty(0, dtype=np.int64)
    for t in range(T):
        if algorithm == "iid":
            yield np.asarray(rng.integers(0, n, size=s), dtype=np.int64)
            continue
        j = t % per_epoch
        if j == 0:
            perm = rng.permutation(n)
        yield np.asarray(perm[j * s:(j + 1) * s], dtype=np.int64)


def regenerate(spec: object, n: int, T: int) -> list[np.ndarray]:
    """The batches of steps 0..T-1 named by ``spec`` for n data points, checked against its sha256."""
    if not isinstance(spec, dict) or set(spec) != KEYS:
        raise Failure(f"inputs.run.sampler must hold exactly {', '.join(sorted(KEYS))}")
    algorithm, seed, s = spec["algorithm"], spec["seed"], spec["batch_size"]
    if spec["generator"] != GENERATOR or spec["version"] != VERSION:
        raise Failure(f"inputs.run.sampler: generator {spec['generator']!r} version {spec['version']!r} is not "
                      f"{GENERATOR!r} version {VERSION}")
    if algorithm not in ("iid", "epochs"):
        raise Failure(f"inputs.run.sampler: unknown algorithm {algorithm!r}")
    for name, value, low, high in (("seed", seed, 0, 2**128), ("batch_size", s, 1, n), ("n", spec["n"], n, n)):
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise Failure(f"inputs.run.sampler.{name} must be an integer in [{low}, {high}], got {value!r}")
    if not 0 <= T <= MAX_STEPS:
        raise Failure(f"inputs.run.T = {T}: the verifier regenerates the batches of at most {MAX_STEPS} steps")
    out = list(_batches(algorithm, seed, s, n, T))
    h = hashlib.sha256()
    for b in out:
        h.update(b.astype("<i8").tobytes())
    if h.hexdigest() != spec["batches_sha256"]:
        raise Failure("inputs.run.sampler: the batches regenerated from the seed differ from the certificate's "
                      f"(sha256 {h.hexdigest()[:12]}..., stated {str(spec['batches_sha256'])[:12]}...)")
    return out
