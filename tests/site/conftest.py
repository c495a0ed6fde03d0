"""Shared fixtures for the site gates: one strict build per test session, served on 127.0.0.1.

Under pytest-xdist every worker asks for the built site; the first one builds it (holding a file
lock), the others wait and reuse it. The build uses a fresh, empty experiment cache, so every
executed block really runs.
"""

from __future__ import annotations

import functools
import http.server
import os
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest
from filelock import FileLock

REPO = Path(__file__).resolve().parents[2]
DOCS = REPO / "docs"
LANGUAGES = ("ko", "en")
DEFAULT_LANGUAGE = "ko"


def build_site(
    site_dir: Path,
    cache_dir: Path,
    *,
    config: Path | None = None,
    execute: bool = True,
    site_url: str | None = None,
) -> None:
    """Run ``mkdocs build --strict`` into ``site_dir``; raise with the log if it fails.

    ``execute=False`` shows executed blocks as plain code (``REFIMPL_NO_EXEC=1``). The site is
    built as a reader builds it, without ``SITE_URL``, unless ``site_url`` gives one.
    """
    env = dict(os.environ, REFIMPL_CACHE=str(cache_dir), PYTHONHASHSEED="0")
    env.pop("SITE_URL", None)
    if site_url is not None:
        env["SITE_URL"] = site_url
    if not execute:
        env["REFIMPL_NO_EXEC"] = "1"
    command = [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site_dir)]
    if config is not None:
        command += ["--config-file", str(config)]
    result = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise AssertionError(f"mkdocs build --strict failed:\n{result.stdout}\n{result.stderr}")


@pytest.fixture(scope="session")
def shared_dir(tmp_path_factory, worker_id) -> Path:
    """A folder shared by all xdist workers of this session."""
    base = tmp_path_factory.getbasetemp()
    return base if worker_id == "master" else base.parent


@pytest.fixture(scope="session")
def built_site(shared_dir) -> Path:
    """The site, built once per session with an empty cache."""
    site_dir = shared_dir / "site"
    with FileLock(str(shared_dir / "site.lock")):
        if not (site_dir / "index.html").exists():
            build_site(site_dir, shared_dir / "cache")
    return site_dir


# Runs a notebook's code cells in order in one namespace, as "Run all" does.
RUN_ALL = textwrap.dedent(
    """\
    import json, sys
    notebook = json.load(open(sys.argv[1], encoding="utf-8"))
    namespace = {"__name__": "__main__"}
    for cell in notebook["cells"]:
        if cell["cell_type"] == "code":
            exec(compile("".join(cell["source"]), "<cell>", "exec"), namespace)
    """
)


def run_notebook(
    notebook: Path, folder: Path, cache: Path, timeout: int
) -> subprocess.CompletedProcess:
    """Run every code cell of ``notebook`` top to bottom in a fresh, isolated process in
    ``folder``, as a reader's "Run all" does, with the experiment cache ``cache``."""
    (folder / "run_all.py").write_text(RUN_ALL, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "REFIMPL_DOCS_BUILD"}
    env.update(MPLBACKEND="Agg", REFIMPL_CACHE=str(cache))
    return subprocess.run(
        [sys.executable, "-I", "run_all.py", str(notebook)],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture(scope="session")
def experiment_cache(built_site, shared_dir) -> Path:
    """The experiment cache the session build filled (warm for snippet runs)."""
    return shared_dir / "cache"


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass


class _Server(http.server.ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        """Stay quiet when the browser drops a connection mid-transfer (a test navigated
        away); report anything else as the standard server does."""
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


@pytest.fixture(scope="session")
def site_url(built_site):
    """Serve the built site on 127.0.0.1 (a free port) for the browser tests."""
    handler = functools.partial(_QuietHandler, directory=str(built_site))
    server = _Server(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def page_pairs() -> list[tuple[Path, Path]]:
    """Every (Korean, English) source pair under docs/, as paths relative to docs/."""
    pairs = []
    for korean in sorted(DOCS.rglob("*.ko.md")):
        english = korean.with_name(korean.name.replace(".ko.md", ".en.md"))
        pairs.append((korean.relative_to(DOCS), english.relative_to(DOCS)))
    return pairs


def built_pages(site_dir: Path, lang: str) -> list[Path]:
    """The HTML pages of one language's build (relative to that language's root)."""
    root = site_dir if lang == DEFAULT_LANGUAGE else site_dir / lang
    pages = []
    for path in sorted(root.rglob("index.html")):
        relative = path.relative_to(root)
        if lang == DEFAULT_LANGUAGE and relative.parts and relative.parts[0] in LANGUAGES:
            continue
        if relative.parts and relative.parts[0] in ("assets", "search"):
            continue
        pages.append(relative)
    return pages
