"""What keeps a rebuild fast and shows its progress, without building the site (issue 17).

- executed blocks run with one BLAS thread (tools/mkdocs_hooks.py, `capture_library_output`);
- the glossary is parsed once per build, and again after an edit (tools/glossary.py);
- the page-rendering phase logs its progress every few seconds (tools/build_progress.py);
- an executed block's output is kept between builds, keyed by everything it depends on, and
  served only where that gives what a fresh run gives (tools/block_cache.py);
- so are the search plugin's sections of a page (tools/search_cache.py), the API pages'
  formatted signatures (tools/mkdocs_hooks.py, `format_on_disk`) and KaTeX's HTML of each
  formula (tools/math_render.py).
"""

from __future__ import annotations

import functools
import io
import sys
import textwrap

import pytest

from .conftest import REPO

sys.path.insert(0, str(REPO / "tools"))
import block_cache
import build_progress
import glossary
import math_render
import search_cache


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


def test_the_estimate_follows_the_pace_since_the_last_line_and_waits_for_the_figures():
    """A fresh clone's first pages wait for their figures; the second language's pages go fast.
    While the figures are drawn, their lines give the time left, not the pages'."""
    clock = FakeClock()
    progress = build_progress.PageProgress(total=4, interval=5.0, clock=clock)
    assert progress.page_started("index.ko.md", figures_pending=True) is None
    clock.now += 30  # the first page waited for its figure
    line = progress.page_started("inference/folding.ko.md", figures_pending=True)
    assert line == (
        "Pages: 1/4 rendered, 30 s, figures still being drawn (next: inference/folding.ko.md)"
    )
    clock.now += 5
    line = progress.page_started("index.en.md")
    # 5 s for the last page: 10 s for the two left (the pace since the start would say 35 s)
    assert line == "Pages: 2/4 rendered, 35 s, about 10 s left (next: index.en.md)"


def test_the_figures_time_left_counts_experiments_at_the_pace_so_far_and_redraws_at_a_second():
    from refimpl.warm import REDRAW_SECONDS, seconds_left

    jobs = [(name, lang) for lang in ("ko", "en") for name in ("a", "b", "c", "d")]
    everything = seconds_left(0.0, jobs, cold=jobs, workers=2)
    assert everything == 4 * REDRAW_SECONDS / 2  # no pace yet: the experiments are not counted
    # two figures' experiments in 20 s (by a worker or a page): two more at 10 s each
    cold = [("c", "ko"), ("d", "ko"), *[(name, "en") for name in "abcd"]]
    assert seconds_left(20.0, jobs, cold, workers=2) == 20.0 + 4 * REDRAW_SECONDS / 2
    assert seconds_left(50.0, jobs, cold=[("d", "en")], workers=2) == REDRAW_SECONDS / 2


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
    """tools/warm_order.py: a figure that shares an experiment with an earlier one waits for the
    second round, so that no worker sits waiting for that experiment early on."""
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


def test_a_build_warms_the_figures_of_its_own_pages_only(tmp_path, monkeypatch):
    """A one-page project (the failing-build tests) computes that page's experiments, not the
    site's; the site's build warms every figure."""
    import mkdocs_hooks

    import refimpl.warm

    warmed: list[str] = []
    monkeypatch.setattr(refimpl.warm, "start", lambda names, workers: warmed.extend(names))
    monkeypatch.setattr(mkdocs_hooks, "_warmup", None)
    monkeypatch.setenv("REFIMPL_WARM_WORKERS", "2")
    monkeypatch.delenv("REFIMPL_NO_EXEC", raising=False)
    (tmp_path / "inference").mkdir()
    (tmp_path / "inference" / "limits.en.md").write_text("# Limits\n", encoding="utf-8")
    mkdocs_hooks.on_pre_build(type("Config", (), {"docs_dir": str(tmp_path)})())
    assert warmed and all(name.startswith("inference-") for name in warmed), warmed
    assert "inference-batch-noise" in warmed

    from refimpl.figures import load_all

    warmed.clear()
    mkdocs_hooks.on_pre_build(type("Config", (), {"docs_dir": str(REPO / "docs")})())
    assert sorted(warmed) == sorted(load_all())


def test_the_workers_start_at_the_last_page_and_take_shared_experiments_last():
    """tools/mkdocs_hooks.py, `warm_queue`: MkDocs renders the pages in the order of their paths,
    so the workers take the figures from the other end; a figure that shares an experiment with
    an earlier one in the queue comes after all the others."""
    import mkdocs_hooks
    import warm_order

    from refimpl.figures import load_all

    specs = load_all()
    queue = mkdocs_hooks.warm_queue(specs)
    assert sorted(queue) == sorted(specs)
    first, second = warm_order.rounds(specs)
    assert set(queue[len(first) :]) == set(second)
    pages = [specs[name].page for name in queue[: len(first)]]
    assert pages == sorted(pages, reverse=True)
    assert pages[0] == max(spec.page for spec in specs.values())
    assert pages[-1] == min(spec.page for spec in specs.values())  # "index", the home page


