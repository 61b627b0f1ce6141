"""The seeded mini-batch sampler of SGD run certificates (docs/theory.md §12.6): exactly the documented draws,
reproducible from its fields alone, the verifier's own regeneration agrees, bad input is one clear line."""

from __future__ import annotations

import numpy as np
import pytest

from plproof.errors import InvalidInput
from plproof.routes.trajectory.sampler import Sampler
from plproof.verify.exact import Failure
from plproof.verify.sampler import regenerate


def test_iid_is_the_documented_numpy_draw() -> None:
    rng = np.random.Generator(np.random.PCG64(7))
    expected = [rng.integers(0, 13, size=3) for _ in range(40)]
    got = Sampler("iid", 7, 3, 13).batches(0, 40)
    assert all(np.array_equal(a, b) and a.dtype == np.int64 for a, b in zip(got, expected))


def test_epochs_cut_one_permutation_per_epoch_with_a_short_last_batch() -> None:
    n, s = 10, 4
    rng = np.random.Generator(np.random.PCG64(3))
    sampler = Sampler("epochs", 3, s, n)
    assert sampler.steps_per_epoch == 3
    got = sampler.batches(0, 9)
    for epoch in range(3):
        perm = rng.permutation(n)
        cut = got[3 * epoch:3 * epoch + 3]
        assert [len(b) for b in cut] == [4, 4, 2]  # the remainder n - s (ceil(n/s) - 1) is kept
        assert np.array_equal(np.concatenate(cut), perm)


@pytest.mark.parametrize("algorithm", ["iid", "epochs"])
def test_batches_are_reproducible_from_any_starting_step(algorithm: str) -> None:
    a = Sampler(algorithm, 11, 3, 8)
    full = a.batches(0, 30)
    assert all(np.array_equal(x, y) for x, y in zip(a.batches(12, 7), full[12:19]))
    assert all(np.array_equal(x, y) for x, y in zip(a.batches(2, 3), full[2:5]))  # behind the generator: kept
    b = Sampler(algorithm, 11, 3, 8)
    assert all(np.array_equal(x, y) for x, y in zip(b.batches(0, 30), full))
    assert a.digest(30) == b.digest(30) != Sampler(algorithm, 12, 3, 8).digest(30)


def test_every_index_equally_often_over_whole_epochs() -> None:
    n, s, epochs = 17, 5, 40
    sampler = Sampler("epochs", 1, s, n)
    counts = np.bincount(np.concatenate(sampler.batches(0, epochs * sampler.steps_per_epoch)), minlength=n)
    assert (counts == epochs).all()


def test_iid_indices_are_uniform() -> None:
    n, s, steps = 10, 4, 5000
    counts = np.bincount(np.concatenate(Sampler("iid", 5, s, n).batches(0, steps)), minlength=n)
    expected = s * steps / n
    chi2 = float(((counts - expected) ** 2 / expected).sum())
    assert chi2 < 27.9  # the 0.999 quantile of chi^2 with 9 degrees of freedom
    repeats = sum(len(set(b.tolist())) < s for b in Sampler("iid", 5, s, n).batches(0, steps))
    assert abs(repeats / steps - (1 - 10 * 9 * 8 * 7 / 10**4)) < 0.03  # with replacement: P(a repeat) = 0.496


@pytest.mark.parametrize("args,word", [(("iid", 0, 0, 5), "batch size"), (("iid", 0, 6, 5), "batch size"),
                                       (("shuffle", 0, 2, 5), "sampler"), (("epochs", -1, 2, 5), "seed"),
                                       (("iid", True, 2, 5), "seed"), (("iid", 0, 2.0, 5), "batch size"),
                                       (("epochs", 0, 1, 0), "n")])
def test_bad_input_is_one_clear_line(args: tuple, word: str) -> None:
    with pytest.raises(InvalidInput) as err:
        Sampler(*args)
    assert word in str(err.value) and "\n" not in str(err.value)


@pytest.mark.parametrize("algorithm", ["iid", "epochs"])
def test_the_verifier_regenerates_the_same_batches(algorithm: str) -> None:
    sampler = Sampler(algorithm, 2026, 3, 7)
    spec = sampler.spec(25)
    assert all(np.array_equal(x, y) for x, y in zip(regenerate(spec, 7, 25), sampler.batches(0, 25)))
    for key, value in (("seed", 2027), ("batch_size", 2), ("algorithm", "epochs" if algorithm == "iid" else "iid"),
                       ("batches_sha256", "0" * 64), ("version", 2), ("n", 8), ("batch_size", 8)):
        with pytest.raises(Failure):
            regenerate({**spec, key: value}, 7, 25)
    with pytest.raises(Failure):
        regenerate(spec, 7, 26)  # one more step than the digest covers
    with pytest.raises(Failure):
        regenerate({**spec, "extra": 1}, 7, 25)
