"""Intervals and model comparisons (confusion_metrics.uncertainty) against statsmodels, SciPy's
distributions, scikit-learn's gallery example of the corrected t-test and cases worked by hand."""

import json
import math
import subprocess
import sys

import numpy as np
import pytest
import scipy.stats
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import f1_score, roc_auc_score
from statsmodels.stats.contingency_tables import mcnemar
from statsmodels.stats.proportion import proportion_confint

import confusion_metrics as cmx

CONFIDENCES = [0.5, 0.8, 0.9, 0.95, 0.99, 0.999]


def statsmodels_wilson(successes, trials, confidence=0.95) -> list[float]:
    return list(proportion_confint(successes, trials, alpha=1 - confidence, method="wilson"))


# --- wilson_interval ---------------------------------------------------------------------------


def test_wilson_by_hand():
    # 8 of 10, z = 1.959964: centre (0.8 + z^2/20) / (1 + z^2/10) = 0.716744,
    # half width z sqrt(0.016 + z^2/400) / (1 + z^2/10) = 0.226572
    lo, hi = cmx.wilson_interval(8, 10)
    assert lo == pytest.approx(0.490162, abs=1e-6)
    assert hi == pytest.approx(0.943317, abs=1e-6)


@settings(max_examples=300, deadline=None)
@given(
    st.integers(1, 100_000).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))),
    st.sampled_from(CONFIDENCES),
)
def test_wilson_matches_statsmodels(counts, confidence):
    successes, trials = counts
    ours = cmx.wilson_interval(successes, trials, confidence)
    assert ours == pytest.approx(statsmodels_wilson(successes, trials, confidence), abs=1e-12)
    assert 0 <= ours[0] <= successes / trials <= ours[1] <= 1


def test_wilson_edges():
    assert all(math.isnan(x) for x in cmx.wilson_interval(0, 0))
    lo, hi = cmx.wilson_interval(0, 20)
    assert lo == 0 and 0 < hi < 0.2
    lo, hi = cmx.wilson_interval(20, 20)
    assert hi == 1 and 0.8 < lo < 1
    assert cmx.wilson_interval(np.int64(3), np.int64(7)) == cmx.wilson_interval(3, 7)
    wider, narrower = cmx.wilson_interval(30, 60, 0.99), cmx.wilson_interval(30, 60, 0.9)
    assert wider[0] < narrower[0] and narrower[1] < wider[1]


@pytest.mark.parametrize(
    "successes, trials, confidence, message",
    [
        (5, 4, 0.95, "cannot exceed trials"),
        (-1, 4, 0.95, "successes must be a whole number"),
        (1.5, 4, 0.95, "successes must be a whole number"),
        (1, 4, 1.0, "confidence must be between 0 and 1"),
        (1, 4, 95, "confidence must be between 0 and 1"),
    ],
)
def test_wilson_refuses_bad_input(successes, trials, confidence, message):
    with pytest.raises(ValueError, match=message):
        cmx.wilson_interval(successes, trials, confidence)


# --- confusion_intervals -----------------------------------------------------------------------


def test_two_classes_each_rate_over_its_own_denominator():
    cm = [[50, 10], [5, 35]]  # TN 50, FP 10, FN 5, TP 35 (positive: the second class)
    intervals = cmx.confusion_intervals(cm)
    expected = {
        "accuracy": (85, 100),
        "precision": (35, 45),
        "recall": (35, 40),
        "specificity": (50, 60),
        "npv": (50, 55),
    }
    assert list(intervals) == list(expected)
    for name, (successes, trials) in expected.items():
        assert intervals[name] == pytest.approx(statsmodels_wilson(successes, trials), abs=1e-12)
    # the first class as positive swaps the roles
    swapped = cmx.confusion_intervals(cm, positive=0, confidence=0.9)
    assert swapped["precision"] == pytest.approx(statsmodels_wilson(50, 55, 0.9), abs=1e-12)
    assert swapped["recall"] == pytest.approx(statsmodels_wilson(50, 60, 0.9), abs=1e-12)
    assert swapped["specificity"] == pytest.approx(statsmodels_wilson(35, 40, 0.9), abs=1e-12)
    assert swapped["npv"] == pytest.approx(statsmodels_wilson(35, 45, 0.9), abs=1e-12)


