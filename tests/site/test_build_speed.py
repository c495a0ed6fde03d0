"""What keeps a rebuild fast and shows its progress, without building the site (issue 17).

- executed blocks run with one BLAS thread (tools/mkdocs_hooks.py, `capture_library_output`);
- the glossary is parsed once per build, and again after an edit (tools/glossary.py);
- the page-rendering phase logs its progress every few seconds (tools/build_progress.py).
"""

from __future__ import annotations

import functools
import io
import sys

from .conftest import REPO

sys.path.insert(0, str(REPO / "tools"))
import build_progress
import glossary


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_progress_lines_every_few_seconds_with_an_estimate():
    clock = FakeClock()
    progress = build_progress.PageProgress(total=4, interval=5.0, clock=clock)
    assert progress.page_started("index.ko.md") is None  # nothing rendered yet
    clock.now += 6
    line = progress.page_started("inference/folding.ko.md")
    assert line == "Pages: 1/4 rendered, 6 s, about 18 s left (next: inference/folding.ko.md)"
    clock.now += 1
    assert progress.pages_finished() is None  # 2/4, but the last line is 1 s old
    clock.now += 5
    line = progress.page_started("index.en.md")
    assert line == "Pages: 2/4 rendered, 12 s, about 12 s left (next: index.en.md)"
    clock.now += 1
    assert progress.page_started("inference/folding.en.md") is None
    clock.now += 1
    assert progress.pages_finished() == "Pages: 4/4 rendered in 14 s"


def test_a_quick_build_logs_nothing():
    clock = FakeClock()
    progress = build_progress.PageProgress(total=2, interval=5.0, clock=clock)
    for page in ("index.ko.md", "glossary.ko.md"):
        clock.now += 1
        assert progress.page_started(page) is None
    assert progress.pages_finished() is None  # no closing line without a line before it


def test_glossary_parsed_once_and_again_after_an_edit(tmp_path, monkeypatch):
    source = tmp_path / "glossary.yml"
    entry = "- id: {id}\n  ko: 용어{id}\n  en: term {id}\n  definition: {{ko: 뜻, en: meaning}}\n"
    source.write_text(entry.format(id="a"), encoding="utf-8")
    calls = []
    monkeypatch.setattr(glossary, "_parse_terms", _counting(glossary._parse_terms, calls))
    first, second = glossary.load_terms(source), glossary.load_terms(source)
    assert first == second and first is not second and len(calls) == 1
    second.clear()  # a caller's list is its own
    assert [t.id for t in glossary.load_terms(source)] == ["a"]
    source.write_text(entry.format(id="a") + entry.format(id="b"), encoding="utf-8")
    assert [t.id for t in glossary.load_terms(source)] == ["a", "b"]
    assert len(calls) == 2


def _counting(func, calls):
    @functools.wraps(func)
    def wrapper(*args):
        calls.append(args)
        return func(*args)

    return wrapper


def test_executed_blocks_run_with_one_blas_thread():
    """A block's numbers must not depend on the core count, as a cached experiment's do not."""
    import mkdocs_hooks
    import numpy  # noqa: F401  (loads OpenBLAS, so that the limit below reaches it)
    from markdown_exec._internal.formatters import python as formatter
    from threadpoolctl import threadpool_limits

    mkdocs_hooks.capture_library_output()
    buffer = io.StringIO()
    code = (
        "import numpy\n"
        "from threadpoolctl import threadpool_info\n"
        "print(max(lib['num_threads'] for lib in threadpool_info() if lib['user_api'] == 'blas'))\n"
    )
    exec_globals = {"print": functools.partial(_buffer_print, buffer)}
    with threadpool_limits(2):  # as on a 2-core machine, whatever the test run's setting
        formatter.exec_python(code, "test-block", exec_globals)
    assert buffer.getvalue().strip() == "1"


def _buffer_print(buffer, *texts, end="\n", **kwargs):
    """How markdown-exec's ``print`` writes into a block's output buffer."""
    buffer.write(" ".join(str(text) for text in texts) + end)


def test_no_two_figures_of_a_warm_round_share_an_experiment():
    """tools/warm_order.py: a fresh clone's warm-up never computes one experiment twice at once."""
    import warm_order

    from refimpl.figures import load_all

    specs = load_all()
    first, second = warm_order.rounds(specs)
    assert sorted(first + second) == sorted(specs)
    assert "tuning-random-search-scatter" in second  # scratch_search(), as -curves
    seen: set[str] = set()
    for name in first:
        calls = warm_order.experiment_calls(specs[name].draw)
        assert not calls & seen, name
        seen |= calls
