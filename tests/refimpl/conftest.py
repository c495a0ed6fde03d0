"""Fixtures for the refimpl tests: a seeded generator and PyTorch as an oracle.

torch is optional on a developer's machine (its tests skip with a reason) but required in CI:
there ``CI=true`` and a missing torch is an error, so parity tests can never be skipped
silently.
"""

from __future__ import annotations

import os

import numpy as np
import pytest


def import_torch():
    """Return the torch module; skip without it, except in CI where its absence fails."""
    if os.environ.get("CI") == "true":
        import torch  # ImportError here fails the test: CI must run the parity tests

        return torch
    return pytest.importorskip(
        "torch", reason="torch is the oracle of the parity tests; `make test` installs it"
    )


@pytest.fixture
def rng() -> np.random.Generator:
    """A fresh generator with a fixed seed for each test."""
    return np.random.default_rng(20240607)


@pytest.fixture(scope="session")
def torch():
    """The torch module, as the oracle of parity tests (see `import_torch`)."""
    return import_torch()
