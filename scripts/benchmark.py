"""Time refimpl against PyTorch (CPU) on the two workloads the site cares about.

(a) BatchNorm forward + backward on a (256, 64, 16, 16) float32 batch;
(b) one training step (forward, loss, backward, SGD-with-momentum step) of a 784-256-256-10
    MLP with BatchNorm1d, batch 128, float32.

Each runs at one thread and at all threads (NumPy's BLAS through threadpoolctl, PyTorch through
``torch.set_num_threads``). The implementations alternate in blocks of calls after warm-up; the
ratio is the median, over the rounds, of refimpl's median time over torch's in the same round
(the median of interleaved pairs), so that a change in the machine's load between rounds cancels
out. The goals are refimpl/torch <= 1.2 for BatchNorm (refimpl's is the readable textbook form,
each formula above its line) and <= 1.5 for the MLP step.

For scale, (a) also times the textbook NumPy version (reductions over axes (0, 2, 3),
per-channel values broadcast as (1, C, 1, 1)), and before timing anything the script checks
that the three batch-norm versions return the same input gradient.

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

GOALS = {"batchnorm": 1.2, "mlp step": 1.5}
BN_SHAPE = (256, 64, 16, 16)
MLP_SIZES = (784, 256, 256, 10)
BATCH = 128


def time_alternating(
    runs: list[Callable[[], object]], rounds: int, calls: int
) -> list[list[list[float]]]:
    """Wall-clock seconds of each timed call: ``times[run][round][call]``.

    The runs alternate in ``rounds`` blocks of ``calls`` timed calls, so a change in the load of
    the machine affects all alike. Each block starts with a pause, letting the other
    library's idle worker threads stop spinning (OpenBLAS spins for a while after a call and
    would steal a core from PyTorch, and vice versa), and two untimed warm-up calls.
    """
    times: list[list[list[float]]] = [[] for _ in runs]
    for _ in range(rounds):
        for run, record in zip(runs, times, strict=True):
            time.sleep(0.2)
            run()
            run()
            block = []
            for _ in range(calls):
                start = time.perf_counter()
                run()
                block.append(time.perf_counter() - start)
            record.append(block)
    return times


def median_pair_ratio(ours: list[list[float]], theirs: list[list[float]]) -> float:
    """The median over the rounds of (our median / their median) within each round."""
    pairs = [statistics.median(a) / statistics.median(b) for a, b in zip(ours, theirs, strict=True)]
    return statistics.median(pairs)


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


def batchnorm_textbook(rng: np.random.Generator) -> Callable[[], object]:
    """The same computation written the way most course notes write it (baseline only)."""
    x = rng.standard_normal(BN_SHAPE, dtype=np.float32)
    dy = rng.standard_normal(BN_SHAPE, dtype=np.float32)
    gamma = np.ones((1, BN_SHAPE[1], 1, 1), dtype=np.float32)
    beta = np.zeros((1, BN_SHAPE[1], 1, 1), dtype=np.float32)
    axes = (0, 2, 3)
    m = x.size // BN_SHAPE[1]

    def run():
        mean = x.mean(axis=axes, keepdims=True)
        var = x.var(axis=axes, keepdims=True)
        inv_std = 1.0 / np.sqrt(var + 1e-5)
        x_hat = (x - mean) * inv_std
        out = gamma * x_hat + beta  # noqa: F841  (computed as the others do; only dx is compared)
        dbeta = dy.sum(axis=axes, keepdims=True)
        dgamma = (dy * x_hat).sum(axis=axes, keepdims=True)
        return (gamma * inv_std / m) * (m * dy - dbeta - x_hat * dgamma)

    return run


def check_same_gradient(makers: dict[str, Callable], tolerance: float = 1e-4) -> float:
    """Largest difference between the input gradients of the batch-norm versions (same data).

    Raises SystemExit if two versions differ by more than ``tolerance``: timing code that
    computes something else would be meaningless.
    """
    grads = {}
    for name, make in makers.items():
        dx = make(np.random.default_rng(0))()
        grads[name] = dx.detach().numpy() if isinstance(dx, torch.Tensor) else dx
    reference = grads["torch"]
    difference = max(float(np.abs(dx - reference).max()) for dx in grads.values())
    if difference > tolerance:
        raise SystemExit(f"the batch-norm versions disagree: max |dx difference| {difference:.2e}")
    return difference


# -- (b) one MLP training step ----------------------------------------------------------------


def mlp_refimpl(rng: np.random.Generator) -> Callable[[], object]:
    X = rng.standard_normal((BATCH, MLP_SIZES[0]), dtype=np.float32)
    y = rng.integers(0, MLP_SIZES[-1], size=BATCH)
    model = mlp(MLP_SIZES, norm="batch", rng=rng, dtype=np.float32)
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
    model = torch.nn.Sequential(  # the same network as refimpl's: no bias in front of a BN
        torch.nn.Linear(n_in, h1, bias=False),
        torch.nn.BatchNorm1d(h1),
        torch.nn.ReLU(),
        torch.nn.Linear(h1, h2, bias=False),
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
    difference = check_same_gradient(
        {"refimpl": batchnorm_refimpl, "torch": batchnorm_torch, "textbook": batchnorm_textbook}
    )
    print(
        "batch norm: refimpl, torch and the textbook version give the same dx"
        f" (largest difference {difference:.1e})"
    )
    print(
        f"median of {args.rounds} x {args.calls} calls, alternating the implementations; "
        f"{all_threads} CPUs, load average {os.getloadavg()[0]:.2f} before the run\n"
    )

    # name, shape, refimpl, torch, and a baseline to time alongside (or None)
    cases = [
        (
            "batchnorm",
            "(256, 64, 16, 16) fwd+bwd",
            batchnorm_refimpl,
            batchnorm_torch,
            batchnorm_textbook,
        ),
        ("mlp step", "784-256-256-10 +BN, batch 128", mlp_refimpl, mlp_torch, None),
    ]
    header = f"{'case':<10} {'shape':<30} {'threads':>7} {'refimpl ms':>11} {'torch ms':>9}"
    header += f" {'ratio':>6} {'goal':>5} {'met':>4} {'min ratio':>10} {'textbook ratio':>15}"
    print(header)
    print("-" * len(header))
    for name, shape, make_refimpl, make_torch, make_baseline in cases:
        for threads in sorted({1, all_threads}):
            torch.set_num_threads(threads)
            makers = [make_refimpl, make_torch] + ([make_baseline] if make_baseline else [])
            with threadpool_limits(limits=threads, user_api="blas"):
                times = time_alternating(
                    [make(np.random.default_rng(0)) for make in makers], args.rounds, args.calls
                )
            calls = [[t for block in run for t in block] for run in times]
            medians = [statistics.median(t) for t in calls]
            ratio, goal = median_pair_ratio(times[0], times[1]), GOALS[name]
            baseline = f"{median_pair_ratio(times[2], times[1]):.2f}" if make_baseline else "-"
            print(
                f"{name:<10} {shape:<30} {threads:>7} {1e3 * medians[0]:>11.2f}"
                f" {1e3 * medians[1]:>9.2f} {ratio:>6.2f} {goal:>5.1f}"
                f" {'yes' if ratio <= goal else 'NO':>4} {min(calls[0]) / min(calls[1]):>10.2f}"
                f" {baseline:>15}"
            )
    print(
        f"\nload average {os.getloadavg()[0]:.2f} after the run. Times are medians of all calls;"
        "\n'ratio' is the median over the rounds of the ratio of the two medians in each round;"
        "\n'min ratio' compares the fastest calls, which other processes disturb least;"
        "\n'textbook ratio' is that ratio for the textbook NumPy batch norm against torch."
    )


if __name__ == "__main__":
    main()
