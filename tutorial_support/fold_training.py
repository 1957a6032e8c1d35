"""Train many copies of one small Keras network at once, each on its own data.

Cross-validation trains the same network ten times, once per fold. For a network
of 11 -> 6 -> 6 -> 1 units fed 10 rows at a time, almost all of the time of
``model.fit`` goes into TensorFlow's per-step overhead, not arithmetic. Two things
remove it here, without changing the maths:

1. The copies are *stacked*: every Dense layer holds one weight matrix per copy
   (shape ``copies x inputs x units``) and each training step multiplies all the
   copies' batches by their own weights in one batched matrix product. The loss is
   the sum of the copies' own losses, so each copy's gradient is exactly its own,
   and Adam (or RMSprop) updates each weight from its own gradient alone: each fold
   is trained exactly as if it were trained alone.
2. A whole epoch (every step: pick the batch, forward, gradients, optimizer update)
   is one XLA-compiled TensorFlow call, so Python and TensorFlow are entered once
   per epoch instead of once per step.

Every copy starts from the same initial weights and sees its rows in the same
shuffled order, as ``cross_val_score`` does when it clones an estimator with a
fixed ``random_state``; :class:`KerasBinaryClassifier` is that estimator, and the
tests check that both ways give the same scores.
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.metrics import accuracy_score

from tutorial_support.runtime import keras, seed_everything, tf

ops = keras.ops


class StackedDense(keras.layers.Layer):
    """A Dense layer holding one independent set of weights per copy.

    Input ``(copies, batch, inputs)``, output ``(copies, batch, units)``.
    """

    def __init__(self, units: int, activation=None, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.activation = keras.activations.get(activation)

    def build(self, input_shape):
        copies, _, inputs = input_shape
        self.kernel = self.add_weight(shape=(copies, inputs, self.units), initializer="zeros")
        self.bias = self.add_weight(shape=(copies, 1, self.units), initializer="zeros")

    def call(self, inputs):
        return self.activation(ops.matmul(inputs, self.kernel) + self.bias)


def _stack(template: keras.Model, copies: int) -> keras.Model:
    """The stacked twin of a Sequential network of Dense and Dropout layers."""
    inputs = keras.Input(shape=(None, template.input_shape[-1]), batch_size=copies)
    x = inputs
    for layer in template.layers:
        if isinstance(layer, keras.layers.Dense):
            dense = StackedDense(layer.units, layer.activation)
            x = dense(x)
            kernel, bias = layer.get_weights()
            dense.set_weights([np.broadcast_to(kernel, (copies, *kernel.shape)), np.broadcast_to(bias, (copies, 1, bias.size))])
        elif isinstance(layer, keras.layers.Dropout):
            x = keras.layers.Dropout(layer.rate)(x)
        else:
            raise ValueError(f"cannot stack a {type(layer).__name__} layer: only Dense and Dropout are supported")
    return keras.Model(inputs, x)


def _unstack(stacked: keras.Model, template: keras.Model) -> list[keras.Model]:
    """One ordinary Keras model per copy, with that copy's trained weights."""
    stacked_layers = [layer for layer in stacked.layers if isinstance(layer, StackedDense)]
    models = []
    for copy in range(stacked.input_shape[0]):
        model = keras.models.clone_model(template)
        weights = []
        for layer in stacked_layers:
            kernel, bias = layer.get_weights()
            weights += [kernel[copy], bias[copy, 0]]
        model.set_weights(weights)
        models.append(model)
    return models


