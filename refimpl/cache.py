"""Disk memoization for expensive experiments (training runs), keyed by code and arguments.

A cached result is reused only while these are unchanged: the arguments; the module that defines
the experiment (``refimpl/experiments/CHAPTER.py``); and the library code every experiment
builds on (every ``.py`` file of ``refimpl`` except the experiments, the figures, ``plotting.py``,
``__main__.py`` and ``warm.py``, which schedules experiments but computes nothing). So the
English build reuses what the Korean build computed, a rebuild after a prose edit runs no
training, an edit to one chapter's experiments recomputes only that chapter, and an edit to,
say, ``refimpl/functional/batchnorm.py`` recomputes everything.

The cache lives in ``$REFIMPL_CACHE`` if set, else in ``.cache/refimpl`` under the current
directory (ignored by git).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib.util
import inspect
import os
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows: no locks; two processes may then compute one entry twice
    fcntl = None

import joblib
from threadpoolctl import threadpool_limits

from refimpl.seeds import seed_offset

PACKAGE_DIR = Path(__file__).resolve().parent
NOT_LIBRARY = ("plotting.py", "figures", "__main__.py", "experiments", "warm.py")


def cache_dir() -> Path:
    """The folder that holds memoized results."""
    return Path(os.environ.get("REFIMPL_CACHE", Path.cwd() / ".cache" / "refimpl"))


def entry_path(kind: str, key: str, suffix: str) -> Path:
    """Where the build's caches keep entry ``key`` (a hex digest) of ``kind``:
    ``cache_dir()/KIND/xx/KEY.SUFFIX``, with ``xx`` the key's first two characters, so that no
    folder holds thousands of files."""
    return cache_dir() / kind / key[:2] / f"{key}.{suffix}"


def write_whole(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` so that no reader ever sees part of it.

    Two builds, or the warm-up's worker processes, may write the same entry at once: each
    writes its own ``PATH.<pid>.part`` and renames it into place, which replaces ``path`` whole.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f"{path.name}.{os.getpid()}.part")
    partial.write_text(text, encoding="utf-8")
    partial.replace(path)


@contextlib.contextmanager
def computed_once(key: str):
    """Hold the lock of entry ``key`` (a hex digest) while the body runs.

    A second process that asks for the same entry waits here until the first one has computed
    and stored it, and then reads it, instead of computing it again at the same time. The build
    renders pages while worker processes run the figures' experiments (`refimpl.warm`), and a
    page may need an experiment a worker is still running. The operating system releases the
    lock when its process exits, so a crashed process leaves no lock behind (POSIX ``flock``).
    """
    path = entry_path("locks", key, "lock")
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as handle:
        if fcntl is not None:
            fcntl.flock(handle, fcntl.LOCK_EX)
        yield  # closing the file releases the lock


@functools.cache
def package_digest(skip: tuple[str, ...] = ()) -> str:
    """SHA-256 of the ``.py`` files of ``refimpl`` (names and contents, sorted), leaving out the
    files and folders directly under the package named in ``skip``."""
    digest = hashlib.sha256()
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        relative = path.relative_to(PACKAGE_DIR)
        if relative.parts[0] in skip:
            continue
        digest.update(str(relative).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def library_digest() -> str:
    """SHA-256 of the library code of ``refimpl``: every source file but `NOT_LIBRARY`."""
    return package_digest(NOT_LIBRARY)


@functools.cache
def source_digest(module_name: str) -> str:
    """SHA-256 of `library_digest` and of the source file of the module ``module_name``."""
    origin = importlib.util.find_spec(module_name).origin
    digest = hashlib.sha256(library_digest().encode())
    digest.update(Path(origin).read_bytes())
    return digest.hexdigest()


def one_blas_thread(func):
    """Run ``func`` with one BLAS thread, so its numbers do not depend on the core count.

    `cached` does this for every memoized experiment; use it on the experiment functions that
    are cheap enough not to be memoized but still multiply matrices.
    """

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        with threadpool_limits(1):
            return func(*args, **kwargs)

    return wrapper


def cached(func):
    """Memoize ``func`` on disk; run it with one BLAS thread.

    The key is every argument, `source_digest` of the function's module and the seed offset
    (`refimpl.seeds.seed_offset`). The call, cached or not, runs under
    ``threadpool_limits(1)``: a matrix product summed by two threads can round differently
    from one summed by one, and training amplifies the difference, so an experiment pinned to
    one thread gives the same numbers under ``make test`` (one BLAS thread), ``make serve``
    (the machine's default) and on any core count. Separate experiments use separate cores
    instead (``python -m refimpl warm``).

    One process computes a given call at a time (`computed_once`); another process that makes
    the same call meanwhile waits for the result and reads it from the cache.

    Arguments must be hashable by joblib (numbers, strings, tuples, arrays, ...). Results must be
    picklable. Use it on pure, seeded experiment functions only.
    """

    def run(refimpl_source_digest, refimpl_seed_offset, **arguments):
        return func(**arguments)

    # joblib names the cache folder after the function it wraps.
    run.__module__ = func.__module__
    run.__name__ = run.__qualname__ = func.__qualname__
    signature = inspect.signature(func)

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        # Key on the arguments by name, defaults filled in: f(2, seed=0) and f(2, 0) are one call.
        bound = signature.bind(*args, **kwargs)
        bound.apply_defaults()
        memory = joblib.Memory(cache_dir(), verbose=0)
        key = (source_digest(func.__module__), seed_offset())
        lock = joblib.hash((func.__module__, func.__qualname__, key, bound.arguments))
        with threadpool_limits(1), computed_once(lock):
            return memory.cache(run)(*key, **bound.arguments)

    wrapper.uncached = func
    return wrapper
