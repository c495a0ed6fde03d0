"""Helpers for the tests that interrupt a command as a reader's Ctrl-C does."""

from __future__ import annotations

import signal
from pathlib import Path


def sigint_as_in_a_terminal() -> None:
    """A command started in the background by a shell script inherits SIGINT ignored (POSIX), and
    then never sees Ctrl-C: so did the suite when CI's script was run with ``&``. The command
    under test gets SIGINT as a terminal's foreground job has it (use as ``preexec_fn``)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def live_processes(group: int) -> list[int]:
    """The ids of the processes of process group ``group`` that are still running (Linux's
    ``/proc``; a process that has exited but not been reaped yet is left out)."""
    alive = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            # pid (name) state ppid pgrp ...; the name may hold spaces and parentheses
            state, _, pgrp = stat.read_text().rpartition(")")[2].split()[:3]
        except (OSError, ValueError):
            continue  # the process ended while we looked
        if int(pgrp) == group and state != "Z":
            alive.append(int(stat.parent.name))
    return alive
