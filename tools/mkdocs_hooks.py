"""MkDocs hooks that keep the site self-contained and its builds reproducible.

- Math is typeset at build time by KaTeX (tools/math_render.py): pages load no math runtime,
  and only pages with math link KaTeX's stylesheet and fonts, which the site serves itself.
- Executed code blocks learn that they run inside the docs build (``REFIMPL_DOCS_BUILD=1``), so
  ``refimpl.plotting.show`` prints a figure into the page instead of opening a window.
- What library code prints while an executed block runs (the verdict of
  ``refimpl.exercises.check``) lands on the page, as in a notebook (`capture_library_output`).
- A block's output is kept between builds, and a rebuild runs only the blocks whose code, or
  whose library, changed (tools/block_cache.py); a timing measured during the build always runs.
- The glossary page is generated from docs/glossary.yml, and the first use of each term on
  every other page links to it (tools/glossary.py).
- Every chapter page is also written as a Jupyter notebook beside the page, and the page links
  to it (tools/notebooks.py).
- Chapter pages end with the refimpl objects they use, linked to the API reference; API pages
  list the pages that use each object (tools/api_links.py).
- Figures are SVG files written next to their page (`write_figure_files`).
- The search plugin's parse of a page is kept between builds while the page's HTML is the same
  (tools/search_cache.py), and so are the API pages' formatted signatures
  (`format_signatures_once`).
- Korean pages get the interface strings that mkdocs.yml gives in English in Korean (`UI_KO`).
- Pages carry no ``<link rel="alternate">`` tags, which would make Material fetch a missing
  ``sitemap.xml`` next to every page (see `on_post_page`).
- Every script a page links is deferred, so the first paint never waits for one
  (`defer_scripts`); 404.html gets the same treatment as the pages (`on_post_template`).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import logging
import os
import re
import sys
from pathlib import Path
from urllib.parse import urlsplit

from mkdocs.exceptions import PluginError
from mkdocs.plugins import event_priority
from mkdocs.utils import get_relative_url
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).parent))
import api_links
import api_source
import block_cache
import build_progress
import glossary
import math_render
import notebooks
import search_cache
import search_index
import snippets
import warm_order

# The opening line of an executed block; REFIMPL_NO_EXEC=1 turns it into a plain ```python.
EXECUTED_FENCE = re.compile(r'^(\s*)```python [^\n]*\bexec="(?:1|on|true|yes)"[^\n]*$', re.M)
ALTERNATE_LINK = re.compile(r'\s*<link rel="alternate" href="[^"]*" hreflang="[^"]*">')


def capture_library_output() -> None:
    """Send ``sys.stdout`` into the page while an executed block runs.

    markdown-exec gives each block its own ``print``, which writes into the block's output
    buffer; a ``print`` inside a library function (``refimpl.exercises.check``) is the builtin
    one and went to the terminal of the build, so the page showed no verdict. While a block runs,
    ``sys.stdout`` now writes into the same buffer, which is what a notebook shows.

    A block also runs with one BLAS thread, as every cached experiment does (`refimpl.cache`):
    its numbers then do not depend on the core count, and a block that trains a network itself
    (regularization/overfitting) is not slowed down by two BLAS threads waiting on each other
    for small matrices (10 s of CPU for that block with two threads on a busy machine, under 2 s
    with one).
    """
    from markdown_exec._internal.formatters import python as formatter

    run_block = formatter.exec_python
    if getattr(run_block, "captures_stdout", False):
        return

    def exec_python(code, code_block_id, exec_globals):
        buffer = exec_globals["print"].args[0]  # partial(_buffer_print, buffer)
        with contextlib.redirect_stdout(buffer), threadpool_limits(1):
            run_block(code, code_block_id, exec_globals)

    exec_python.captures_stdout = True
    formatter.exec_python = exec_python


def format_signatures_once() -> None:
    """Format each long signature of the API pages once, not once per language and build.

    mkdocstrings-python formats a signature that does not fit on a line by running ``ruff
    format`` in a subprocess, each time it renders it: some 160 processes for each language's
    API pages (1 s of a rebuild). The same text formats to the same lines with the same
    formatter, so the second language and every later build reuse the first one's: in memory,
    and on disk under ``cache_dir()/signatures``, keyed by the text, the line length and every
    installed package's version (which formatter runs, and which version of it;
    `block_cache.environment_digest`).
    """
    from mkdocstrings_handlers.python._internal import rendering

    formatter = rendering._get_formatter()
    if not getattr(formatter, "formats_once", False):
        formatter = functools.cache(functools.partial(format_on_disk, formatter))
        formatter.formats_once = True
        rendering._get_formatter = lambda: formatter


def format_on_disk(formatter, code: str, line_length: int) -> str:
    """``formatter(code, line_length)``, kept in ``cache_dir()/signatures`` (see above)."""
    from refimpl import cache

    key = f"{block_cache.environment_digest()}\0{line_length}\0{code}"
    path = cache.entry_path("signatures", hashlib.sha256(key.encode()).hexdigest(), "txt")
    if path.is_file():
        return path.read_text(encoding="utf-8")
    formatted = formatter(code, line_length)
    cache.write_whole(path, formatted)
    return formatted


def on_config(config):
    check_palette(config)
    os.environ["REFIMPL_DOCS_BUILD"] = "1"
    # Matplotlib must never try to open a window during a build.
    os.environ.setdefault("MPLBACKEND", "Agg")
    capture_library_output()
    block_cache.install(capture_library_output, on_config)
    search_cache.install()
    format_signatures_once()
    return config


def check_palette(config) -> None:
    """The header's toggle (overrides/partials/javascripts/palette.html) does not run Material's
    automatic option, which follows the system's scheme after the first visit too."""
    palette = config.theme.get("palette") or []
    if isinstance(palette, dict):
        return  # one fixed scheme: Material renders no toggle
    for option in palette:
        if option.get("media") == "(prefers-color-scheme)":
            raise PluginError(
                f"theme.palette: the scheme {option.get('scheme')!r} needs a media query such as "
                "'(prefers-color-scheme: dark)'; the automatic option is not supported by "
                "overrides/partials/javascripts/palette.html"
            )


