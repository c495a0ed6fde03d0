r"""The exercises: for each, its inputs, the signature the reader writes, and the known mistakes.

Each wrong answer below is written out in a few lines of NumPy, next to the mistake it stands
for, so that a reader of this file sees what the checker recognizes.
"""

from __future__ import annotations

import numpy as np

from refimpl.exercises.checker import (
    Case,
    Exercise,
    OutputError,
    first_of_pair,
    random_arrays,
    tuple_of,
)
from refimpl.exercises.solutions import hyperband_bracket
from refimpl.functional import (
    batch_norm_backward,
    batch_norm_forward,
    dropout_backward,
    dropout_forward,
    fold_batch_norm,
    layer_norm_forward,
    update_running_stats,
)
from refimpl.gradcheck import numerical_gradient, relative_error
from refimpl.nn.module import Parameter
from refimpl.optim import AdamW
from refimpl.search.hyperband import hyperband_brackets

EPS = 1e-5

# -- batch norm ---------------------------------------------------------------------------------

BN_SHAPES = [
    ("unstandardized", (8, 3, 4, 5), np.float64),
    ("one-channel", (6, 1, 3, 3), np.float64),
    ("one-pixel", (4, 3, 1, 1), np.float64),
    ("float32", (8, 3, 4, 5), np.float32),
]


def _bn_inputs(seed, shape, dtype):
    x, gamma, beta = random_arrays(seed, [shape, shape[1], shape[1]])
    return (3 + 5 * x).astype(dtype), (1 + 0.5 * gamma).astype(dtype), beta.astype(dtype)


def _bn_cases(with_dout: bool) -> list[Case]:
    cases = []
    for seed, (label, shape, dtype) in enumerate(BN_SHAPES):

        def make(seed=seed, shape=shape, dtype=dtype):
            x, gamma, beta = _bn_inputs(seed, shape, dtype)
            if not with_dout:
                return (x, gamma, beta, EPS), {}
            dout = random_arrays(100 + seed, [shape])[0].astype(dtype)
            return (dout, batch_norm_forward(x, gamma, beta, EPS)[1]), {}

        cases.append(Case(label, make, shape))
    return cases


def _normalize_with(x, gamma, beta, axes, ddof=0, eps_outside=False):
    shape = [1] * x.ndim
    shape[1] = -1
    mean = x.mean(axis=axes, keepdims=True)
    var = x.var(axis=axes, keepdims=True, ddof=ddof)
    std = np.sqrt(var) + EPS if eps_outside else np.sqrt(var + EPS)
    return gamma.reshape(shape) * (x - mean) / std + beta.reshape(shape)


def batchnorm_forward() -> Exercise:
    def wrong_axes(axes):
        return lambda x, gamma, beta, eps: _normalize_with(x, gamma, beta, axes)

    return Exercise(
        name="batchnorm-forward",
        cases=_bn_cases(with_dout=False),
        reference=batch_norm_forward,
        outputs=("out",),
        normalize=first_of_pair,
        expected_kind={"ko": "배열 out 또는 (out, cache)", "en": "an array out, or (out, cache)"},
        mistakes=[
            # σ² = (1/(m − 1)) Σ (x_i − μ)²
            ("unbiased-variance", lambda x, g, b, eps: _normalize_with(x, g, b, (0, 2, 3), ddof=1)),
            # over the batch axis only; per sample (layer norm); per sample and channel; all
            ("wrong-axes", wrong_axes((0,))),
            ("wrong-axes", wrong_axes((1, 2, 3))),
            ("wrong-axes", wrong_axes((2, 3))),
            ("wrong-axes", wrong_axes((0, 1, 2, 3))),
            # (x − μ) / (σ + ε)
            (
                "eps-outside-sqrt",
                lambda x, g, b, eps: _normalize_with(x, g, b, (0, 2, 3), eps_outside=True),
            ),
        ],
        axes_hint="batchnorm",
    )


