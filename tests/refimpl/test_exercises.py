"""The exercise checker: right answers pass, and each known mistake is named as that mistake.

The wrong implementations below are written the way a reader would write them (plain NumPy, no
refimpl), so they test the checker's diagnosis, not its own list of wrong answers.
"""

from __future__ import annotations

import numpy as np
import pytest

from refimpl.exercises import EXERCISES, check
from refimpl.exercises.solutions import adamw_step, hyperband_bracket
from refimpl.functional import (
    batch_norm_backward,
    batch_norm_forward,
    dropout_backward,
    dropout_forward,
    fold_batch_norm,
    layer_norm_forward,
    update_running_stats,
)

SOLUTIONS = {
    "batchnorm-forward": batch_norm_forward,
    "batchnorm-backward": batch_norm_backward,
    "layernorm-forward": layer_norm_forward,
    "dropout-forward": dropout_forward,
    "dropout-backward": dropout_backward,
    "adamw-step": adamw_step,
    "fold-batchnorm-conv": fold_batch_norm,
    "running-stats-update": update_running_stats,
    "successive-halving-rungs": hyperband_bracket,
}


def test_every_exercise_has_a_solution_here():
    assert set(SOLUTIONS) == set(EXERCISES)


@pytest.mark.parametrize("name", sorted(SOLUTIONS))
@pytest.mark.parametrize("lang", ["ko", "en"])
def test_reference_solution_passes(name, lang, capsys):
    result = check(name, SOLUTIONS[name], lang=lang)
    assert result.passed and result.kind == "pass", result.message
    assert result.mistake is None
    printed = capsys.readouterr().out
    assert printed.startswith("✅") and name in printed
    assert ("입력" in printed) == (lang == "ko")


# -- a reader's implementations, right and wrong ----------------------------------------------


def bn_forward(x, gamma, beta, eps, axes=(0, 2, 3), ddof=0, eps_outside=False):
    mean = x.mean(axis=axes, keepdims=True)
    var = x.var(axis=axes, keepdims=True, ddof=ddof)
    std = np.sqrt(var) + eps if eps_outside else np.sqrt(var + eps)
    return gamma[None, :, None, None] * (x - mean) / std + beta[None, :, None, None]


def bn_backward(dout, cache, mean_term=True, var_term=True, with_gamma=True):
    x_hat, inv_std = cache.x_hat, cache.inv_std[None, :, None, None]
    gamma = cache.gamma[None, :, None, None] if with_gamma else 1.0
    dbeta = dout.sum(axis=(0, 2, 3))
    dgamma = (dout * x_hat).sum(axis=(0, 2, 3))
    dx_hat = dout * gamma
    dx = dx_hat
    if mean_term:
        dx = dx - dx_hat.mean(axis=(0, 2, 3), keepdims=True)
    if var_term:
        dx = dx - x_hat * (dx_hat * x_hat).mean(axis=(0, 2, 3), keepdims=True)
    return dx * inv_std, dgamma, dbeta


def ln_forward(x, normalized_shape, gamma, beta, eps, axes=None, ddof=0):
    axes = tuple(range(x.ndim - len(normalized_shape), x.ndim)) if axes is None else axes
    mean = x.mean(axis=axes, keepdims=True)
    var = x.var(axis=axes, keepdims=True, ddof=ddof)
    return gamma * (x - mean) / np.sqrt(var + eps) + beta


def dropout(x, p, rng, training=True, scale=True, keep_is_p=False, eval_scale=False):
    if not training:
        return x * (1 - p) if eval_scale else x
    keep = rng.random(x.shape) < (p if keep_is_p else 1 - p)
    return x * keep / (1 - p) if scale else x * keep


def adamw(param, grad, m, v, t, lr, betas, eps, weight_decay, coupled=False, corrected=True):
    b1, b2 = betas
    if coupled:
        grad = grad + weight_decay * param
    else:
        param = param - lr * weight_decay * param
    m = b1 * m + (1 - b1) * grad
    v = b2 * v + (1 - b2) * grad**2
    m_hat = m / (1 - b1**t) if corrected else m
    v_hat = v / (1 - b2**t) if corrected else v
    return param - lr * m_hat / (np.sqrt(v_hat) + eps), m, v


def fold(weight, bias, mean, var, gamma, beta, eps, keep_bias=False):
    s = gamma / np.sqrt(var + eps)
    w = weight * s.reshape((-1,) + (1,) * (weight.ndim - 1))
    b = np.zeros_like(mean) if bias is None else bias
    return w, (b if keep_bias else s * (b - mean) + beta)


def running(mean, var, bm, bv, count, momentum=0.1, num_batches_tracked=0, swap=False, unbias=True):
    a = 1 / (num_batches_tracked + 1) if momentum is None else momentum
    if swap:
        return a * mean + (1 - a) * bm, a * var + (1 - a) * bv * count / (count - 1)
    bv = bv * count / (count - 1) if unbias else bv
    return (1 - a) * mean + a * bm, (1 - a) * var + a * bv