def test_intervals_are_plain_floats_ready_for_json():
    intervals = cmx.confusion_intervals(np.array([[50, 10], [5, 35]], dtype=np.int32))
    for interval in intervals.values():
        assert isinstance(interval, list) and all(type(x) is float for x in interval)
    assert json.loads(json.dumps(intervals)) == intervals


def test_a_rate_with_no_denominator_gets_nan():
    intervals = cmx.confusion_intervals([[7, 0], [3, 0]])  # the positive class is never predicted
    assert all(math.isnan(x) for x in intervals["precision"])
    assert intervals["recall"] == [0.0, pytest.approx(statsmodels_wilson(0, 3)[1])]


@settings(max_examples=50, deadline=None)
@given(
    st.integers(3, 6).flatmap(
        lambda n: st.lists(st.integers(0, 40), min_size=n * n, max_size=n * n).map(
            lambda counts: np.array(counts).reshape(int(math.isqrt(len(counts))), -1)
        )
    )
)
def test_more_classes_against_per_class_counts(cm):
    if cm.sum() == 0:
        cm[0, 0] = 1
    intervals = cmx.confusion_intervals(cm)
    assert list(intervals) == ["accuracy", "per_class"]
    assert intervals["accuracy"] == pytest.approx(
        statsmodels_wilson(np.trace(cm), cm.sum()), abs=1e-12, nan_ok=True
    )
    assert len(intervals["per_class"]) == cm.shape[0]
    for rates, c in zip(intervals["per_class"], cmx.per_class(cm)):
        assert list(rates) == ["precision", "recall", "specificity"]
        for name, (successes, trials) in {
            "precision": (c.tp, c.tp + c.fp),
            "recall": (c.tp, c.tp + c.fn),
            "specificity": (c.tn, c.tn + c.fp),
        }.items():
            if trials == 0:
                assert all(math.isnan(x) for x in rates[name])
            else:
                expected = statsmodels_wilson(successes, trials)
                assert rates[name] == pytest.approx(expected, abs=1e-12)


def test_confusion_intervals_refuse_bad_input():
    with pytest.raises(ValueError, match="2 x 2 matrix; this one has 3 classes"):
        cmx.confusion_intervals(np.eye(3, dtype=int), positive=1)
    with pytest.raises(ValueError, match="index of the positive class, 0 or 1"):
        cmx.confusion_intervals([[1, 2], [3, 4]], positive=2)
    with pytest.raises(ValueError, match="square"):
        cmx.confusion_intervals([[1, 2, 3], [3, 4, 5]])


# --- bootstrap_interval ------------------------------------------------------------------------


def scored_rows(n=300, seed=1):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    return y, np.clip(0.3 * y + rng.normal(0.35, 0.2, n), 0, 1)


def test_bootstrap_is_the_percentiles_of_seeded_resamples():
    y, scores = scored_rows(120)
    rng = np.random.default_rng(7)
    values = []
    for _ in range(300):
        rows = rng.integers(0, y.size, size=y.size)
        values.append(cmx.roc_auc(y[rows], scores[rows]))
    expected = np.quantile(values, [0.05, 0.95])
    ours = cmx.bootstrap_interval(cmx.roc_auc, y, scores, 300, confidence=0.9, seed=7)
    assert ours == tuple(expected)
    assert cmx.bootstrap_interval(cmx.roc_auc, y, scores, 300, confidence=0.9, seed=7) == ours
    assert cmx.bootstrap_interval(cmx.roc_auc, y, scores, 300, confidence=0.9, seed=8) != ours


def test_bootstrap_agrees_with_scipy_percentile_bootstrap():
    y, scores = scored_rows()
    ours = cmx.bootstrap_interval(cmx.average_precision, y, scores, 1000)
    theirs = scipy.stats.bootstrap(
        (y, scores),
        cmx.average_precision,
        paired=True,
        vectorized=False,
        n_resamples=1000,
        method="percentile",
        rng=np.random.default_rng(0),
    ).confidence_interval
    assert cmx.average_precision(y, scores) == pytest.approx(np.mean(ours), abs=0.02)
    assert ours == pytest.approx((theirs.low, theirs.high), abs=0.01)


def test_bootstrap_of_accuracy_is_close_to_wilson():
    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, 1000)
    predicted = np.where(rng.random(1000) < 0.8, y, 1 - y)
    lo, hi = cmx.bootstrap_interval(lambda t, p: np.mean(t == p), y, predicted, 1000)
    assert (lo, hi) == pytest.approx(
        cmx.wilson_interval(int(np.sum(y == predicted)), 1000), abs=0.01
    )


