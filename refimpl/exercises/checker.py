r"""The machinery behind `check`: run a reader's function on each input, compare, diagnose.

An `Exercise` is a list of `Case`\ s (inputs), a reference, and known wrong answers. Checking
runs in four stages:

1. Call the reader's function on every case. An exception, or something that is not the
   expected tuple of arrays, stops here with a message (never a traceback of the checker).
2. Compare every output with the reference (shape, NaN, values, dtype). All equal: a pass.
3. Otherwise, if the outputs equal one known wrong answer on *every* case, name that mistake.
4. Otherwise, report the first difference: the case, the output, the index, expected and got.

Tolerances depend on the dtype: float64 outputs must agree to ``rtol = atol = 1e-6``, float32
outputs to ``1e-4``.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from refimpl.exercises import messages


class OutputError(Exception):
    """The reader's function returned something of the wrong kind (``got`` is described)."""

    def __init__(self, got: str):
        super().__init__(got)
        self.got = got


@dataclass
class Case:
    """One input: a key into `messages.CASES`, and a function that builds fresh arguments."""

    label: str
    make: Callable[[], tuple[tuple, dict]]
    shape: tuple[int, ...] | None = None

    def describe(self, lang: str, shape: bool = True) -> str:
        label = messages.CASES[self.label][lang]
        return label if self.shape is None or not shape else f"{label} {self.shape}"


def case_list(cases: list[Case], lang: str) -> str:
    """The inputs of a passing check, each named once: "unstandardized data, C = 1, ..."."""
    labels = [case.describe(lang, shape=False) for case in cases]
    return ", ".join(dict.fromkeys(labels))


@dataclass
class Result:
    """What `check` found; ``passed`` is True only for a correct function.

    ``kind`` is one of "pass", "mistake", "differs", "raised", "type", "shape", "nan", "dtype",
    "drop-rate", "not-callable"; ``mistake`` is a key of `messages.MISTAKES` when ``kind`` is
    "mistake".
    """

    name: str
    passed: bool
    kind: str
    message: str
    mistake: str | None = None
    case: str | None = None
    index: tuple | None = None
    expected: float | None = None
    got: float | None = None
    gradient_error: float | None = None
    details: dict = field(default_factory=dict)

    def __repr__(self) -> str:
        return f"Result(name={self.name!r}, passed={self.passed}, kind={self.kind!r})"


@dataclass
class Exercise:
    """An exercise: inputs, the right answer, and the wrong answers worth naming.

    ``outputs`` names the arrays the function returns, in order; ``normalize`` turns what it
    returned into that tuple of arrays (or raises `OutputError`); ``mistakes`` are
    ``(key, function)`` pairs, each computing a known wrong answer from the same arguments.
    """

    name: str
    cases: list[Case]
    reference: Callable
    outputs: tuple[str, ...]
    normalize: Callable[[Any], tuple]
    expected_kind: dict
    mistakes: list[tuple[str, Callable]] = field(default_factory=list)
    axes_hint: str | None = None
    gradient: Callable[[Callable], float] | None = None
    exact: bool = False


def tolerance(dtype) -> float:
    return 1e-4 if np.dtype(dtype) == np.float32 else 1e-6


def _number(value) -> str:
    return f"{float(value):.6g}"


def as_arrays(value, count: int) -> tuple[np.ndarray, ...]:
    """``value`` as a tuple of ``count`` numeric arrays, or `OutputError`."""
    items = (value,) if count == 1 and not isinstance(value, tuple | list) else value
    if value is None:
        raise OutputError("None")
    if not isinstance(items, tuple | list) or len(items) < count:
        size = f"{type(value).__name__}" if not hasattr(value, "__len__") else None
        got = size or f"{type(value).__name__} of length {len(value)}"
        raise OutputError(got)
    arrays = []
    for item in items[:count]:
        if item is None:
            raise OutputError("None")
        array = np.asarray(item)
        if array.dtype == object or not np.issubdtype(array.dtype, np.number):
            raise OutputError(f"{type(item).__name__} ({array.dtype})")
        arrays.append(array)
    return tuple(arrays)


def _close(got: np.ndarray, expected: np.ndarray, exact: bool) -> bool:
    if got.shape != expected.shape:
        return False
    if exact:
        return bool(np.array_equal(got, expected))
    tol = max(tolerance(expected.dtype), tolerance(got.dtype))
    with np.errstate(invalid="ignore"):
        return bool(np.allclose(got, expected, rtol=tol, atol=tol))


def _first_difference(got: np.ndarray, expected: np.ndarray, exact: bool) -> tuple:
    if exact:
        wrong = got != expected
    else:
        tol = max(tolerance(expected.dtype), tolerance(got.dtype))
        with np.errstate(invalid="ignore"):
            wrong = ~np.isclose(got, expected, rtol=tol, atol=tol)
    index = tuple(int(i) for i in np.argwhere(wrong)[0])
    return index


def _call(fn: Callable, case: Case):
    args, kwargs = case.make()
    return fn(*copy.deepcopy(args), **copy.deepcopy(kwargs))


