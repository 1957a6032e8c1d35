"""The threshold view (one confusion matrix per threshold, ROC and PR curves) against
scikit-learn."""

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn import metrics as skm

import confusion_metrics as cmx


@st.composite
def scored(draw, both_classes=True):
    """y_true over two labels and scores with many ties (few distinct values) or none."""
    size = draw(st.integers(2 if both_classes else 1, 80))
    labels = draw(st.sampled_from([(0, 1), (-1, 1), ("no", "yes"), (1, 2)]))
    y = draw(st.lists(st.sampled_from(labels), min_size=size, max_size=size))
    if both_classes and len(set(y)) < 2:
        y[0], y[-1] = labels
    # ties, or continuous scores
    distinct = draw(st.integers(1, 6)) if draw(st.booleans()) else None
    if distinct:
        scores = draw(st.lists(st.integers(0, distinct - 1), min_size=size, max_size=size))
        scores = np.array(scores, dtype=float) / distinct
    else:
        scores = np.array(
            draw(
                st.lists(st.floats(-5, 5, allow_nan=False, width=32), min_size=size, max_size=size)
            )
        )
    return np.array(y), scores, labels[1]


@settings(max_examples=300, deadline=None)
@given(scored())
def test_counts_equal_confusion_matrix_at_every_threshold(case):
    y, scores, positive = case
    counts = cmx.confusion_matrices_at_thresholds(y, scores, positive=positive)
    tns, fps, fns, tps, thresholds = skm.confusion_matrix_at_thresholds(
        y, scores, pos_label=positive
    )
    np.testing.assert_array_equal(counts.thresholds, thresholds)
    for ours, theirs in zip((counts.tn, counts.fp, counts.fn, counts.tp), (tns, fps, fns, tps)):
        np.testing.assert_array_equal(ours, theirs)
    negative = [label for label in np.unique(y) if label != positive][0]
    # a few thresholds, checked by counting
    for i in (
        0,
        len(thresholds) // 2,
        len(thresholds) - 1,
    ):
        predicted = np.where(scores >= counts.thresholds[i], positive, negative)
        expected = skm.confusion_matrix(y, predicted, labels=[negative, positive])
        np.testing.assert_array_equal(counts.matrix(i), expected)


@settings(max_examples=300, deadline=None)
@given(scored(), st.booleans())
def test_roc_curve_and_auc_equal_scikit_learn(case, drop):
    y, scores, positive = case
    fpr, tpr, thresholds = cmx.roc_curve(y, scores, positive=positive, drop_intermediate=drop)
    sk_fpr, sk_tpr, sk_thresholds = skm.roc_curve(
        y, scores, pos_label=positive, drop_intermediate=drop
    )
    np.testing.assert_allclose(fpr, sk_fpr)
    np.testing.assert_allclose(tpr, sk_tpr)
    np.testing.assert_array_equal(thresholds, sk_thresholds)
    assert cmx.roc_auc(y, scores, positive=positive) == pytest.approx(
        skm.roc_auc_score(y == positive, scores), abs=1e-12
    )


@settings(max_examples=300, deadline=None)
@given(scored(), st.booleans())
def test_precision_recall_curve_and_average_precision_equal_scikit_learn(case, drop):
    y, scores, positive = case
    precision, recall, thresholds = cmx.precision_recall_curve(
        y, scores, positive=positive, drop_intermediate=drop
    )
    sk = skm.precision_recall_curve(y, scores, pos_label=positive, drop_intermediate=drop)
    for ours, theirs in zip((precision, recall, thresholds), sk):
        np.testing.assert_allclose(ours, theirs)
    assert cmx.average_precision(y, scores, positive=positive) == pytest.approx(
        skm.average_precision_score(y, scores, pos_label=positive), abs=1e-12
    )


def test_worked_example_with_ties():
    y = [0, 0, 1, 1, 0, 1]
    scores = [0.1, 0.4, 0.4, 0.8, 0.8, 0.9]
    counts = cmx.confusion_matrices_at_thresholds(y, scores)
    assert counts.thresholds.tolist() == [0.9, 0.8, 0.4, 0.1]
    # at 0.8: the tied 0.8s are both called positive
    assert counts.matrix(1).tolist() == [
        [2, 1],
        [1, 2],
    ]
    # of 9 (positive, negative) pairs 6 ranked right, 2 tied
    assert cmx.roc_auc(y, scores) == pytest.approx(7 / 9)
    assert cmx.average_precision(y, scores) == pytest.approx(skm.average_precision_score(y, scores))
    # README
    assert cmx.average_precision(y, scores) == pytest.approx(
        1 / 3 * 1 + 1 / 3 * 2 / 3 + 1 / 3 * 3 / 5
    )
    assert [(counts.tp[i], counts.fp[i]) for i in range(4)] == [(1, 0), (2, 1), (3, 2), (3, 3)]