def test_bootstrap_skips_resamples_with_one_class_and_says_how_many():
    y = np.array([0] * 9 + [1])
    scores = np.linspace(0, 1, 10)
    # a resample of these 10 rows without the single positive has no ROC AUC
    with pytest.warns(UserWarning, match=r"undefined on \d+ of 100 resamples") as said:
        ours = cmx.bootstrap_interval(cmx.roc_auc, y, scores, 100, seed=0)  # raises on one class
    with pytest.warns(UserWarning, match=r"undefined on \d+ of 100 resamples") as also:
        sklearns = cmx.bootstrap_interval(roc_auc_score, y, scores, 100, seed=0)  # NaN
    counted = [int(str(w.message).split("undefined on ")[1].split(" ")[0]) for w in said]
    assert counted == [int(str(w.message).split("undefined on ")[1].split(" ")[0]) for w in also]
    assert 10 < counted[0] < 60  # about (9/10)^10 = 35 % of resamples hold no positive
    assert 0 <= ours[0] <= ours[1] <= 1
    assert sklearns == pytest.approx(ours)
    with pytest.raises(ValueError, match="no positive sample"):  # undefined on the data itself
        cmx.bootstrap_interval(cmx.roc_auc, np.zeros(5), scores[:5], 10)


def test_bootstrap_takes_any_metric_and_rows_of_probabilities():
    y, scores = scored_rows(200)
    predicted = (scores >= 0.5).astype(int)
    lo, hi = cmx.bootstrap_interval(f1_score, y, predicted, 100)
    assert lo < f1_score(y, predicted) < hi
    probabilities = np.column_stack([1 - scores, scores])
    lo, hi = cmx.bootstrap_interval(lambda t, p: np.mean(p.argmax(1) == t), y, probabilities, 100)
    assert lo < np.mean(predicted == y) < hi


def test_bootstrap_refuses_bad_input():
    with pytest.raises(ValueError, match="different lengths"):
        cmx.bootstrap_interval(cmx.roc_auc, [0, 1, 1], [0.1, 0.2], 10)
    with pytest.raises(ValueError, match="n_resamples must be"):
        cmx.bootstrap_interval(cmx.roc_auc, [0, 1], [0.1, 0.2], 0)
    rows = np.arange(8)  # a metric defined on the rows in their order only: never on a resample
    with pytest.raises(ValueError, match="undefined on all 20 resamples"):
        cmx.bootstrap_interval(
            lambda t, s: 1.0 if np.array_equal(s, rows) else math.nan, rows % 2, rows, 20
        )


# --- mcnemar_exact -----------------------------------------------------------------------------


def test_mcnemar_by_hand():
    # A alone right on 1 row, B alone on 6: P(X <= 1) for X ~ Binomial(7, 1/2) is 8/128
    a = [True, False, False, False, False, False, False, True, False]
    b = [False, True, True, True, True, True, True, True, False]
    assert cmx.mcnemar_exact(a, b) == {"a_only_right": 1, "b_only_right": 6, "p_value": 0.125}


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 300), min_size=4, max_size=4), st.integers(0, 2**32 - 1))
def test_mcnemar_matches_statsmodels_and_scipy(cells, seed):
    """Rows both right, A alone, B alone and neither right, in a shuffled order."""
    if sum(cells) == 0:
        cells[0] = 1
    pairs = np.repeat([[True, True], [True, False], [False, True], [False, False]], cells, axis=0)
    a, b = np.random.default_rng(seed).permutation(pairs).T
    result = cmx.mcnemar_exact(a, b)
    table = [[np.sum(a & b), np.sum(a & ~b)], [np.sum(~a & b), np.sum(~a & ~b)]]
    assert result["a_only_right"] == table[0][1] and result["b_only_right"] == table[1][0]
    assert result["p_value"] == pytest.approx(mcnemar(table, exact=True).pvalue, rel=1e-12)
    discordant = table[0][1] + table[1][0]
    if discordant:
        binomial = scipy.stats.binomtest(table[0][1], discordant, 0.5).pvalue
        assert result["p_value"] == pytest.approx(binomial, rel=1e-9)
    assert type(result["p_value"]) is float and type(result["a_only_right"]) is int


