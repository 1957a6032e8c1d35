"""JAX's patches of Keras (patches.py says when they apply and how they are checked).

- Max pooling: Keras pools with ``lax.reduce_window``, whose gradient is XLA's
  ``select_and_scatter``, slow on XLA:CPU (a third of a training step of chapter 2's network, in
  profiles of an earlier session). A pool whose windows do not overlap (stride = size, "valid"
  padding, the only kind the course uses) is a reshape and a max, forward and backward. The
  gradients agree: where a window holds two equal maxima (after a ReLU, zeros), ``jnp.max`` shares
  the gradient between them and ``select_and_scatter`` gives it to the first, and the ReLU's own
  gradient is zero there either way. Delete this patch when XLA:CPU's ``select_and_scatter`` is fast
  (no upstream issue tracks it yet).
- ``affine_transform`` (the augmentation layer's shear, zoom and flip): Keras hands
  ``jax.scipy.ndimage.map_coordinates`` a coordinate for every value of the batch, channel included,
  so it interpolates in three dimensions: 8 gathers per value where an image needs 4 per pixel (the
  channel's own 4 have weight 0). Here each pixel's position and weights are worked out once and its
  channels gathered together, with map_coordinates' own formulas (floor, weights, edge indices
  clipped or filled) in its order: the same numbers, with half the gathers. For bilinear
  interpolation and an affine transform; Keras' c0, c1 (which it multiplies by the channel's index)
  send the batch to Keras' own function, and so do other interpolations and fill modes. No upstream
  issue tracks this yet; delete the patch when Keras' JAX ``affine_transform`` interpolates in two
  dimensions.
- Depthwise convolution (the pretrained lesson's EfficientNet-Lite0: 3 x 3 and 5 x 5, strides 1 and
  2): Keras hands it to ``lax.conv_general_dilated`` with a group per channel, and XLA:CPU runs that
  as a general convolution, slowly. Written as the sum of the kernel's 9 shifted products (strided
  slices at stride 2), which XLA computes in one pass over the maps. The base's features for a batch
  of 32 photos at 224 x 224, and a fine-tuning step (the top third of the base training), each many
  times faster, about TensorFlow's speed: docs/measurements.md, "JAX: the depthwise convolution
  patch" (benchmarks/bench_jax_depthwise.py) has the times. The gradients are written out (a custom
  VJP): the input's is the same kind of sum, the gradient spread over the input's grid times the
  flipped kernel (JAX's differentiation of the slices made a pad of the whole gradient per kernel
  position), the kernel's one pass with a sum per kernel position (JAX's: one pass over the batch
  for each). Float32 sums in another order: Keras' own numbers to float32's rounding (the base's
  features: 4e-7 of the largest apart), each as close to a float64 answer. For channels_last, 2-D,
  float32 on a CPU, dilation 1, "valid" or "same" (padded as lax pads), any stride and depth
  multiplier; anything else goes to Keras' own function. No forward- mode differentiation
  (``jax.jvp``; Keras uses none). No upstream issue tracks XLA:CPU's grouped convolution
  (jax-ml/jax#13800 is its slow gradient on GPUs); delete the patch when it is fast.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
from jax import lax
from keras.src import backend

MAX_POOL = ["inputs", "pool_size", "strides", "padding", "data_format"]
AFFINE = ["images", "transform", "interpolation", "fill_mode", "fill_value", "data_format"]
DEPTHWISE = ["inputs", "kernel", "strides", "padding", "data_format", "dilation_rate"]


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


def _padded(inputs, size: tuple, strides: tuple, padding: str):
    """The input with the zeros that lax's "same" adds (none for "valid")."""
    if padding == "same":
        pads = lax.padtype_to_pads(inputs.shape[1:3], size, strides, "SAME")
        inputs = jnp.pad(inputs, ((0, 0), *pads, (0, 0)))
    return inputs


def _windows(padded, size: tuple, strides: tuple):
    """(i, j, the values kernel[i, j] multiplies at each output position), a last axis added
    for the depth multiplier."""
    n, height, width, channels = padded.shape
    rows = (height - size[0]) // strides[0] + 1
    cols = (width - size[1]) // strides[1] + 1
    for i in range(size[0]):
        for j in range(size[1]):
            end = (n, i + (rows - 1) * strides[0] + 1, j + (cols - 1) * strides[1] + 1, channels)
            yield i, j, lax.slice(padded, (0, i, j, 0), end, (1, *strides, 1))[..., None]


def _shifted_products(inputs, kernel, strides: tuple, padding: str):
    """Keras' depthwise convolution as the sum of the kernel's shifted products: output channel
    c * multiplier + m is the sum over i, j of the shifted input's channel c times
    kernel[i, j, c, m]."""
    size, total = kernel.shape[:2], None
    for i, j, values in _windows(_padded(inputs, size, strides, padding), size, strides):
        term = values * kernel[i, j]
        total = term if total is None else total + term
    return total.reshape(*total.shape[:3], -1)