def _bn_backward_without(dout, cache, mean_term=False, var_term=False, gamma=True):
    x_hat, inv_std = cache.x_hat, cache.inv_std
    m = x_hat.size // x_hat.shape[1]
    axes, shape = (0, 2, 3), (1, -1, 1, 1)
    dbeta = dout.sum(axis=axes)
    dgamma = (dout * x_hat).sum(axis=axes)
    scale = (cache.gamma if gamma else np.ones_like(cache.gamma)) * inv_std
    inner = m * dout
    if mean_term:
        inner = inner - dbeta.reshape(shape)
    if var_term:
        inner = inner - x_hat * dgamma.reshape(shape)
    return (scale / m).reshape(shape) * inner, dgamma, dbeta


def _bn_gradient(fn) -> float:
    """Relative error of the reader's dx, dγ, dβ against central differences (float64)."""
    x, gamma, beta = _bn_inputs(7, (3, 2, 2, 2), np.float64)
    dout = random_arrays(8, [x.shape])[0]
    _, cache = batch_norm_forward(x, gamma, beta, EPS)
    answer = tuple_of(3)(fn(dout.copy(), cache))

    def loss():
        return float(np.sum(dout * batch_norm_forward(x, gamma, beta, EPS)[0]))

    numeric = [numerical_gradient(loss, array) for array in (x, gamma, beta)]
    return max(relative_error(a, n) for a, n in zip(answer, numeric, strict=True))


def batchnorm_backward() -> Exercise:
    return Exercise(
        name="batchnorm-backward",
        cases=_bn_cases(with_dout=True),
        reference=batch_norm_backward,
        outputs=("dx", "dgamma", "dbeta"),
        normalize=tuple_of(3),
        expected_kind={"ko": "(dx, dgamma, dbeta)", "en": "(dx, dgamma, dbeta)"},
        mistakes=[
            # dx = γ/(m σ) (m dy − x̂ Σ dy x̂): the −Σ dy through μ is gone
            ("missing-mean-term", lambda d, c: _bn_backward_without(d, c, var_term=True)),
            # dx = γ dy / σ: μ and σ² as constants
            ("stats-constant", lambda d, c: _bn_backward_without(d, c)),
            # dx without the factor γ
            (
                "gamma-missing",
                lambda d, c: _bn_backward_without(d, c, mean_term=True, var_term=True, gamma=False),
            ),
        ],
        gradient=_bn_gradient,
    )


# -- layer norm ---------------------------------------------------------------------------------

LN_SHAPES = [
    ("unstandardized", (4, 3, 5, 6), 3, np.float64),
    ("two-dim", (8, 10), 1, np.float64),
    ("one-channel", (5, 1, 4, 4), 3, np.float64),
    ("one-pixel", (6, 3, 1, 1), 3, np.float64),
    ("float32", (4, 3, 5, 6), 3, np.float32),
]


def _ln_cases() -> list[Case]:
    cases = []
    for seed, (label, shape, trailing, dtype) in enumerate(LN_SHAPES):
        normalized = shape[-trailing:]

        def make(seed=seed, shape=shape, normalized=normalized, dtype=dtype):
            x, gamma, beta = random_arrays(200 + seed, [shape, normalized, normalized])
            x = (3 + 5 * x).astype(dtype)
            return (x, normalized, (1 + 0.5 * gamma).astype(dtype), beta.astype(dtype), EPS), {}

        cases.append(Case(label, make, shape))
    return cases


def _ln_with(x, normalized, gamma, beta, axes=None, ddof=0):
    if axes is None:
        axes = tuple(range(x.ndim - len(normalized), x.ndim))
    mean = x.mean(axis=axes, keepdims=True)
    var = x.var(axis=axes, keepdims=True, ddof=ddof)
    return gamma * (x - mean) / np.sqrt(var + EPS) + beta


