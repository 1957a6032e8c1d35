"""A network's stacked twin (stacked.py): every Dense layer holding one set of weights per copy;
made from the network, kept for the next training of the same network, and unstacked into one
ordinary Keras model per copy."""

from __future__ import annotations

import json
from collections import OrderedDict

import numpy as np

from tutorial_support.backends.epochs import compiled_epoch, compiles, reusable_epoch
from tutorial_support.common.runtime import keras

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


def _stacked_weights(layer, copies: int) -> list[np.ndarray]:
    """A Dense layer's kernel and bias, the same for every copy."""
    kernel, bias = layer.get_weights()
    return [
        np.broadcast_to(kernel, (copies, *kernel.shape)),
        np.broadcast_to(bias, (copies, 1, bias.size)),
    ]


def stack(template: keras.Model, copies: int) -> keras.Model:
    """The stacked twin of a Sequential network of Dense and Dropout layers."""
    inputs = keras.Input(shape=(None, template.input_shape[-1]), batch_size=copies)
    x = inputs
    for layer in template.layers:
        if isinstance(layer, keras.layers.Dense):
            dense = StackedDense(layer.units, layer.activation)
            x = dense(x)
            dense.set_weights(_stacked_weights(layer, copies))
        elif isinstance(layer, keras.layers.Dropout):
            x = keras.layers.Dropout(layer.rate)(x)
        else:
            raise ValueError(
                f"cannot stack a {type(layer).__name__} layer: only Dense and Dropout are supported"
            )
    return keras.Model(inputs, x)


def _set_from(stacked: keras.Model, template: keras.Model) -> None:
    """A kept twin made as ``stack`` makes a new one: every copy at the template's weights, each
    Dropout layer with a new seed, drawn from Keras' global seed as a new layer draws it."""
    copies = stacked.input_shape[0]
    twins = (layer for layer in stacked.layers if not isinstance(layer, keras.layers.InputLayer))
    for layer, twin in zip(template.layers, twins):
        if isinstance(layer, keras.layers.Dense):
            twin.set_weights(_stacked_weights(layer, copies))
        elif layer.rate > 0:  # a new Dropout draws its seed (none at rate 0)
            twin.seed_generator.state.assign(keras.random.SeedGenerator().state.value)


# Under TensorFlow and JAX each twin's epoch is traced and compiled before it first runs, which
# can take longer than training a small network does, and scikit-learn's tools (cross_val_score,
# GridSearchCV, the estimator checks) train the same network again and again. So the last few
# twins are kept, each with its optimizer (and that optimizer's first state) and its compiled
# epoch, and one that fits is set afresh: the same weights, seeds and optimizer state as a new
# twin, the same compiled program, no compile. Under PyTorch, which compiles nothing, every twin
# is new.
_KEPT: OrderedDict = OrderedDict()
KEEP = 8


def _twin_key(template: keras.Model, copies: int, X, y, jit: bool) -> tuple:
    """What a kept twin must share with the twin wanted: the layers, the number of copies, the
    optimizer's kind and settings, the precision, whether XLA compiles and, where it does, the
    data's shapes (XLA compiles each shape; TensorFlow's graph alone takes any number of rows)."""
    layers = tuple(
        (layer.units, layer.activation)
        if isinstance(layer, keras.layers.Dense)
        else (type(layer), getattr(layer, "rate", None))
        for layer in template.layers
    )
    optimizer = {k: v for k, v in template.optimizer.get_config().items() if k != "name"}
    settings = json.dumps(optimizer, sort_keys=True, default=str)
    shapes = (template.input_shape[-1], copies, X.dtype.str, y.dtype.str, y.shape[1:])
    if jit:
        shapes += (X.shape, y.shape)
    precision = (keras.config.dtype_policy().name, keras.config.floatx())
    return layers, type(template.optimizer), settings, shapes, precision, jit


def _new_optimizer(template: keras.Model, stacked: keras.Model):
    """A new optimizer like the template's, its slots made now, not inside the first compiled
    call: TensorFlow would trace that call twice."""
    optimizer = template.optimizer.__class__.from_config(template.optimizer.get_config())
    optimizer.build(stacked.trainable_variables)
    return optimizer


def taken_twin(template: keras.Model, copies: int, X, y, step_loss, jit: bool):
    """(what to keep, stacked twin, run_epoch(batches, weights)) for ``copies`` of ``template``,
    trained on X and y with a new optimizer like the template's: a kept twin, taken out (so that
    nothing else uses it meanwhile) and set afresh, or a new one. ``kept_twin`` keeps it after."""
    if not compiles():
        stacked = stack(template, copies)
        run = compiled_epoch(stacked, _new_optimizer(template, stacked), X, y, step_loss, jit)
        return None, stacked, run
    key = _twin_key(template, copies, X, y, jit)
    if key in _KEPT:
        stacked, optimizer, first_state, epoch = _KEPT.pop(key)
        _set_from(stacked, template)
        for variable, value in zip(optimizer.variables, first_state):
            variable.assign(value)
    else:
        stacked = stack(template, copies)
        optimizer = _new_optimizer(template, stacked)
        first_state = [keras.ops.convert_to_numpy(v.value) for v in optimizer.variables]
        epoch = reusable_epoch(stacked, optimizer, step_loss, jit)
    features, targets = keras.ops.convert_to_tensor(X), keras.ops.convert_to_tensor(y)
    kept = (key, (stacked, optimizer, first_state, epoch))
    return kept, stacked, lambda batches, weights: epoch(features, targets, batches, weights)


def kept_twin(kept) -> None:
    """Keep a twin that ``taken_twin`` gave, after its training (the last KEEP used)."""
    if kept is not None:
        key, twin = kept
        _KEPT[key] = twin
        while len(_KEPT) > KEEP:
            _KEPT.popitem(last=False)  # the least recently used


def unstack(stacked: keras.Model, template: keras.Model) -> list[keras.Model]:
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
