"""How far the pages of a build have got, as a line in the build's log every few seconds.

Rendering the pages (both languages, their executed blocks) would be a long silent part of a
build. The hooks (tools/mkdocs_hooks.py) tell a `PageProgress` when the build starts, when each
page starts rendering, and when a language's pages are done; it answers with a line to log, or
None:

    Pages: 18/50 rendered, 12 s, about 21 s left (next: regularization/overfitting.ko.md)

A line is written at most every `INTERVAL` seconds, so a quick rebuild of ``mkdocs serve``
writes one or two lines, and a build that writes none also writes no closing line. The time
left comes from the pages rendered since the previous line: the first language's pages run
their blocks and the second's mostly reuse what the first computed, so the pace changes.

On a fresh clone the figures are drawn meanwhile (refimpl/warm.py), and a page may wait for
one; the figures' own lines then give the time left, and the page lines leave it out.
"""

from __future__ import annotations

import time
from collections.abc import Callable

INTERVAL = 5.0
"""Seconds between two progress lines (at least)."""


class PageProgress:
    """Pages rendered so far, out of ``total`` (every page of every language the build makes)."""

    def __init__(
        self, total: int, interval: float = INTERVAL, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.total = total
        self.interval = interval
        self.clock = clock
        self.start = self.last_line = clock()
        self.done = 0
        self.done_at_last_line = 0
        self.lines = 0
        self.current: str | None = None

    def page_started(self, name: str, figures_pending: bool = False) -> str | None:
        """Page ``name`` (its source file) starts rendering: the page before it is done.
        ``figures_pending``: the figures are still being drawn (no estimate then)."""
        self._current_done()
        self.current = name
        return self._line(figures_pending)

    def pages_finished(self, figures_pending: bool = False) -> str | None:
        """One language's pages are all rendered; after the last language, a closing line (if
        any line was written before it)."""
        self._current_done()
        if self.done < self.total:
            return self._line(figures_pending)
        if not self.lines:
            return None
        return f"Pages: {self.done}/{self.total} rendered in {self.clock() - self.start:.0f} s"

    def _current_done(self) -> None:
        if self.current is not None:
            self.done = min(self.done + 1, self.total)
            self.current = None

    def _line(self, figures_pending: bool) -> str | None:
        now = self.clock()
        if self.done == 0 or now - self.last_line < self.interval:
            return None
        # the pace since the previous line (since the start, for the first line)
        pace = (now - self.last_line) / max(self.done - self.done_at_last_line, 1)
        left = pace * (self.total - self.done)
        self.last_line, self.done_at_last_line = now, self.done
        self.lines += 1
        line = f"Pages: {self.done}/{self.total} rendered, {now - self.start:.0f} s"
        line += ", figures still being drawn" if figures_pending else f", about {left:.0f} s left"
        return f"{line} (next: {self.current})" if self.current else line