def _epoch_function(model: keras.Model, optimizer, features, targets):
    """One compiled call that runs a whole epoch of steps for all the copies."""
    features = tf.constant(features, dtype=tf.float32)
    targets = tf.constant(targets.reshape(-1, 1), dtype=tf.float32)

    @tf.function(jit_compile=True)
    def run_epoch(batches, weights):
        # batches: (steps, copies, batch) row numbers; weights: 1 for a row, 0 for the
        # padding that fills a last, shorter batch up to the batch size.
        def step(i, total_loss, total_accuracy):
            x = tf.gather(features, batches[i])
            y = tf.gather(targets, batches[i])
            rows = tf.reduce_sum(weights[i], axis=1)
            with tf.GradientTape() as tape:
                p = model(x, training=True)
                per_row = keras.losses.binary_crossentropy(y, p)  # (copies, batch)
                per_copy = tf.reduce_sum(per_row * weights[i], axis=1) / rows
                loss = tf.reduce_sum(per_copy)  # each copy's gradient is its own
            gradients = tape.gradient(loss, model.trainable_variables)
            optimizer.apply_gradients(zip(gradients, model.trainable_variables))
            right = tf.cast(tf.equal(p[..., 0] > 0.5, y[..., 0] > 0.5), tf.float32)
            accuracy = tf.reduce_sum(right * weights[i], axis=1) / rows
            return i + 1, total_loss + per_copy, total_accuracy + accuracy

        steps = tf.shape(batches)[0]
        zeros = tf.zeros(tf.shape(batches)[1])
        _, total_loss, total_accuracy = tf.while_loop(
            lambda i, *_: i < steps, step, (tf.constant(0), zeros, zeros)
        )
        # the epoch's mean of the batch losses and accuracies, as Keras reports them
        return total_loss / tf.cast(steps, tf.float32), total_accuracy / tf.cast(steps, tf.float32)

    return run_epoch


