"""Lighthouse over every page of both languages: `make audit` (after `make build`).

Serves the built site with gzip on 127.0.0.1, as a static host would, runs Lighthouse (npm
package pinned in tools/audit/, installed there by `make audit`) with the system Chromium, mobile
profile (Lighthouse's default), one page at a time, and prints one row per page: the four scores
and the bytes transferred. Nothing leaves the machine: the site loads nothing from outside.

    .venv/bin/python scripts/audit.py [SITE_DIR] [--only PATH ...] [--json OUT]
"""

from __future__ import annotations

import argparse
import functools
import gzip
import http.server
import io
import json
import os
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
LIGHTHOUSE = REPO / "tools" / "audit" / "node_modules" / ".bin" / "lighthouse"
CATEGORIES = ("performance", "accessibility", "best-practices", "seo")
CHROME_FLAGS = (
    "--headless=new --no-sandbox --disable-gpu --disable-background-networking "
    "--disable-component-update --disable-sync --no-first-run"
)
COMPRESSIBLE = (".html", ".css", ".js", ".json", ".svg", ".xml", ".txt", ".ipynb")


class GzipHandler(http.server.SimpleHTTPRequestHandler):
    """Static files, gzipped on the fly when the client accepts it (text files only)."""

    def log_message(self, format, *args):
        pass

    def send_head(self):
        path = Path(self.translate_path(self.path))
        if path.is_dir():
            if not self.path.split("?")[0].endswith("/"):
                return super().send_head()  # the base class redirects /dir to /dir/
            path = path / "index.html"
        accepts = "gzip" in self.headers.get("Accept-Encoding", "")
        if not (accepts and path.suffix in COMPRESSIBLE and path.is_file()):
            return super().send_head()
        body = gzip.compress(path.read_bytes(), compresslevel=6, mtime=0)
        self.send_response(200)
        self.send_header("Content-Type", self.guess_type(str(path)))
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "max-age=3600")
        self.end_headers()
        return io.BytesIO(body)


def pages(site: Path) -> list[str]:
    """Every page's URL path, Korean first, then English."""
    found = []
    for index in sorted(site.rglob("index.html")):
        relative = index.parent.relative_to(site).as_posix()
        if relative.split("/")[0] in ("assets", "search") or "/assets" in relative:
            continue
        found.append("/" if relative == "." else f"/{relative}/")
    return sorted(found, key=lambda path: (path.startswith("/en/"), path))


def audit(url: str) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "report.json"
        env = dict(os.environ, CHROME_PATH=os.environ.get("CHROMIUM", "/usr/bin/chromium"))
        subprocess.run(
            [
                str(LIGHTHOUSE),
                url,
                "--quiet",
                "--output=json",
                f"--output-path={out}",
                f"--chrome-flags={CHROME_FLAGS}",
                "--only-categories=" + ",".join(CATEGORIES),
            ],
            check=True,
            env=env,
        )
        report = json.loads(out.read_text(encoding="utf-8"))
    scores = {name: report["categories"][name]["score"] for name in CATEGORIES}
    transfer = report["audits"]["total-byte-weight"]["numericValue"]
    failed = [
        audit_id
        for name in CATEGORIES[1:]
        for ref in report["categories"][name]["auditRefs"]
        if ref["weight"] and report["audits"][ref["id"]]["score"] not in (None, 1)
        for audit_id in [ref["id"]]
    ]
    metrics = {
        key: report["audits"][key]["numericValue"]
        for key in ("first-contentful-paint", "largest-contentful-paint", "total-blocking-time")
    }
    # Lighthouse's measure of the machine's CPU speed. Its simulated slow phone is the observed
    # run slowed down 4x, whatever the machine: on a slower machine (or the same one while its
    # host is busy) every page's blocking time grows and its performance score falls.
    benchmark = report["environment"]["benchmarkIndex"]
    return {
        "scores": scores,
        "transfer": transfer,
        "failed": failed,
        "metrics": metrics,
        "benchmark_index": benchmark,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("site", nargs="?", default="site", type=Path)
    parser.add_argument("--only", nargs="*", help="URL paths, e.g. / /en/normalization/algorithm/")
    parser.add_argument("--json", type=Path, help="also write the results as JSON")
    args = parser.parse_args()
    if not (args.site / "index.html").exists():
        sys.exit(f"{args.site} has no index.html: run `make build` first")
    if not LIGHTHOUSE.exists():
        sys.exit(f"{LIGHTHOUSE} is missing: `make audit` installs it (npm ci in tools/audit)")
    handler = functools.partial(GzipHandler, directory=str(args.site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    results = {}
    header = "| page | perf | a11y | best pr. | SEO | transfer | LCP | TBT | below 1 |"
    print(header)
    print("|" + " --- |" * 9)
    for path in args.only or pages(args.site):
        result = results[path] = audit(base + path)
        s, m = result["scores"], result["metrics"]
        print(
            f"| {path} | {s['performance']:.2f} | {s['accessibility']:.2f} "
            f"| {s['best-practices']:.2f} | {s['seo']:.2f} | {result['transfer'] / 1024:.0f} KB "
            f"| {m['largest-contentful-paint'] / 1000:.1f} s "
            f"| {m['total-blocking-time']:.0f} ms | {' '.join(result['failed'])} |",
            flush=True,
        )
    server.shutdown()
    speeds = sorted(result["benchmark_index"] for result in results.values())
    print(
        f"\nLighthouse benchmarkIndex (CPU speed) of the runs: {speeds[0]:.0f} to {speeds[-1]:.0f}"
        f" (median {speeds[len(speeds) // 2]:.0f}). Compare performance scores only between runs"
        " at a similar index."
    )
    if args.json:
        args.json.write_text(json.dumps(results, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
