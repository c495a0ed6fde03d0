"""Where every experiment gets its randomness: seeds shifted by ``REFIMPL_SEED_OFFSET``.

An experiment names its seeds (``seed=0``, ``seeds=(0, 1, 2)``) and turns each into
randomness only through this module: `rng_for` for a generator, `shifted` for a seed handed to a
function that seeds itself (a data split, Optuna's sampler). Both add the integer in the
environment variable ``REFIMPL_SEED_OFFSET`` (default 0), so one variable changes every seed an
experiment uses, its training and its data split alike. The claim tests run at several offsets
(``make claims``): a claim that holds only for the seeds we happened to pick fails there.

Examples
--------
>>> import os
>>> os.environ.pop("REFIMPL_SEED_OFFSET", None) and None
>>> shifted(3), float(rng_for(3).uniform()) == float(np.random.default_rng(3).uniform())
(3, True)
>>> os.environ["REFIMPL_SEED_OFFSET"] = "100"
>>> shifted(3), float(rng_for(3).uniform()) == float(np.random.default_rng(103).uniform())
(103, True)
>>> del os.environ["REFIMPL_SEED_OFFSET"]
"""

from __future__ import annotations

import os

import numpy as np

__all__ = ["OFFSET_VARIABLE", "rng_for", "seed_offset", "shifted"]

#: The environment variable that shifts every experiment seed.
OFFSET_VARIABLE = "REFIMPL_SEED_OFFSET"


def seed_offset() -> int:
    """The integer in ``REFIMPL_SEED_OFFSET``; 0 when it is unset or empty.

    Raises
    ------
    ValueError
        If the variable is set to something other than a non-negative integer.
    """
    text = os.environ.get(OFFSET_VARIABLE, "").strip()
    if not text:
        return 0
    try:
        offset = int(text)
    except ValueError:
        raise ValueError(f"{OFFSET_VARIABLE} must be an integer, got {text!r}") from None
    if offset < 0:
        raise ValueError(f"{OFFSET_VARIABLE} must be >= 0, got {offset}")
    return offset


def shifted(seed: int) -> int:
    """``seed`` plus the offset: the seed to hand to a function that seeds itself."""
    return int(seed) + seed_offset()


def rng_for(seed: int, *stream: int) -> np.random.Generator:
    """A generator for ``seed`` (shifted by the offset) and an optional stream number.

    ``rng_for(seed)`` is ``np.random.default_rng(seed + offset)``; ``rng_for(seed, k)`` is
    ``np.random.default_rng([seed + offset, k])``, an independent stream of the same run (for
    example the mini-batch order beside the initial weights).
    """
    if stream:
        return np.random.default_rng([shifted(seed), *stream])
    return np.random.default_rng(shifted(seed))
