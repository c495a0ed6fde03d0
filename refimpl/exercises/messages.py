"""What the checker says, in Korean and English: verdicts, input descriptions and known mistakes.

Each known mistake has a key (used by tests and in `Result.mistake`) and one sentence per language
that names the mistake and says what the right computation is.
"""

from __future__ import annotations

LANGUAGES = ("ko", "en")

VERDICTS = {
    "pass": {
        "ko": "✅ {name}: 입력 {count}개에서 모두 맞습니다({cases}).",
        "en": "✅ {name}: correct on all {count} inputs ({cases}).",
    },
    "mistake": {
        "ko": "❌ {name}: {case}에서 틀립니다. 흔한 실수입니다. {description}",
        "en": "❌ {name}: wrong on {case}. Likely mistake: {description}",
    },
    "differs": {
        "ko": (
            "❌ {name}: {case}에서 틀립니다. {output}의 인덱스 {index}에서 처음 다릅니다. "
            "기댓값은 {expected}, 받은 값은 {got}입니다."
        ),
        "en": (
            "❌ {name}: wrong on {case}. {output} first differs at index {index}: "
            "expected {expected}, got {got}."
        ),
    },
    "raised": {
        "ko": "❌ {name}: {case}에서 함수가 예외를 냈습니다. {error}",
        "en": "❌ {name}: your function raised an exception on {case}. {error}",
    },
    "type": {
        "ko": (
            "❌ {name}: {case}에서 함수가 {got}을(를) 돌려주었습니다. 기대한 것은 {expected}입니다."
        ),
        "en": "❌ {name}: on {case} your function returned {got}; expected {expected}.",
    },
    "shape": {
        "ko": (
            "❌ {name}: {case}에서 {output}의 모양(shape)이 {got}입니다. {expected}이어야 합니다."
        ),
        "en": "❌ {name}: on {case}, {output} has shape {got}; expected {expected}.",
    },
    "nan": {
        "ko": "❌ {name}: {case}에서 {output}에 NaN이나 inf가 있습니다(처음은 인덱스 {index}).",
        "en": "❌ {name}: on {case}, {output} contains NaN or inf (first at index {index}).",
    },
    "dtype": {
        "ko": (
            "❌ {name}: {case}에서 {output}의 dtype이 {got}입니다. 값은 맞지만, "
            "{expected} 입력에는 {expected}를 돌려주어야 합니다."
        ),
        "en": (
            "❌ {name}: on {case}, {output} has dtype {got}. The values are right, but a "
            "{expected} input should give {expected}."
        ),
    },
    "not-callable": {
        "ko": "❌ {name}: 함수를 넘겨야 합니다. 받은 것은 {got}입니다.",
        "en": "❌ {name}: pass a function; got {got}.",
    },
    "gradient": {
        "ko": " 수치 기울기(numerical gradient)와의 상대 오차: {error}.",
        "en": " Relative error against the numerical gradient: {error}.",
    },
    "drop-rate": {
        "ko": (
            "❌ {name}: {case}에서 {got}의 비율을 버렸습니다. p = {p}이면 약 {p}를 버려야 합니다."
        ),
        "en": "❌ {name}: on {case} your function dropped a fraction {got}; with p = {p} it should "
        "drop about {p}.",
    },
}