# A block that prints a number and shows a figure, as the pages' blocks do.
FIGURE_BLOCK = textwrap.dedent(
    """\
    import numpy as np
    from refimpl.plotting import RenderedFigure, show

    svg = '<svg width="30pt" height="15pt" data-text-pt="9"><path d="M0 0"/></svg>'
    figure = RenderedFigure("test-block", svg, svg.replace("M0 0", "M1 1"))
    print(np.arange(4).sum())
    print(show(figure, "test-block", alt="two paths", caption="what a reader should see"))
    """
)


@pytest.fixture
def fresh_block_cache(tmp_path, monkeypatch):
    """An empty cache, no measured blocks, and markdown-exec's own runner, counting its calls."""
    from markdown_exec._internal.formatters import python as formatter

    monkeypatch.setenv("REFIMPL_CACHE", str(tmp_path))
    monkeypatch.delenv("REFIMPL_SEED_OFFSET", raising=False)
    block_cache.start_page("")
    original = getattr(formatter._run_python, "args", [formatter._run_python])[0]
    calls = []

    def run(code, **options):
        calls.append(code)
        return original(code, **options)

    return run, calls


def test_block_key_changes_with_what_the_output_depends_on(monkeypatch):
    monkeypatch.delenv("REFIMPL_SEED_OFFSET", raising=False)
    key = block_cache.block_key("print(1)")
    assert block_cache.block_key("print(1)") == key
    assert block_cache.block_key("print(2)") != key
    monkeypatch.setenv("REFIMPL_SEED_OFFSET", "1000")
    assert block_cache.block_key("print(1)") != key
    monkeypatch.delenv("REFIMPL_SEED_OFFSET")
    monkeypatch.setattr(block_cache, "package_digest", lambda: "an edited refimpl")
    assert block_cache.block_key("print(1)") != key
    monkeypatch.undo()
    monkeypatch.setattr(block_cache, "environment_digest", lambda: "another numpy")
    assert block_cache.block_key("print(1)") != key


def test_environment_digest_covers_package_versions_and_the_runner(monkeypatch):
    digest = block_cache.environment_digest()
    block_cache.environment_digest.cache_clear()
    real = block_cache.importlib.metadata.distributions

    class Upgraded:
        def __init__(self, dist):
            self.metadata, self.version = dist.metadata, dist.version + ".post1"

    monkeypatch.setattr(
        block_cache.importlib.metadata, "distributions", lambda: map(Upgraded, real())
    )
    try:
        assert block_cache.environment_digest() != digest
    finally:
        block_cache.environment_digest.cache_clear()
    monkeypatch.undo()
    assert block_cache.environment_digest() == digest


def test_block_key_covers_how_the_hooks_run_a_block(monkeypatch):
    import mkdocs_hooks

    runners = (mkdocs_hooks.capture_library_output, mkdocs_hooks.on_config)
    digest = block_cache.runner_digest(runners)
    assert digest != block_cache.runner_digest(runners[:1])
    assert digest != block_cache.runner_digest((mkdocs_hooks.on_config, mkdocs_hooks.on_nav))
    key = block_cache.block_key("print(1)")
    monkeypatch.setattr(block_cache, "_runner_digest", digest)
    assert block_cache.block_key("print(1)") != key


def test_a_cached_block_gives_what_a_fresh_run_gives(fresh_block_cache):
    from markdown_exec._internal.formatters import python as formatter

    from refimpl.plotting import FIGURE_FILES

    run, calls = fresh_block_cache
    fresh = run(FIGURE_BLOCK)
    figures = {name: svg for name, svg in FIGURE_FILES.items() if name.startswith("test-block-")}
    assert len(figures) == 2 and "6\n" in fresh

    first = block_cache.run_python(run, FIGURE_BLOCK)  # runs and stores
    for name in figures:
        del FIGURE_FILES[name]
    number = formatter._sessions_counter[None]
    second = block_cache.run_python(run, FIGURE_BLOCK)  # served
    assert first == second == fresh
    assert len(calls) == 2  # the fresh run and the first one
    assert {name: FIGURE_FILES[name] for name in figures} == figures  # files restored
    assert formatter._sessions_counter[None] == number + 1  # the block took its number


