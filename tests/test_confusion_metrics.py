"""confusion_metrics against scikit-learn, on worked examples and many random cases."""

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn import metrics as skm

import confusion_metrics as cmx

WORKED_3_CLASS = [[14, 0, 0], [1, 15, 0], [0, 0, 6]]
ORIGINAL_CHURN = [[1533, 62], [255, 150]]  # what the 2019 tutorial printed


@st.composite
def predictions(draw):
    """y_true and y_pred over 2 to 10 classes; some classes may be missing from either."""
    n_classes = draw(st.integers(2, 10))
    size = draw(st.integers(1, 60))
    labels = st.integers(0, n_classes - 1)
    y_true = draw(st.lists(labels, min_size=size, max_size=size))
    y_pred = draw(st.lists(labels, min_size=size, max_size=size))
    return np.array(y_true), np.array(y_pred), n_classes


def test_worked_three_class_example():
    records = cmx.per_class(WORKED_3_CLASS, labels=[1, 2, 3])
    got = [
        [round(100 * getattr(r, m), 2) for r in records]
        for m in ("accuracy", "precision", "recall", "f1")
    ]
    assert got == [
        [97.22, 97.22, 100.0],
        [93.33, 100.0, 100.0],
        [100.0, 93.75, 100.0],
        [96.55, 96.77, 100.0],
    ]
    assert [r.label for r in records] == [1, 2, 3]
    assert [(r.tp, r.fn, r.fp, r.tn) for r in records] == [
        (14, 0, 1, 21),
        (15, 1, 0, 20),
        (6, 0, 0, 30),
    ]


def test_binary_churn_example_counts_the_churn_class():
    """The README's worked example: chapter 1's test matrix."""
    record = cmx.binary([[1545, 50], [270, 135]], positive=1)
    assert (record.tp, record.fn, record.fp, record.tn) == (135, 270, 50, 1545)
    assert round(100 * record.accuracy, 2) == 84.00
    assert record.support == 405
    assert round(100 * record.precision, 2) == 72.97 and round(100 * record.recall, 2) == 33.33
    assert round(100 * record.f1, 2) == 45.76


def test_original_tutorial_matrix_corrected_figures():
    record = cmx.binary(ORIGINAL_CHURN, positive=1)
    assert (record.tp, record.fn, record.fp, record.tn) == (150, 255, 62, 1533)
    figures = [
        round(100 * v, 2) for v in (record.accuracy, record.precision, record.recall, record.f1)
    ]
    assert figures == [84.15, 70.75, 37.04, 48.62]
    # The 2019 figures (89.40, 96.11, 91.09, 93.53 %) came from calling the top-left
    # cell TP and mixing up TN; they match none of the real metrics of either class.
    stays = cmx.binary(ORIGINAL_CHURN, positive=0)
    assert round(100 * stays.recall, 2) == 96.11
    assert round(100 * stays.accuracy, 2) == 84.15


def test_binary_positive_is_a_label():
    cm = [[50, 10], [5, 35]]
    dog = cmx.binary(cm, positive="dog", labels=["cat", "dog"])
    assert (dog.label, dog.tp, dog.fn, dog.fp, dog.tn) == ("dog", 35, 5, 10, 50)
    cat = cmx.binary(cm, positive="cat", labels=["cat", "dog"])
    assert (cat.tp, cat.fn, cat.fp, cat.tn) == (50, 10, 5, 35)
    with pytest.raises(ValueError, match="positive class 'bird' is not one of the labels"):
        cmx.binary(cm, positive="bird", labels=["cat", "dog"])
    with pytest.raises(ValueError, match="2 x 2"):
        cmx.binary(WORKED_3_CLASS)


@settings(max_examples=300, deadline=None)
@given(predictions(), st.sampled_from([0.0, 1.0]))
def test_agrees_with_scikit_learn(case, zero_division):
    y_true, y_pred, _ = case
    labels = np.unique(np.concatenate([y_true, y_pred]))
    if labels.size < 2:
        return  # a 1 x 1 matrix is rejected (tested below)
    cm = cmx.confusion_matrix(y_true, y_pred)
    np.testing.assert_array_equal(cm, skm.confusion_matrix(y_true, y_pred))

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # our package must not warn
        records = cmx.per_class(cm, labels=labels, zero_division=zero_division)
        overall = cmx.summary(cm, labels=labels, zero_division=zero_division)

    precision, recall, f1, support = skm.precision_recall_fscore_support(
        y_true, y_pred, labels=labels, zero_division=zero_division
    )
    np.testing.assert_allclose([r.precision for r in records], precision)
    np.testing.assert_allclose([r.recall for r in records], recall)
    np.testing.assert_allclose([r.f1 for r in records], f1)
    np.testing.assert_array_equal([r.support for r in records], support)
    for record in records:  # one-vs-rest accuracy
        assert record.accuracy == pytest.approx(
            skm.accuracy_score(y_true == record.label, y_pred == record.label)
        )
        assert record.tp + record.fn + record.fp + record.tn == y_true.size

    assert overall.accuracy == pytest.approx(skm.accuracy_score(y_true, y_pred))
    for average in ("macro", "micro", "weighted"):
        expected = skm.precision_recall_fscore_support(
            y_true, y_pred, labels=labels, average=average, zero_division=zero_division
        )[:3]
        ours = getattr(overall, average)
        np.testing.assert_allclose(
            [ours.precision, ours.recall, ours.f1], expected, err_msg=average
        )