# The worker processes drawing the figures while the pages render (see on_pre_build).
_warmup = None


def on_pre_build(config) -> None:
    """Start drawing the figures, and running their experiments, in one worker process per core,
    and print the progress (a fresh clone's first build; a warm cache skips this in well under
    a second). ``REFIMPL_WARM_WORKERS`` sets the number of processes; 0 leaves it to the pages.

    The pages render meanwhile. MkDocs renders them in the order of their paths, one language
    after the other, so the workers start with the figures of the last page (`warm_queue`):
    the build and the workers draw from opposite ends, and a page that reaches a figure no
    worker has begun draws it itself. An experiment a worker is running makes the page wait for
    it, never compute it twice (`refimpl.cache.computed_once`). `on_post_build` stops the pool.

    Only the figures of pages this build has are drawn: a test's one-page project (tests/site/
    test_build.py) computed every experiment of the site before, about 80 s a build."""
    global _warmup
    if os.environ.get("REFIMPL_NO_EXEC") == "1" or _warmup is not None:
        return  # no figures to draw, or the second language's build (the pool runs on)
    workers = int(os.environ.get("REFIMPL_WARM_WORKERS", os.cpu_count() or 1))
    if workers > 0:
        from refimpl.figures import load_all
        from refimpl.warm import start

        docs = Path(config.docs_dir)
        specs = {name: spec for name, spec in load_all().items() if has_page(docs, spec.page)}
        if specs:
            _warmup = start(warm_queue(specs), workers)


def warm_queue(specs: dict) -> list[str]:
    """The figures of ``specs`` in the order the workers take them: the last page's first, so
    that the workers meet the pages' build (which starts at the first page) in the middle.

    A figure that plots an experiment another figure plots too comes after all the others
    (tools/warm_order.py): by the time a worker takes it, the experiment is cached or being
    computed, so that no worker sits waiting for another one early on.
    """
    last_page_first = [
        sorted(names, key=lambda name: (specs[name].page, name), reverse=True)
        for names in warm_order.rounds(specs)
    ]
    return [name for names in last_page_first for name in names]


def stop_warmup():
    """End the figure workers, if they run; return their `refimpl.warm.Warmup` (or None)."""
    global _warmup
    warmup, _warmup = _warmup, None
    if warmup is not None:
        warmup.stop()
    return warmup


def on_shutdown() -> None:
    """At the end of ``mkdocs build`` or ``serve``, however it ends (Ctrl-C, a page that fails):
    end the figure workers, if on_post_build has not."""
    stop_warmup()


