"""The experiment cache: reused for equal code and arguments, recomputed when either changes."""

from __future__ import annotations

import multiprocessing
import os
import time

import numpy as np
import pytest

from refimpl import cache

CALLS: list[tuple] = []


@cache.cached
def noisy_mean(seed: int, n: int) -> float:
    CALLS.append((seed, n))
    return float(np.random.default_rng(seed).normal(size=n).mean())


@cache.cached
def slow_square(x: int, log: str) -> int:
    """Writes the computing process's id to the file ``log``, then takes half a second."""
    with open(log, "a", encoding="utf-8") as file:
        file.write(f"{os.getpid()}\n")
    time.sleep(0.5)
    return x * x


def _square_in_child(log: str, results) -> None:
    results.put(slow_square(3, log))


@pytest.fixture
def fresh_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("REFIMPL_CACHE", str(tmp_path))
    CALLS.clear()
    return tmp_path


def test_same_arguments_are_computed_once(fresh_cache):
    first = noisy_mean(0, 100)
    second = noisy_mean(0, 100)
    assert first == second
    assert CALLS == [(0, 100)]
    assert any(fresh_cache.iterdir())


def test_positional_and_keyword_arguments_are_one_call(fresh_cache):
    assert noisy_mean(0, 100) == noisy_mean(seed=0, n=100) == noisy_mean(0, n=100)
    assert CALLS == [(0, 100)]


def test_other_arguments_are_computed(fresh_cache):
    noisy_mean(0, 100)
    noisy_mean(1, 100)
    assert CALLS == [(0, 100), (1, 100)]


def test_a_change_to_the_code_recomputes(fresh_cache, monkeypatch):
    noisy_mean(0, 100)
    cache.source_digest.cache_clear()
    monkeypatch.setattr(cache, "library_digest", lambda: "edited library")
    noisy_mean(0, 100)
    assert CALLS == [(0, 100), (0, 100)]
    cache.source_digest.cache_clear()


def test_digest_covers_the_library_but_not_the_figures():
    library = cache.library_digest()
    assert len(library) == 64
    assert cache.source_digest("refimpl.figures.home") != cache.source_digest("refimpl.cache")
    assert "figures" in cache.NOT_LIBRARY and "experiments" in cache.NOT_LIBRARY
    assert "warm.py" in cache.NOT_LIBRARY  # it schedules the experiments, computes nothing


def test_entries_are_spread_over_folders_named_by_the_key(fresh_cache):
    key = "ab" + "0" * 62
    path = cache.entry_path("blocks", key, "json")
    assert path == fresh_cache / "blocks" / "ab" / f"{key}.json"


def test_write_whole_replaces_a_file_and_leaves_no_partial_file(fresh_cache):
    path = cache.entry_path("katex", "cd" + "1" * 62, "html")
    cache.write_whole(path, "first, 한국어")  # makes the folders it needs
    with path.open(encoding="utf-8") as reader_of_the_first:
        cache.write_whole(path, "second")
        # a reader that opened the old entry still reads all of it: the new text was not written
        # into that file but renamed over its name
        assert reader_of_the_first.read() == "first, 한국어"
    assert path.read_text(encoding="utf-8") == "second"
    assert [p.name for p in path.parent.iterdir()] == [path.name]


def test_a_call_two_processes_make_at_once_is_computed_once(fresh_cache):
    """The build's worker processes and its pages may ask for one experiment at the same time:
    the second waits for the first's result instead of computing it too (`cache.computed_once`)."""
    log = fresh_cache / "computed-by.txt"
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    children = [
        context.Process(target=_square_in_child, args=(str(log), results)) for _ in range(2)
    ]
    for child in children:
        child.start()
    assert slow_square(3, str(log)) == 9  # a third caller, this process, at the same time
    for child in children:
        child.join(timeout=30)
        assert child.exitcode == 0
    assert [results.get(timeout=5), results.get(timeout=5)] == [9, 9]
    assert len(log.read_text(encoding="utf-8").splitlines()) == 1
