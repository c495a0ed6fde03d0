"""Exercises on the pages (issue 18): 3 to 5 per page, the same ones in the same order in both
languages, each with a collapsed answer or solution; in the notebook, the starter code runs and
the solution stays folded after it.

An exercise is a ``### ... {#exercise-NAME}`` heading under ``## ... {#exercises}``. It is a
"write it yourself" exercise when its starter block (not indented: outside the collapsed block)
calls ``check("EXERCISE", ..., lang="LANG")``; otherwise it is "predict, then run".
"""

from __future__ import annotations

import html
import json
import re
import sys

import pytest

from refimpl.exercises import EXERCISES

from .conftest import DOCS, REPO, page_pairs, run_notebook

sys.path.insert(0, str(REPO / "tools"))
import notebooks

SECTION = re.compile(r"^## .*\{#exercises\}\s*$")
EXERCISE = re.compile(r"^### .*\{#(exercise-[\w-]+)\}\s*$")
CHECK = re.compile(r'check\("([\w-]+)", \w+, lang="(\w+)"\)')


def exercises(text: str) -> list[dict]:
    """The exercises of a page source, in order (empty when it has no Exercises section)."""
    found, inside = [], False
    for line in text.splitlines():
        if line.startswith("## "):
            inside = bool(SECTION.match(line))
            continue
        match = EXERCISE.match(line)
        if inside and match:
            found.append({"id": match.group(1), "starter": [], "collapsed": []})
        elif inside and found:
            part = "collapsed" if line.startswith(("    ", "???")) else "starter"
            found[-1][part].append(line)
    for exercise in found:
        starter, collapsed = "\n".join(exercise["starter"]), "\n".join(exercise["collapsed"])
        exercise["checks"] = CHECK.findall(starter)
        exercise["kind"] = "write" if exercise["checks"] else "predict"
        exercise["has_answer"] = "???" in collapsed and bool(collapsed.strip())
        exercise["solution_checks"] = CHECK.findall(collapsed)
    return found


def exercise_problems(korean: str, english: str) -> list[str]:
    """What is wrong with the Exercises sections of one page pair (empty: nothing)."""
    problems = []
    pages = {"ko": exercises(korean), "en": exercises(english)}
    for lang, found in pages.items():
        if not 3 <= len(found) <= 5:
            problems.append(f"{lang}: {len(found)} exercises, expected 3 to 5")
        for exercise in found:
            where = f"{lang} {exercise['id']}"
            if not exercise["has_answer"]:
                problems.append(f"{where}: no collapsed answer or solution")
            for name, check_lang in exercise["checks"] + exercise["solution_checks"]:
                if name not in EXERCISES:
                    problems.append(f"{where}: check({name!r}) is not an exercise")
                if check_lang != lang:
                    problems.append(f"{where}: check(..., lang={check_lang!r}) on a {lang} page")
    if pages["ko"] and pages["en"]:
        outline = {lang: [(e["id"], e["kind"]) for e in found] for lang, found in pages.items()}
        if outline["ko"] != outline["en"]:
            problems.append(f"order or kinds differ: ko {outline['ko']}, en {outline['en']}")
    elif pages["ko"] or pages["en"]:
        problems.append("only one language has an Exercises section")
    return problems


def _read(path) -> str:
    return (DOCS / path).read_text(encoding="utf-8")


PAIRS_WITH_EXERCISES = [
    (ko, en) for ko, en in page_pairs() if exercises(_read(ko)) or exercises(_read(en))
]


CHAPTERS = ("normalization", "inference", "regularization", "tuning")


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_every_chapter_page_has_exercises(chapter):
    """Issue 18: every page of every chapter ends with 3 to 5 exercises (checked per pair below)."""
    pages = {str(ko) for ko, _ in PAIRS_WITH_EXERCISES}
    chapter_pages = sorted(str(ko) for ko, _ in page_pairs() if ko.parts[0] == chapter)
    assert chapter_pages, f"no pages in docs/{chapter}"
    assert [page for page in chapter_pages if page not in pages] == []


@pytest.mark.parametrize(("korean", "english"), PAIRS_WITH_EXERCISES, ids=lambda p: str(p))
def test_exercises_match_between_languages(korean, english):
    assert exercise_problems(_read(korean), _read(english)) == []


@pytest.mark.parametrize(("korean", "english"), PAIRS_WITH_EXERCISES, ids=lambda p: str(p))
def test_write_it_yourself_exercises_check_and_quote_a_solution(korean, english):
    for path in (korean, english):
        for exercise in exercises(_read(path)):
            if exercise["kind"] == "write":
                solution = "\n".join(exercise["collapsed"])
                assert exercise["solution_checks"], f"{path} {exercise['id']}: solution unchecked"
                assert "--8<--" in solution, f"{path} {exercise['id']}: solution not quoted"


