r"""The handwritten digits data set with seeded train/validation/test splits, and scalers.

scikit-learn ships the data (``sklearn.datasets.load_digits``), so nothing is downloaded:
1797 images of 8×8 pixels with integer intensities 0..16, flattened to 64 features, and
labels 0..9.

Scalers are fitted on the training split only and then applied to every split, so no
statistic of the validation or test data leaks into training. `StandardScaler` and
`MinMaxScaler` compute exactly what scikit-learn's classes of the same name compute, with the
same attribute names (``mean_``, ``scale_``, ``data_min_``, ...).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.datasets import load_digits

__all__ = [
    "DigitsSplits",
    "MinMaxScaler",
    "StandardScaler",
    "load_digits_splits",
]

_EPS = np.finfo(np.float64).eps


def _check_2d(X: np.ndarray, n_features: int | None = None) -> np.ndarray:
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2:
        raise ValueError(f"expected a 2-D array (n_samples, n_features), got shape {X.shape}")
    if n_features is not None and X.shape[1] != n_features:
        raise ValueError(f"expected {n_features} features (as in fit), got {X.shape[1]}")
    return X


class StandardScaler:
    r"""Standardize features to zero mean and unit variance, like scikit-learn's.

    Equations
    ---------
    With the training data $X \in \mathbb R^{N \times D}$:

    $$ \mu_j = \frac1N \sum_i X_{ij}, \qquad
    \sigma_j^2 = \frac1N \sum_i (X_{ij} - \mu_j)^2, \qquad
    z_{ij} = \frac{x_{ij} - \mu_j}{s_j} $$

    where $s_j = \sigma_j$, except $s_j = 1$ for a (numerically) constant feature, which is
    then only centred. A feature counts as constant, as in scikit-learn, when
    $\sigma_j^2 \le N\varepsilon\,\sigma_j^2 + (N \mu_j \varepsilon)^2$ with $\varepsilon$ the
    float64 machine epsilon.

    Attributes
    ----------
    mean_ : ndarray, shape (D,)
        $\mu$, the per-feature mean of the training data.
    var_ : ndarray, shape (D,)
        $\sigma^2$, the per-feature (biased) variance.
    scale_ : ndarray, shape (D,)
        $s$, the divisor.
    n_samples_seen_ : int
        $N$.

    Examples
    --------
    >>> X = np.array([[1.0, 10.0], [3.0, 10.0]])
    >>> scaler = StandardScaler().fit(X)
    >>> scaler.mean_, scaler.scale_
    (array([ 2., 10.]), array([1., 1.]))
    >>> scaler.transform(X)  # the constant second feature is only centred
    array([[-1.,  0.],
           [ 1.,  0.]])
    """

    def fit(self, X: np.ndarray) -> StandardScaler:
        """Compute ``mean_``, ``var_`` and ``scale_`` from ``X`` of shape (N, D)."""
        X = _check_2d(X)
        n = X.shape[0]
        # μ = mean over samples
        self.mean_ = X.mean(axis=0)
        # σ² = mean of squared deviations (ddof = 0)
        self.var_ = X.var(axis=0)
        # s = σ, or 1 where the feature is constant
        constant = self.var_ <= n * _EPS * self.var_ + (n * self.mean_ * _EPS) ** 2
        self.scale_ = np.where(constant, 1.0, np.sqrt(self.var_))
        self.n_samples_seen_ = n
        return self

    def transform(self, X: np.ndarray) -> np.ndarray:
        r"""Return $(X - \mu) / s$ as a new array."""
        self._check_fitted()
        X = _check_2d(X, self.mean_.shape[0])
        # z = (x − μ) / s
        return (X - self.mean_) / self.scale_

    def fit_transform(self, X: np.ndarray) -> np.ndarray:
        """``fit(X)`` then ``transform(X)``."""
        return self.fit(X).transform(X)

    def inverse_transform(self, Z: np.ndarray) -> np.ndarray:
        r"""Undo `transform`: return $Z s + \mu$."""
        self._check_fitted()
        Z = _check_2d(Z, self.mean_.shape[0])
        # x = z s + μ
        return Z * self.scale_ + self.mean_

    def _check_fitted(self) -> None:
        if not hasattr(self, "scale_"):
            raise RuntimeError("this StandardScaler is not fitted yet; call fit(X_train) first")


class MinMaxScaler:
    r"""Scale each feature linearly to ``feature_range``, like scikit-learn's.

    Parameters
    ----------
    feature_range : tuple of float, default (0, 1)
        The target interval $[a, b]$ of the training data.

    Equations
    ---------
    $$ s_j = \frac{b - a}{\max_i X_{ij} - \min_i X_{ij}}, \qquad
    m_j = a - s_j \min_i X_{ij}, \qquad z_{ij} = s_j x_{ij} + m_j $$

    For a constant feature (range below $10\varepsilon$) the range is taken as 1, as in
    scikit-learn, so the feature is shifted to $a$ instead of divided by zero. Data outside
    the training range maps outside $[a, b]$ (no clipping).

    Attributes
    ----------
    data_min_, data_max_ : ndarray, shape (D,)
        Per-feature minimum and maximum of the training data.
    data_range_ : ndarray, shape (D,)
        ``data_max_ - data_min_``.
    scale_ : ndarray, shape (D,)
        $s$.
    min_ : ndarray, shape (D,)
        $m$, the offset added after scaling.

    Examples
    --------
    >>> scaler = MinMaxScaler((-1.0, 1.0)).fit(np.array([[0.0], [16.0]]))
    >>> scaler.scale_, scaler.min_
    (array([0.125]), array([-1.]))
    >>> scaler.transform(np.array([[4.0], [32.0]]))  # no clipping outside the training range
    array([[-0.5],
           [ 3. ]])
    """

    def __init__(self, feature_range: tuple[float, float] = (0.0, 1.0)) -> None:
        if not feature_range[0] < feature_range[1]:
            raise ValueError(
                f"feature_range must be (min, max) with min < max, got {feature_range}"
            )
        self.feature_range = feature_range

    def fit(self, X: np.ndarray) -> MinMaxScaler:
        """Compute ``data_min_``, ``data_max_``, ``scale_`` and ``min_`` from ``X``."""
        X = _check_2d(X)
        a, b = self.feature_range
        self.data_min_ = X.min(axis=0)
        self.data_max_ = X.max(axis=0)
        self.data_range_ = self.data_max_ - self.data_min_
        # s = (b − a) / range, with a range of 1 for constant features
        safe_range = np.where(self.data_range_ < 10 * _EPS, 1.0, self.data_range_)
        self.scale_ = (b - a) / safe_range
        # m = a − s · min
        self.min_ = a - self.data_min_ * self.scale_
        return self

    def transform(self, X: np.ndarray) -> np.ndarray:
        """Return $X s + m$ as a new array."""
        self._check_fitted()
        X = _check_2d(X, self.scale_.shape[0])
        # z = s x + m
        return X * self.scale_ + self.min_

    def fit_transform(self, X: np.ndarray) -> np.ndarray:
        """``fit(X)`` then ``transform(X)``."""
        return self.fit(X).transform(X)

    def inverse_transform(self, Z: np.ndarray) -> np.ndarray:
        """Undo `transform`: return $(Z - m) / s$."""
        self._check_fitted()
        Z = _check_2d(Z, self.scale_.shape[0])
        # x = (z − m) / s
        return (Z - self.min_) / self.scale_

    def _check_fitted(self) -> None:
        if not hasattr(self, "scale_"):
            raise RuntimeError("this MinMaxScaler is not fitted yet; call fit(X_train) first")


@dataclass
class DigitsSplits:
    """Train, validation and test splits of the digits data.

    Attributes
    ----------
    X_train, X_val, X_test : ndarray of float64, shape (N_split, 64)
        Images, flattened row by row, scaled as requested.
    y_train, y_val, y_test : ndarray of int64, shape (N_split,)
        Labels 0..9.
    train_indices, val_indices, test_indices : ndarray of int64
        Row numbers of each split in ``sklearn.datasets.load_digits()``.
    scaler : StandardScaler or MinMaxScaler or None
        The scaler fitted on ``X_train`` (None for ``scale="divide16"`` or ``None``); use its
        ``inverse_transform`` to get back pixel intensities, e.g. for plotting.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> splits = load_digits_splits(seed=0, n_train=300, scale="standardize")
    >>> splits.X_train.shape, splits.y_train.shape, type(splits.scaler).__name__
    ((300, 64), (300,), 'StandardScaler')
    >>> pixels = load_digits().data[splits.train_indices]
    >>> bool(np.allclose(splits.scaler.inverse_transform(splits.X_train), pixels))
    True
    """

    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    train_indices: np.ndarray
    val_indices: np.ndarray
    test_indices: np.ndarray
    scaler: StandardScaler | MinMaxScaler | None = None


def load_digits_splits(
    seed: int = 0,
    validation_fraction: float = 0.2,
    test_fraction: float = 0.2,
    n_train: int | None = None,
    scale: str | None = "divide16",
) -> DigitsSplits:
    r"""Load the digits and split them at random into train, validation and test sets.

    The rows are shuffled once with ``np.random.default_rng(seed).permutation``; the first
    ``round(test_fraction * 1797)`` shuffled rows are the test set, the next
    ``round(validation_fraction * 1797)`` the validation set, and the rest the training set
    (not stratified: with about 180 images per digit, class proportions in each split stay
    close to 10%). The test and validation sets depend only on ``seed`` and the two
    fractions, never on ``n_train``.

    Parameters
    ----------
    seed : int, default 0
        Seed of the shuffle.
    validation_fraction, test_fraction : float, default 0.2
        Fractions of the 1797 images held out; each in [0, 1), summing to less than 1.
    n_train : int, optional
        Keep only the first ``n_train`` training images (e.g. 300 to show overfitting); the
        rest of the training split is not used anywhere.
    scale : {"divide16", "standardize", "minmax", None}, default "divide16"
        ``"divide16"`` maps intensities to [0, 1] with the known maximum 16 (nothing is
        fitted); ``"standardize"`` and ``"minmax"`` fit a `StandardScaler` or `MinMaxScaler`
        on the (possibly reduced) training set and apply it to every split; ``None`` keeps the
        raw intensities 0..16.

    Returns
    -------
    DigitsSplits

    Examples
    --------
    >>> splits = load_digits_splits(seed=0)
    >>> splits.X_train.shape, splits.X_val.shape, splits.X_test.shape
    ((1079, 64), (359, 64), (359, 64))
    """
    if scale not in ("divide16", "standardize", "minmax", None):
        raise ValueError(
            f"scale must be 'divide16', 'standardize', 'minmax' or None, got {scale!r}"
        )
    if min(validation_fraction, test_fraction) < 0 or validation_fraction + test_fraction >= 1:
        raise ValueError(
            "validation_fraction and test_fraction must be >= 0 and sum to less than 1, got "
            f"{validation_fraction} and {test_fraction}"
        )

    digits = load_digits()
    X = digits.data.astype(np.float64)
    y = digits.target.astype(np.int64)
    n = X.shape[0]

    n_test = round(test_fraction * n)
    n_val = round(validation_fraction * n)
    if n_test + n_val >= n:
        raise ValueError(f"no training data left: {n_val} + {n_test} of {n} images held out")
    order = np.random.default_rng(seed).permutation(n)
    test_indices = order[:n_test]
    val_indices = order[n_test : n_test + n_val]
    train_indices = order[n_test + n_val :]
    if n_train is not None:
        if not 1 <= n_train <= len(train_indices):
            raise ValueError(
                f"n_train must be between 1 and {len(train_indices)} for these fractions, "
                f"got {n_train}"
            )
        train_indices = train_indices[:n_train]

    X_train, X_val, X_test = X[train_indices], X[val_indices], X[test_indices]
    scaler: StandardScaler | MinMaxScaler | None = None
    if scale == "divide16":
        X_train, X_val, X_test = X_train / 16.0, X_val / 16.0, X_test / 16.0
    elif scale in ("standardize", "minmax"):
        scaler = StandardScaler() if scale == "standardize" else MinMaxScaler()
        # fit on the training split only, then apply the same map to all three
        scaler.fit(X_train)
        X_train, X_val, X_test = (scaler.transform(part) for part in (X_train, X_val, X_test))

    return DigitsSplits(
        X_train=X_train,
        y_train=y[train_indices],
        X_val=X_val,
        y_val=y[val_indices],
        X_test=X_test,
        y_test=y[test_indices],
        train_indices=train_indices.astype(np.int64),
        val_indices=val_indices.astype(np.int64),
        test_indices=test_indices.astype(np.int64),
        scaler=scaler,
    )
