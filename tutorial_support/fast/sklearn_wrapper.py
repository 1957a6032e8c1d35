"""KerasClassifier: a small Keras network as a scikit-learn classifier of two or more classes.

Why not an existing wrapper? ``scikeras`` is no longer maintained and fails inside
``GridSearchCV`` with scikit-learn 1.6 and later, and ``keras.wrappers.SKLearnClassifier``
one-hot encodes a binary target (which a one-unit sigmoid output cannot fit) and loses fit
arguments when scikit-learn clones it. docs/sklearn_wrapper.md shows it in use.
"""

from __future__ import annotations

import inspect

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.model_selection import train_test_split
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import check_is_fitted, validate_data

from tutorial_support.common.runtime import keras
from tutorial_support.fast.training import (
    fit_copies,
    predict_probabilities,
    predicted_classes,
    ready,
)


def _validation_split(rows: np.ndarray, y: np.ndarray, fraction: float, seed: int):
    """Split ``rows`` into rows to train on and a stratified validation share."""
    fit_rows, validation_rows = train_test_split(
        rows, test_size=fraction, stratify=y, random_state=seed
    )
    return np.sort(fit_rows), np.sort(validation_rows)


class KerasClassifier(ClassifierMixin, BaseEstimator):
    """A scikit-learn classifier around a Keras network of Dense (and Dropout) layers.

    ``build_fn`` returns the network: a ``keras.Sequential`` whose last layer is one
    sigmoid unit for two classes, or a softmax of one unit per class for three or more.
    If it takes an argument named ``n_classes``, the wrapper passes the number of classes
    of ``y``, so one function serves any target. It may leave out the ``keras.Input``
    layer (the network is then built on the width of the data ``fit`` gets) and may leave
    compiling to the wrapper (Adam, or ``optimizer``; binary cross-entropy for one output
    unit, sparse categorical cross-entropy for a softmax). If it takes an argument named
    ``optimizer``, the wrapper passes its own setting, so ``GridSearchCV`` can search it.

    A scikit-learn citizen (it passes ``sklearn.utils.estimator_checks.check_estimator``):
    every setting is a constructor parameter, so ``clone``, ``cross_val_score``,
    ``GridSearchCV``, ``Pipeline``, ``TunedThresholdClassifierCV`` and
    ``permutation_importance`` work with it. Any labels (0/1, "no"/"yes", 1/2/3) are
    learnt and ``classes_`` keeps them in sorted order; with two, the second is the
    positive class: ``predict_proba(X)[:, 1]`` is its probability. Input is checked as scikit-learn
    checks it: NaN, infinity, sparse matrices,
    1-D arrays and a wrong number of features are refused with scikit-learn's
    messages. Fitted, it pickles (the Keras network with it).

    ``fit`` trains for ``epochs`` at ``batch_size`` from weights drawn with
    ``random_state`` (the stacked trainer, one copy). With ``early_stopping=True`` it
    holds out ``validation_fraction`` of the rows (stratified) and stops once the
    validation loss has not improved for ``patience`` epochs, keeping the best
    weights; ``best_epoch_`` says which epoch that was and ``history_`` holds the
    per-epoch training and validation loss and accuracy.
    """

    def __init__(
        self,
        build_fn=None,
        epochs=100,
        batch_size=10,
        optimizer="adam",
        early_stopping=False,
        validation_fraction=0.1,
        patience=10,
        random_state=0,
        verbose=0,
    ):
        self.build_fn = build_fn
        self.epochs = epochs
        self.batch_size = batch_size
        self.optimizer = optimizer
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.random_state = random_state
        self.verbose = verbose

    def _network(self, n_features: int) -> keras.Model:
        if self.build_fn is None:
            raise ValueError(
                "KerasClassifier needs build_fn, a function that returns the Keras network"
            )
        accepted = inspect.signature(self.build_fn).parameters
        given = {"optimizer": self.optimizer, "n_classes": len(self.classes_)}
        network = ready(
            self.build_fn(**{name: value for name, value in given.items() if name in accepted}),
            n_features,
            self.optimizer,
        )
        needed = 1 if len(self.classes_) == 2 else len(self.classes_)
        if network.output_shape[-1] != needed:
            raise ValueError(
                f"y has {len(self.classes_)} classes, so the network's last layer needs {needed} "
                f"unit{'s' * (needed > 1)} ({'one sigmoid' if needed == 1 else 'a softmax'}), "
                f"but it has {network.output_shape[-1]}"
            )
        return network

    def fit(self, X, y):
        X, y = validate_data(self, X, y)
        check_classification_targets(y)
        self.classes_, codes = np.unique(y, return_inverse=True)  # codes: 0 .. classes - 1
        if self.classes_.size < 2:
            raise ValueError(
                f"y holds only one class ({self.classes_[0]!r}): a classifier needs samples of 2 "
                "classes"
            )
        target_type = type_of_target(y, input_name="y", raise_unknown=True)
        if target_type not in ("binary", "multiclass"):
            raise ValueError(
                "Only binary and multiclass targets are supported. The type of the target is "
                f"{target_type}."
            )
        rows, validation = [np.arange(len(y))], None
        if self.early_stopping:
            fit_rows, held_out = _validation_split(
                rows[0], codes, self.validation_fraction, self.random_state
            )
            rows, validation = [fit_rows], [held_out]
        ((self.model_, self.history_, self.best_epoch_),) = fit_copies(
            lambda: self._network(X.shape[1]),
            X,
            codes,
            rows,
            epochs=self.epochs,
            batch_size=self.batch_size,
            seed=self.random_state,
            verbose=self.verbose,
            validation_sets=validation,
            patience=self.patience if self.early_stopping else None,
        )
        return self

    def predict_proba(self, X):
        """One column per class of ``classes_``, in float32, the network's precision."""
        check_is_fitted(self)
        X = validate_data(self, X, reset=False)
        p = predict_probabilities(self.model_, X)
        return np.column_stack([1 - p, p]) if p.ndim == 1 else p

    def predict(self, X):
        """Two classes: ``classes_[1]`` where its probability is above 0.5; more: the most likely
        class."""
        check_is_fitted(self)
        p = predict_probabilities(self.model_, validate_data(self, X, reset=False))
        return self.classes_[predicted_classes(p)]


# The name of the binary-only wrapper of earlier versions: the same class.
KerasBinaryClassifier = KerasClassifier
