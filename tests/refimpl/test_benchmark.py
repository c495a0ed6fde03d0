"""scripts/benchmark.py runs, prints a ratio per case and thread count, and times like with like.

The timings themselves are not asserted (the issue asks for a script, not a timed test).
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "benchmark.py"


def _load_script():
    spec = importlib.util.spec_from_file_location("benchmark", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_benchmark_prints_a_ratio_for_each_case_and_thread_count(torch):
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--rounds", "1", "--calls", "1"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert "give the same dx" in result.stdout
    row = re.compile(
        r"^(batchnorm|mlp step) .* (\d+) +([\d.]+) +([\d.]+) +([\d.]+) +([\d.]+) +(yes|NO) ",
        re.M,
    )
    rows = {(m[1], int(m[2])): m for m in row.finditer(result.stdout)}
    threads = sorted({1, os.cpu_count() or 1})
    assert set(rows) == {(case, t) for case in ("batchnorm", "mlp step") for t in threads}
    for (case, _), m in rows.items():
        ours, theirs, ratio, goal = (float(m[i]) for i in (3, 4, 5, 6))
        assert ours > 0 and theirs > 0
        # one round of one call: the median of the pair ratios is that one ratio
        assert ratio == pytest.approx(ours / theirs, abs=0.01, rel=0.01)
        assert goal == {"batchnorm": 1.2, "mlp step": 1.5}[case]
        assert m[7] == ("yes" if ratio <= goal else "NO")


def test_benchmark_refuses_to_time_a_wrong_batchnorm(torch):
    benchmark = _load_script()

    def wrong_batchnorm(rng):
        run = benchmark.batchnorm_refimpl(rng)
        return lambda: run() * np.float32(1.01)  # a 1 % error in dx

    makers = {"refimpl": benchmark.batchnorm_refimpl, "torch": benchmark.batchnorm_torch}
    assert benchmark.check_same_gradient(makers) < 1e-4
    assert (
        benchmark.check_same_gradient({**makers, "textbook": benchmark.batchnorm_textbook}) < 1e-4
    )
    with pytest.raises(SystemExit, match="disagree"):
        benchmark.check_same_gradient({**makers, "refimpl": wrong_batchnorm})
