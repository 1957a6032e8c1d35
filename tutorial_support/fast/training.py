"""Keras' fit and predict, faster, for the small networks of chapter 1.

``fit(model, X, y, batch_size=10, epochs=100)`` takes the same steps as
``model.fit(X, y, batch_size=10, epochs=100)``: shuffled batches every epoch, the model's own
optimizer and loss, a progress bar, and the history it returns. What it does differently is
how: each epoch is one compiled call (stacked.py; eager steps under PyTorch), not one call per
batch, which for a network of 11 -> 6 -> 6 -> 1 units is many times faster (docs/speed.md).
``predict_probabilities`` is ``model.predict`` for Dense networks, computed with NumPy.
``fit_copies`` trains several copies at once, one per cross-validation fold.
"""

from __future__ import annotations

import numpy as np

from tutorial_support.common.runtime import keras, seed_everything
from tutorial_support.fast.stacked import LOSSES, train_stacked


def predicted_classes(probabilities: np.ndarray) -> np.ndarray:
    """Class numbers from ``predict_probabilities``: 1 where P(class 1) > 0.5, or each row's most
    likely class."""
    probabilities = np.asarray(probabilities)
    if probabilities.ndim == 1:
        return (probabilities > 0.5).astype(np.int64)
    return np.argmax(probabilities, axis=1)


def fit(
    model: keras.Model,
    X,
    y,
    *,
    batch_size: int,
    epochs: int,
    verbose: int = 1,
    seed: int = 0,
    validation_data: tuple | None = None,
) -> dict:
    """Train a compiled Keras model like ``model.fit(X, y, batch_size, epochs)``, faster.

    The same steps (shuffled batches of ``batch_size`` every epoch, the model's own
    optimizer and loss) with the same kind of progress bar, but each epoch is one
    compiled call. Returns the history: loss and accuracy per epoch, and
    with ``validation_data=(X_val, y_val)`` also val_loss and val_accuracy.
    """
    rows = [np.arange(len(y))]
    validation = None
    if validation_data is not None:
        X_val, y_val = validation_data
        validation = [np.arange(len(y), len(y) + len(y_val))]
        X, y = np.concatenate([X, X_val]), np.concatenate([y, y_val])
    ((trained, history, _),) = train_stacked(
        model,
        X,
        y,
        rows,
        epochs=epochs,
        batch_size=batch_size,
        seed=seed,
        verbose=verbose,
        validation_sets=validation,
    )
    model.set_weights(trained.get_weights())
    return history


def ready(network: keras.Model, n_features: int, optimizer="adam") -> keras.Model:
    """Build a network that has no keras.Input layer on the data's width, and compile
    one that is not compiled yet: ``optimizer``, and binary cross-entropy for one output
    unit or sparse categorical cross-entropy for several (a softmax)."""
    if not network.built:
        network.build((None, n_features))
    elif network.input_shape[-1] != n_features:
        raise ValueError(
            f"X has {n_features} features, but the network expects {network.input_shape[-1]}"
        )
    if not network.compiled:
        loss = LOSSES[network.output_shape[-1] > 1]
        network.compile(optimizer=optimizer, loss=loss, metrics=["accuracy"])
    return network


def fit_copies(
    build_model,
    X,
    y,
    train_sets,
    *,
    epochs,
    batch_size,
    seed=0,
    build_args=None,
    verbose=0,
    validation_sets=None,
    patience=None,
):
    seed_everything(seed)  # the same seed, the same first weights
    template = ready(build_model(**(build_args or {})), np.shape(X)[1])
    return train_stacked(
        template,
        X,
        y,
        train_sets,
        epochs=epochs,
        batch_size=batch_size,
        seed=seed,
        verbose=verbose,
        validation_sets=validation_sets,
        patience=patience,
    )


def predict_probabilities(model: keras.Model, X: np.ndarray) -> np.ndarray:
    """The probabilities a network of Dense (and Dropout) layers gives each row, in float32: for one
    sigmoid output unit P(class 1) as a 1-D array; for a softmax one column per class.

    Computed in float64 with NumPy from the network's weights, then rounded to float32, the
    network's own precision. Why not ``model.predict``? Two reasons. Its per-call set-up costs
    far more than the arithmetic of a network this small (permutation importance predicts 100
    times). And in float32 a row's answer can depend on which rows come with it: CPU matrix
    kernels sum in an order that depends on the row's place in the batch (seen on an AVX2 CPU,
    where 27 of 200 shuffled batches changed some answer in the last bit). In float64 those
    differences are a billion times smaller and vanish in the rounding, so scikit-learn's check
    that predictions do not depend on the order of the rows passes on any CPU.
    """
    x = np.asarray(X, dtype=np.float64)
    for layer in model.layers:
        if isinstance(layer, keras.layers.Dense):
            kernel, *bias = (np.asarray(w, dtype=np.float64) for w in layer.get_weights())
            x = x @ kernel + (bias[0] if bias else 0.0)
            x = np.asarray(layer.activation(x), dtype=np.float64)
        # Dropout: off when predicting
        elif not isinstance(layer, (keras.layers.Dropout, keras.layers.InputLayer)):
            raise ValueError(
                f"predict_probabilities takes Dense and Dropout layers, not {type(layer).__name__}"
            )
    return x.astype(np.float32).reshape(-1) if x.shape[1] == 1 else x.astype(np.float32)
