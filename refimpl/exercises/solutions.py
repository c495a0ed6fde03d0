r"""Reference solutions for the exercises that have no function of their own in refimpl.

The other exercises are solved by refimpl itself (`batch_norm_forward`, `layer_norm_forward`,
`dropout_forward`, `fold_batch_norm`, ...). These two are checked against the library's classes:
`adamw_step` against `refimpl.optim.AdamW` (itself tested against PyTorch), and
`hyperband_bracket` against `refimpl.search.hyperband.hyperband_brackets`.
"""

from __future__ import annotations

import numpy as np

__all__ = ["adamw_step", "hyperband_bracket"]


# --8<-- [start:adamw-step]
def adamw_step(param, grad, m, v, t, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2):
    r"""One AdamW step for one array; returns the new ``(param, m, v)``.

    ``m`` and ``v`` are the moment estimates before this step, ``t`` the number of this step
    (1 for the first).

    Equations
    ---------
    $$ \theta \leftarrow (1 - \eta\lambda)\,\theta, \qquad
       m \leftarrow \beta_1 m + (1 - \beta_1) g, \qquad
       v \leftarrow \beta_2 v + (1 - \beta_2) g^2 $$

    $$ \theta \leftarrow \theta - \eta\,
       \frac{m / (1 - \beta_1^t)}{\sqrt{v / (1 - \beta_2^t)} + \epsilon} $$

    Examples
    --------
    >>> param, m, v = adamw_step(np.array([1.0]), np.array([0.0]), np.zeros(1), np.zeros(1), t=1,
    ...                          lr=0.1, weight_decay=0.5)
    >>> param  # the gradient is zero: only the decay acts, 1 - 0.1 * 0.5
    array([0.95])
    """
    beta1, beta2 = betas
    # θ ← (1 − ηλ) θ    decoupled: the gradient is not changed
    param = param * (1 - lr * weight_decay)
    # m ← β₁ m + (1 − β₁) g,   v ← β₂ v + (1 − β₂) g²
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad * grad
    # m̂ = m / (1 − β₁ᵗ),   v̂ = v / (1 − β₂ᵗ)
    m_hat = m / (1 - beta1**t)
    v_hat = v / (1 - beta2**t)
    # θ ← θ − η m̂ / (√v̂ + ε)
    param = param - lr * m_hat / (np.sqrt(v_hat) + eps)
    return param, m, v
    # --8<-- [end:adamw-step]


# --8<-- [start:hyperband-bracket]
def hyperband_bracket(max_budget, eta, s):
    r"""The rungs ``[(n_0, r_0), ..., (n_s, r_s)]`` of Hyperband's bracket ``s``.

    Equations
    ---------
    $$ s_\max = \lfloor \log_\eta R \rfloor, \qquad
       n = \Bigl\lceil \frac{s_\max + 1}{s + 1}\, \eta^{s} \Bigr\rceil, \qquad r = R\,\eta^{-s} $$

    $$ n_i = \lfloor n\, \eta^{-i} \rfloor, \qquad r_i = r\, \eta^{i}, \qquad i = 0, \dots, s $$

    with $r_i$ rounded to whole epochs (at least 1).

    Examples
    --------
    >>> hyperband_bracket(81, 3, 4)
    [(81, 1), (27, 3), (9, 9), (3, 27), (1, 81)]
    """
    # s_max = ⌊log_η R⌋, with integers only
    s_max = 0
    while eta ** (s_max + 1) <= max_budget:
        s_max += 1
    # n = ⌈(s_max + 1) η^s / (s + 1)⌉,   r = R η^-s
    n = -(-(s_max + 1) * eta**s // (s + 1))
    r = max_budget / eta**s
    # n_i = ⌊n η^-i⌋,   r_i = r η^i
    return [(n // eta**i, max(1, round(r * eta**i))) for i in range(s + 1)]
    # --8<-- [end:hyperband-bracket]