MISTAKES = {
    # -- the mistakes issue 18 names ----------------------------------------------------------
    "unbiased-variance": {
        "ko": (
            "정규화에 불편 분산(unbiased variance, m − 1로 나눔)을 썼습니다. 배치 정규화는 m으로 "
            "나누는 편향 분산(biased variance)으로 정규화합니다(PyTorch와 같습니다)."
        ),
        "en": (
            "the unbiased variance (divided by m − 1) in the normalization. Batch normalization "
            "normalizes with the biased variance (divided by m), as PyTorch does."
        ),
    },
    "momentum-old": {
        "ko": (
            "모멘텀(momentum)이 옛 값의 가중치가 되었습니다. PyTorch에서 momentum은 새 배치의 "
            "가중치입니다. running ← (1 − momentum)·running + momentum·batch입니다(Keras는 반대)."
        ),
        "en": (
            "the momentum weights the old value. In PyTorch the momentum is the weight of the new "
            "batch: running ← (1 − momentum)·running + momentum·batch (Keras uses the opposite)."
        ),
    },
    "missing-scale": {
        "ko": (
            "1/(1 − p) 스케일이 빠졌습니다. 역 드롭아웃(inverted dropout)은 학습할 때 남은 유닛에 "
            "1/(1 − p)를 곱합니다. 역전파(backpropagation)에서도 같은 배수를 곱합니다."
        ),
        "en": (
            "the 1/(1 − p) scale is missing. Inverted dropout multiplies the kept units by "
            "1/(1 − p) in training, and backward multiplies by the same factor."
        ),
    },
    "wrong-axes": {
        "ko": "통계를 잘못된 축에서 계산했습니다. {hint}",
        "en": "statistics over the wrong axes. {hint}",
    },
    "missing-mean-term": {
        "ko": (
            "역전파에서 평균을 거치는 항이 빠졌습니다. μ는 모든 x_i에 달려 있으므로 dx에 "
            "−(1/m) Σ_j dy_j 항(γ/√(σ² + ε)를 곱한 것)이 들어갑니다."
        ),
        "en": (
            "backward misses the term through the mean. μ depends on every x_i, which adds "
            "−(1/m) Σ_j dy_j (times γ/√(σ² + ε)) to dx."
        ),
    },
    "coupled-decay": {
        "ko": (
            "가중치 감소(weight decay)를 Adam의 모멘트에 섞었습니다(g + λθ, L2 방식). AdamW는 "
            "기울기를 그대로 두고 가중치를 직접 줄입니다. θ ← (1 − ηλ)θ입니다."
        ),
        "en": (
            "the decay is coupled into Adam's moments (g + λθ, the L2 form). AdamW leaves the "
            "gradient alone and shrinks the weights directly: θ ← (1 − ηλ)θ."
        ),
    },
    "bias-not-folded": {
        "ko": (
            "편향(bias)을 접어 넣지 않았습니다. b' = s (b − μ) + β이고 s = γ/√(σ² + ε)입니다. "
            "층의 편향 b와 BN의 β, μ가 모두 들어갑니다."
        ),
        "en": (
            "a bias not folded. b' = s (b − μ) + β with s = γ/√(σ² + ε): the layer's bias b and "
            "BN's β and μ all go into it."
        ),
    },
    # -- further mistakes the checker recognizes -------------------------------------------
    "eps-outside-sqrt": {
        "ko": "ε를 제곱근 밖에 더했습니다. 나누는 값은 √(σ² + ε)입니다(σ + ε가 아닙니다).",
        "en": "ε added outside the square root. Divide by √(σ² + ε), not by σ + ε.",
    },
    "stats-constant": {
        "ko": (
            "역전파에서 μ와 σ²를 상수로 다뤘습니다(평가 모드의 기울기입니다). 학습 모드에서는 "
            "두 통계가 모든 x_i에 달려 있어 −Σ dy_j와 −x̂_i Σ dy_j x̂_j 항이 더해집니다."
        ),
        "en": (
            "backward treats μ and σ² as constants (that is the eval-mode gradient). In training "
            "they depend on every x_i, which adds the −Σ dy_j and −x̂_i Σ dy_j x̂_j terms."
        ),
    },
    "gamma-missing": {
        "ko": "dx에 γ를 곱하지 않았습니다. y = γ x̂ + β이므로 dx에도 γ가 곱해집니다.",
        "en": "dx is not multiplied by γ. Since y = γ x̂ + β, dx carries the factor γ too.",
    },
    "mask-missing": {
        "ko": "역전파에 마스크가 빠졌습니다. 버린 유닛으로는 기울기(gradient)가 흐르지 않습니다.",
        "en": "backward misses the mask. A dropped unit passes no gradient.",
    },
    "keep-drop-swapped": {
        "ko": "p를 남길 확률로 썼습니다. PyTorch의 p는 버릴 확률입니다.",
        "en": "p used as the probability to keep. In PyTorch p is the probability to drop.",
    },
    "eval-scaled": {
        "ko": (
            "평가 모드에서 (1 − p)를 곱했습니다. 그것은 고전 드롭아웃입니다. 역 드롭아웃은 평가 "
            "모드에서 입력을 그대로 돌려줍니다."
        ),
        "en": (
            "the output is scaled by (1 − p) in eval mode, as classic dropout does. Inverted "
            "dropout returns its input unchanged in eval mode."
        ),
    },
    "no-bias-correction": {
        "ko": "편향 보정(bias correction)이 빠졌습니다. m/(1 − β₁ᵗ)와 v/(1 − β₂ᵗ)를 쓰십시오.",
        "en": "the bias correction is missing: use m/(1 − β₁ᵗ) and v/(1 − β₂ᵗ).",
    },
    "running-var-biased": {
        "ko": (
            "이동 분산(running variance)에 편향 분산을 넣었습니다. PyTorch는 배치 분산에 "
            "m/(m − 1)을 곱한 불편 분산(unbiased variance)을 넣습니다."
        ),
        "en": (
            "the biased batch variance went into the running variance. PyTorch blends in the "
            "unbiased one, the batch variance times m/(m − 1)."
        ),
    },
    "n-floor": {
        "ko": (
            "n을 내림으로 계산했습니다. 첫 rung의 설정 수는 n = ⌈(s_max + 1) η^s / (s + 1)⌉입니다."
        ),
        "en": "n rounded down. The first rung has n = ⌈(s_max + 1) η^s / (s + 1)⌉ configurations.",
    },
    "rungs-one-short": {
        "ko": "rung이 하나 모자랍니다. 브래킷 s에는 i = 0, …, s로 rung이 s + 1개 있습니다.",
        "en": "one rung short. Bracket s has s + 1 rungs, i = 0, …, s.",
    },
}

