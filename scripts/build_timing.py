"""Measure the site's build budget on this machine (a script, not a timed test).

Three strict builds of both languages, each into a fresh output folder:

1. clean: an empty experiment cache, so every executed block and training run really runs;
2. warm: the cache the clean build filled, as after a prose edit;
3. no execution: executed blocks are shown as plain code (``REFIMPL_NO_EXEC=1``).

It prints the three times and the ratio warm / no execution (the aim: at most 1.5).

    .venv/bin/python scripts/build_timing.py
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
AIM = 1.5


def timed_build(site_dir: Path, cache_dir: Path, *, execute: bool = True) -> float:
    env = dict(os.environ, REFIMPL_CACHE=str(cache_dir))
    if not execute:
        env["REFIMPL_NO_EXEC"] = "1"
    command = [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site_dir)]
    start = time.perf_counter()
    result = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"build into {site_dir} failed:\n{result.stderr[-3000:]}")
    return time.perf_counter() - start


def main() -> None:
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        cache = scratch / "cache"
        clean = timed_build(scratch / "clean", cache)
        print(f"clean build (empty cache):   {clean:7.1f} s", flush=True)
        warm = timed_build(scratch / "warm", cache)
        print(f"warm rebuild (cache filled): {warm:7.1f} s", flush=True)
        no_exec = timed_build(scratch / "no-exec", scratch / "unused-cache", execute=False)
        print(f"build without execution:     {no_exec:7.1f} s", flush=True)
    ratio = warm / no_exec
    verdict = "within" if ratio <= AIM else "over"
    print(f"warm / no execution:         {ratio:7.2f}x ({verdict} the aim of {AIM}x)")


if __name__ == "__main__":
    main()
