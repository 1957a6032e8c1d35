"""KerasClassifier as a scikit-learn citizen: scikit-learn's own checks (two classes and more), and
the tools that use them."""

import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_iris, make_classification
from sklearn.exceptions import NotFittedError
from sklearn.inspection import permutation_importance
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold, TunedThresholdClassifierCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from churn_fixtures import learnable_problem
from tutorial_support import KerasClassifier
from tutorial_support.backends.choice import chosen
from tutorial_support.common.runtime import keras
from tutorial_support.fast.cross_validation import cross_validate_details
from tutorial_support.fast.training import fit_copies

pytestmark = pytest.mark.backends

# Under JAX, XLA compiles every new shape the tests make, and CI's time is short: the wrapper's code
# above the trainer (scikit-learn's checks, labels, refusals, pickling, early stopping) is tested on
# TensorFlow and PyTorch; under JAX, the tests that train through scikit-learn's tools
not_under_jax = pytest.mark.skipif(
    chosen() == "jax", reason="the wrapper's own code, tested on TensorFlow and PyTorch"
)


class BuildWithoutInput:
    """A Sequential network without keras.Input and uncompiled: the wrapper builds and compiles it.

    It takes the number of classes: one sigmoid unit for two, a softmax for more. A class rather
    than a function so that its repr, and so the test ids scikit-learn makes from it, are the same
    in every process (pytest-xdist's workers must collect the same tests).
    """

    def __call__(self, n_classes=2):
        output = (
            keras.layers.Dense(1, activation="sigmoid")
            if n_classes == 2
            else keras.layers.Dense(n_classes, activation="softmax")
        )
        return keras.Sequential([keras.layers.Dense(8, activation="relu"), output])

    def __repr__(self):
        return "build_without_input"


build_without_input = BuildWithoutInput()


@not_under_jax
@parametrize_with_checks([KerasClassifier(build_without_input, epochs=20, batch_size=8)])
def test_scikit_learn_estimator_checks(estimator, check):
    check(estimator)  # multi-class checks included: its tags say it handles any number of classes


def test_multi_class_by_its_tags_and_the_old_name_still_imports():
    assert (
        KerasClassifier(build_without_input).__sklearn_tags__().classifier_tags.multi_class is True
    )
    from tutorial_support import KerasBinaryClassifier

    assert KerasBinaryClassifier is KerasClassifier