@settings(max_examples=100, deadline=None)
@given(predictions())
def test_binary_agrees_with_scikit_learn(case):
    y_true, y_pred, _ = case
    y_true, y_pred = y_true % 2, y_pred % 2
    cm = cmx.confusion_matrix(y_true, y_pred, labels=[0, 1])
    record = cmx.binary(cm, positive=1)
    assert record.precision == pytest.approx(skm.precision_score(y_true, y_pred, zero_division=0))
    assert record.recall == pytest.approx(skm.recall_score(y_true, y_pred, zero_division=0))
    assert record.f1 == pytest.approx(skm.f1_score(y_true, y_pred, zero_division=0))
    tn, fp, fn, tp = skm.confusion_matrix(y_true, y_pred, labels=[0, 1]).ravel()
    assert (record.tp, record.fn, record.fp, record.tn) == (tp, fn, fp, tn)


def test_confusion_matrix_with_given_labels_and_strings():
    y_true = ["dog", "cat", "dog", "bird"]
    y_pred = ["dog", "dog", "cat", "bird"]
    for labels in (None, ["dog", "cat", "bird"]):
        np.testing.assert_array_equal(
            cmx.confusion_matrix(y_true, y_pred, labels=labels),
            skm.confusion_matrix(y_true, y_pred, labels=labels),
        )


def test_zero_division_value_is_used_without_warnings():
    cm = [[5, 0], [3, 0]]  # class 1 never predicted: its precision is 0 / 0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert cmx.binary(cm, zero_division=0.0).precision == 0.0
        assert cmx.binary(cm, zero_division=1.0).precision == 1.0
        assert np.isnan(cmx.binary(cm, zero_division=np.nan).precision)


@pytest.mark.parametrize(
    "cm, message",
    [
        ([1, 2, 3], "must be 2-D"),
        ([[1, 2, 3], [4, 5, 6]], "must be square"),
        ([[1, -2], [3, 4]], "must not be negative"),
        ([[1.5, 2], [3, 4]], "whole numbers"),
        ([["a", "b"], ["c", "d"]], "whole numbers"),
        ([[0, 0], [0, 0]], "all zeros"),
        ([[7]], "at least 2 classes"),
    ],
)
def test_bad_matrices_raise_clear_errors(cm, message):
    with pytest.raises(ValueError, match=message):
        cmx.per_class(cm)
    with pytest.raises(ValueError, match=message):
        cmx.summary(cm)


def test_other_bad_input():
    with pytest.raises(ValueError, match="got 3 labels for a 2 x 2"):
        cmx.per_class([[1, 2], [3, 4]], labels=["a", "b", "c"])
    with pytest.raises(ValueError, match="different lengths"):
        cmx.confusion_matrix([0, 1, 1], [0, 1])
    with pytest.raises(ValueError, match="duplicates"):
        cmx.confusion_matrix([0, 1], [0, 1], labels=[0, 0, 1])
    with pytest.raises(ValueError, match="normalize"):
        cmx.plot_confusion_matrix([[1, 2], [3, 4]], normalize="rows")


def test_format_report_shows_matrix_table_and_positive_class():
    text = cmx.format_report(
        [[1545, 50], [270, 135]], labels=["stays", "leaves"], positive="leaves"
    )
    assert "Positive class: leaves" in text
    assert "TP = 135   FN = 270   FP = 50   TN = 1545" in text
    assert "accuracy  = (TP + TN) / total          = 84.00 %" in text
    assert "overall accuracy: 84.00 %" in text
    lines = text.splitlines()
    assert lines[2].split() == ["stays", "1545", "50"]
    assert lines[3].split() == ["leaves", "270", "135"]


@pytest.mark.parametrize("normalize", [None, "true", "pred", "all"])
def test_plot_confusion_matrix_annotates_counts_and_names(normalize, tmp_path):
    figure = cmx.plot_confusion_matrix(
        WORKED_3_CLASS, labels=["a", "b", "c"], normalize=normalize, title="t"
    )
    axes = figure.axes[0]
    texts = [t.get_text() for t in axes.texts]
    assert len(texts) == 9
    assert texts[0].split("\n")[0] == "14" and texts[3].split("\n")[0] == "1"
    if normalize == "true":
        assert texts[3].split("\n")[1] == "6.2 %"  # 1 of the 16 actual b's
    assert [t.get_text() for t in axes.get_xticklabels()] == ["a", "b", "c"]
    assert axes.get_xlabel() == "predicted class" and axes.get_ylabel() == "actual class"
    figure.savefig(tmp_path / "cm.png")
    assert (tmp_path / "cm.png").stat().st_size > 1000


def test_package_imports_no_keras_backend():
    import subprocess
    import sys

    code = (
        "import sys, confusion_metrics; confusion_metrics.per_class([[1,0],[0,1]]); "
        "print(any(name in sys.modules for name in ('tensorflow', 'jax', 'torch', 'keras')))"
    )
    assert (
        subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        ).stdout.strip()
        == "False"
    )