def test_mcnemar_edges():
    same = np.array([1, 0, 1, 1, 0])
    assert cmx.mcnemar_exact(same, same) == {"a_only_right": 0, "b_only_right": 0, "p_value": 1.0}
    assert cmx.mcnemar_exact([True] * 50, [True] * 50)["p_value"] == 1.0
    assert cmx.mcnemar_exact([1] * 30, [0] * 30)["p_value"] == pytest.approx(2 * 0.5**30)
    with pytest.raises(ValueError, match="different lengths .3 and 2.: both models must be scored"):
        cmx.mcnemar_exact([True, True, False], [True, False])
    with pytest.raises(ValueError, match="True/False"):
        cmx.mcnemar_exact([0, 1, 2], [0, 1, 1])
    with pytest.raises(ValueError, match="empty: there are no rows to compare on"):
        cmx.mcnemar_exact([], [])


# --- corrected_resampled_ttest and cv_mean_interval ----------------------------------------------


def sklearn_example_ttest(differences, n_train, n_test):
    """scikit-learn's gallery example plot_grid_search_stats.py: corrected_std and
    compute_corrected_ttest (right-tailed)."""
    kr = len(differences)
    corrected_var = np.var(differences, ddof=1) * (1 / kr + n_test / n_train)
    t_stat = np.mean(differences) / np.sqrt(corrected_var)
    return t_stat, scipy.stats.t.sf(np.abs(t_stat), kr - 1)


def test_corrected_ttest_by_hand():
    # d = 0.01, 0.02, 0.03: mean 0.02, variance 1e-4, times 1/3 + 100/200 = 5/6, so
    # t = 0.02 / sqrt(5/6 * 1e-4) = sqrt(4.8); with 2 degrees of freedom the two-sided p is
    # 1 - t / sqrt(t^2 + 2) = 1 - sqrt(4.8 / 6.8)
    result = cmx.corrected_resampled_ttest([0.81, 0.82, 0.83], [0.8, 0.8, 0.8], 200, 100)
    assert result["mean_difference"] == pytest.approx(0.02)
    assert result["t"] == pytest.approx(math.sqrt(4.8))
    assert result["p_value"] == pytest.approx(1 - math.sqrt(4.8 / 6.8))
    assert result["df"] == 2


folds = st.integers(2, 30).flatmap(
    lambda k: st.tuples(
        st.lists(st.floats(0, 1), min_size=k, max_size=k),
        st.lists(st.floats(0, 1), min_size=k, max_size=k),
    )
)


@settings(max_examples=100, deadline=None)
@given(folds, st.integers(10, 10_000), st.integers(2, 5_000))
def test_corrected_ttest_matches_the_sklearn_example(scores, n_train, n_test):
    a, b = np.array(scores[0]), np.array(scores[1])
    differences = a - b
    if np.var(differences, ddof=1) < 1e-12:
        return  # no spread: the example divides by zero (the edge test covers it)
    result = cmx.corrected_resampled_ttest(a, b, n_train, n_test)
    t_stat, right_tailed = sklearn_example_ttest(differences, n_train, n_test)
    assert result["t"] == pytest.approx(t_stat, rel=1e-9)
    assert result["p_value"] == pytest.approx(min(1, 2 * right_tailed), rel=1e-9, abs=1e-300)
    assert result["mean_difference"] == pytest.approx(np.mean(differences), abs=1e-15)
    assert result["df"] == a.size - 1


def test_without_the_correction_it_is_scipys_paired_ttest():
    rng = np.random.default_rng(5)
    a, b = rng.normal(0.8, 0.02, 10), rng.normal(0.79, 0.02, 10)
    plain = scipy.stats.ttest_rel(a, b)
    almost_plain = cmx.corrected_resampled_ttest(a, b, n_train=10**15, n_test=1)
    assert almost_plain["t"] == pytest.approx(plain.statistic, rel=1e-9)
    assert almost_plain["p_value"] == pytest.approx(plain.pvalue, rel=1e-9)
    corrected = cmx.corrected_resampled_ttest(a, b, n_train=900, n_test=100)  # 10-fold
    assert abs(corrected["t"]) < abs(plain.statistic) and corrected["p_value"] > plain.pvalue


