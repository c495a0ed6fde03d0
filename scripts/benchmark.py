"""Time refimpl against PyTorch (CPU) on the two workloads the site cares about.

(a) BatchNorm forward + backward on a (256, 64, 16, 16) float32 batch;
(b) one training step (forward, loss, backward, SGD-with-momentum step) of a 784-256-256-10
    MLP with BatchNorm1d, batch 128, float32.

Each runs at one thread and at all threads (NumPy's BLAS through threadpoolctl, PyTorch through
``torch.set_num_threads``). Times are medians over repeated calls after warm-up, with refimpl
and PyTorch alternating in blocks. The goals are refimpl/torch <= 1.0 for BatchNorm and <= 1.5
for the MLP step. The machine's other load adds noise: compare ratios from a quiet machine.

Usage: python scripts/benchmark.py [--rounds R] [--calls C]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from collections.abc import Callable

import numpy as np
import torch
from threadpoolctl import threadpool_info, threadpool_limits

from refimpl.nn.loss import CrossEntropyLoss
from refimpl.nn.normalization import BatchNorm2d
from refimpl.optim import SGD
from refimpl.train import mlp

GOALS = {"batchnorm": 1.0, "mlp step": 1.5}
BN_SHAPE = (256, 64, 16, 16)
MLP_SIZES = (784, 256, 256, 10)
BATCH = 128


def time_both(
    ours: Callable[[], object], theirs: Callable[[], object], rounds: int, calls: int
) -> tuple[list[float], list[float]]:
    """Wall-clock seconds of each timed call of ``ours()`` and of ``theirs()``.

    The two alternate in ``rounds`` blocks of ``calls`` timed calls, so a change in the load of
    the machine affects both alike. Each block starts with a pause, letting the other
    library's idle worker threads stop spinning (OpenBLAS spins for a while after a call and
    would steal a core from PyTorch, and vice versa), and two untimed warm-up calls.
    """
    times: tuple[list[float], list[float]] = ([], [])
    for _ in range(rounds):
        for run, record in zip((ours, theirs), times, strict=True):
            time.sleep(0.2)
            run()
            run()
            for _ in range(calls):
                start = time.perf_counter()
                run()
                record.append(time.perf_counter() - start)
    return times


# -- (a) BatchNorm forward + backward ---------------------------------------------------------


def batchnorm_refimpl(rng: np.random.Generator) -> Callable[[], object]:
    x = rng.standard_normal(BN_SHAPE, dtype=np.float32)
    dy = rng.standard_normal(BN_SHAPE, dtype=np.float32)
    bn = BatchNorm2d(BN_SHAPE[1], dtype=np.float32)
    bn.train()

    def run():
        bn.forward(x)
        return bn.backward(dy)

    return run


def batchnorm_torch(rng: np.random.Generator) -> Callable[[], object]:
    x = torch.from_numpy(rng.standard_normal(BN_SHAPE, dtype=np.float32)).requires_grad_()
    dy = torch.from_numpy(rng.standard_normal(BN_SHAPE, dtype=np.float32))
    channels = BN_SHAPE[1]
    weight = torch.ones(channels, requires_grad=True)
    bias = torch.zeros(channels, requires_grad=True)
    running_mean, running_var = torch.zeros(channels), torch.ones(channels)

    def run():
        x.grad = weight.grad = bias.grad = None
        y = torch.nn.functional.batch_norm(
            x, running_mean, running_var, weight, bias, training=True, momentum=0.1, eps=1e-5
        )
        y.backward(dy)
        return x.grad

    return run


# -- (b) one MLP training step ----------------------------------------------------------------


def mlp_refimpl(rng: np.random.Generator) -> Callable[[], object]:
    X = rng.standard_normal((BATCH, MLP_SIZES[0]), dtype=np.float32)
    y = rng.integers(0, MLP_SIZES[-1], size=BATCH)
    model = mlp(MLP_SIZES, batchnorm=True, rng=rng, dtype=np.float32)
    loss_fn = CrossEntropyLoss()
    optimizer = SGD(model.parameters(), lr=0.01, momentum=0.9)

    def run():
        logits = model(X)
        loss = loss_fn.forward(logits, y)
        optimizer.zero_grad()
        model.backward(loss_fn.backward(), input_grad=False)  # X needs no gradient, as in torch
        optimizer.step()
        return loss

    return run


def mlp_torch(rng: np.random.Generator) -> Callable[[], object]:
    X = torch.from_numpy(rng.standard_normal((BATCH, MLP_SIZES[0]), dtype=np.float32))
    y = torch.from_numpy(rng.integers(0, MLP_SIZES[-1], size=BATCH))
    n_in, h1, h2, n_out = MLP_SIZES
    model = torch.nn.Sequential(
        torch.nn.Linear(n_in, h1),
        torch.nn.BatchNorm1d(h1),
        torch.nn.ReLU(),
        torch.nn.Linear(h1, h2),
        torch.nn.BatchNorm1d(h2),
        torch.nn.ReLU(),
        torch.nn.Linear(h2, n_out),
    )
    loss_fn = torch.nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)

    def run():
        loss = loss_fn(model(X), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=6, help="alternating blocks per case")
    parser.add_argument("--calls", type=int, default=8, help="timed calls per block")
    args = parser.parse_args()

    all_threads = os.cpu_count() or 1
    blas = ", ".join(
        f"{info['internal_api']} {info['version']}"
        for info in threadpool_info()
        if info["user_api"] == "blas"
    )
    print(f"numpy {np.__version__} ({blas}), torch {torch.__version__}, {platform.machine()}")
    print(
        f"median of {args.rounds} x {args.calls} calls, alternating refimpl and torch; "
        f"{all_threads} CPUs, load average {os.getloadavg()[0]:.2f} before the run\n"
    )

    cases = [
        ("batchnorm", "(256, 64, 16, 16) fwd+bwd", batchnorm_refimpl, batchnorm_torch),
        ("mlp step", "784-256-256-10 +BN, batch 128", mlp_refimpl, mlp_torch),
    ]
    header = f"{'case':<10} {'shape':<30} {'threads':>7} {'refimpl ms':>11} {'torch ms':>9}"
    print(f"{header} {'ratio':>6} {'goal':>5} {'met':>4} {'min ratio':>10}")
    print("-" * (len(header) + 28))
    for name, shape, make_refimpl, make_torch in cases:
        for threads in sorted({1, all_threads}):
            torch.set_num_threads(threads)
            with threadpool_limits(limits=threads, user_api="blas"):
                ours, theirs = time_both(
                    make_refimpl(np.random.default_rng(0)),
                    make_torch(np.random.default_rng(0)),
                    args.rounds,
                    args.calls,
                )
            median_ours, median_theirs = statistics.median(ours), statistics.median(theirs)
            ratio, goal = median_ours / median_theirs, GOALS[name]
            print(
                f"{name:<10} {shape:<30} {threads:>7} {1e3 * median_ours:>11.2f}"
                f" {1e3 * median_theirs:>9.2f} {ratio:>6.2f} {goal:>5.1f}"
                f" {'yes' if ratio <= goal else 'NO':>4} {min(ours) / min(theirs):>10.2f}"
            )
    print(
        f"\nload average {os.getloadavg()[0]:.2f} after the run. Times and ratios are medians;"
        "\n'min ratio' compares the fastest calls, which other processes disturb least."
    )


if __name__ == "__main__":
    main()
