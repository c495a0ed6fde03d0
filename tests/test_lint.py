"""Gate 7: ruff's linter and formatter agree with the code (configured in pyproject.toml)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _ruff() -> list[str]:
    executable = Path(sys.executable).with_name("ruff")
    if executable.exists():
        return [str(executable)]
    found = shutil.which("ruff")
    if found is None:
        pytest.fail("ruff is not installed; `make test` installs it from requirements/test.txt")
    return [found]


@pytest.mark.parametrize("command", [["check"], ["format", "--check"]], ids=" ".join)
def test_ruff(command):
    result = subprocess.run(
        [*_ruff(), *command, "refimpl", "tests", "scripts", "tools"],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