@pytest.mark.parametrize("y", [[0, 0, 0], [1, 1, 1]])
def test_one_class_is_a_clear_error_where_the_metric_is_undefined(y):
    scores = [0.2, 0.5, 0.9]
    with pytest.raises(ValueError, match="ROC curve needs both classes"):
        cmx.roc_curve(y, scores)
    with pytest.raises(ValueError, match="ROC curve needs both classes"):
        cmx.roc_auc(y, scores)
    with warnings.catch_warnings():  # scikit-learn only warns and returns NaN
        warnings.simplefilter("ignore")
        assert np.isnan(skm.roc_auc_score(y, scores))
    if y[0] == 0:  # no positives: recall is undefined
        with pytest.raises(ValueError, match="needs positive samples"):
            cmx.precision_recall_curve(y, scores)
        with pytest.raises(ValueError, match="needs positive samples"):
            cmx.average_precision(y, scores)
    else:  # only positives: precision is 1 everywhere, as in scikit-learn
        assert (
            cmx.average_precision(y, scores)
            == pytest.approx(skm.average_precision_score(y, scores))
            == 1.0
        )


@pytest.mark.parametrize(
    "y, scores, message",
    [
        ([0, 1], [0.5], "different lengths"),
        ([], [], "empty"),
        ([0, 1], [0.5, np.nan], "NaN or infinity"),
        ([0, 1, 2], [0.1, 0.2, 0.3], "two classes"),
        ([2, 3], [0.1, 0.2], "positive class 1 is not one of the labels"),
        ([0, 1], [[0.9, 0.1], [0.2, 0.8]], "positive class's column"),
        ([0, 1], ["a", "b"], "must hold numbers"),
    ],
)
def test_bad_input_is_a_clear_error(y, scores, message):
    with pytest.raises(ValueError, match=message):
        cmx.confusion_matrices_at_thresholds(y, scores)


@settings(max_examples=200, deadline=None)
@given(scored(), st.floats(0.05, 1.0))
def test_chosen_threshold_reproduces_the_chosen_matrix(case, min_recall):
    y, scores, positive = case
    scores32 = scores.astype(np.float32)  # what Keras predicts
    counts = cmx.confusion_matrices_at_thresholds(y, scores32, positive=positive)
    f1 = 2 * counts.tp / (2 * counts.tp + counts.fp + counts.fn)
    t = cmx.choose_threshold(y, scores32, rule="f1", positive=positive)
    assert float(np.float32(t)) != t  # not a float32 number
    wide = scores32.astype(np.float64)
    flagged = wide > t
    assert np.array_equal(flagged, wide >= t)  # no score sits on the threshold
    below, above = np.max(wide[~flagged], initial=-np.inf), np.min(wide[flagged], initial=np.inf)
    # not neighbouring float32 scores
    if np.nextafter(np.float32(below), np.float32(np.inf)) < above:
        # float32 too
        assert np.array_equal(scores32 > t, flagged) and np.array_equal(scores32 >= t, flagged)
    tp = int(np.sum(flagged & (y == positive)))
    fp = int(np.sum(flagged & (y != positive)))
    assert 2 * tp / (2 * tp + fp + counts.positives - tp) == pytest.approx(f1.max())  # the best F1

    t = cmx.choose_threshold(y, scores32, rule="youden", positive=positive)
    flagged = scores32.astype(np.float64) > t
    is_positive = y == positive
    j = np.mean(flagged[is_positive]) - np.mean(flagged[~is_positive])
    fpr, tpr, _ = skm.roc_curve(is_positive, scores32, drop_intermediate=False)
    assert j == pytest.approx(np.max(tpr - fpr))  # the ROC point furthest above the diagonal

    t = cmx.choose_threshold(
        y, scores32, rule="min-recall", min_recall=min_recall, positive=positive
    )
    flagged = scores32.astype(np.float64) > t
    recall = np.sum(flagged & (y == positive)) / counts.positives
    assert recall >= min_recall - 1e-12
    chosen = counts.thresholds[counts.thresholds > t].min()
    higher = counts.thresholds[counts.thresholds > chosen]  # any higher threshold misses the recall
    assert all(
        np.sum((scores32 >= h) & (y == positive)) / counts.positives < min_recall for h in higher
    )


def test_choose_threshold_bad_rule():
    with pytest.raises(ValueError, match="unknown rule"):
        cmx.choose_threshold([0, 1], [0.2, 0.7], rule="accuracy")
    with pytest.raises(ValueError, match=r"min_recall must be in \(0, 1\]"):
        cmx.choose_threshold([0, 1], [0.2, 0.7], rule="min-recall", min_recall=1.5)


def test_threshold_curves_figure_marks_the_given_matrices():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 200)
    scores = np.clip(y * 0.3 + rng.uniform(0, 0.7, 200), 0, 1)
    marks = {
        "at 0.5": cmx.confusion_matrix(y, scores > 0.5),
        "at 0.3": cmx.confusion_matrix(y, scores > 0.3),
    }
    roc, pr = cmx.plot_threshold_curves(y, scores, marks=marks)
    (roc_axes,), (pr_axes,) = roc.axes, pr.axes
    legend = [text.get_text() for text in roc_axes.get_legend().get_texts()]
    assert legend[0] == f"model (ROC AUC {skm.roc_auc_score(y, scores):.3f})" and legend[
        2:
    ] == list(marks)
    (tn, fp), (fn, tp) = marks["at 0.3"]
    x, y_point = roc_axes.lines[-1].get_data()
    assert (x[0], y_point[0]) == pytest.approx((fp / (fp + tn), tp / (tp + fn)))
    x, y_point = pr_axes.lines[-1].get_data()
    assert (x[0], y_point[0]) == pytest.approx((tp / (tp + fn), tp / (tp + fp)))
