"""Keep the output of every executed block, so that a rebuild runs only the blocks that changed.

Running the pages' Python blocks was the largest cost of a rebuild after a prose edit (issue 17:
8.4 of 23 s of CPU, 410 blocks, most of it in a few blocks that compute something on the page,
the rest in loading cached experiments and imports). A block's printed output (text, or the HTML
of a figure) is a function of

- its code, as markdown-exec runs it (snippets included);
- the ``refimpl`` package it calls: the digest of every ``.py`` file of it (experiments,
  figures and ``plotting.py`` included), and the seed offset (``REFIMPL_SEED_OFFSET``);
- how the build runs it: this module, and the source of the hooks' functions that set up a
  block's run (tools/mkdocs_hooks.py: one BLAS thread, stdout captured into the page; see
  `install`), rather than the whole hooks file, which changes often for other reasons;
- the interpreter and every installed package, by version (numpy, matplotlib, scikit-learn's
  bundled digits data, markdown-exec, ...), and the machine's architecture.

`block_key` hashes all of these; `run_python` serves a block whose key it has seen, and runs
(then stores) any other. The entry is a JSON file under ``cache_dir()/blocks`` (with
``REFIMPL_CACHE``, as the experiments and figures: a test build with an empty cache runs every
block), and it holds the SVG files of the figures the output shows, which
tools/mkdocs_hooks.py writes next to the page (``refimpl.plotting.FIGURE_FILES``).

Never cached: a block in a session (its output depends on the blocks before it), a block that
fails, and a block inside a ``<!-- wall-clock -->`` region (a timing measured during the build,
inference/folding): `measured_blocks` finds those in the page's Markdown, and the build fails
if one of them did not run (`unrun_measured_blocks`), rather than show an old measurement.

A block's module name (``<code block: n12>``, numbered across the whole build) is not part of
the key: the pages print nothing that depends on it. A hit still takes its number, so the
blocks after it get the numbers an uncached build gives them.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import inspect
import json
import platform
import re
import sys
import textwrap
from pathlib import Path

from refimpl import cache
from refimpl.cache import package_digest
from refimpl.seeds import seed_offset

WALL_CLOCK = re.compile(r"<!-- wall-clock -->(.*?)<!-- /wall-clock -->", re.DOTALL)
EXECUTED_BLOCK = re.compile(
    r'^(?P<indent>[ \t]*)```python [^\n]*\bexec="(?:1|on|true|yes)"[^\n]*\n'
    r"(?P<code>.*?)^(?P=indent)```[ \t]*$",
    re.DOTALL | re.MULTILINE,
)
FIGURE_FILE = re.compile(r'<a class="refimpl-figure__\w+" href="([\w.-]+\.svg)"')

# Normalized code of the blocks in wall-clock regions of the page being rendered, and of those
# that ran (see `measured_blocks`).
_measured: set[str] = set()
_measured_ran: set[str] = set()


def normalized(code: str) -> str:
    """A block's code without its indentation, as the page and markdown-exec both give it."""
    return textwrap.dedent(code).strip()


def measured_blocks(markdown: str) -> set[str]:
    """The executed blocks of a page that lie inside ``<!-- wall-clock -->`` regions."""
    return {
        normalized(block.group("code"))
        for region in WALL_CLOCK.findall(markdown)
        for block in EXECUTED_BLOCK.finditer(region)
    }


def start_page(markdown: str) -> None:
    """Note the page's measured blocks, before markdown-exec runs its blocks."""
    _measured.clear()
    _measured_ran.clear()
    _measured.update(measured_blocks(markdown))


def unrun_measured_blocks() -> set[str]:
    """The measured blocks of the current page that did not run (empty after a good render)."""
    return _measured - _measured_ran


@functools.cache
def environment_digest() -> str:
    """SHA-256 of the interpreter, the architecture and every installed distribution and
    version; computed once per process."""
    digest = hashlib.sha256()
    digest.update(f"{sys.version}\n{platform.machine()}\n".encode())
    names = sorted(
        f"{dist.metadata['Name']}=={dist.version}" for dist in importlib.metadata.distributions()
    )
    digest.update("\n".join(names).encode())
    return digest.hexdigest()


def runner_digest(runners: tuple = ()) -> str:
    """SHA-256 of this module and of the source of ``runners``, the functions that decide how
    a block runs in the build."""
    digest = hashlib.sha256(Path(__file__).read_bytes())
    for runner in runners:
        digest.update(inspect.getsource(runner).encode())
    return digest.hexdigest()


# Set by `install`, from the hooks' functions that set up a block's run.
_runner_digest = runner_digest()


def block_key(code: str) -> str:
    """The cache key of a block: its code and everything else its output depends on."""
    parts = [code, package_digest(), str(seed_offset()), environment_digest(), _runner_digest]
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


def entry_path(key: str) -> Path:
    return cache.entry_path("blocks", key, "json")


def load(key: str) -> dict | None:
    """The stored entry (``output`` and ``figures``), or None."""
    try:
        return json.loads(entry_path(key).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None


def store(key: str, output: str) -> None:
    """Store a block's output with the SVG files of the figures it shows."""
    from refimpl.plotting import FIGURE_FILES

    figures = {name: FIGURE_FILES[name] for name in FIGURE_FILE.findall(output)}
    cache.write_whole(entry_path(key), json.dumps({"output": output, "figures": figures}))


def install(*runners) -> None:
    """Put `run_python` in front of markdown-exec's runner of Python blocks (once).

    ``runners`` are the hooks' functions that set up how a block runs (the stdout capture, the
    BLAS thread limit, the environment); their source is part of every key (`runner_digest`).
    """
    from markdown_exec._internal.formatters import python as formatter

    global _runner_digest
    _runner_digest = runner_digest(runners)
    if getattr(formatter._run_python, "cached_blocks", False):
        return
    formatter._run_python = functools.partial(run_python, formatter._run_python)
    formatter._run_python.cached_blocks = True


def run_python(run, code: str, returncode=None, session=None, id=None, **extra) -> str:
    """markdown-exec's ``_run_python`` (``run``), served from the cache where that is safe."""
    from markdown_exec._internal.formatters import python as formatter

    from refimpl.plotting import FIGURE_FILES

    if normalized(code) in _measured:
        _measured_ran.add(normalized(code))
        return run(code, returncode=returncode, session=session, id=id, **extra)
    if session:
        return run(code, returncode=returncode, session=session, id=id, **extra)
    key = block_key(code)
    entry = load(key)
    if entry is None:
        output = run(code, returncode=returncode, session=session, id=id, **extra)
        store(key, output)  # not reached when the block fails
        return output
    formatter._code_block_id(id, session, extra.get("title"))  # the number it would take
    FIGURE_FILES.update(entry["figures"])
    return entry["output"]