CASES = {
    "unstandardized": {
        "ko": "표준화하지 않은 데이터(평균 3, 표준편차 5)",
        "en": "unstandardized data (mean 3, std 5)",
    },
    "one-channel": {"ko": "C = 1", "en": "C = 1"},
    "one-pixel": {"ko": "H = W = 1", "en": "H = W = 1"},
    "float32": {"ko": "float32 입력", "en": "float32 input"},
    "two-dim": {"ko": "(N, D) 입력", "en": "an (N, D) input"},
    "p-zero": {"ko": "p = 0", "en": "p = 0"},
    "eval": {"ko": "평가 모드", "en": "eval mode"},
    "first-step": {"ko": "첫 스텝(t = 1)", "en": "the first step (t = 1)"},
    "later-step": {"ko": "0이 아닌 모멘트(t = 10)", "en": "non-zero moments (t = 10)"},
    "conv": {"ko": "Conv2d 가중치", "en": "a Conv2d weight"},
    "linear": {"ko": "Linear 가중치", "en": "a Linear weight"},
    "no-bias": {"ko": "편향이 없는 층(bias=None)", "en": "a layer without bias (bias=None)"},
    "one-out-channel": {"ko": "출력 채널 1개", "en": "one output channel"},
    "momentum": {"ko": "momentum = 0.1", "en": "momentum = 0.1"},
    "two-values": {"ko": "채널마다 값 2개(m = 2)", "en": "two values per channel (m = 2)"},
    "cumulative": {"ko": "momentum=None(누적 평균)", "en": "momentum=None (cumulative average)"},
    "power-of-eta": {"ko": "R이 η의 거듭제곱", "en": "R a power of η"},
    "not-power": {"ko": "R이 η의 거듭제곱이 아님", "en": "R not a power of η"},
    "ceil": {"ko": "올림이 필요한 n", "en": "n that needs rounding up"},
    "one-rung": {"ko": "s = 0", "en": "s = 0"},
}

AXES_HINTS = {
    "batchnorm": {
        "ko": "배치 정규화는 채널마다 N, H, W 축(0, 2, 3)에서 평균과 분산을 냅니다.",
        "en": "Batch norm takes one mean and variance per channel, over N, H and W (axes 0, 2, 3).",
    },
    "layernorm": {
        "ko": "층 정규화는 샘플마다 끝의 normalized_shape 축 전체에서 평균과 분산을 냅니다.",
        "en": "Layer norm takes one mean and variance per sample, over all trailing "
        "normalized_shape axes.",
    },
}


def text(table: dict, key: str, lang: str, **values) -> str:
    """One entry of a table above in ``lang``, with ``values`` filled in."""
    return table[key][lang].format(**values)
