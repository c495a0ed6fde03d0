"""Gate 1: the strict build passes, and the things that must break it do break it.

Gate 6: two clean builds are byte-identical (only the sitemap's date may differ, and the
wall-clock measurement the folding page shows between ``<!-- wall-clock -->`` markers).
"""

from __future__ import annotations

import filecmp
import os
import re
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import yaml

from ..processes import live_processes, sigint_as_in_a_terminal
from .conftest import REPO, build_site, built_pages
from .test_exercises_pages import missing_verdicts

pytestmark = pytest.mark.site


def test_strict_build_produces_both_languages(built_site):
    assert (built_site / "index.html").is_file()
    assert (built_site / "en" / "index.html").is_file()
    assert built_pages(built_site, "ko") == built_pages(built_site, "en")


def test_no_traceback_in_pages(built_site):
    """markdown-exec prints a failing block's traceback into the page; none may be there."""
    for page in built_site.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        assert "Traceback (most recent call last)" not in text, page


def test_checker_verdicts_reach_the_pages(built_site):
    """The verdicts that refimpl.exercises.check prints in the exercises' solutions are on the
    pages, not in the terminal of the build."""
    assert missing_verdicts(built_site) == []


def _mini_project(tmp_path: Path, korean_page: str, english_page: str) -> Path:
    """A copy of the site's configuration with one page pair, to test what fails the build."""
    docs = tmp_path / "docs"
    docs.mkdir()
    shutil.copytree(REPO / "docs" / "assets", docs / "assets")
    (docs / "index.ko.md").write_text(korean_page, encoding="utf-8")
    (docs / "index.en.md").write_text(english_page, encoding="utf-8")
    config = {
        "INHERIT": str(REPO / "mkdocs.yml"),
        "docs_dir": str(docs),
        "nav": [{"홈": "index.md"}],
        "hooks": [str(REPO / "tools" / "mkdocs_hooks.py")],
        # MkDocs resolves a relative custom_dir against this file, not the inherited one
        "theme": {"custom_dir": str(REPO / "overrides")},
    }
    config_path = tmp_path / "mkdocs.yml"
    config_path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    return config_path


BROKEN_PAGES = {
    "raising snippet": textwrap.dedent(
        """\
        # Page

        ```python exec="1"
        raise ValueError("this block fails")
        ```
        """
    ),
    "broken link": "# Page\n\nSee [nowhere](missing.md).\n",
    "missing anchor": "# Page\n\nSee [a section](#no-such-section).\n",
}


# What the build's log says about each problem: a build that fails for another reason (say, a
# configuration the one-page project cannot load) does not pass these tests.
BROKEN_PAGE_LOG = {
    "raising snippet": "this block fails",
    "broken link": "missing.md",
    "missing anchor": "no-such-section",
}


@pytest.mark.parametrize("problem", BROKEN_PAGES)
def test_build_fails_on(problem, tmp_path):
    page = BROKEN_PAGES[problem]
    config = _mini_project(tmp_path, page, page)
    with pytest.raises(AssertionError, match="mkdocs build --strict failed") as failure:
        build_site(tmp_path / "site", tmp_path / "cache", config=config)
    assert BROKEN_PAGE_LOG[problem] in str(failure.value), str(failure.value)[-3000:]