def _batches(train_sets: np.ndarray, order: np.ndarray, batch_size: int):
    """Row numbers of every step of one epoch, and their weights (0 marks padding)."""
    copies, rows = train_sets.shape
    steps = -(-rows // batch_size)
    padded = np.zeros((copies, steps * batch_size), dtype=np.int32)
    padded[:, :rows] = train_sets[:, order]
    weights = np.zeros((steps * batch_size,), dtype=np.float32)
    weights[:rows] = 1.0
    batches = padded.reshape(copies, steps, batch_size).transpose(1, 0, 2)
    weights = np.broadcast_to(weights.reshape(steps, 1, batch_size), batches.shape)
    return batches, np.ascontiguousarray(weights)


def _train(template: keras.Model, X, y, train_sets, *, epochs, batch_size, seed, verbose):
    """Train copies of the compiled ``template`` (from its current weights); see fit_copies."""
    if not (template.loss == "binary_crossentropy" or isinstance(template.loss, keras.losses.BinaryCrossentropy)):
        raise ValueError("this trainer trains networks compiled with the binary_crossentropy loss")
    X = np.asarray(X, dtype=np.float32)
    y = np.asarray(y, dtype=np.float32)
    train_sets = [np.asarray(rows, dtype=np.int32) for rows in train_sets]
    trained: dict[int, tuple[keras.Model, dict]] = {}
    for size in sorted({rows.size for rows in train_sets}):
        members = [i for i, rows in enumerate(train_sets) if rows.size == size]
        stacked = _stack(template, len(members))
        optimizer = template.optimizer.__class__.from_config(template.optimizer.get_config())
        run_epoch = _epoch_function(stacked, optimizer, X, y)
        shuffle = np.random.default_rng(seed)
        stacked_rows = np.stack([train_sets[i] for i in members])
        history = {"loss": [], "accuracy": []}
        progress = keras.utils.Progbar(epochs, verbose=verbose, unit_name="epoch", stateful_metrics=list(history))
        for epoch in range(epochs):
            batches, weights = _batches(stacked_rows, shuffle.permutation(size), batch_size)
            loss, accuracy = (np.asarray(v) for v in run_epoch(batches, weights))
            history["loss"].append(loss)
            history["accuracy"].append(accuracy)
            if verbose:  # the mean over the copies
                progress.update(epoch + 1, [("loss", loss.mean()), ("accuracy", accuracy.mean())])
        for k, (member, model) in enumerate(zip(members, _unstack(stacked, template))):
            trained[member] = model, {key: [float(v[k]) for v in values] for key, values in history.items()}
    return [trained[i] for i in range(len(train_sets))]


def fit(model: keras.Model, X, y, *, batch_size: int, epochs: int, verbose: int = 1, seed: int = 0) -> dict:
    """Train a compiled Keras model like ``model.fit(X, y, batch_size, epochs)``, faster.

    The same steps (shuffled batches of ``batch_size`` every epoch, the model's own
    optimizer and loss) with the same kind of progress bar, but each epoch is one
    compiled TensorFlow call. Returns the history: loss and accuracy per epoch.
    """
    ((trained, history),) = _train(
        model, X, y, [np.arange(len(y))], epochs=epochs, batch_size=batch_size, seed=seed, verbose=verbose
    )
    model.set_weights(trained.get_weights())
    return history


def fit_copies(
    build_model: Callable[..., keras.Model],
    X: np.ndarray,
    y: np.ndarray,
    train_sets: Sequence[np.ndarray],
    *,
    epochs: int,
    batch_size: int,
    seed: int = 0,
    build_args: dict | None = None,
    verbose: int = 0,
) -> list[keras.Model]:
    """Train one copy of ``build_model(**build_args)`` per entry of ``train_sets``.

    ``train_sets`` are arrays of row numbers of ``X``/``y``. Copies whose training
    sets have the same size are trained together in one stacked model (the others
    in further groups). Each copy takes exactly the steps Keras' own training takes
    on its rows, in batches of ``batch_size`` reshuffled every epoch (the tests
    compare it with ``train_on_batch``). Returns ordinary Keras models, in order.
    """
    seed_everything(seed)
    template = build_model(**(build_args or {}))
    trained = _train(template, X, y, train_sets, epochs=epochs, batch_size=batch_size, seed=seed, verbose=verbose)
    return [model for model, _ in trained]


def cross_validate(
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
) -> np.ndarray:
    """Accuracy on each held-out fold of ``cv`` (a scikit-learn splitter), in fold order.

    The same figures as ``cross_val_score(KerasBinaryClassifier(...), X, y, cv=cv)``,
    with all the folds trained together.
    """
    splits = list(cv.split(X, y))
    models = fit_copies(
        build_model, X, y, [train for train, _ in splits],
        epochs=epochs, batch_size=batch_size, seed=seed, build_args=build_args, verbose=verbose,
    )  # fmt: skip
    X = np.asarray(X, dtype=np.float32)
    return np.array(
        [accuracy_score(y[test], predict_classes(model, X[test])) for model, (_, test) in zip(models, splits)]
    )


def predict_probabilities(model: keras.Model, X: np.ndarray) -> np.ndarray:
    """P(class 1) for each row, as a 1-D array."""
    return np.asarray(model.predict(np.asarray(X, dtype=np.float32), verbose=0, batch_size=4096)).ravel()


def predict_classes(model: keras.Model, X: np.ndarray, threshold: float = 0.5) -> np.ndarray:
    return (predict_probabilities(model, X) > threshold).astype(np.int64)


class KerasBinaryClassifier(ClassifierMixin, BaseEstimator):
    """A scikit-learn classifier around a Keras network with one sigmoid output.

    Works with ``cross_val_score``, ``GridSearchCV`` and ``clone``: every setting is a
    constructor parameter, so cloning keeps them all. ``build_fn(optimizer=...,
    dropout=...)`` returns the compiled network; ``fit`` trains it for ``epochs`` at
    ``batch_size``, starting from weights drawn with ``random_state``.
    """

    def __init__(self, build_fn=None, epochs=100, batch_size=10, optimizer="adam", dropout=0.0, random_state=0):
        self.build_fn = build_fn
        self.epochs = epochs
        self.batch_size = batch_size
        self.optimizer = optimizer
        self.dropout = dropout
        self.random_state = random_state

    def fit(self, X, y):
        y = np.asarray(y).ravel()
        self.classes_ = np.unique(y)
        if not np.array_equal(self.classes_, [0, 1]):
            raise ValueError(f"KerasBinaryClassifier needs targets 0 and 1, got {self.classes_.tolist()}")
        (self.model_,) = fit_copies(
            self.build_fn, X, y, [np.arange(len(y))],
            epochs=self.epochs, batch_size=self.batch_size, seed=self.random_state,
            build_args={"optimizer": self.optimizer, "dropout": self.dropout},
        )  # fmt: skip
        return self

    def predict_proba(self, X):
        p = predict_probabilities(self.model_, X)
        return np.column_stack([1 - p, p])

    def predict(self, X):
        return predict_classes(self.model_, X)