@functools.partial(jax.custom_vjp, nondiff_argnums=(2, 3))
def _depthwise(inputs, kernel, strides: tuple, padding: str):
    return _shifted_products(inputs, kernel, strides, padding)


def _depthwise_forward(inputs, kernel, strides, padding):
    return _shifted_products(inputs, kernel, strides, padding), (inputs, kernel)


def _input_gradient(gradient, kernel, input_shape: tuple, strides: tuple, padding: str):
    """The gradient spread back over the input: the gradient, its rows and columns strides - 1
    zeros apart and padded by the kernel's size less one, times the flipped kernel, shifted."""
    size, sides = kernel.shape[:2], input_shape[1:3]
    pads = lax.padtype_to_pads(sides, size, strides, "SAME") if padding == "same" else [(0, 0)] * 2
    config = [(0, 0, 0)]
    for side, (low, high), length, step, out in zip(
        sides, pads, size, strides, gradient.shape[1:3], strict=True
    ):
        unreached = side + low + high - ((out - 1) * step + length)  # no window covers these
        config.append((length - 1 - low, length - 1 - high + unreached, step - 1))
    by_multiplier = gradient.reshape(*gradient.shape[:3], *kernel.shape[2:])
    spread = lax.pad(by_multiplier, jnp.zeros((), gradient.dtype), [*config, (0, 0, 0), (0, 0, 0)])
    flipped, total = kernel[::-1, ::-1], None
    for i in range(size[0]):
        for j in range(size[1]):
            end = (input_shape[0], i + sides[0], j + sides[1], *spread.shape[3:])
            term = lax.slice(spread, (0, i, j, 0, 0), end) * flipped[i, j]
            total = term if total is None else total + term
    return total.sum(axis=-1)


def _depthwise_backward(strides, padding, saved, gradient):
    """The input's gradient as shifted products too (the transposed convolution); the kernel's
    as one reduction with a sum for each of its positions (JAX's own would be a pass over the
    whole batch for each)."""
    inputs, kernel = saved
    size = kernel.shape[:2]
    by_multiplier = gradient.reshape(*gradient.shape[:3], *kernel.shape[2:])
    products = tuple(
        values * by_multiplier
        for _, _, values in _windows(_padded(inputs, size, strides, padding), size, strides)
    )
    zeros = (jnp.zeros((), gradient.dtype),) * len(products)
    per_image = lax.reduce(
        products, zeros, lambda a, b: tuple(u + v for u, v in zip(a, b, strict=True)), (1, 2)
    )
    kernel_gradient = jnp.stack([s.sum(axis=0) for s in per_image]).reshape(kernel.shape)
    input_gradient = _input_gradient(gradient, kernel, inputs.shape, strides, padding)
    return input_gradient, kernel_gradient


_depthwise.defvjp(_depthwise_forward, _depthwise_backward)


def _shifted_depthwise_conv(original):
    @functools.wraps(original)
    def depthwise_conv(
        inputs, kernel, strides=1, padding="valid", data_format=None, dilation_rate=1
    ):
        def keras_own():
            return original(inputs, kernel, strides, padding, data_format, dilation_rate)

        data_format = backend.standardize_data_format(data_format)
        inputs, kernel = backend.convert_to_tensor(inputs), backend.convert_to_tensor(kernel)
        if data_format != "channels_last" or padding not in ("valid", "same"):
            return keras_own()
        if jax.default_backend() != "cpu" or inputs.ndim != 4 or kernel.ndim != 4:
            return keras_own()
        if inputs.dtype != jnp.float32 or kernel.dtype != jnp.float32:
            return keras_own()
        step, dilation = _pair(strides), _pair(dilation_rate)
        if len(step) != 2 or min(step) < 1 or dilation != (1, 1):
            return keras_own()
        step = tuple(int(s) for s in step)  # a static argument: hashable, and Python's ints
        if kernel.shape[2] != inputs.shape[-1]:  # Keras' own error
            return keras_own()
        smallest = kernel.shape[:2] if padding == "valid" else (1, 1)
        if any(side < least for side, least in zip(inputs.shape[1:3], smallest, strict=True)):
            return keras_own()  # no output: Keras' own answer (or error)
        return _depthwise(inputs, kernel, step, padding)

    return depthwise_conv


def patches() -> list[tuple]:
    """(module, name, signature, patch) of each JAX patch, for patches.apply()."""
    from keras.src.backend.jax import image, nn

    return [
        (nn, "max_pool", MAX_POOL, _non_overlapping_max_pool),
        (image, "affine_transform", AFFINE, _planar_affine_transform),
        (nn, "depthwise_conv", DEPTHWISE, _shifted_depthwise_conv),
    ]
