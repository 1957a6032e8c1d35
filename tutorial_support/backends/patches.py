"""Keras' own operations, made faster on one backend where Keras leaves time on the table.

Each patch replaces one private Keras function with one that computes the same numbers, only where
the Keras version and the function's signature are the ones it was written and tested against
(tests/test_patches.py compares it with the unpatched operation); anywhere else Keras is left as
it is. ``apply()`` is called once, from startup.py, after Keras is imported.

- JAX, max pooling: Keras pools with ``lax.reduce_window``, whose gradient is XLA's
  ``select_and_scatter``, 65 ms of a 198 ms training step of chapter 2's network on a CPU (the
  forward pass: 0.8 ms). A pool whose windows do not overlap (stride = size, "valid" padding, the
  only kind the course uses) is a reshape and a max, forward and backward in about 10 ms. The
  gradients agree: where a window holds two equal maxima (after a ReLU, zeros), ``jnp.max``
  shares the gradient between them and ``select_and_scatter`` gives it to the first, and the
  ReLU's own gradient is zero there either way. Delete this patch when XLA:CPU's
  ``select_and_scatter`` is fast (no upstream issue tracks it yet).
- PyTorch (torch_patches.py, whose docstring names each patch's upstream fix): convolution and
  pooling without Keras' copies between the image layout and PyTorch's, and the augmentation's
  ``affine_transform`` as one ``grid_sample`` for the whole batch instead of a Python loop over
  its images. A training step of chapter 2's network on a 2-core CPU: 94 ms -> 42 ms.
"""

from __future__ import annotations

import inspect

from tutorial_support.backends.choice import chosen

TESTED_KERAS = ("3.15.",)


def _non_overlapping_max_pool(original):
    import jax.numpy as jnp

    def max_pool(inputs, pool_size, strides=None, padding="valid", data_format=None):
        import keras

        data_format = data_format or keras.config.image_data_format()
        size = (pool_size,) * 2 if isinstance(pool_size, int) else tuple(pool_size)
        step = size if strides is None else strides
        step = (step,) * 2 if isinstance(step, int) else tuple(step)
        if inputs.ndim != 4 or data_format != "channels_last" or padding != "valid" or step != size:
            return original(inputs, pool_size, strides, padding, data_format)
        _, height, width, channels = inputs.shape
        (ph, pw), inputs = size, jnp.asarray(inputs)
        inputs = inputs[:, : height - height % ph, : width - width % pw, :]
        pooled = inputs.reshape(-1, height // ph, ph, width // pw, pw, channels)
        return pooled.max(axis=(2, 4))

    max_pool.__wrapped__ = original
    return max_pool


def apply() -> list[str]:
    """Install the patches that fit this backend and Keras version; returns their names."""
    import keras

    applied = []
    if chosen() == "jax" and keras.__version__.startswith(TESTED_KERAS):
        from keras.src.backend.jax import nn

        original = getattr(nn.max_pool, "__wrapped__", nn.max_pool)
        expected = ["inputs", "pool_size", "strides", "padding", "data_format"]
        if list(inspect.signature(original).parameters) == expected:
            nn.max_pool = _non_overlapping_max_pool(original)
            applied.append("jax max_pool")
    if chosen() == "torch" and keras.__version__.startswith(TESTED_KERAS):
        from tutorial_support.backends import torch_patches

        applied += torch_patches.apply()
    return applied
