"""Cross-validation of a small Keras network, every fold trained at once (stacked.py).

``cross_validate`` gives the same scores as ``cross_val_score(KerasClassifier(...))``;
``cross_validate_details`` also keeps each row's out-of-fold prediction and the held-out
learning curve.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from sklearn.metrics import accuracy_score

from tutorial_support.common.runtime import keras
from tutorial_support.fast.training import fit_copies, predict_probabilities, predicted_classes


@dataclass
class CrossValidation:
    """What a cross-validation gives beyond the scores.

    ``scores``: accuracy on each held-out fold. ``probabilities``: every row's P(class 1)
    (two classes) or one column per class (softmax) from the fold model that did not train on it
    (out-of-fold, as ``cross_val_predict`` gives them). ``held_out``: the mean over the folds of
    the loss and accuracy on the held-out fold after every epoch (``val_loss``, ``val_accuracy``)
    beside the mean training ``loss`` and ``accuracy``: a learning curve measured on rows no fold
    model trained on.
    """

    scores: np.ndarray
    probabilities: np.ndarray
    held_out: dict[str, list[float]]


def cross_validate_details(
    build_model: Callable[..., keras.Model],
    X: np.ndarray,
    y: np.ndarray,
    cv,
    *,
    epochs: int,
    batch_size: int,
    seed: int = 0,
    build_args: dict | None = None,
    verbose: int = 0,
) -> CrossValidation:
    """The scores of :func:`cross_validate`, and more: every row's out-of-fold prediction (what
    ``cross_val_predict`` gives) and the held-out learning curves, in a :class:`CrossValidation`.

    Steps 10 and 15 use it (step 13 chooses its threshold on those predictions); where only the
    scores are wanted (steps 11 and 12), :func:`cross_validate` says so."""
    X = np.asarray(X, dtype=np.float32)
    y = np.asarray(y)
    splits = list(cv.split(X, y))
    trained = fit_copies(
        build_model,
        X,
        y,
        [train for train, _ in splits],
        epochs=epochs,
        batch_size=batch_size,
        seed=seed,
        build_args=build_args,
        verbose=verbose,
        validation_sets=[test for _, test in splits],
    )
    held_out = [
        predict_probabilities(model, X[test]) for (model, _, _), (_, test) in zip(trained, splits)
    ]
    probabilities = np.zeros((len(y), *held_out[0].shape[1:]))
    for p, (_, test) in zip(held_out, splits):
        probabilities[test] = p
    scores = np.array(
        [accuracy_score(y[test], predicted_classes(probabilities[test])) for _, test in splits]
    )
    curves = {
        key: np.mean([history[key] for _, history, _ in trained], axis=0).tolist()
        for key in trained[0][1]
    }
    return CrossValidation(scores, probabilities, curves)


def cross_validate(
    build_model: Callable[..., keras.Model], X: np.ndarray, y: np.ndarray, cv, **settings
) -> np.ndarray:
    """Only the scores: accuracy on each held-out fold of ``cv`` (a scikit-learn splitter), in
    fold order; :func:`cross_validate_details` also keeps the predictions and curves.

    The same figures as ``cross_val_score(KerasClassifier(...), X, y, cv=cv)``,
    with all the folds trained together. ``settings``: as :func:`cross_validate_details`
    (epochs, batch_size, seed, build_args, verbose).
    """
    return cross_validate_details(build_model, X, y, cv, **settings).scores