def test_ctrl_c_in_a_first_build_ends_it_and_its_figure_workers_at_once(tmp_path):
    """Ctrl-C during a fresh clone's first build (``make serve``) ends the build and the worker
    processes that draw the figures within seconds, although a worker has a long experiment in
    hand (tools/mkdocs_hooks.py, `on_shutdown`; refimpl/warm.py). A pool that finished the
    figures it had queued first took half a minute and more."""
    page = '# Page\n\n```python exec="1"\nimport time\n\ntime.sleep(300)\n```\n'
    config = _mini_project(tmp_path, page, page)
    for lang in ("ko", "en"):  # so that the workers draw that page's figures: a 35 s experiment
        path = tmp_path / "docs" / "tuning" / f"bayesian.{lang}.md"
        path.parent.mkdir(exist_ok=True)
        path.write_text("# Bayesian optimization\n", encoding="utf-8")
    env = dict(os.environ, REFIMPL_CACHE=str(tmp_path / "cache"), REFIMPL_WARM_WORKERS="2")
    command = [sys.executable, "-m", "mkdocs", "build", "--config-file", str(config)]
    build = subprocess.Popen(
        [*command, "--site-dir", str(tmp_path / "site")], cwd=REPO, env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        start_new_session=True, preexec_fn=sigint_as_in_a_terminal,
    )  # fmt: skip
    try:
        for line in build.stderr:
            if line.startswith("refimpl warm:"):
                break
        time.sleep(5)  # the workers are started and inside the experiment
        assert len(live_processes(build.pid)) >= 3  # the build and its two workers
        os.killpg(build.pid, signal.SIGINT)  # what Ctrl-C sends to the terminal's job
        interrupted = time.monotonic()
        _, log = build.communicate(timeout=120)
        # multiprocessing's resource tracker leaves once it sees the build gone: a moment later
        while live_processes(build.pid) and time.monotonic() - interrupted < 60:
            time.sleep(0.1)
        seconds = time.monotonic() - interrupted
    finally:
        if live_processes(build.pid):
            os.killpg(build.pid, signal.SIGKILL)
    assert build.returncode != 0, log
    assert "tuning-anytime-all" not in log  # never finished
    assert live_processes(build.pid) == []
    assert seconds < 10, seconds


@pytest.mark.xdist_group("no-exec-build")
def test_build_without_execution_passes(tmp_path):
    """The third build of scripts/build_timing.py: every block shown as code, none run."""
    site = tmp_path / "site"
    build_site(site, tmp_path / "cache", execute=False)
    for lang_root in (site, site / "en"):
        html = (lang_root / "normalization" / "algorithm" / "index.html").read_text("utf-8")
        assert "refimpl-figure" not in html  # no figure was drawn
        assert "batch_norm_forward" in html  # but the code is on the page


# A timing measured during the build differs from build to build. Pages mark it with these
# comments (and keep it out of the search index); only the pages listed here may.
WALL_CLOCK = re.compile(r"<!-- wall-clock -->.*?<!-- /wall-clock -->", re.DOTALL)
WALL_CLOCK_PAGES = {"inference/folding/index.html", "en/inference/folding/index.html"}


def _comparable(path: Path, site: Path) -> bytes:
    data = path.read_bytes()
    if path.suffix != ".html":
        return data
    text, regions = WALL_CLOCK.subn("<!-- wall-clock -->", data.decode("utf-8"))
    page = path.relative_to(site).as_posix()
    assert regions == 0 or page in WALL_CLOCK_PAGES, f"{page}: unexpected wall-clock region"
    return text.encode("utf-8")


def test_wall_clock_regions_are_where_they_are_allowed(built_site):
    for page in WALL_CLOCK_PAGES:
        text = (built_site / page).read_text(encoding="utf-8")
        assert len(WALL_CLOCK.findall(text)) == 1, page
        assert "µs" in WALL_CLOCK.search(text).group(0), page
    for path in built_site.rglob("*.html"):
        _comparable(path, built_site)  # raises for a region on any other page
    index = (built_site / "search" / "search_index.json").read_text(encoding="utf-8")
    assert "µs" not in index  # the measurement is kept out of the search index


@pytest.mark.slow
@pytest.mark.xdist_group("second-build")
def test_two_clean_builds_are_identical(request, tmp_path):
    # Build the second site first, with its own empty cache: under xdist it runs alongside the
    # session build on the other worker instead of after it.
    second = tmp_path / "site"
    build_site(second, tmp_path / "cache")
    built_site = request.getfixturevalue("built_site")
    differences = []

    def one_sided(comparison: filecmp.dircmp, prefix: str = "") -> None:
        """Files or folders only one of the two builds has."""
        differences.extend(prefix + name for name in comparison.left_only + comparison.right_only)
        for name, sub in comparison.subdirs.items():
            one_sided(sub, f"{prefix}{name}/")

    one_sided(filecmp.dircmp(built_site, second, ignore=[]))
    # filecmp compares by os.stat signature first; compare the bytes of every file instead.
    for path in built_site.rglob("*"):
        if path.is_file() and path.name not in ("sitemap.xml", "sitemap.xml.gz"):
            other = second / path.relative_to(built_site)
            if other.is_file() and _comparable(path, built_site) != _comparable(other, second):
                differences.append(str(path.relative_to(built_site)))
    assert not sorted(set(differences)), f"builds differ: {sorted(set(differences))}"
