"""Math typeset at build time with KaTeX, so that pages load no math runtime at all.

pymdownx.arithmatex (generic mode) leaves every formula as
``<span class="arithmatex">\\(…\\)</span>`` or ``<div class="arithmatex">\\[…\\]</div>``.
`render_page` replaces each of them with KaTeX's HTML (for the eye) and MathML (for screen
readers), rendered by the KaTeX in ``tools/katex/`` running in an embedded V8 (the
``mini-racer`` package). A page with math then links the KaTeX stylesheet, whose fonts the site
serves itself (`copy_assets`); a page without math loads nothing. A formula KaTeX cannot parse
fails the build with the page and the formula.

Each formula's HTML is kept on disk (`render`), so that a rebuild starts no V8 and typesets
only new formulas (issue 17: some 800 distinct formulas, 1 s of a rebuild).

``tools/katex/`` holds KaTeX 0.19.1's ``dist/`` files as published on npm (``katex.min.js``,
``katex.min.css`` and the WOFF2 fonts), with its MIT license.
"""

from __future__ import annotations

import atexit
import functools
import hashlib
import html
import importlib.metadata
import json
import re
from pathlib import Path

from refimpl import cache

KATEX_DIR = Path(__file__).parent / "katex"
# Where the stylesheet and fonts go in the built site.
SITE_ASSETS = Path("assets") / "katex"

ARITHMATEX = re.compile(r'<(?P<tag>span|div) class="arithmatex">(?P<tex>.*?)</(?P=tag)>', re.S)
DELIMITERS = {"\\(": "\\)", "\\[": "\\]"}
OPTIONS = {
    "throwOnError": True,
    "output": "htmlAndMathml",
    # Korean words inside math (e.g. \text{정규화}) are fine: no warning printed for them.
    "strict": "ignore",
}

# TeX and MathJax take an operator name as a bare subscript (``s_\\max``); KaTeX wants braces.
BARE_OPERATOR_SCRIPT = re.compile(r"(?<=[_^])(\\(?:max|min|sup|inf|lim|log|exp|det|arg)\b)")

_context = None
_rendered: dict[tuple[str, bool], str] = {}


class MathError(ValueError):
    pass


def _katex():
    global _context
    if _context is None:
        from py_mini_racer import MiniRacer

        _context = MiniRacer()
        # V8's event-loop thread keeps the interpreter from exiting unless the context is
        # closed; atexit runs after a failed build too.
        atexit.register(_context.close)
        _context.eval((KATEX_DIR / "katex.min.js").read_text(encoding="utf-8"))
    return _context


def split_delimiters(text: str) -> tuple[str, bool]:
    """``(tex, display)`` from arithmatex's text: ``\\(x\\)`` is inline, ``\\[x\\]`` display."""
    text = text.strip()
    for opening, closing in DELIMITERS.items():
        if text.startswith(opening) and text.endswith(closing) and len(text) >= 2 * len(opening):
            return text[len(opening) : len(text) - len(closing)].strip(), opening == "\\["
    # An environment written without delimiters (\begin{align} … \end{align}) is display math.
    return text, True


def render(tex: str, display: bool) -> str:
    """KaTeX's HTML+MathML for one formula (memoized: many formulas repeat across pages, and
    on disk across builds, see `cached_path`)."""
    tex = BARE_OPERATOR_SCRIPT.sub(r"{\1}", tex)
    key = (tex, display)
    if key in _rendered:
        return _rendered[key]
    path = cached_path(tex, display)
    if path.is_file():
        _rendered[key] = path.read_text(encoding="utf-8")
        return _rendered[key]
    try:
        _rendered[key] = _katex().call(
            "katex.renderToString", tex, dict(OPTIONS, displayMode=display)
        )
    except Exception as error:  # the V8 exception carries KaTeX's ParseError text
        message = str(error).splitlines()[0]
        raise MathError(f"KaTeX cannot typeset {tex!r}: {message}") from None
    cache.write_whole(path, _rendered[key])
    return _rendered[key]


@functools.cache
def katex_digest() -> str:
    """SHA-256 of what typesets a formula besides its TeX: KaTeX's script, the options, this
    file, and the mini-racer (V8) version."""
    digest = hashlib.sha256((KATEX_DIR / "katex.min.js").read_bytes())
    digest.update(json.dumps(OPTIONS, sort_keys=True).encode())
    digest.update(Path(__file__).read_bytes())
    digest.update(importlib.metadata.version("mini-racer").encode())
    return digest.hexdigest()


def cached_path(tex: str, display: bool) -> Path:
    """Where the HTML of a formula is kept: ``cache_dir()/katex`` (with the experiment cache),
    keyed by `katex_digest`, the display mode and the TeX."""
    key = hashlib.sha256(f"{katex_digest()}\0{bool(display)}\0{tex}".encode()).hexdigest()
    return cache.entry_path("katex", key, "html")


def render_html(text: str) -> tuple[str, int]:
    """Every arithmatex element of ``text`` typeset; returns the HTML and how many there were."""
    count = 0

    def replace(match: re.Match) -> str:
        nonlocal count
        count += 1
        tex, display = split_delimiters(html.unescape(match.group("tex")))
        tag = match.group("tag")
        return f'<{tag} class="arithmatex">{render(tex, display)}</{tag}>'

    return ARITHMATEX.sub(replace, text), count


# The fonts of plain text and of variables, which nearly every formula uses: requested with the
# stylesheet rather than after it, so that they arrive before the first paint. KaTeX's fonts are
# font-display: block, and one that arrived later redrew the formulas with other metrics, and
# moved the lines around them (issue 17: a layout shift of 0.06 on tuning/random-search).
PRELOADED_FONTS = {"KaTeX_Main-Regular": "", "KaTeX_Math-Italic": " mathnormal"}


def render_page(output: str, stylesheet_url: str) -> str:
    """Typeset a whole HTML page; link the KaTeX stylesheet if the page has any math, and
    preload the fonts that its formulas use the most."""
    output, count = render_html(output)
    if count:
        fonts = stylesheet_url.rpartition("/")[0] + "/fonts"
        links = [
            f'<link rel="preload" href="{fonts}/{font}.woff2" as="font" type="font/woff2"'
            " crossorigin>"
            for font, used_by in PRELOADED_FONTS.items()
            if used_by in output
        ]
        links.append(f'<link rel="stylesheet" href="{stylesheet_url}">')
        output = output.replace("</head>", "\n".join(links) + "\n</head>", 1)
    return output


WOFF_OR_TTF = re.compile(r',url\(fonts/[^)]+\.(?:woff|ttf)\) format\("(?:woff|truetype)"\)')


def copy_assets(site_dir: Path) -> None:
    """The stylesheet (WOFF2 fonts only: every browser that runs the site reads them) and fonts."""
    target = site_dir / SITE_ASSETS
    (target / "fonts").mkdir(parents=True, exist_ok=True)
    css = (KATEX_DIR / "katex.min.css").read_text(encoding="utf-8")
    (target / "katex.min.css").write_text(WOFF_OR_TTF.sub("", css), encoding="utf-8")
    for font in sorted((KATEX_DIR / "fonts").glob("*.woff2")):
        (target / "fonts" / font.name).write_bytes(font.read_bytes())