def run(exercise: Exercise, fn: Callable, lang: str) -> Result:
    """Check ``fn`` against ``exercise``; see the module docstring for the four stages."""
    name = exercise.name

    def result(kind, passed=False, **values) -> Result:
        fields = {k: v for k, v in values.items() if k in Result.__dataclass_fields__}
        text = messages.text(messages.VERDICTS, kind, lang, name=name, **values)
        return Result(name=name, passed=passed, kind=kind, message=text, **fields)

    if not callable(fn):
        return result("not-callable", got=type(fn).__name__)

    # 1. call the function on every case
    answers = []
    for case in exercise.cases:
        where = case.describe(lang)
        try:
            raw = _call(fn, case)
        except Exception as error:  # the reader's error, reported as a message
            return result("raised", case=where, error=f"{type(error).__name__}: {error}")
        try:
            answers.append(exercise.normalize(raw))
        except OutputError as error:
            expected = exercise.expected_kind[lang]
            return result("type", case=where, got=error.got, expected=expected)

    # 2. compare with the reference
    references = [exercise.normalize(_call(exercise.reference, case)) for case in exercise.cases]
    failing = [
        i
        for i, (answer, reference) in enumerate(zip(answers, references, strict=True))
        if not all(_close(a, r, exercise.exact) for a, r in zip(answer, reference, strict=True))
        or any(a.dtype != r.dtype for a, r in zip(answer, reference, strict=True))
    ]
    gradient_error = None
    if exercise.gradient is not None:
        gradient_error = _gradient_error(exercise, fn)
    if not failing:
        cases = case_list(exercise.cases, lang)
        verdict = result("pass", passed=True, count=len(exercise.cases), cases=cases)
        return _with_gradient(verdict, gradient_error, lang)

    first = failing[0]
    where = exercise.cases[first].describe(lang)

    # 3. a known mistake: equal to its wrong answer on every case
    for key, wrong in exercise.mistakes:
        try:
            wrong_answers = [exercise.normalize(_call(wrong, case)) for case in exercise.cases]
        except Exception:  # a wrong answer that does not exist for these inputs
            continue
        if all(
            len(answer) == len(wrong_answer)
            and all(_close(a, w, exercise.exact) for a, w in zip(answer, wrong_answer, strict=True))
            for answer, wrong_answer in zip(answers, wrong_answers, strict=True)
        ):
            description = messages.text(messages.MISTAKES, key, lang, hint=_hint(exercise, lang))
            verdict = result("mistake", case=where, description=description)
            verdict.mistake = key
            return _with_gradient(verdict, gradient_error, lang)

    # 4. where the output first differs
    for output, got, expected in zip(
        exercise.outputs, answers[first], references[first], strict=True
    ):
        if got.shape != expected.shape:
            verdict = result(
                "shape", case=where, output=output, got=got.shape, expected=expected.shape
            )
            return _with_gradient(verdict, gradient_error, lang)
        if not np.isfinite(got).all() and np.isfinite(expected).all():
            index = tuple(int(i) for i in np.argwhere(~np.isfinite(got))[0])
            verdict = result("nan", case=where, output=output, index=index)
            return _with_gradient(verdict, gradient_error, lang)
        if not _close(got, expected, exercise.exact):
            index = _first_difference(got, expected, exercise.exact)
            verdict = result(
                "differs",
                case=where,
                output=output,
                index=index if got.ndim else "()",
                expected=_number(expected[index]),
                got=_number(got[index]),
            )
            verdict.index, verdict.expected, verdict.got = (
                index,
                float(expected[index]),
                float(got[index]),
            )
            return _with_gradient(verdict, gradient_error, lang)
    for output, got, expected in zip(
        exercise.outputs, answers[first], references[first], strict=True
    ):
        if got.dtype != expected.dtype:
            return result(
                "dtype", case=where, output=output, got=got.dtype, expected=expected.dtype
            )
    raise AssertionError("unreachable: a failing case with no difference")  # pragma: no cover


def _hint(exercise: Exercise, lang: str) -> str:
    return "" if exercise.axes_hint is None else messages.AXES_HINTS[exercise.axes_hint][lang]


def _gradient_error(exercise: Exercise, fn: Callable) -> float | None:
    try:
        with np.errstate(all="ignore"):
            return exercise.gradient(fn)
    except Exception:
        return None


def _with_gradient(verdict: Result, error: float | None, lang: str) -> Result:
    if error is not None:
        verdict.gradient_error = error
        verdict.message += messages.text(messages.VERDICTS, "gradient", lang, error=f"{error:.1e}")
    return verdict


def tuple_of(count: int) -> Callable[[Any], tuple]:
    """A ``normalize`` for functions that return ``count`` arrays (or more: extras are ignored)."""
    return lambda value: as_arrays(value, count)


def first_of_pair(value) -> tuple:
    """A ``normalize`` for forward passes: ``out`` or ``(out, cache)`` both give ``(out,)``."""
    if isinstance(value, tuple | list) and len(value) == 2:
        value = value[0]
    return as_arrays(value, 1)


def random_arrays(seed: int, shapes: Sequence, dtype=np.float64) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(shape).astype(dtype) for shape in shapes]