def figures_pending() -> bool:
    """Whether the workers are still drawing figures (on_pre_build)."""
    return _warmup is not None and not _warmup.finished()


def has_page(docs: Path, page: str) -> bool:
    """Whether ``docs`` has the page ``page`` (``inference/limits``) in some language."""
    return any(docs.glob(f"{page}.*.md"))


# The pages' progress, from the first language's nav to the last language's env (see on_nav).
_progress: build_progress.PageProgress | None = None
progress_log = logging.getLogger("mkdocs.hooks.progress")


def on_nav(nav, config, files):
    """Start counting the pages at the start of a build: every page of every language.

    mkdocs-static-i18n builds the other languages inside the first one's ``on_post_build``
    (``building`` is then true), with the same hooks: the count goes on across them.
    """
    global _progress
    i18n = config.plugins.get("i18n")
    if _progress is None or not getattr(i18n, "building", False):
        languages = len(getattr(i18n, "build_languages", None) or [None])
        _progress = build_progress.PageProgress(len(files.documentation_pages()) * languages)
    return nav


def on_pre_page(page, config, files):
    """Log how many pages are rendered, every few seconds (tools/build_progress.py)."""
    pending = figures_pending()
    if _progress is not None and (line := _progress.page_started(page.file.src_uri, pending)):
        progress_log.info(line)
    return page


def on_env(env, config, files):
    """A language's pages are rendered (its templates come next)."""
    if _progress is not None and (line := _progress.pages_finished(figures_pending())):
        progress_log.info(line)
    return env


def page_language(page) -> str:
    """The page's language, as mkdocs-static-i18n recorded it on the file."""
    return getattr(page.file, "locale", None) or "ko"


def is_chapter_page(page) -> bool:
    """Chapter pages live in a folder of docs/ (the API reference is not a chapter)."""
    return "/" in page.file.src_uri and not page.file.src_uri.startswith("api/")


NOTEBOOK_LINK_TEXT = {
    "ko": "이 페이지를 Jupyter 노트북으로 내려받기",
    "en": "Download this page as a Jupyter notebook",
}


def add_notebook(markdown: str, page, config) -> str:
    """Write the page's notebook next to its HTML and put a download link under the title."""
    name = Path(page.file.src_uri).name.split(".")[0] + ".ipynb"
    target = Path(config.site_dir) / Path(page.file.dest_uri).parent / name
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(notebooks.page_to_notebook(markdown), encoding="utf-8")
    title, _, rest = markdown.partition("\n")
    # Raw HTML: the notebook is written by this hook, so MkDocs' link check does not know it.
    text = NOTEBOOK_LINK_TEXT[page_language(page)]
    link = f'<a class="md-button" href="{name}" download>{text}</a>'

    return f"{title}\n\n{link}\n{rest}"


def on_page_markdown(markdown: str, page, config, files) -> str:
    """Add what a page gets from the build: its notebook, its API links, the glossary table.

    With ``REFIMPL_NO_EXEC=1`` executed blocks are shown as plain code and not run; only
    scripts/build_timing.py uses that, to measure what a build costs without execution.
    """
    lang = page_language(page)
    executing = os.environ.get("REFIMPL_NO_EXEC") != "1"
    block_cache.start_page(markdown if executing else "")
    if is_chapter_page(page):
        markdown = add_notebook(markdown, page, config)
    if page.file.src_uri.startswith("api/"):
        docs = Path(config.docs_dir)
        source = docs / page.file.src_uri
        markdown = api_links.USED_IN_MARKER.sub(
            lambda marker: api_links.used_in_table(marker.group(1).split(), lang, source, docs),
            markdown,
        )
    elif not page.file.src_uri.startswith("glossary."):
        markdown += api_links.uses_admonition(snippets.expand(markdown), lang)
    if glossary.MARKER in markdown:
        table = glossary.glossary_table(glossary.load_terms(), lang)
        markdown = markdown.replace(glossary.MARKER, table)
    if os.environ.get("REFIMPL_NO_EXEC") == "1":
        markdown = EXECUTED_FENCE.sub(r"\1```python", markdown)
    return markdown


