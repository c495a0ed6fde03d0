"""Gate: no page is heavy. What a first load transfers, gzipped, counted from the built files
(tests/site/transfer.py): at most 400 KB for a chapter page, at most 1 MB for any page."""

from __future__ import annotations

import pytest

from .conftest import DEFAULT_LANGUAGE, LANGUAGES, built_pages
from .transfer import CHAPTER_BUDGET, budget, first_load

pytestmark = pytest.mark.site


def _kb(size: int) -> str:
    return f"{size / 1024:.0f} KB"


def test_every_page_within_its_transfer_budget(built_site):
    problems = []
    for lang in LANGUAGES:
        root = built_site if lang == DEFAULT_LANGUAGE else built_site / lang
        for relative in built_pages(built_site, lang):
            page = root / relative
            files = first_load(built_site, page)
            total, limit = sum(files.values()), budget(page, built_site)
            if total > limit:
                heaviest = sorted(files.items(), key=lambda item: -item[1])[:3]
                problems.append(
                    f"{page.relative_to(built_site)}: {_kb(total)} > {_kb(limit)} "
                    f"(largest: {', '.join(f'{name} {_kb(size)}' for name, size in heaviest)})"
                )
    assert not problems, "\n".join(problems)


def test_a_heavy_script_breaks_the_budget(tmp_path):
    """The measure counts linked scripts, gzipped: 600 KB of incompressible script on a chapter
    page is over the chapter budget; the same page without it is not."""
    import random

    page = tmp_path / "normalization" / "algorithm" / "index.html"
    page.parent.mkdir(parents=True)
    (tmp_path / "assets").mkdir()
    noise = random.Random(0).randbytes(600 * 1024)
    (tmp_path / "assets" / "heavy.js").write_bytes(noise)
    page.write_text("<html><body><p>light</p></body></html>", encoding="utf-8")
    assert sum(first_load(tmp_path, page).values()) < 1024
    page.write_text(
        '<html><body><script src="../../assets/heavy.js"></script></body></html>', encoding="utf-8"
    )
    files = first_load(tmp_path, page)
    assert files["assets/heavy.js"] > 600 * 1000
    assert sum(files.values()) > CHAPTER_BUDGET == budget(page, tmp_path)
