r"""Exercises with a checker that names the mistake: ``check("batchnorm-forward", my_function)``.

`check` runs the reader's function on several inputs, including the edge cases that catch
most bugs (unstandardized data, ``C = 1``, ``H = W = 1``, float32), compares with refimpl and,
for backward passes, with numerical gradients, and prints a verdict in the page's language.
A wrong answer that matches a known mistake is named (unbiased variance, statistics over the
wrong axes, a missing $1/(1-p)$ scale, ...); otherwise the first differing entry is shown.

The exercises and the signature of the function each expects:

- ``batchnorm-forward``: ``f(x, gamma, beta, eps) -> out`` or ``(out, cache)``; x is
  ``(N, C, H, W)``.
- ``batchnorm-backward``: ``f(dout, cache) -> (dx, dgamma, dbeta)``; the cache comes from
  `batch_norm_forward` (``x_hat``, ``inv_std``, ``gamma``).
- ``layernorm-forward``: ``f(x, normalized_shape, gamma, beta, eps) -> out``.
- ``dropout-forward``: ``f(x, p, rng, training=True) -> out``, inverted dropout.
- ``dropout-backward``: ``f(dout, cache) -> dx``; the cache comes from `dropout_forward`
  (``mask``, ``scale``).
- ``adamw-step``: ``f(param, grad, m, v, t, lr, betas, eps, weight_decay) -> (param, m, v)``.
- ``fold-batchnorm-conv``: ``f(weight, bias, running_mean, running_var, gamma, beta, eps)
  -> (weight, bias)`` for a ``Conv2d`` or ``Linear`` weight.
- ``running-stats-update``: ``f(running_mean, running_var, batch_mean, batch_var, count,
  momentum=0.1, num_batches_tracked=0) -> (running_mean, running_var)``, PyTorch's convention.
- ``successive-halving-rungs``: ``f(max_budget, eta, s) -> [(n_0, r_0), ..., (n_s, r_s)]``,
  the rungs of Hyperband's bracket ``s``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

from refimpl.exercises import catalog, messages
from refimpl.exercises.checker import Result, run
from refimpl.exercises.dropout import check_dropout_forward

__all__ = ["EXERCISES", "Result", "check", "wrap"]

_CATALOG = catalog.build()
EXERCISES = (*_CATALOG, "dropout-forward")


def check(name: str, fn: Callable, lang: str = "ko", quiet: bool = False) -> Result:
    """Check the reader's function ``fn`` for exercise ``name``; print and return the verdict.

    Parameters
    ----------
    name : str
        One of `EXERCISES`, e.g. ``"batchnorm-forward"``.
    fn : callable
        The reader's function, with the signature of the exercise (see the module docstring).
    lang : {"ko", "en"}, default "ko"
        Language of the verdict.
    quiet : bool, default False
        Return the verdict without printing it.

    Returns
    -------
    Result
        ``passed`` (bool), ``kind`` ("pass", "mistake", "differs", "raised", "type", "shape",
        "nan", "dtype", ...), ``mistake`` (the key of a known mistake, or None), ``message``.

    Raises
    ------
    ValueError
        If ``name`` is not an exercise or ``lang`` is not "ko" or "en". Errors of ``fn`` itself
        are never raised: they become the verdict.

    Examples
    --------
    >>> from refimpl.functional import batch_norm_forward
    >>> result = check("batchnorm-forward", batch_norm_forward, lang="en", quiet=True)
    >>> result.passed, result.kind
    (True, 'pass')
    >>> def no_scale(x, p, rng, training=True):
    ...     return x * (rng.random(x.shape) >= p) if training else x
    >>> check("dropout-forward", no_scale, lang="en", quiet=True).mistake
    'missing-scale'
    """
    if lang not in messages.LANGUAGES:
        raise ValueError(f"lang must be 'ko' or 'en', got {lang!r}")
    if name == "dropout-forward":
        verdict = check_dropout_forward(fn, lang)
    elif name in _CATALOG:
        verdict = run(_CATALOG[name], fn, lang)
    else:
        raise ValueError(f"unknown exercise {name!r}; choose one of {', '.join(EXERCISES)}")
    if not quiet:
        print(wrap(verdict.message))
    return verdict


def wrap(message: str, columns: int = 60) -> str:
    """``message`` broken into lines of at most ``columns`` terminal columns, between words.

    A Hangul syllable takes two columns in a monospace font, so a Korean verdict breaks after
    about half as many characters as an English one. Long verdicts otherwise run far past the
    edge of a phone's output box. An exception the reader's function raised ends the message
    and keeps a line of its own, whole, as Python prints it.
    """

    def width(text: str) -> int:
        return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)

    raised = RAISED.search(message)
    words = (message[: raised.start()] if raised else message).split()
    lines, line = [], ""
    for word in words:
        candidate = f"{line} {word}" if line else word
        if line and width(candidate) > columns:
            lines.append(line)
            candidate = "   " + word  # continuation lines are indented under the mark
        line = candidate
    lines.append(line)
    if raised:
        lines.append("   " + raised.group())
    return "\n".join(lines)


# "NotImplementedError: your code here" at the end of a verdict
RAISED = re.compile(r"\b[A-Z]\w*(?:Error|Exception|Warning|Interrupt|Exit): .*$", re.S)
