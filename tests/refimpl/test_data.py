"""refimpl.data: the digits splits, and scalers that equal scikit-learn's."""

from __future__ import annotations

import numpy as np
import pytest
import sklearn.preprocessing
from sklearn.datasets import load_digits

from refimpl.data import DigitsSplits, MinMaxScaler, StandardScaler, load_digits_splits

DIGITS = load_digits()
X_ALL = DIGITS.data.astype(np.float64)
Y_ALL = DIGITS.target


def test_shapes_and_types():
    splits = load_digits_splits(seed=0)
    assert isinstance(splits, DigitsSplits)
    assert splits.X_train.shape == (1079, 64)
    assert splits.X_val.shape == (359, 64)
    assert splits.X_test.shape == (359, 64)
    for X, y in [
        (splits.X_train, splits.y_train),
        (splits.X_val, splits.y_val),
        (splits.X_test, splits.y_test),
    ]:
        assert X.dtype == np.float64
        assert y.dtype == np.int64
        assert len(X) == len(y)
        assert set(np.unique(y)) == set(range(10))


def test_splits_are_disjoint_and_cover_the_data():
    splits = load_digits_splits(seed=3, scale=None)
    indices = [splits.train_indices, splits.val_indices, splits.test_indices]
    together = np.concatenate(indices)
    np.testing.assert_array_equal(np.sort(together), np.arange(1797))
    # the rows really are those images and labels
    for part, X, y in zip(
        indices,
        [splits.X_train, splits.X_val, splits.X_test],
        [splits.y_train, splits.y_val, splits.y_test],
        strict=True,
    ):
        np.testing.assert_array_equal(X, X_ALL[part])
        np.testing.assert_array_equal(y, Y_ALL[part])


def test_same_seed_same_splits_other_seed_other_splits():
    a, b = load_digits_splits(seed=7), load_digits_splits(seed=7)
    for name in ("X_train", "y_train", "X_val", "y_val", "X_test", "y_test"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    c = load_digits_splits(seed=8)
    assert not np.array_equal(a.test_indices, c.test_indices)


def test_fractions():
    splits = load_digits_splits(validation_fraction=0.1, test_fraction=0.3)
    assert (len(splits.y_train), len(splits.y_val), len(splits.y_test)) == (1078, 180, 539)
    splits = load_digits_splits(validation_fraction=0.0, test_fraction=0.0)
    assert len(splits.y_train) == 1797


def test_n_train_keeps_validation_and_test_sets():
    full = load_digits_splits(seed=1, scale=None)
    small = load_digits_splits(seed=1, n_train=300, scale=None)
    assert small.X_train.shape == (300, 64)
    np.testing.assert_array_equal(small.train_indices, full.train_indices[:300])
    np.testing.assert_array_equal(small.val_indices, full.val_indices)
    np.testing.assert_array_equal(small.test_indices, full.test_indices)


def test_divide16_and_raw():
    raw = load_digits_splits(scale=None)
    divided = load_digits_splits(scale="divide16")
    assert raw.X_train.max() == 16.0
    np.testing.assert_array_equal(divided.X_test, raw.X_test / 16)
    assert divided.scaler is None


@pytest.mark.parametrize(
    ("scale", "ours", "theirs", "attributes"),
    [
        (
            "standardize",
            StandardScaler,
            sklearn.preprocessing.StandardScaler,
            ["mean_", "var_", "scale_", "n_samples_seen_"],
        ),
        (
            "minmax",
            MinMaxScaler,
            sklearn.preprocessing.MinMaxScaler,
            ["data_min_", "data_max_", "data_range_", "scale_", "min_"],
        ),
    ],
)
@pytest.mark.parametrize("n_train", [None, 50])
def test_scalers_equal_sklearn_and_see_only_training_data(scale, ours, theirs, attributes, n_train):
    raw = load_digits_splits(seed=2, n_train=n_train, scale=None)
    scaled = load_digits_splits(seed=2, n_train=n_train, scale=scale)
    reference = theirs().fit(raw.X_train)
    assert isinstance(scaled.scaler, ours)
    for name in attributes:
        np.testing.assert_allclose(
            getattr(scaled.scaler, name), getattr(reference, name), rtol=1e-12, atol=1e-12
        )
    for mine, X in [
        (scaled.X_train, raw.X_train),
        (scaled.X_val, raw.X_val),
        (scaled.X_test, raw.X_test),
    ]:
        np.testing.assert_allclose(mine, reference.transform(X), rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(scaled.scaler.inverse_transform(mine), X, rtol=1e-12, atol=1e-12)
    # fitted on the training split only: its statistics differ from the full data's
    everything = theirs().fit(X_ALL)
    assert not np.allclose(scaled.scaler.scale_, everything.scale_)


def test_constant_features_get_scale_one_like_sklearn():
    # pixel 0 is always 0 in the digits; add a huge constant and a near-constant column
    rng = np.random.default_rng(0)
    X = np.column_stack(
        [
            np.zeros(20),
            np.full(20, 1e10),
            1e10 + 1e-6 * rng.standard_normal(20),
            rng.standard_normal(20),
        ]
    )
    for ours, theirs in [
        (StandardScaler(), sklearn.preprocessing.StandardScaler()),
        (MinMaxScaler(), sklearn.preprocessing.MinMaxScaler()),
        (MinMaxScaler((-1.0, 1.0)), sklearn.preprocessing.MinMaxScaler((-1.0, 1.0))),
    ]:
        np.testing.assert_allclose(ours.fit_transform(X), theirs.fit_transform(X), rtol=1e-12)
        np.testing.assert_array_equal(ours.scale_, theirs.scale_)
    assert StandardScaler().fit(X).scale_[0] == 1.0


def test_scaler_errors():
    with pytest.raises(RuntimeError, match="not fitted"):
        StandardScaler().transform(X_ALL)
    with pytest.raises(RuntimeError, match="not fitted"):
        MinMaxScaler().inverse_transform(X_ALL)
    scaler = StandardScaler().fit(X_ALL)
    with pytest.raises(ValueError, match="64 features"):
        scaler.transform(X_ALL[:, :10])
    with pytest.raises(ValueError, match="2-D"):
        scaler.transform(X_ALL[0])
    with pytest.raises(ValueError, match="feature_range"):
        MinMaxScaler((1.0, 0.0))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"scale": "zscore"}, "scale"),
        ({"test_fraction": 1.0}, "test_fraction"),
        ({"validation_fraction": -0.1}, "validation_fraction"),
        ({"validation_fraction": 0.5, "test_fraction": 0.5}, "sum to less than 1"),
        ({"n_train": 0}, "n_train"),
        ({"n_train": 5000}, "n_train"),
    ],
)
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        load_digits_splits(**kwargs)