def on_page_content(html: str, page, config, files) -> str:
    """Keep code and its output out of search; link the first use of every glossary term on the
    page to its entry."""
    if unrun := block_cache.unrun_measured_blocks():
        raise PluginError(
            f"{page.file.src_uri}: a block in a wall-clock region did not run, so its cached "
            f"output would be shown (tools/block_cache.py): {sorted(unrun)[0][:80]!r}"
        )
    html = search_index.exclude_from_search(html)
    if page.file.src_uri.startswith(("glossary.", "api/")):
        return html
    lang = page_language(page)
    prefix = "" if lang == "ko" else f"{lang}/"
    url = get_relative_url(prefix + "glossary/", page.url)
    return glossary.link_first_uses(html, glossary.load_terms(), lang, url)


def on_post_page(output: str, page, config) -> str:
    """Drop the ``<link rel="alternate" hreflang=...>`` tags from each page's head.

    Material's script fetches ``sitemap.xml`` next to every such link, expecting it to point at
    a language's root; mkdocs-static-i18n points it at the same page in the other language, so
    every page but the home page would request a missing ``.../sitemap.xml``. The language
    selector does not need these tags: mkdocs-static-i18n already writes the per-page links into
    it. Search engines still get the alternates from the root ``sitemap.xml`` (written when
    ``SITE_URL`` gives the site's address).
    """
    write_figure_files(output, page, config)
    if page_language(page) == "ko":
        for english, korean in UI_KO.items():
            output = output.replace(english, korean)
    output = typeset_math(output, page)
    output = output.replace(SEARCH_DIALOG, SEARCH_DIALOG_NAMED[page_language(page)], 1)
    output = label_permalinks(output)
    api_page = page.file.src_uri.startswith("api/")
    if api_page:
        folder = Path(config.site_dir) / Path(page.file.dest_uri).parent
        script = get_relative_url("assets/javascripts/api-source.js", page.url)
        output = api_source.split_listings(output, folder, script)
        output = api_source.unwrap_list_types(output)
        output = api_source.drop_repeated_titles(output)
    return finish_links_and_scripts(output, keep_mkdocstrings=api_page)


def finish_links_and_scripts(output: str, keep_mkdocstrings: bool) -> str:
    """What every page and 404.html end with: search loaded lazily, every script deferred, no
    ``<link rel="alternate">`` (see `on_post_page`), and the mkdocstrings stylesheet linked once
    where ``keep_mkdocstrings``, else not at all."""
    output = load_search_lazily(output)
    # mkdocstrings links its stylesheet from every page, and twice from English pages (its
    # on_config runs again for each language). Only the API pages use it: they link it once, and
    # the others not at all, which spares them a render-blocking request (issue 17).
    first = MKDOCSTRINGS_STYLESHEET.search(output)
    if first:
        kept = first.group(0) if keep_mkdocstrings else ""
        after = MKDOCSTRINGS_STYLESHEET.sub("", output[first.end() :])
        output = output[: first.start()] + kept + after
    output = defer_scripts(output)
    return ALTERNATE_LINK.sub("", output)


EXTERNAL_SCRIPT = re.compile(r'<script src="([^"]+)"></script>')


def defer_scripts(output: str) -> str:
    """Give every script a page links (all of them at the end of ``<body>``) the ``defer``
    attribute: it still runs once the page is parsed, in the same order and before
    ``DOMContentLoaded``, but the browser may paint the page before it has fetched and run it.

    Without ``defer`` the paint waited on Material's bundle in some loads and not in others, and
    Lighthouse's simulated first paint jumped between about 1.5 and 2.1 s on the same page, which
    put unchanged pages under 0.95 in one audit and over it in the next (issue 17). The inline
    scripts (``__md_scope``, the palette, the tabs) are not touched: they run where they stand.
    """
    return EXTERNAL_SCRIPT.sub(r'<script src="\1" defer></script>', output)


MKDOCSTRINGS_STYLESHEET = re.compile(
    r'\s*<link rel="stylesheet" href="[^"]*assets/_mkdocstrings\.css">'
)


BUNDLE_SCRIPT = re.compile(r'<script src="([^"]*assets/javascripts/)bundle\.\w+\.min\.js">')


def load_search_lazily(output: str) -> str:
    """Put assets/javascripts/search-lazy.js before Material's bundle, which would otherwise
    fetch the search index of both languages on every page load. Its address is the bundle's,
    with the file name changed: relative on a page, from the site's root on 404.html.
    """
    return BUNDLE_SCRIPT.sub(
        lambda m: f'<script src="{m.group(1)}search-lazy.js"></script>\n{m.group(0)}', output, 1
    )