def rungs(R, eta, s, floor=False, short=False):
    s_max = int(round(np.log(R) / np.log(eta), 9) // 1)
    n_float = (s_max + 1) / (s + 1) * eta**s
    n = int(np.floor(n_float)) if floor else int(np.ceil(n_float - 1e-9))
    r = R / eta**s
    count = s if short else s + 1
    return [(int(n / eta**i), max(1, round(r * eta**i))) for i in range(count)]


RIGHT = {
    "batchnorm-forward": bn_forward,
    "batchnorm-backward": bn_backward,
    "layernorm-forward": ln_forward,
    "dropout-forward": dropout,
    "adamw-step": adamw,
    "fold-batchnorm-conv": fold,
    "running-stats-update": running,
    "successive-halving-rungs": rungs,
}


@pytest.mark.parametrize("name", sorted(RIGHT))
def test_a_readers_right_answer_passes(name):
    result = check(name, RIGHT[name], lang="en", quiet=True)
    assert result.passed, result.message


def kw(function, **options):
    return lambda *args, **kwargs: function(*args, **kwargs, **options)


# (exercise, wrong implementation, the mistake it must be diagnosed as)
WRONG = [
    # the seven mistakes issue 18 names
    ("batchnorm-forward", kw(bn_forward, ddof=1), "unbiased-variance"),
    ("layernorm-forward", kw(ln_forward, ddof=1), "unbiased-variance"),
    ("running-stats-update", kw(running, swap=True), "momentum-old"),
    ("dropout-forward", kw(dropout, scale=False), "missing-scale"),
    ("dropout-backward", lambda dout, cache: dout * cache.mask, "missing-scale"),
    ("batchnorm-forward", kw(bn_forward, axes=(0,)), "wrong-axes"),
    ("batchnorm-forward", kw(bn_forward, axes=(1, 2, 3)), "wrong-axes"),
    ("batchnorm-forward", kw(bn_forward, axes=(2, 3)), "wrong-axes"),
    ("layernorm-forward", kw(ln_forward, axes=(0,)), "wrong-axes"),
    ("layernorm-forward", kw(ln_forward, axes=(-1,)), "wrong-axes"),
    ("batchnorm-backward", kw(bn_backward, mean_term=False), "missing-mean-term"),
    ("adamw-step", kw(adamw, coupled=True), "coupled-decay"),
    ("fold-batchnorm-conv", kw(fold, keep_bias=True), "bias-not-folded"),
    # more that the checker recognizes
    ("batchnorm-forward", kw(bn_forward, eps_outside=True), "eps-outside-sqrt"),
    ("batchnorm-backward", kw(bn_backward, mean_term=False, var_term=False), "stats-constant"),
    ("batchnorm-backward", kw(bn_backward, with_gamma=False), "gamma-missing"),
    ("dropout-backward", lambda dout, cache: dout * cache.scale, "mask-missing"),
    ("dropout-forward", kw(dropout, keep_is_p=True), "keep-drop-swapped"),
    ("dropout-forward", kw(dropout, eval_scale=True), "eval-scaled"),
    ("adamw-step", kw(adamw, corrected=False), "no-bias-correction"),
    ("running-stats-update", kw(running, unbias=False), "running-var-biased"),
    ("successive-halving-rungs", kw(rungs, floor=True), "n-floor"),
    ("successive-halving-rungs", kw(rungs, short=True), "rungs-one-short"),
]


@pytest.mark.parametrize(("name", "wrong", "mistake"), WRONG, ids=[f"{n}-{m}" for n, _, m in WRONG])
def test_wrong_answer_is_named(name, wrong, mistake):
    english = check(name, wrong, lang="en", quiet=True)
    assert not english.passed
    assert (english.kind, english.mistake) == ("mistake", mistake), english.message
    assert "Likely mistake" in english.message
    korean = check(name, wrong, lang="ko", quiet=True)
    assert korean.mistake == mistake and "흔한 실수" in korean.message


def test_named_mistakes_read_differently():
    unbiased = check("batchnorm-forward", kw(bn_forward, ddof=1), lang="en", quiet=True).message
    axes = check("batchnorm-forward", kw(bn_forward, axes=(0,)), lang="en", quiet=True).message
    assert "m − 1" in unbiased and "axes 0, 2, 3" in axes
    korean = check("batchnorm-forward", kw(bn_forward, axes=(0,)), lang="ko", quiet=True).message
    assert "잘못된 축" in korean


# -- unknown mistakes, and functions that fail outright -----------------------------------------


def test_an_unknown_mistake_reports_the_first_difference():
    def off_by_a_little(x, gamma, beta, eps):
        out = bn_forward(x, gamma, beta, eps)
        out[1, 0, 0, 0] += 0.5
        return out

    result = check("batchnorm-forward", off_by_a_little, lang="en", quiet=True)
    assert (result.kind, result.mistake, result.index) == ("differs", None, (1, 0, 0, 0))
    assert result.got == pytest.approx(result.expected + 0.5)
    assert "first differs at index (1, 0, 0, 0)" in result.message
    korean = check("batchnorm-forward", off_by_a_little, lang="ko", quiet=True).message
    assert "인덱스 (1, 0, 0, 0)에서 처음 다릅니다" in korean


def test_wrong_output_of_dropout_forward_reports_an_index():
    result = check("dropout-forward", kw(dropout, eval_scale=False), lang="en", quiet=True)
    assert result.passed  # the helper itself is right
    shifted = check("dropout-forward", lambda x, p, rng, training=True: x + 1.0, "en", quiet=True)
    assert shifted.kind == "differs" and shifted.index == (0, 0)


def raises(*args, **kwargs):
    raise NotImplementedError("write this function")


@pytest.mark.parametrize("name", sorted(SOLUTIONS))
def test_a_function_that_raises_gets_a_message(name, capsys):
    result = check(name, raises, lang="en")
    assert (result.passed, result.kind) == (False, "raised")
    printed = capsys.readouterr().out
    assert "NotImplementedError: write this function" in printed
    assert "Traceback" not in printed


def test_wrong_shape_none_and_nan_get_messages():
    shape = check("batchnorm-forward", lambda x, *a: x[0], lang="en", quiet=True)
    assert shape.kind == "shape" and "(3, 4, 5); expected (8, 3, 4, 5)" in shape.message
    none = check("batchnorm-backward", lambda dout, cache: None, lang="en", quiet=True)
    assert none.kind == "type" and "returned None; expected (dx, dgamma, dbeta)" in none.message
    short = check("batchnorm-backward", lambda dout, cache: dout, lang="en", quiet=True)
    assert short.kind == "type"
    nan = check("layernorm-forward", lambda x, *a: x * np.nan, lang="ko", quiet=True)
    assert nan.kind == "nan" and "NaN" in nan.message and "인덱스" in nan.message
    drop_nan = check(
        "dropout-forward", lambda x, p, rng, training=True: x + np.inf, "en", quiet=True
    )
    assert drop_nan.kind == "nan"
    text = check("adamw-step", lambda *a, **k: "param", lang="en", quiet=True)
    assert text.kind == "type"
    assert check("adamw-step", 42, lang="en", quiet=True).kind == "not-callable"


def test_float64_for_float32_input_is_reported_as_dtype():
    def upcast(x, gamma, beta, eps):
        return bn_forward(x.astype(np.float64), gamma, beta, eps)

    result = check("batchnorm-forward", upcast, lang="en", quiet=True)
    assert result.kind == "dtype" and "float32" in result.message


def test_backward_reports_the_numerical_gradient_error():
    right = check("batchnorm-backward", bn_backward, lang="en", quiet=True)
    assert right.gradient_error < 1e-7
    wrong = check("batchnorm-backward", kw(bn_backward, mean_term=False), "en", quiet=True)
    assert wrong.gradient_error > 1e-3 and "numerical gradient" in wrong.message


def test_the_checker_does_not_modify_the_readers_inputs_in_the_reference():
    def in_place(dout, cache):  # scribbles on its inputs, then answers right
        dx, dgamma, dbeta = batch_norm_backward(dout, cache)
        dout[...] = 0.0
        cache.x_hat[...] = 0.0
        return dx, dgamma, dbeta

    assert check("batchnorm-backward", in_place, lang="en", quiet=True).passed


def test_unknown_exercise_or_language_is_refused():
    with pytest.raises(ValueError, match="unknown exercise"):
        check("batchnorm-sideways", batch_norm_forward)
    with pytest.raises(ValueError, match="lang"):
        check("batchnorm-forward", batch_norm_forward, lang="fr")


def test_verdicts_are_wrapped_for_a_phone_and_keep_the_exception_whole():
    """A printed verdict fits 60 monospace columns (a Hangul syllable takes two), breaks only
    between words, and ends with the reader's exception on a line of its own."""
    import unicodedata

    from refimpl.exercises import wrap

    def columns(line):
        return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in line)

    korean = (
        "❌ batchnorm-forward: 표준화하지 않은 데이터(평균 3, 표준편차 5) (8, 3, 4, 5)에서 "
        "함수가 예외를 냈습니다."
    )
    english = (
        "❌ adamw-step: wrong on the first step (t = 1) (5, 4). param first differs at "
        "index (0, 0)."
    )
    for message in (korean, english):
        lines = wrap(message).split("\n")
        assert len(lines) > 1 and all(columns(line) <= 60 for line in lines)
        assert " ".join(line.strip() for line in lines).split() == message.split()
    raised = wrap(english + " NotImplementedError: write this function, then run the check")
    assert (
        raised.split("\n")[-1] == "   NotImplementedError: write this function, then run the check"
    )