def test_measured_and_failing_blocks_always_run(fresh_block_cache, tmp_path):
    from markdown_exec._internal.formatters.base import ExecutionError

    run, calls = fresh_block_cache
    timing = "import time\nprint(time.perf_counter() > 0)"
    page = (
        "# Page\n\n<!-- wall-clock -->\n<section markdown>\n\n"
        f'```python exec="1" source="tabbed-right" result="text"\n{timing}\n```\n\n'
        "</section>\n<!-- /wall-clock -->\n"
    )
    block_cache.start_page(page)
    assert block_cache.unrun_measured_blocks() == {timing}
    for _ in range(2):
        block_cache.run_python(run, timing)
    assert calls == [timing, timing]
    assert block_cache.unrun_measured_blocks() == set()
    for _ in range(2):
        with pytest.raises(ExecutionError):
            block_cache.run_python(run, "raise ValueError('broken')")
    assert len(calls) == 4
    assert not (tmp_path / "blocks").exists()  # nothing stored


SEARCH_PAGE = """<h1 id="page">Page</h1><p>Intro <code>x</code> text.</p>
<h2 id="first">First <a class="headerlink" href="#first">¶</a></h2><ul><li>one</li><li> </li></ul>
<div data-search-exclude><h2 id="hidden">Hidden</h2><pre><code>print(1)</code></pre></div>
<div><h3 id="nested">Nested</h3><p>inside</p></div><p>after &amp; <sub>2</sub></p>
<script>var x = 1;</script>"""


def test_search_sections_from_the_cache_equal_a_fresh_parse(tmp_path, monkeypatch):
    monkeypatch.setenv("REFIMPL_CACHE", str(tmp_path))
    parsed = []

    class CountingParser(search_cache.MaterialParser):
        def close(self):
            parsed.append(self)
            super().close()

    monkeypatch.setattr(search_cache, "MaterialParser", CountingParser)
    fresh = CountingParser()
    fresh.feed(SEARCH_PAGE)
    fresh.close()
    expected = search_cache.dump(fresh.data)
    assert [s["id"] for s in expected] == [None, "first", "hidden", "nested"]
    first = search_cache.dump(search_cache.parse(SEARCH_PAGE))
    second = search_cache.dump(search_cache.parse(SEARCH_PAGE))
    assert first == second == expected
    assert len(parsed) == 2  # the fresh parse and the first one; the second came from disk
    assert [s.is_excluded() for s in search_cache.parse(SEARCH_PAGE)] == [
        s.is_excluded() for s in fresh.data
    ]
    other = SEARCH_PAGE.replace("inside", "changed")
    assert search_cache.entry_path(other) != search_cache.entry_path(SEARCH_PAGE)
    assert "changed" in "".join(search_cache.parse(other)[-1].text)


def test_formatted_signatures_are_kept_per_text_and_line_length(tmp_path, monkeypatch):
    import mkdocs_hooks

    monkeypatch.setenv("REFIMPL_CACHE", str(tmp_path))
    calls = []

    def formatter(code, line_length):
        calls.append((code, line_length))
        return f"{code} formatted at {line_length}"

    def format_on_disk(code, line_length):
        return mkdocs_hooks.format_on_disk(formatter, code, line_length)

    assert format_on_disk("def f(a, b): pass", 60) == "def f(a, b): pass formatted at 60"
    assert format_on_disk("def f(a, b): pass", 60) == "def f(a, b): pass formatted at 60"
    assert format_on_disk("def f(a, b): pass", 80) == "def f(a, b): pass formatted at 80"
    assert format_on_disk("def g(a, b): pass", 60) == "def g(a, b): pass formatted at 60"
    assert len(calls) == 3


def test_typeset_formulas_are_kept_per_tex_and_mode(tmp_path, monkeypatch):
    monkeypatch.setenv("REFIMPL_CACHE", str(tmp_path))
    monkeypatch.setattr(math_render, "_rendered", {})
    fresh = {
        display: math_render.render(r"\hat{x}_i = x_i - \mu_B", display)
        for display in (False, True)
    }
    assert fresh[False] != fresh[True] and "katex" in fresh[False]
    assert math_render.cached_path("x", False) != math_render.cached_path("y", False)
    assert math_render.cached_path("x", False) != math_render.cached_path("x", True)
    paths = [
        math_render.cached_path(r"\hat{x}_i = x_i - \mu_B", display) for display in (False, True)
    ]
    assert [path.read_text(encoding="utf-8") for path in paths] == [fresh[False], fresh[True]]

    monkeypatch.setattr(math_render, "_rendered", {})
    monkeypatch.setattr(math_render, "_katex", None)  # no V8: served from disk, or fails
    assert math_render.render(r"\hat{x}_i = x_i - \mu_B", False) == fresh[False]
    with pytest.raises(math_render.MathError):
        math_render.render(r"\sigma^2", False)  # not typeset before
    monkeypatch.setattr(math_render, "katex_digest", lambda: "another KaTeX")
    assert math_render.cached_path("x", False) != paths[0]
