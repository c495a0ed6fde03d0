r"""The check of an inverted-dropout forward pass, which cannot compare with one fixed answer.

The reader's mask comes from their own random draws, so the output is read instead: a unit is
kept where the output is not zero, and then

- every kept unit must equal $x / (1 - p)$ (equal to $x$: the scale is missing),
- the fraction dropped must be close to $p$ (within 5 standard errors; close to $1 - p$: ``p``
  was used as the keep probability),
- in eval mode the output must equal $x$ (equal to $(1 - p)\,x$: classic dropout).
"""

from __future__ import annotations

import numpy as np

from refimpl.exercises import messages
from refimpl.exercises.checker import (
    Case,
    OutputError,
    Result,
    case_list,
    first_of_pair,
    tolerance,
)

NAME = "dropout-forward"
EXPECTED = {"ko": "배열 out 또는 (out, cache)", "en": "an array out, or (out, cache)"}

# label, shape, p, dtype, training
SPECS = [
    ("unstandardized", (200, 500), 0.3, np.float64, True),
    ("float32", (8, 3, 16, 16), 0.5, np.float32, True),
    ("p-zero", (4, 5), 0.0, np.float64, True),
    ("eval", (6, 7), 0.2, np.float64, False),
]


def _input(seed, shape, dtype):
    x = 3 + 5 * np.random.default_rng(900 + seed).standard_normal(shape)
    return x.astype(dtype)


def check_dropout_forward(fn, lang: str) -> Result:
    """Check an inverted-dropout forward pass ``fn(x, p, rng, training=True)``."""

    def result(kind, passed=False, mistake=None, **values) -> Result:
        text = messages.text(messages.VERDICTS, kind, lang, name=NAME, **values)
        verdict = Result(name=NAME, passed=passed, kind=kind, message=text, mistake=mistake)
        verdict.case = values.get("case")
        return verdict

    def mistake(key, where):
        description = messages.text(messages.MISTAKES, key, lang)
        return result("mistake", mistake=key, case=where, description=description)

    if not callable(fn):
        return result("not-callable", got=type(fn).__name__)
    cases = [Case(label, lambda: ((), {}), shape) for label, shape, *_ in SPECS]
    for seed, ((_, shape, p, dtype, training), case) in enumerate(zip(SPECS, cases, strict=True)):
        where = case.describe(lang)
        x = _input(seed, shape, dtype)
        try:
            raw = fn(x.copy(), p, np.random.default_rng(seed), training=training)
        except Exception as error:  # the reader's error, reported as a message
            return result("raised", case=where, error=f"{type(error).__name__}: {error}")
        try:
            (out,) = first_of_pair(raw)
        except OutputError as error:
            return result("type", case=where, got=error.got, expected=EXPECTED[lang])
        if out.shape != x.shape:
            return result("shape", case=where, output="out", got=out.shape, expected=x.shape)
        if not np.isfinite(out).all():
            index = tuple(int(i) for i in np.argwhere(~np.isfinite(out))[0])
            return result("nan", case=where, output="out", index=index)
        tol = tolerance(dtype)
        if not training:
            if np.allclose(out, x, rtol=tol, atol=tol):
                continue
            if np.allclose(out, (1 - p) * x, rtol=tol, atol=tol):
                return mistake("eval-scaled", where)
            return _differs(result, where, out, x, tol)
        kept = out != 0
        expected = np.where(kept, x / (1 - p), 0.0)
        if not np.allclose(out, expected, rtol=tol, atol=tol):
            if p > 0 and np.allclose(out[kept], x[kept], rtol=tol, atol=tol):
                return mistake("missing-scale", where)
            return _differs(result, where, out, expected.astype(dtype), tol)
        dropped = 1.0 - kept.mean()
        margin = 5 * np.sqrt(max(p * (1 - p), 1e-12) / x.size) + 1e-12
        if abs(dropped - p) > margin:
            if abs(dropped - (1 - p)) <= margin:
                return mistake("keep-drop-swapped", where)
            return result("drop-rate", case=where, got=f"{dropped:.3f}", p=p)
        if out.dtype != x.dtype:
            return result("dtype", case=where, output="out", got=out.dtype, expected=x.dtype)
    return result("pass", passed=True, count=len(cases), cases=case_list(cases, lang))


def _differs(result, where, out, expected, tol) -> Result:
    wrong = ~np.isclose(out, expected, rtol=tol, atol=tol)
    index = tuple(int(i) for i in np.argwhere(wrong)[0])
    verdict = result(
        "differs",
        case=where,
        output="out",
        index=index,
        expected=f"{float(expected[index]):.6g}",
        got=f"{float(out[index]):.6g}",
    )
    verdict.index, verdict.expected, verdict.got = index, float(expected[index]), float(out[index])
    return verdict
