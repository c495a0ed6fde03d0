"""MkDocs hooks that keep the site self-contained and its builds reproducible.

- MathJax is served from the site itself: its files are taken from the pinned
  ``django-static-mathjax`` package and added to the build (no CDN).
- Executed code blocks learn that they run inside the docs build (``REFIMPL_DOCS_BUILD=1``), so
  ``refimpl.plotting.show`` prints a figure into the page instead of opening a window.
- Pages carry no ``<link rel="alternate">`` tags, which would make Material fetch a missing
  ``sitemap.xml`` next to every page (see `on_post_page`).
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import mathjax

MATHJAX_ROOT = Path(mathjax.__file__).parent / "static" / "mathjax" / "es5"
# The TeX-input, CommonHTML-output bundle and the fonts it loads relative to itself.
MATHJAX_FILES = ["tex-chtml.js"] + [
    str(path.relative_to(MATHJAX_ROOT))
    for path in sorted((MATHJAX_ROOT / "output" / "chtml" / "fonts" / "woff-v2").glob("*.woff"))
]

ALTERNATE_LINK = re.compile(r'\s*<link rel="alternate" href="[^"]*" hreflang="[^"]*">')


def on_config(config):
    os.environ["REFIMPL_DOCS_BUILD"] = "1"
    # Matplotlib must never try to open a window during a build.
    os.environ.setdefault("MPLBACKEND", "Agg")
    return config


def on_post_page(output: str, page, config) -> str:
    """Drop the ``<link rel="alternate" hreflang=...>`` tags from each page's head.

    Material's script fetches ``sitemap.xml`` next to every such link, expecting it to point at
    a language's root; mkdocs-static-i18n points it at the same page in the other language, so
    every page but the home page would request a missing ``.../sitemap.xml``. The language
    selector does not need these tags: mkdocs-static-i18n already writes the per-page links into
    it. Search engines still get the alternates from the root ``sitemap.xml``.
    """
    return ALTERNATE_LINK.sub("", output)


def on_post_build(config) -> None:
    """Copy MathJax into the site (English pages use the Korean build's ``assets/``)."""
    site_dir = Path(config.site_dir)
    for relative in MATHJAX_FILES:
        target = site_dir / "assets" / "mathjax" / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(MATHJAX_ROOT / relative, target)