def layernorm_forward() -> Exercise:
    def wrong_axes(axes):
        return lambda x, shape, gamma, beta, eps: _ln_with(x, shape, gamma, beta, axes)

    return Exercise(
        name="layernorm-forward",
        cases=_ln_cases(),
        reference=layer_norm_forward,
        outputs=("out",),
        normalize=first_of_pair,
        expected_kind={"ko": "배열 out 또는 (out, cache)", "en": "an array out, or (out, cache)"},
        mistakes=[
            ("unbiased-variance", lambda x, s, g, b, eps: _ln_with(x, s, g, b, ddof=1)),
            # over the batch (batch norm's axis); over the last axis only
            ("wrong-axes", wrong_axes((0,))),
            ("wrong-axes", wrong_axes((-1,))),
        ],
        axes_hint="layernorm",
    )


# -- dropout ------------------------------------------------------------------------------------


def _dropout_cases() -> list[Case]:
    specs = [
        ("unstandardized", (200, 500), 0.3, np.float64),
        ("float32", (8, 3, 4, 5), 0.5, np.float32),
    ]
    cases = []
    for seed, (label, shape, p, dtype) in enumerate(specs):

        def make(seed=seed, shape=shape, p=p, dtype=dtype):
            x = (3 + 5 * random_arrays(300 + seed, [shape])[0]).astype(dtype)
            dout = random_arrays(400 + seed, [shape])[0].astype(dtype)
            _, cache = dropout_forward(x, p, np.random.default_rng(seed))
            return (dout, cache), {}

        cases.append(Case(label, make, shape))
    return cases


def _dropout_gradient(fn) -> float:
    x = 3 + 5 * random_arrays(500, [(4, 6)])[0]
    dout = random_arrays(501, [(4, 6)])[0]
    _, cache = dropout_forward(x, 0.4, np.random.default_rng(5))
    answer = tuple_of(1)(fn(dout.copy(), cache))[0]

    def loss():
        return float(np.sum(dout * dropout_forward(x, 0.4, np.random.default_rng(5))[0]))

    return relative_error(answer, numerical_gradient(loss, x))


def dropout_backward_exercise() -> Exercise:
    return Exercise(
        name="dropout-backward",
        cases=_dropout_cases(),
        reference=dropout_backward,
        outputs=("dx",),
        normalize=tuple_of(1),
        expected_kind={"ko": "배열 dx", "en": "an array dx"},
        mistakes=[
            # dx = dy ⊙ mask
            ("missing-scale", lambda dout, cache: dout * cache.mask),
            # dx = dy / (1 − p)
            ("mask-missing", lambda dout, cache: dout * cache.scale),
        ],
        gradient=_dropout_gradient,
    )


# -- AdamW --------------------------------------------------------------------------------------

ADAM_SPECS = [
    ("first-step", (5, 4), 1, 0.1, 0.1, np.float64),
    ("later-step", (6,), 10, 0.01, 0.5, np.float64),
    ("float32", (3, 3), 3, 0.05, 0.2, np.float32),
]