def test_corrected_ttest_edges():
    same = [0.8, 0.85, 0.9]
    assert cmx.corrected_resampled_ttest(same, same, 100, 50) == {
        "mean_difference": 0.0,
        "t": 0.0,
        "p_value": 1.0,
        "df": 2,
    }
    shifted = cmx.corrected_resampled_ttest([0.5, 0.5], [0.25, 0.25], 100, 50)
    assert shifted["t"] == math.inf and shifted["p_value"] == 0.0
    with pytest.raises(ValueError, match="different lengths .3 and 2."):
        cmx.corrected_resampled_ttest(same, [0.8, 0.9], 100, 50)
    with pytest.raises(ValueError, match="at least 2"):
        cmx.corrected_resampled_ttest([0.8], [0.7], 100, 50)
    with pytest.raises(ValueError, match="n_train and n_test"):
        cmx.corrected_resampled_ttest(same, same, 0, 50)


def test_cv_interval_by_hand():
    # two folds of 50 rows each way: variance 0.005 times 1/2 + 1 = 1.5; t_(1, 0.975) = 12.7062
    lo, hi = cmx.cv_mean_interval([0.8, 0.9], 50, 50)
    half_width = 12.706204736 * math.sqrt(0.0075)
    assert (lo, hi) == pytest.approx((0.85 - half_width, 0.85 + half_width))


@settings(max_examples=100, deadline=None)
@given(folds, st.integers(2, 20), st.sampled_from(CONFIDENCES))
def test_cv_interval_is_scipys_t_interval_with_the_corrected_scale(scores, k, confidence):
    values = np.array(scores[0])
    n_test, n_train = 100, 100 * (k - 1)  # k-fold: n_test / n_train = 1 / (k - 1)
    lo, hi = cmx.cv_mean_interval(values, n_train, n_test, confidence)
    scale = math.sqrt((1 / values.size + 1 / (k - 1)) * np.var(values, ddof=1))
    if scale == 0:
        assert lo == hi == pytest.approx(np.mean(values))
        return
    expected = scipy.stats.t.interval(confidence, values.size - 1, np.mean(values), scale)
    assert (lo, hi) == pytest.approx(expected, rel=1e-9, abs=1e-12)


@settings(max_examples=100, deadline=None)
@given(folds, st.sampled_from([0.01, 0.05, 0.1]))
def test_the_interval_of_the_differences_excludes_0_when_the_test_finds_a_difference(scores, alpha):
    a, b = np.array(scores[0]), np.array(scores[1])
    differences = a - b
    if np.var(differences, ddof=1) < 1e-12:
        return
    p_value = cmx.corrected_resampled_ttest(a, b, 400, 100)["p_value"]
    lo, hi = cmx.cv_mean_interval(differences, 400, 100, confidence=1 - alpha)
    if abs(p_value - alpha) > 1e-9:
        assert (p_value < alpha) == (lo > 0 or hi < 0)


def test_cv_interval_is_wider_than_the_naive_one():
    scores = [0.80, 0.83, 0.79, 0.85, 0.82, 0.81, 0.84, 0.80, 0.83, 0.82]
    lo, hi = cmx.cv_mean_interval(scores, 900, 100)
    naive = scipy.stats.t.interval(0.95, 9, np.mean(scores), scipy.stats.sem(scores))
    assert (hi - lo) / (naive[1] - naive[0]) == pytest.approx(math.sqrt(1 + 10 / 9))


# --- verdict -----------------------------------------------------------------------------------


def test_verdict_in_plain_words():
    assert cmx.verdict(0.01) == "a real difference (p < 0.05)"
    assert cmx.verdict(0.05) == "no evidence of a difference"
    assert cmx.verdict(0.52) == "no evidence of a difference"
    assert cmx.verdict(0.02, alpha=0.01) == "no evidence of a difference"
    assert cmx.verdict(0.0, alpha=0.01) == "a real difference (p < 0.01)"
    with pytest.raises(ValueError, match="p-value lies between 0 and 1"):
        cmx.verdict(1.5)
    with pytest.raises(ValueError, match="alpha must be between 0 and 1"):
        cmx.verdict(0.5, alpha=5)


def test_the_package_imports_without_scipy():
    """SciPy is imported by the functions that need it, not by ``import confusion_metrics``."""
    code = "import sys, confusion_metrics; print(sorted({m.split('.')[0] for m in sys.modules}))"
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert "'numpy'" in loaded and "'scipy'" not in loaded
