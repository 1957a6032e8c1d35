"""Calibration metrics against scikit-learn on hundreds of random cases, ties and bin edges among
them."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.calibration import calibration_curve as sk_calibration_curve
from sklearn.metrics import brier_score_loss
from sklearn.metrics import log_loss as sk_log_loss

import confusion_metrics as cmx


def binary_case(draw_seed: int):
    """Labels 0/1 and probabilities with ties, values on bin edges, 0 and 1."""
    rng = np.random.default_rng(draw_seed)
    n = int(rng.integers(2, 60))
    kind = rng.integers(0, 3)
    if kind == 0:
        p = rng.uniform(0, 1, n)
    elif kind == 1:  # on the edges of 10 and 5 bins, and ties
        p = rng.choice(np.linspace(0, 1, 11), n)
    else:
        p = np.round(rng.uniform(0, 1, n), 1)
    y = (rng.uniform(0, 1, n) < p).astype(int)
    if y.min() == y.max():
        y[0] = 1 - y[0]
    return y, p


def ece_by_hand(outcome, confidence, n_bins):
    """The issue's definition, written out bin by bin."""
    bins = np.searchsorted(np.linspace(0, 1, n_bins + 1)[1:-1], confidence, side="right")
    total = 0.0
    for b in range(n_bins):
        inside = bins == b
        if inside.any():
            total += inside.mean() * abs(outcome[inside].mean() - confidence[inside].mean())
    return total


@settings(max_examples=300, deadline=None)
@given(
    st.integers(0, 10**6),
    st.sampled_from([1, 2, 3, 5, 10, 15]),
    st.sampled_from(["uniform", "quantile"]),
)
def test_calibration_curve_equals_scikit_learn(seed, n_bins, strategy):
    y, p = binary_case(seed)
    ours = cmx.calibration_curve(y, p, n_bins=n_bins, strategy=strategy)
    theirs = sk_calibration_curve(y, p, n_bins=n_bins, strategy=strategy)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 10**6))
def test_brier_and_log_loss_equal_scikit_learn(seed):
    y, p = binary_case(seed)
    assert cmx.brier_score(y, p) == pytest.approx(brier_score_loss(y, p), rel=1e-12, abs=1e-15)
    assert cmx.log_loss(y, p) == pytest.approx(sk_log_loss(y, p), rel=1e-12)
    rng = np.random.default_rng(seed)
    k = int(rng.integers(2, 6))
    probabilities = rng.dirichlet(np.full(k, 0.5), len(y))
    labels = rng.integers(0, k, len(y))
    labels[:k] = np.arange(k)[: len(labels)] if len(labels) >= k else labels[:k]
    if len(np.unique(labels)) == k:  # scikit-learn needs every class present without labels=
        assert cmx.brier_score(labels, probabilities) == pytest.approx(
            brier_score_loss(labels, probabilities), rel=1e-12
        )
        assert cmx.log_loss(labels, probabilities) == pytest.approx(
            sk_log_loss(labels, probabilities), rel=1e-12
        )
    text = np.where(y == 1, "yes", "no")  # any two labels, the positive one named
    assert cmx.brier_score(text, p, positive="yes") == pytest.approx(
        brier_score_loss(text, p, pos_label="yes")
    )


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 10**6), st.sampled_from([1, 2, 5, 10, 15]))
def test_expected_calibration_error(seed, n_bins):
    y, p = binary_case(seed)
    assert cmx.expected_calibration_error(y, p, n_bins=n_bins) == pytest.approx(
        ece_by_hand(y, p, n_bins), abs=1e-12
    )
    # top label of k classes (Guo et al. 2017): confidence = max p, correct = argmax == y
    rng = np.random.default_rng(seed)
    k = int(rng.integers(2, 6))
    probabilities = rng.dirichlet(np.ones(k), len(y))
    labels = rng.integers(0, k, len(y))
    expected = ece_by_hand(
        (probabilities.argmax(1) == labels).astype(float), probabilities.max(1), n_bins
    )
    assert cmx.expected_calibration_error(labels, probabilities, n_bins=n_bins) == pytest.approx(
        expected, abs=1e-12
    )
    # where every bin is calibrated on average, ECE is 0; always between 0 and 1
    assert 0 <= cmx.expected_calibration_error(y, p, n_bins=n_bins) <= 1


def test_ece_worked_example_and_edges():
    # 10 bins; p = 0.1 and 0.2 sit on edges and go to the upper bin
    y = np.array([0, 1, 0, 1, 1])
    p = np.array([0.1, 0.1, 0.2, 0.95, 1.0])
    # bins: 0.1 -> 1, 0.1 -> 1, 0.2 -> 2, 0.95 -> 9, 1.0 -> 9
    expected = 2 / 5 * abs(0.5 - 0.1) + 1 / 5 * abs(0 - 0.2) + 2 / 5 * abs(1 - 0.975)
    assert cmx.expected_calibration_error(y, p) == pytest.approx(expected)
    assert cmx.expected_calibration_error([0, 1], [0.0, 1.0]) == 0.0  # sure and right


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: cmx.brier_score([0, 1, 1], [0.2, 0.7]), "y_true has 3 samples but y_prob has 2"),
        (lambda: cmx.expected_calibration_error([0, 1], [0.2, 1.2]), "must lie in \\[0, 1\\]"),
        (lambda: cmx.expected_calibration_error([0, 1], [0.2, np.nan]), "NaN"),
        (lambda: cmx.log_loss([0, 1], [-0.1, 0.5]), "must lie in \\[0, 1\\]"),
        (
            lambda: cmx.calibration_curve([0, 1, 2], [0.1, 0.5, 0.9]),
            "needs two classes, but y_true holds 3",
        ),
        (lambda: cmx.brier_score(["a", "a"], [0.1, 0.5]), "do not say which class is positive"),
        (
            lambda: cmx.expected_calibration_error([0, 3], [[0.5, 0.5], [0.2, 0.8]]),
            "class numbers 0 to 1",
        ),
        (
            lambda: cmx.calibration_curve([0, 1], [0.1, 0.5], n_bins=0),
            "n_bins must be a whole number",
        ),
        (
            lambda: cmx.calibration_curve([0, 1], [0.1, 0.5], strategy="even"),
            "'uniform' or 'quantile'",
        ),
    ],
)
def test_bad_input_raises_a_value_error_that_says_why(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_reliability_diagram_draws_each_model(tmp_path):
    rng = np.random.default_rng(0)
    p = rng.uniform(0, 1, 500)
    y = (rng.uniform(0, 1, 500) < p).astype(int)
    three = rng.dirichlet(np.ones(3), 500)
    figure = cmx.plot_reliability_diagram(
        {
            "calibrated": (y, p),
            "overconfident": (y, np.clip(2 * p - 0.5, 0, 1)),
            "three classes": (rng.integers(0, 3, 500), three),
        },
        title="test",
    )
    top = figure.axes[0]
    labels = [line.get_label() for line in top.get_lines()]
    assert labels[0] == "calibrated" and len(labels) == 4
    assert f"(ECE {cmx.expected_calibration_error(y, p):.3f})" in labels[1]
    figure.savefig(tmp_path / "r.png")
    assert (tmp_path / "r.png").stat().st_size > 5000
