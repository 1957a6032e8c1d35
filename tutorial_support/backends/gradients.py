"""The gradient Grad-CAM needs (cnn/explain.py): of a scalar function of an array, at that array.

``gradient(function, x)`` returns d function(x) / d x as a float32 NumPy array of x's shape, with
``function`` written in ``keras.ops`` (a Keras model called on x, say):
TensorFlow records it on a ``GradientTape``, JAX asks ``jax.grad``, PyTorch
``torch.autograd.grad``.
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