PERMALINK = re.compile(r'<a [^>]*class="headerlink"[^>]*>')


def label_permalinks(output: str) -> str:
    """A heading's ¶ link is named by ``aria-label``, not ``title``.

    Material mounts a tooltip for every titled element of a page at load, and the API pages have
    a ¶ for every object (134 on api/experiments: Lighthouse's total blocking time fell from
    about 250 to 150 ms without them, issue 17). Screen readers still read the link's name; a
    pointer over the ¶ no longer shows it.
    """
    return PERMALINK.sub(lambda tag: tag.group(0).replace(' title="', ' aria-label="', 1), output)


# Material's search dialog has no accessible name (Lighthouse: aria-dialog-name).
SEARCH_DIALOG = 'data-md-component="search" role="dialog"'
SEARCH_DIALOG_NAMED = {
    "ko": f'{SEARCH_DIALOG} aria-label="검색"',
    "en": f'{SEARCH_DIALOG} aria-label="Search"',
}


def typeset_math(output: str, page) -> str:
    """Every formula typeset by KaTeX now; a formula KaTeX cannot parse fails the build."""
    stylesheet = get_relative_url((math_render.SITE_ASSETS / "katex.min.css").as_posix(), page.url)
    try:
        return math_render.render_page(output, stylesheet)
    except math_render.MathError as error:
        raise PluginError(f"{page.file.src_uri}: {error}") from None


# Interface strings that mkdocs.yml and Markdown's toc give once for both languages, in English.
UI_KO = {
    '"Switch to dark mode"': '"어두운 화면으로 바꾸기"',
    '"Switch to light mode"': '"밝은 화면으로 바꾸기"',
    'title="Permanent link"': 'title="이 제목의 링크"',
}


FIGURE_FILE = re.compile(r'<a class="refimpl-figure__\w+" href="([\w.-]+\.svg)"')


def write_figure_files(output: str, page, config) -> None:
    """Write the SVG files of the page's figures next to the page (see refimpl.plotting.show)."""
    from refimpl.plotting import FIGURE_FILES

    folder = Path(config.site_dir) / Path(page.file.dest_uri).parent
    for name in FIGURE_FILE.findall(output):
        folder.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(FIGURE_FILES[name], encoding="utf-8")


def on_post_template(output: str, template_name: str, config) -> str:
    """404.html is rendered from a template, not a page, so on_post_page never sees it."""
    if template_name == "404.html":
        root = urlsplit(config.site_url or "/").path.rstrip("/") + "/"
        output = finish_not_found_page(output, root)
    return output


LANGUAGE_LINK = re.compile(r'<a href="[^"]*" hreflang="(ko|en)" class="md-select__link">')


def finish_not_found_page(output: str, root: str) -> str:
    """Give 404.html the links and scripts every page ends with (`finish_links_and_scripts`,
    without the mkdocstrings stylesheet). mkdocs-static-i18n leaves the language selector of this
    page pointing at the last page it built; each language's entry now leads to its home page."""
    output = finish_links_and_scripts(output, keep_mkdocstrings=False)
    home = {"ko": root, "en": root + "en/"}
    return LANGUAGE_LINK.sub(
        lambda m: f'<a href="{home[m.group(1)]}" hreflang="{m.group(1)}" class="md-select__link">',
        output,
    )


# After mkdocs-static-i18n (-100), whose last step writes the index of both languages.
@event_priority(-200)
def on_post_build(config) -> None:
    """Stop the figure workers (on_pre_build); copy KaTeX's stylesheet and fonts into the site
    (both languages use ``/assets/``); write one search index per language. Without a
    ``site_url`` (no ``SITE_URL``, see mkdocs.yml) drop the sitemap: its ``<loc>`` must be an
    absolute URL, and the site's address is unknown."""
    # Every page is rendered, so whatever the workers are still drawing is drawn already.
    if (warmup := stop_warmup()) is not None:
        warmup.check()
    site_dir = Path(config.site_dir)
    if not config.site_url:
        for name in ("sitemap.xml", "sitemap.xml.gz"):
            (site_dir / name).unlink(missing_ok=True)
    math_render.copy_assets(site_dir)
    if (site_dir / "search" / "search_index.json").exists():
        search_index.split_by_language(site_dir, glossary.load_terms())
