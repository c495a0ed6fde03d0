"""Lighthouse over every page of both languages: `make audit` (after `make build`).

Serves the built site with gzip on 127.0.0.1, as a static host would, runs Lighthouse (npm
package pinned in tools/audit/, installed there by `make audit`) with the system Chromium, mobile
profile (Lighthouse's default), one page at a time, and prints one row per page: the four scores
and the bytes transferred. Nothing leaves the machine: the site loads nothing from outside.

A page is audited `RUNS` times, and its row is the median run, as Lighthouse picks it
(``computeMedianRun``: the run nearest the median first paint and time to interactive). One run
is a noisy sample: the same page, unchanged, scored from 0.93 to 0.99 on this machine, and
Lighthouse's documentation on variability recommends the median of several runs. The row also
lists every run's performance score, so a page that is only sometimes under the goal shows.

    .venv/bin/python scripts/audit.py [SITE_DIR] [--only PATH ...] [--runs N] [--json OUT]
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
MEDIAN_RUN = (
    REPO / "tools" / "audit" / "node_modules" / "lighthouse" / "core" / "lib" / "median-run.js"
)
RUNS = 3
"""Lighthouse runs per page; the table shows the median one."""
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


def lighthouse(url: str) -> dict:
    """One Lighthouse run of ``url``: its report (LHR) as a dict."""
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
        return json.loads(out.read_text(encoding="utf-8"))


def median_run(reports: list[dict]) -> int:
    """The index of the median run of ``reports``, as Lighthouse's ``computeMedianRun`` picks it
    (run with Node, from the pinned package)."""
    with tempfile.TemporaryDirectory() as tmp:
        files = []
        for number, report in enumerate(reports):
            files.append(Path(tmp) / f"run{number}.json")
            files[-1].write_text(json.dumps(report), encoding="utf-8")
        script = (
            "import {readFileSync} from 'node:fs';"
            f"import {{computeMedianRun}} from {json.dumps(MEDIAN_RUN.as_uri())};"
            "const runs = process.argv.slice(1).map(f => JSON.parse(readFileSync(f, 'utf8')));"
            "console.log(runs.indexOf(computeMedianRun(runs)));"
        )
        command = ["node", "--input-type=module", "-e", script, *map(str, files)]
        printed = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return int(printed)


def summary(report: dict) -> dict:
    """What the table shows of one run: the four scores, the transfer, the failed audits of the
    other categories, three timings and the machine's speed."""
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


def audit(url: str, runs: int = RUNS) -> dict:
    """`summary` of the median of ``runs`` Lighthouse runs of ``url``, with every run's
    performance score (``performance_runs``, in the order they ran)."""
    reports = [lighthouse(url) for _ in range(runs)]
    result = summary(reports[median_run(reports) if runs > 1 else 0])
    result["performance_runs"] = [
        report["categories"]["performance"]["score"] for report in reports
    ]
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("site", nargs="?", default="site", type=Path)
    parser.add_argument("--only", nargs="*", help="URL paths, e.g. / /en/normalization/algorithm/")
    parser.add_argument("--runs", type=int, default=RUNS, help="Lighthouse runs per page")
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
    header = (
        "| page | perf | perf, each run | a11y | best pr. | SEO | transfer | LCP | TBT | below 1 |"
    )
    print(header)
    print("|" + " --- |" * 10)
    for path in args.only or pages(args.site):
        result = results[path] = audit(base + path, args.runs)
        s, m = result["scores"], result["metrics"]
        each = " ".join(f"{score:.2f}" for score in result["performance_runs"])
        print(
            f"| {path} | {s['performance']:.2f} | {each} | {s['accessibility']:.2f} "
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
