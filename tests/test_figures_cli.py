"""`python -m refimpl figures` regenerates the site's figures; pages and registry agree."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from matplotlib.text import Text

from refimpl.__main__ import build_parser
from refimpl.figures import load_all
from refimpl.plotting import plt

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs"
SHOWN = re.compile(r'show\(\s*\w+,\s*"([\w-]+)"')
# A figures command as pages print it, in a bash block or in inline code.
COMMAND = re.compile(r"python -m refimpl (figures[^`\n]*)")


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, MPLBACKEND="Agg")
    env.pop("REFIMPL_DOCS_BUILD", None)
    return subprocess.run(
        [sys.executable, "-m", "refimpl", "figures", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.mark.parametrize("out", ["out", None])
def test_one_figure_through_the_command(tmp_path, out):
    options = ("--out", out) if out else ()  # without --out: ./figures
    out = out or "figures"
    result = _run("--only", "home-batch-histogram", "--lang", "en", *options, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    svg = tmp_path / out / "home-batch-histogram.en.svg"
    png = tmp_path / out / "home-batch-histogram.en.png"
    assert svg.read_text(encoding="utf-8").startswith("<svg")
    dark = tmp_path / out / "home-batch-histogram.en.dark.svg"  # the dark scheme's own drawing
    assert dark.read_text(encoding="utf-8").startswith("<svg")
    assert dark.read_text(encoding="utf-8") != svg.read_text(encoding="utf-8")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert str(Path(out) / "home-batch-histogram.en.svg") in result.stdout
    assert "figures" in result.stderr  # the progress bar


def test_list_names_every_figure_with_its_page(tmp_path):
    result = _run("--list", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    for name, spec in load_all().items():
        assert re.search(
            rf"^{re.escape(name)}\s+docs/{re.escape(spec.page)}\.", result.stdout, re.M
        )


def test_unknown_name_is_refused(tmp_path):
    result = _run("--only", "no-such-figure", "--out", "out", cwd=tmp_path)
    assert result.returncode == 2
    assert "no-such-figure" in result.stderr


HANGUL = re.compile(r"[가-힣]")


@pytest.mark.parametrize("name", sorted(load_all()))
def test_every_figure_draws_in_the_language_of_its_page(name):
    """The Korean figure has Korean labels, the English one none (both drawn from the registry)."""
    words = {}
    for lang in ("ko", "en"):
        fig = load_all()[name].draw(lang=lang)
        words[lang] = [t.get_text() for t in fig.findobj(Text) if t.get_text().strip()]
        plt.close(fig)
    assert any(HANGUL.search(text) for text in words["ko"]), f"{name}: no Korean label"
    assert not [text for text in words["en"] if HANGUL.search(text)], f"{name}: Korean in en"


def test_every_registered_figure_is_shown_on_its_page_in_both_languages():
    for name, spec in load_all().items():
        for lang in ("ko", "en"):
            page = DOCS / f"{spec.page}.{lang}.md"
            assert page.is_file(), f"{name}: no page {page}"
            assert name in SHOWN.findall(page.read_text(encoding="utf-8")), f"{name} not on {page}"


def test_every_figure_on_a_page_is_registered():
    registered = load_all()
    for page in DOCS.rglob("*.md"):
        for name in SHOWN.findall(page.read_text(encoding="utf-8")):
            assert name in registered, f"{page.relative_to(DOCS)} shows unregistered {name!r}"


def test_figure_commands_on_the_pages_run_as_written():
    """Every `python -m refimpl figures ...` a page shows parses and names real figures."""
    parser, registered = build_parser(), load_all()
    commands = 0
    for page in sorted(DOCS.rglob("*.md")):
        for command in COMMAND.findall(page.read_text(encoding="utf-8")):
            commands += 1
            try:
                args = parser.parse_args(shlex.split(command))
            except SystemExit:
                pytest.fail(f"{page.relative_to(DOCS)}: `{command}` does not parse")
            unknown = set(args.only or ()) - registered.keys()
            assert not unknown, f"{page.relative_to(DOCS)}: `{command}` names {unknown}"
    assert commands >= 2 * len(registered)


def test_every_figure_says_which_name_reproduces_it():
    for page in sorted(DOCS.rglob("*.md")):
        text = page.read_text(encoding="utf-8")
        for name in SHOWN.findall(text):
            assert re.search(rf"--only [^`\n]*\b{re.escape(name)}\b", text), (
                f"{page.relative_to(DOCS)} shows {name} but no `--only {name}` command"
            )
