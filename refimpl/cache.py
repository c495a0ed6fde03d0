"""Disk memoization for expensive experiments (training runs), keyed by code and arguments.

A cached result is reused only while three things are unchanged: the arguments, the experiment
function, and the source of the numerical code in ``refimpl`` (every ``.py`` file of the package
except the presentation-only ``plotting.py`` and ``figures/``). So the English build reuses what
the Korean build computed, a rebuild after a prose edit runs no training, and an edit to, say,
``refimpl/functional/batchnorm.py`` recomputes everything that might depend on it.

The cache lives in ``$REFIMPL_CACHE`` if set, else in ``.cache/refimpl`` under the current
directory (ignored by git).
"""

from __future__ import annotations

import functools
import hashlib
import os
from pathlib import Path

import joblib

PACKAGE_DIR = Path(__file__).resolve().parent
PRESENTATION_ONLY = ("plotting.py", "figures", "__main__.py")


def cache_dir() -> Path:
    """The folder that holds memoized results."""
    return Path(os.environ.get("REFIMPL_CACHE", Path.cwd() / ".cache" / "refimpl"))


@functools.cache
def source_digest() -> str:
    """SHA-256 of the numerical source of ``refimpl`` (file names and contents, sorted)."""
    digest = hashlib.sha256()
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        relative = path.relative_to(PACKAGE_DIR)
        if relative.parts[0] in PRESENTATION_ONLY:
            continue
        digest.update(str(relative).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def cached(func):
    """Memoize ``func`` on disk; the key includes `source_digest` and every argument.

    Arguments must be hashable by joblib (numbers, strings, tuples, arrays, ...). Results must be
    picklable. Use it on pure, seeded experiment functions only.
    """

    def run(refimpl_source_digest, /, *args, **kwargs):
        return func(*args, **kwargs)

    # joblib names the cache folder after the function it wraps.
    run.__module__ = func.__module__
    run.__name__ = run.__qualname__ = func.__qualname__

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        memory = joblib.Memory(cache_dir(), verbose=0)
        return memory.cache(run)(source_digest(), *args, **kwargs)

    wrapper.uncached = func
    return wrapper
