"""Gradients, which Keras leaves to each backend.

``gradient(function, x)`` (Grad-CAM, cnn/explain.py) returns d function(x) / d x as a float32
NumPy array of x's shape, with ``function`` written in ``keras.ops`` (a Keras model called on x,
say). ``weight_gradients(model, loss, x, y)`` (how_ann_learns.py's check of back-propagation by
hand) returns d loss(y, model(x)) / d w for each of the model's trainable weights, in their order.
TensorFlow records them on a ``GradientTape``, JAX asks ``jax.grad``, PyTorch ``autograd``.
"""

from __future__ import annotations

import numpy as np

from tutorial_support.backends.choice import chosen


def gradient(function, x: np.ndarray) -> np.ndarray:
    return {"tensorflow": _tensorflow, "jax": _jax, "torch": _torch}[chosen()](function, x)


def _tensorflow(function, x):
    import tensorflow as tf

    x = tf.convert_to_tensor(x)
    with tf.GradientTape() as tape:
        tape.watch(x)
        value = function(x)
    return np.asarray(tape.gradient(value, x), dtype=np.float32)


def _jax(function, x):
    import jax

    return np.asarray(jax.grad(function)(jax.numpy.asarray(x)), dtype=np.float32)


def _torch(function, x):
    import torch

    x = torch.as_tensor(x).requires_grad_(True)
    (grad,) = torch.autograd.grad(function(x), x)
    return grad.detach().cpu().float().numpy()


def weight_gradients(model, loss, x: np.ndarray, y: np.ndarray) -> list[np.ndarray]:
    return {"tensorflow": _tensorflow_weights, "jax": _jax_weights, "torch": _torch_weights}[
        chosen()
    ](model, loss, x, y)


def _tensorflow_weights(model, loss, x, y):
    import tensorflow as tf

    with tf.GradientTape() as tape:
        value = loss(y, model(x))
    return [np.asarray(g) for g in tape.gradient(value, model.trainable_variables)]


def _jax_weights(model, loss, x, y):
    import jax

    fixed = [v.value for v in model.non_trainable_variables]

    def value(trainable):  # the model as a pure function of its weights
        output, _ = model.stateless_call(trainable, fixed, x)
        return loss(y, output)

    return [np.asarray(g) for g in jax.grad(value)([v.value for v in model.trainable_variables])]


def _torch_weights(model, loss, x, y):
    import torch

    weights = [v.value for v in model.trainable_variables]  # torch Parameters
    grads = torch.autograd.grad(loss(torch.as_tensor(y), model(torch.as_tensor(x))), weights)
    return [g.detach().cpu().numpy() for g in grads]