def test_doctored_sections_are_caught():
    korean, english = _read("normalization/algorithm.ko.md"), _read("normalization/algorithm.en.md")
    assert exercise_problems(korean, english) == []
    headings = [m.start() for m in re.finditer(r"^### .*\{#exercise-", korean, re.M)]
    # one exercise dropped from the Korean page
    dropped = korean[: headings[-1]]
    assert any("order or kinds differ" in p for p in exercise_problems(dropped, english))
    # two exercises swapped
    a, b = korean[headings[0] : headings[1]], korean[headings[1] : headings[2]]
    swapped = korean[: headings[0]] + b + a + korean[headings[2] :]
    assert any("order" in p for p in exercise_problems(swapped, english))
    # too few on both sides
    english_headings = [m.start() for m in re.finditer(r"^### .*\{#exercise-", english, re.M)]
    two = exercise_problems(korean[: headings[2]], english[: english_headings[2]])
    assert any("expected 3 to 5" in p for p in two)
    # an English check call on the Korean page
    starter = 'check("batchnorm-forward", my_batch_norm_forward, lang="ko")'
    wrong_lang = korean.replace(starter, starter.replace('"ko"', '"en"'))
    assert any("on a ko page" in p for p in exercise_problems(wrong_lang, english))
    # a solution that is not collapsed
    open_answer = korean.replace('??? success "답"', '!!! success "답"', 1)
    assert any("no collapsed answer" in p for p in exercise_problems(open_answer, english))


# -- notebooks ------------------------------------------------------------------------------------


def _notebook(path) -> dict:
    return json.loads(notebooks.page_to_notebook(_read(path)))


@pytest.mark.parametrize("path", [p for pair in PAIRS_WITH_EXERCISES for p in pair], ids=str)
def test_notebook_has_starters_and_folds_the_solutions(path):
    cells = _notebook(path)["cells"]
    sources = ["".join(cell["source"]) for cell in cells]
    for exercise in exercises(_read(path)):
        for name, _ in exercise["checks"]:
            starters = [
                i
                for i, (cell, text) in enumerate(zip(cells, sources, strict=True))
                if cell["cell_type"] == "code" and f'check("{name}", my_' in text
            ]
            assert starters, f"{path}: no runnable starter cell for {name}"
            after = sources[starters[0] + 1]
            assert after.startswith("<details>"), f"{path}: {name}: solution is not folded"
            assert f'check("{name}", ' in after
    # no collapsed admonition is left as raw Markdown, and no solution is a runnable cell
    assert not any(text.startswith("???") or "\n???" in text for text in sources)


@pytest.mark.slow
def test_a_notebook_with_exercises_runs_top_to_bottom(tmp_path):
    path = "normalization/algorithm.en.md"
    (tmp_path / "page.ipynb").write_text(json.dumps(_notebook(path)), encoding="utf-8")
    cache = REPO / ".cache" / "refimpl"
    result = run_notebook(tmp_path / "page.ipynb", tmp_path, cache, timeout=900)
    assert result.returncode == 0, f"{result.stdout}\n{result.stderr}"
    # the starters ran into the checker, which answered instead of crashing
    assert "❌ batchnorm-forward: your function raised an exception" in result.stdout
    assert "NotImplementedError: your code here" in result.stdout
    assert "Traceback" not in result.stderr


# -- the built pages ------------------------------------------------------------------------------

TAG = re.compile(r"<[^>]+>")


def missing_verdicts(site_dir) -> list[str]:
    """Built pages that show fewer checker verdicts than their collapsed blocks run ``check``.

    A solution block runs ``check(...)`` on the library function. The verdict ("✅ ...", or
    "❌ ..." for a deliberately wrong function in an answer) is printed by refimpl, not by the
    block: it reaches the page only because the build sends ``sys.stdout`` into the block's
    output (tools/mkdocs_hooks.py, `capture_library_output`). Run on the built site by
    tests/site/test_build.py.
    """
    problems = []
    for korean, english in PAIRS_WITH_EXERCISES:
        for lang, path in (("ko", korean), ("en", english)):
            expected = sum(len(e["solution_checks"]) for e in exercises(_read(path)))
            page = path.parent / path.name.replace(f".{lang}.md", "") / "index.html"
            built = site_dir / page if lang == "ko" else site_dir / lang / page
            text = html.unescape(TAG.sub("", built.read_text(encoding="utf-8")))
            shown = text.count("✅ ") + text.count("❌ ")
            if shown < expected:
                problems.append(f"{lang} {page}: {shown} verdicts shown, {expected} checks run")
    return problems
