"""Session-wide settings: one experiment cache shared by every test and by the site build.

Tests that assert an experiment's claim and the site build that draws its figure call the same
memoized function, so each experiment runs once per test session. The cache starts empty in each
session (a fresh temporary folder), so nothing stale from an earlier run is trusted.
"""

from __future__ import annotations

import os

import pytest


@pytest.fixture(scope="session", autouse=True)
def shared_experiment_cache(tmp_path_factory, worker_id):
    base = tmp_path_factory.getbasetemp()
    shared = base if worker_id == "master" else base.parent
    cache = shared / "cache"
    cache.mkdir(exist_ok=True)
    previous = os.environ.get("REFIMPL_CACHE")
    os.environ["REFIMPL_CACHE"] = str(cache)
    yield cache
    if previous is None:
        os.environ.pop("REFIMPL_CACHE", None)
    else:
        os.environ["REFIMPL_CACHE"] = previous
