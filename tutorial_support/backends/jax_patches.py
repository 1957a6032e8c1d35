"""JAX's patches of Keras (patches.py says when they apply and how they are checked).

- Max pooling: Keras pools with ``lax.reduce_window``, whose gradient is XLA's
  ``select_and_scatter``, 65 ms of a 198 ms training step of chapter 2's network on a CPU (the
  forward pass: 0.8 ms). A pool whose windows do not overlap (stride = size, "valid" padding, the
  only kind the course uses) is a reshape and a max, forward and backward in about 10 ms. The
  gradients agree: where a window holds two equal maxima (after a ReLU, zeros), ``jnp.max``
  shares the gradient between them and ``select_and_scatter`` gives it to the first, and the
  ReLU's own gradient is zero there either way. Delete this patch when XLA:CPU's
  ``select_and_scatter`` is fast (no upstream issue tracks it yet).
- ``affine_transform`` (the augmentation layer's shear, zoom and flip): Keras hands
  ``jax.scipy.ndimage.map_coordinates`` a coordinate for every value of the batch, channel included,
  so it interpolates in three dimensions: 8 gathers per value where an image needs 4 per pixel (the
  channel's own 4 have weight 0). Here each pixel's position and weights are worked out once and its
  channels gathered together, with map_coordinates' own formulas (floor, weights, edge indices
  clipped or filled) in its order: the same numbers, and 31 ms of a 109 ms step of chapter 2's
  network saved. For bilinear interpolation and an affine transform; Keras' c0, c1 (which it
  multiplies by the channel's index) send the batch to Keras' own function, and so do other
  interpolations and fill modes. No upstream issue tracks this yet; delete the patch when Keras' JAX
  ``affine_transform`` interpolates in two dimensions.
"""

from __future__ import annotations

import functools

import jax.numpy as jnp
from jax import lax
from keras.src import backend

MAX_POOL = ["inputs", "pool_size", "strides", "padding", "data_format"]
AFFINE = ["images", "transform", "interpolation", "fill_mode", "fill_value", "data_format"]


def _pair(value) -> tuple:
    return (value,) * 2 if isinstance(value, int) else tuple(value)


def _non_overlapping_max_pool(original):
    @functools.wraps(original)
    def max_pool(inputs, pool_size, strides=None, padding="valid", data_format=None):
        data_format = backend.standardize_data_format(data_format)
        size = _pair(pool_size)
        step = size if strides is None else _pair(strides)
        if inputs.ndim != 4 or data_format != "channels_last" or padding != "valid" or step != size:
            return original(inputs, pool_size, strides, padding, data_format)
        _, height, width, channels = inputs.shape
        (ph, pw), inputs = size, jnp.asarray(inputs)
        inputs = inputs[:, : height - height % ph, : width - width % pw, :]
        pooled = inputs.reshape(-1, height // ph, ph, width // pw, pw, channels)
        return pooled.max(axis=(2, 4))

    return max_pool


def _linear(coordinate, size: int, fill_mode: str):
    """map_coordinates' two neighbours along one axis: (index, weight, inside the image)."""
    lower = jnp.floor(coordinate)
    upper_weight = coordinate - lower
    index = lower.astype("int32")
    nodes = []
    for at, weight in ((index, 1 - upper_weight), (index + 1, upper_weight)):
        inside = (at >= 0) & (at < size)
        nodes.append(
            (jnp.clip(at, 0, size - 1), weight, inside if fill_mode == "constant" else None)
        )
    return nodes


def _planar_affine(batch, matrices, fill_mode: str, fill_value):
    """Keras' bilinear affine transform of a (batch, height, width, channels) float batch."""
    n, height, width, channels = batch.shape
    a0, a1, a2, b0, b1, b2 = (matrices[:, i, None, None] for i in range(6))
    y = jnp.arange(height, dtype=matrices.dtype)[:, None]
    x = jnp.arange(width, dtype=matrices.dtype)[None, :]
    pixels = batch.reshape(n, height * width, channels)
    images = jnp.arange(n)[:, None]
    fill = jnp.asarray(fill_value, batch.dtype)
    total = None
    for row, row_weight, row_inside in _linear(b0 * x + b1 * y + b2, height, fill_mode):
        for col, col_weight, col_inside in _linear(a0 * x + a1 * y + a2, width, fill_mode):
            value = pixels[images, (row * width + col).reshape(n, -1)]
            if fill_mode == "constant":
                inside = (row_inside & col_inside).reshape(n, -1, 1)
                value = jnp.where(inside, value, fill)
            term = (row_weight * col_weight).reshape(n, -1, 1).astype(batch.dtype) * value
            total = term if total is None else total + term
    return total.reshape(batch.shape)


def _planar_affine_transform(original):
    @functools.wraps(original)
    def affine_transform(
        images,
        transform,
        interpolation="bilinear",
        fill_mode="constant",
        fill_value=0,
        data_format=None,
    ):
        def keras_own(images, transform):
            return original(images, transform, interpolation, fill_mode, fill_value, data_format)

        channels_first = backend.standardize_data_format(data_format) == "channels_first"
        images, transform = jnp.asarray(images), jnp.asarray(transform)
        if interpolation != "bilinear" or fill_mode not in ("nearest", "constant"):
            return keras_own(images, transform)
        if images.ndim not in (3, 4) or transform.ndim not in (1, 2) or transform.shape[-1] != 8:
            return keras_own(images, transform)
        if not (
            jnp.issubdtype(images.dtype, jnp.floating)
            and jnp.issubdtype(transform.dtype, jnp.floating)
        ):
            return keras_own(images, transform)
        batch = images if images.ndim == 4 else images[None]
        batch = jnp.moveaxis(batch, 1, -1) if channels_first else batch
        matrices = transform.reshape(-1, 8)
        if matrices.shape[0] != batch.shape[0]:
            return keras_own(images, transform)

        def planar(images, transform):
            result = _planar_affine(batch, matrices, fill_mode, fill_value)
            result = jnp.moveaxis(result, -1, 1) if channels_first else result
            return result if images.ndim == 4 else result[0]

        # c0, c1 may be traced values: the branch is chosen as the step runs
        return lax.cond(jnp.any(matrices[:, 6:] != 0), keras_own, planar, images, transform)

    return affine_transform


def patches() -> list[tuple]:
    """(module, name, signature, patch) of each JAX patch, for patches.apply()."""
    from keras.src.backend.jax import image, nn

    return [
        (nn, "max_pool", MAX_POOL, _non_overlapping_max_pool),
        (image, "affine_transform", AFFINE, _planar_affine_transform),
    ]