def _adam_cases() -> list[Case]:
    cases = []
    for seed, (label, shape, t, lr, decay, dtype) in enumerate(ADAM_SPECS):

        def make(seed=seed, shape=shape, t=t, lr=lr, decay=decay, dtype=dtype):
            param, grad, m, v = random_arrays(600 + seed, [shape] * 4)
            if t == 1:
                m, v = np.zeros(shape), np.zeros(shape)
            else:
                m, v = 0.1 * m, 0.01 * v**2
            arrays = [a.astype(dtype) for a in (param, grad, m, v)]
            kwargs = {"lr": lr, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": decay}
            return (*arrays, t), kwargs

        cases.append(Case(label, make, shape))
    return cases


def _adamw_reference(param, grad, m, v, t, lr, betas, eps, weight_decay):
    """One step of `refimpl.optim.AdamW` from the given state."""
    p = Parameter(param.copy())
    p.grad[...] = grad
    optimizer = AdamW([p], lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)
    optimizer.state[p] = {"step": t - 1, "exp_avg": m.copy(), "exp_avg_sq": v.copy()}
    optimizer.step()
    state = optimizer.state[p]
    return p.data, state["exp_avg"], state["exp_avg_sq"]


def _adam_wrong(param, grad, m, v, t, lr, betas, eps, weight_decay, coupled=False, correct=True):
    beta1, beta2 = betas
    if coupled:
        grad = grad + weight_decay * param  # g ← g + λθ, then through the moments
    else:
        param = param * (1 - lr * weight_decay)
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad * grad
    m_hat, v_hat = (m / (1 - beta1**t), v / (1 - beta2**t)) if correct else (m, v)
    return param - lr * m_hat / (np.sqrt(v_hat) + eps), m, v


def adamw_step_exercise() -> Exercise:
    return Exercise(
        name="adamw-step",
        cases=_adam_cases(),
        reference=_adamw_reference,
        outputs=("param", "m", "v"),
        normalize=tuple_of(3),
        expected_kind={"ko": "(param, m, v)", "en": "(param, m, v)"},
        mistakes=[
            ("coupled-decay", lambda *a, **k: _adam_wrong(*a, **k, coupled=True)),
            ("no-bias-correction", lambda *a, **k: _adam_wrong(*a, **k, correct=False)),
        ],
    )


# -- folding ------------------------------------------------------------------------------------

FOLD_SPECS = [
    ("conv", (4, 3, 3, 3), True, np.float64),
    ("linear", (5, 7), True, np.float64),
    ("no-bias", (4, 2, 3, 3), False, np.float64),
    ("one-out-channel", (1, 2, 3, 3), True, np.float64),
    ("float32", (5, 7), True, np.float32),
]


def _fold_cases() -> list[Case]:
    cases = []
    for seed, (label, shape, has_bias, dtype) in enumerate(FOLD_SPECS):

        def make(seed=seed, shape=shape, has_bias=has_bias, dtype=dtype):
            c = shape[0]
            weight, bias, mean, var, gamma, beta = random_arrays(700 + seed, [shape] + [c] * 5)
            arrays = [weight, bias, 3 + mean, 1 + var**2, 1 + 0.5 * gamma, beta]
            arrays = [a.astype(dtype) for a in arrays]
            if not has_bias:
                arrays[1] = None
            return (*arrays, EPS), {}

        cases.append(Case(label, make, shape))
    return cases


def _fold_normalize(value):
    if isinstance(value, tuple | list) and len(value) >= 2 and value[1] is None:
        value = (value[0], np.zeros(np.shape(value[0])[:1]))  # an unfolded, absent bias
    return tuple_of(2)(value)


def _fold_keep(bias_of):
    def fold(weight, bias, mean, var, gamma, beta, eps):
        scale = gamma / np.sqrt(var + eps)
        b = np.zeros_like(mean) if bias is None else bias
        return weight * scale.reshape(-1, *[1] * (weight.ndim - 1)), bias_of(b, scale, mean, beta)

    return fold


def fold_batchnorm_conv() -> Exercise:
    return Exercise(
        name="fold-batchnorm-conv",
        cases=_fold_cases(),
        reference=fold_batch_norm,
        outputs=("weight", "bias"),
        normalize=_fold_normalize,
        expected_kind={"ko": "(weight, bias)", "en": "(weight, bias)"},
        mistakes=[
            # the layer's bias returned unchanged; β alone; b' = β − sμ without the layer's b
            ("bias-not-folded", _fold_keep(lambda b, s, mu, beta: b)),
            ("bias-not-folded", _fold_keep(lambda b, s, mu, beta: beta)),
            ("bias-not-folded", _fold_keep(lambda b, s, mu, beta: beta - s * mu)),
            ("bias-not-folded", _fold_keep(lambda b, s, mu, beta: b + beta - s * mu)),
        ],
    )


# -- running statistics -------------------------------------------------------------------------

RUNNING_SPECS = [
    ("momentum", 4, 32, 0.1, 0, np.float64),
    ("two-values", 1, 2, 0.3, 5, np.float64),
    ("cumulative", 3, 16, None, 2, np.float64),
    ("float32", 3, 10, 0.1, 0, np.float32),
]


def _running_cases() -> list[Case]:
    cases = []
    for seed, (label, c, count, momentum, tracked, dtype) in enumerate(RUNNING_SPECS):

        def make(seed=seed, c=c, count=count, momentum=momentum, tracked=tracked, dtype=dtype):
            mean, var, batch_mean, batch_var = random_arrays(800 + seed, [c] * 4)
            arrays = [mean, 1 + var**2, 3 + batch_mean, 2 + batch_var**2]
            arrays = [a.astype(dtype) for a in arrays]
            return (*arrays, count), {"momentum": momentum, "num_batches_tracked": tracked}

        cases.append(Case(label, make, (c,)))
    return cases


def _running_wrong(swapped=False, unbiased=True):
    def update(mean, var, batch_mean, batch_var, count, momentum=0.1, num_batches_tracked=0):
        alpha = 1 / (num_batches_tracked + 1) if momentum is None else momentum
        if swapped:
            alpha = 1 - alpha
        batch_var = batch_var * count / (count - 1) if unbiased else batch_var
        return (1 - alpha) * mean + alpha * batch_mean, (1 - alpha) * var + alpha * batch_var

    return update


def running_stats_update() -> Exercise:
    return Exercise(
        name="running-stats-update",
        cases=_running_cases(),
        reference=update_running_stats,
        outputs=("running_mean", "running_var"),
        normalize=tuple_of(2),
        expected_kind={"ko": "(running_mean, running_var)", "en": "(running_mean, running_var)"},
        mistakes=[
            # running ← momentum · running + (1 − momentum) · batch
            ("momentum-old", _running_wrong(swapped=True)),
            # σ²_B without m/(m − 1)
            ("running-var-biased", _running_wrong(unbiased=False)),
        ],
    )


# -- successive halving -------------------------------------------------------------------------

SH_SPECS = [
    ("power-of-eta", 81, 3, 4),
    ("ceil", 81, 3, 3),
    ("not-power", 100, 3, 2),
    ("one-rung", 27, 3, 0),
    ("ceil", 64, 2, 1),
]


def _sh_cases() -> list[Case]:
    cases = []
    for label, max_budget, eta, s in SH_SPECS:

        def make(max_budget=max_budget, eta=eta, s=s):
            return (max_budget, eta, s), {}

        cases.append(Case(label, make, None))
    return cases


def _sh_normalize(value):
    rows = []
    try:
        for rung in value:
            rows.append((rung.n, rung.budget) if hasattr(rung, "budget") else tuple(rung))
        array = np.array(rows, dtype=np.float64).reshape(-1, 2)
    except (TypeError, ValueError) as error:
        raise OutputError(f"{type(value).__name__}") from error
    return (array,)


def _sh_reference(max_budget, eta, s):
    return [(rung.n, rung.budget) for rung in hyperband_brackets(max_budget, eta)[s]]


def _sh_floor(max_budget, eta, s):
    s_max = 0
    while eta ** (s_max + 1) <= max_budget:
        s_max += 1
    n = (s_max + 1) * eta**s // (s + 1)  # ⌊...⌋ where Hyperband rounds up
    r = max_budget / eta**s
    return [(n // eta**i, max(1, round(r * eta**i))) for i in range(s + 1)]


def successive_halving_rungs() -> Exercise:
    return Exercise(
        name="successive-halving-rungs",
        cases=_sh_cases(),
        reference=_sh_reference,
        outputs=("rungs",),
        normalize=_sh_normalize,
        expected_kind={
            "ko": "(n_i, r_i) 쌍의 리스트",
            "en": "a list of (n_i, r_i) pairs",
        },
        mistakes=[
            ("n-floor", _sh_floor),
            ("rungs-one-short", lambda R, eta, s: hyperband_bracket(R, eta, s)[:-1]),
        ],
        exact=True,
    )


def build() -> dict[str, Exercise]:
    exercises = [
        batchnorm_forward(),
        batchnorm_backward(),
        layernorm_forward(),
        dropout_backward_exercise(),
        adamw_step_exercise(),
        fold_batchnorm_conv(),
        running_stats_update(),
        successive_halving_rungs(),
    ]
    return {exercise.name: exercise for exercise in exercises}