def test_three_named_classes_softmax_probabilities_and_predictions():
    X, y = load_iris(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    names = np.array(["setosa", "versicolor", "virginica"], dtype=object)[y]
    model = KerasClassifier(build_without_input, epochs=60, batch_size=16).fit(X, names)
    assert model.classes_.tolist() == ["setosa", "versicolor", "virginica"]
    assert (
        model.model_.layers[-1].units == 3
        and model.model_.loss == "sparse_categorical_crossentropy"
    )
    proba = model.predict_proba(X)
    assert proba.shape == (150, 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)
    np.testing.assert_array_equal(model.predict(X), model.classes_[np.argmax(proba, axis=1)])
    assert np.mean(model.predict(X) == names) > 0.8  # a third would be guessing
    # cross-validation and the stacked folds agree for three classes too
    cv = StratifiedKFold(n_splits=3, shuffle=True, random_state=0)
    sklearn_scores = cross_val_score(
        KerasClassifier(build_without_input, epochs=5, batch_size=16), X, y, cv=cv
    )
    stacked = cross_validate_details(
        lambda: build_without_input(3), X, y, cv, epochs=5, batch_size=16
    )
    np.testing.assert_allclose(stacked.scores, sklearn_scores, atol=1e-12)
    assert stacked.probabilities.shape == (150, 3)


@not_under_jax
@pytest.mark.parametrize("labels", [("no", "yes"), (1, 2), (-1, 1)])
def test_any_two_labels_map_to_0_1_and_back(labels):
    X, y01 = learnable_problem(120)
    y = np.array(labels, dtype=object if isinstance(labels[0], str) else None)[y01]
    model = KerasClassifier(build_without_input, epochs=30, batch_size=16).fit(X, y)
    assert model.classes_.tolist() == list(labels)
    assert set(model.predict(X)) <= set(labels)
    proba = model.predict_proba(X)
    assert proba.shape == (120, 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    # the second label is the positive class: column 1 is its probability
    np.testing.assert_array_equal(
        model.predict(X), np.where(proba[:, 1] > 0.5, labels[1], labels[0])
    )
    assert model.n_features_in_ == 11
    # the labels are only names: 0/1 targets give the very same network
    as_0_1 = KerasClassifier(build_without_input, epochs=30, batch_size=16).fit(X, y01)
    np.testing.assert_array_equal(as_0_1.predict_proba(X), proba)
    # better than the majority
    assert np.mean(model.predict(X) == y) > max(y01.mean(), 1 - y01.mean())


@not_under_jax
def test_not_fitted_refused_inputs_and_messages():
    X, y = learnable_problem(60)
    model = KerasClassifier(build_without_input, epochs=2)
    with pytest.raises(NotFittedError):
        model.predict(X)
    with pytest.raises(ValueError, match="Input X contains NaN"):
        model.fit(np.where(np.eye(60, 11) == 1, np.nan, X), y)
    with pytest.raises(ValueError, match="Expected 2D array, got 1D array"):
        model.fit(X[:, 0], y)
    with pytest.raises(ValueError, match="only one class"):
        model.fit(X, np.zeros(60))
    model.fit(X, y)
    with pytest.raises(ValueError, match="X has 5 features, but KerasClassifier is expecting 11"):
        model.predict(X[:, :5])


@not_under_jax
def test_pickles_with_its_network(tmp_path):
    X, y = learnable_problem(80)
    model = KerasClassifier(build_without_input, epochs=5, batch_size=16).fit(X, y)
    again = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(again.predict_proba(X), model.predict_proba(X))


@not_under_jax
def test_early_stopping_keeps_the_best_epoch():
    X, y = learnable_problem(300)
    model = KerasClassifier(
        build_without_input,
        epochs=200,
        batch_size=16,
        early_stopping=True,
        validation_fraction=0.2,
        patience=3,
    ).fit(X, y)
    history = model.history_
    assert len(history["loss"]) < 200  # it stopped early
    assert len(history["val_loss"]) == len(history["loss"]) == model.best_epoch_ + 3
    assert np.argmin(history["val_loss"]) + 1 == model.best_epoch_
    # the network kept is the one of the best epoch: its validation loss is the minimum
    from sklearn.model_selection import train_test_split

    _, held_out = train_test_split(np.arange(300), test_size=0.2, stratify=y, random_state=0)
    p = model.predict_proba(X[np.sort(held_out)])[:, 1]
    loss = -np.mean(y[np.sort(held_out)] * np.log(p) + (1 - y[np.sort(held_out)]) * np.log(1 - p))
    assert loss == pytest.approx(min(history["val_loss"]), rel=1e-4)


def test_pipeline_tuned_threshold_and_permutation_importance():
    X, y = make_classification(
        n_samples=300, n_features=6, n_informative=3, n_redundant=0, random_state=0
    )
    # features on very different scales: the pipeline's scaler matters
    X = X * [
        1,
        100,
        1,
        1000,
        1,
        1,
    ]
    table = pd.DataFrame(X, columns=[f"x{i}" for i in range(6)])
    pipeline = make_pipeline(
        StandardScaler(), KerasClassifier(build_without_input, epochs=100, batch_size=16)
    )
    pipeline.fit(table, y)
    assert roc_auc_score(y, pipeline.predict_proba(table)[:, 1]) > 0.85

    tuned = TunedThresholdClassifierCV(pipeline, scoring="f1", cv=StratifiedKFold(3)).fit(table, y)
    assert 0 < tuned.best_threshold_ < 1
    flagged = tuned.predict(table)
    np.testing.assert_array_equal(
        flagged, (tuned.estimator_.predict_proba(table)[:, 1] >= tuned.best_threshold_)
    )

    importance = permutation_importance(
        pipeline, table, y, scoring="roc_auc", n_repeats=3, random_state=0
    )
    informative = np.argsort(importance.importances_mean)[::-1][:3]
    # make_classification puts the informative features first (shuffle aside): x0..x2 are noise-free
    assert importance.importances_mean.shape == (6,)
    assert importance.importances_mean[informative].min() > importance.importances_mean.max() / 20


def test_out_of_fold_predictions_come_from_the_model_that_did_not_see_the_row():
    X, y = learnable_problem(90)
    cv = StratifiedKFold(n_splits=3)

    def build():
        return keras.Sequential(
            [keras.layers.Dense(6, activation="relu"), keras.layers.Dense(1, activation="sigmoid")]
        )

    details = cross_validate_details(build, X, y, cv, epochs=3, batch_size=10, seed=4)
    splits = list(cv.split(X, y))
    models = [
        m
        for m, _, _ in fit_copies(
            build, X, y, [train for train, _ in splits], epochs=3, batch_size=10, seed=4
        )
    ]
    for model, (_, test) in zip(models, splits):
        np.testing.assert_allclose(
            details.probabilities[test], model.predict(X[test], verbose=0).ravel(), rtol=1e-6
        )
        assert details.scores.tolist() == [
            np.mean((details.probabilities[t] > 0.5) == y[t]) for _, t in splits
        ]
    # the held-out curves: the last epoch's loss is the folds' mean loss on their held-out rows
    losses = [
        -np.mean(
            y[t] * np.log(details.probabilities[t])
            + (1 - y[t]) * np.log(1 - details.probabilities[t])
        )
        for _, t in splits
    ]
    assert details.held_out["val_loss"][-1] == pytest.approx(np.mean(losses), rel=1e-4)
    assert len(details.held_out["val_accuracy"]) == len(details.held_out["loss"]) == 3
