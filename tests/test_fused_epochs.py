"""PyTorch's stacked epoch written out (backends/fused.py) trains as the eager steps do, and leaves
to them what it does not cover."""

import numpy as np
import pytest

from churn_fixtures import learnable_problem
from tutorial_support.backends import epochs, fused
from tutorial_support.backends.choice import chosen
from tutorial_support.common.runtime import keras, seed_everything
from tutorial_support.fast import stacked, twins

pytestmark = [
    pytest.mark.backends,
    pytest.mark.skipif(chosen() != "torch", reason="PyTorch's own path (make test BACKEND=torch)"),
]


def template(activation, dropout, n_classes, optimizer):
    layers = [keras.Input(shape=(11,))]
    for units in (6, 5):
        layers.append(keras.layers.Dense(units, activation=activation))
        if dropout:
            layers.append(keras.layers.Dropout(dropout))
    output = ("sigmoid", 1) if n_classes == 2 else ("softmax", n_classes)
    layers.append(keras.layers.Dense(output[1], activation=output[0]))
    model = keras.Sequential(layers)
    loss = "binary_crossentropy" if n_classes == 2 else "sparse_categorical_crossentropy"
    model.compile(optimizer=optimizer, loss=loss)
    return model


def train(model, X, y, softmax, use_fused, epochs_=3, copies=3):
    """The stacked twin of ``model``, trained some epochs one way or the other; its weights and
    each epoch's losses and accuracies."""
    import torch

    torch.manual_seed(7)  # the same dropout masks both ways
    twin = twins.stack(model, copies)
    optimizer = model.optimizer.__class__.from_config(model.optimizer.get_config())
    optimizer.build(twin.trainable_variables)
    step_loss = stacked._step_loss(softmax)
    if not use_fused:  # the eager steps, as where fused.py does not apply: no .softmax to read
        inner = step_loss

        def step_loss(y, p, w):
            return inner(y, p, w)

    run = epochs.compiled_epoch(twin, optimizer, X, y, step_loss, False)
    rows = np.stack([np.random.default_rng(c).permutation(len(X))[:97] for c in range(copies)])
    shuffle, reports = np.random.default_rng(5), []
    for _ in range(epochs_):
        reports.append(run(*stacked._batches(rows, shuffle.permutation(97), 10)))
    return twin.get_weights(), reports, int(optimizer.iterations.numpy())


@pytest.mark.parametrize(
    "activation, dropout, n_classes, optimizer",
    [
        ("relu", 0.0, 2, "adam"),
        ("relu", 0.2, 2, "adam"),
        ("elu", 0.0, 3, "rmsprop"),
        ("sigmoid", 0.1, 3, "adam"),
        ("linear", 0.0, 2, "rmsprop"),
    ],
)
def test_the_fused_epoch_trains_as_the_eager_steps(activation, dropout, n_classes, optimizer):
    X, y = learnable_problem(150)
    softmax = n_classes > 2
    y = (y + (X[:, 0] > 0.5)).astype("int32") if softmax else y.reshape(-1, 1).astype("float32")
    seed_everything(3)
    model = template(activation, dropout, n_classes, optimizer)
    X = X.astype("float32")
    twin = twins.stack(model, 2)
    optimizer = model.optimizer.__class__.from_config(model.optimizer.get_config())
    optimizer.build(twin.trainable_variables)
    assert fused.fused_epoch(twin, optimizer, X, y, softmax) is not None
    weights, reports, steps = train(model, X, y, softmax, use_fused=True)
    expected, expected_reports, expected_steps = train(model, X, y, softmax, use_fused=False)
    assert steps == expected_steps == 3 * 10  # the optimizer's step counter moved as Keras' does
    for got, want in zip(weights, expected):
        np.testing.assert_allclose(got, want, rtol=2e-5, atol=2e-6)
    for (loss, accuracy), (want_loss, want_accuracy) in zip(reports, expected_reports):
        np.testing.assert_allclose(loss, want_loss, rtol=2e-5)
        np.testing.assert_allclose(accuracy, want_accuracy, rtol=1e-6)
    assert not np.allclose(weights[0], twins.stack(model, 3).get_weights()[0])  # it learnt


@pytest.mark.parametrize(
    "change",
    ["amsgrad", "momentum", "schedule", "clipnorm", "tanh", "sgd"],
)
def test_what_the_fused_epoch_does_not_cover_goes_to_the_eager_steps(change):
    optimizer = {
        "amsgrad": keras.optimizers.Adam(amsgrad=True),
        "momentum": keras.optimizers.RMSprop(momentum=0.9),
        "schedule": keras.optimizers.Adam(
            keras.optimizers.schedules.ExponentialDecay(1e-3, 10, 0.9)
        ),
        "clipnorm": keras.optimizers.Adam(clipnorm=1.0),
        "tanh": keras.optimizers.Adam(),
        "sgd": keras.optimizers.SGD(),
    }[change]
    model = template("tanh" if change == "tanh" else "relu", 0.0, 2, optimizer)
    twin = twins.stack(model, 2)
    optimizer.build(twin.trainable_variables)
    X, y = learnable_problem(40)
    assert fused.fused_epoch(twin, optimizer, X, y.reshape(-1, 1), False) is None
    # and the eager steps still train it
    run = epochs.compiled_epoch(
        twin, optimizer, X, y.reshape(-1, 1).astype("float32"), stacked._step_loss(False), False
    )
    rows = np.stack([np.arange(40)] * 2)
    loss, accuracy = run(*stacked._batches(rows, np.arange(40), 10))
    assert loss.shape == (2,) and np.all(np.isfinite(loss))
