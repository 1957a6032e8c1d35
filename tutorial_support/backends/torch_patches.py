"""PyTorch's patches of Keras (patches.py says when they apply and how they are checked).

- Convolution and pooling without layout copies. Keras keeps images as (batch, height, width,
  channels) and PyTorch's operations take (batch, channels, height, width); Keras turns one into
  the other with ``permute(...).contiguous()`` before every convolution and pooling, a copy of
  the whole tensor (the convolution then copies it back into PyTorch's ``channels_last`` memory
  format, which is the original layout), and again in the backward pass: ``aten::copy_`` was 38%
  of a training step of chapter 2's network on a CPU. The permuted view of an image tensor
  already is ``channels_last``, which PyTorch's convolution and pooling kernels take as it is
  and return in the same format, so the result permuted back is the image layout again: nothing
  is copied. Keras' own function still does the work, told that the data are channels first
  (other layouts and ranks go to it unchanged); the depthwise and separable convolutions go
  through ``conv`` and gain too. Together 26 ms of a 94 ms step. Delete the convolution's patch
  when Keras ships keras-team/keras#23199 (issue #23279), the pooling's when it ships #23645
  (issue #23649).
- ``affine_transform`` (the augmentation layer's shear, zoom and flip): Keras interpolates each
  image of the batch in a Python loop of gathers, 23 ms for a batch of 32 images of 64 x 64.
  ``grid_sample`` does the whole batch in one call, under 1 ms, for the case the course uses:
  bilinear interpolation, edges filled with the nearest pixel (or with zeros), an affine
  transform (c0 = c1 = 0). The sampling grid is worked out in float64, so that the result is as
  close to the exact one as Keras' own float32 result (about 5e-6 of the image's range; the
  two differ by under 1e-5). Anything else goes to Keras' own function. No upstream issue
  tracks this yet; delete the patch when Keras' torch ``affine_transform`` works on the whole
  batch at once.
"""

from __future__ import annotations

import functools

import torch
from keras.src import backend
from keras.src.backend.torch import image, nn
from keras.src.backend.torch.core import convert_to_tensor

CONV = ["inputs", "kernel", "strides", "padding", "data_format", "dilation_rate"]
POOL = ["inputs", "pool_size", "strides", "padding", "data_format"]
AFFINE = ["images", "transform", "interpolation", "fill_mode", "fill_value", "data_format"]
# grid_sample's name for each fill mode it fills as Keras does (fill_value 0 for "constant")
PADDING_MODES = {"nearest": "border", "constant": "zeros"}


def _channels_first_view(inputs, data_format):
    """A 4-D channels-last tensor seen as channels first, in channels_last memory; else None."""
    if backend.standardize_data_format(data_format) != "channels_last":
        return None
    inputs = convert_to_tensor(inputs)
    if inputs.ndim != 4:
        return None
    return inputs.permute(0, 3, 1, 2).contiguous(memory_format=torch.channels_last)


def _conv_without_copies(original):
    @functools.wraps(original)
    def conv(inputs, kernel, strides=1, padding="valid", data_format=None, dilation_rate=1):
        view = _channels_first_view(inputs, data_format)
        if view is None:
            return original(inputs, kernel, strides, padding, data_format, dilation_rate)
        outputs = original(view, kernel, strides, padding, "channels_first", dilation_rate)
        return outputs.permute(0, 2, 3, 1)

    return conv


def _pool_without_copies(original):
    @functools.wraps(original)
    def pool(inputs, pool_size, strides=None, padding="valid", data_format=None):
        view = _channels_first_view(inputs, data_format)
        if view is None:
            return original(inputs, pool_size, strides, padding, data_format)
        return original(view, pool_size, strides, padding, "channels_first").permute(0, 2, 3, 1)

    return pool


def _batched_affine_transform(original):
    @functools.wraps(original)
    def affine_transform(
        images,
        transform,
        interpolation="bilinear",
        fill_mode="constant",
        fill_value=0,
        data_format=None,
    ):
        def keras_own():
            return original(images, transform, interpolation, fill_mode, fill_value, data_format)

        padding_mode = PADDING_MODES.get(fill_mode)
        if interpolation != "bilinear" or padding_mode is None:
            return keras_own()
        if fill_mode == "constant" and fill_value != 0:
            return keras_own()
        pixels, matrices = convert_to_tensor(images), convert_to_tensor(transform)
        if pixels.dtype not in (torch.float32, torch.float64) or not matrices.is_floating_point():
            return keras_own()
        if pixels.ndim not in (3, 4) or matrices.ndim not in (1, 2) or matrices.shape[-1] != 8:
            return keras_own()
        batch = pixels if pixels.ndim == 4 else pixels.unsqueeze(0)
        if backend.standardize_data_format(data_format) == "channels_last":
            batch = batch.permute(0, 3, 1, 2)  # grid_sample reads channels first
        n, _, height, width = batch.shape
        matrices = matrices.reshape(-1, 8)
        if matrices.shape[0] != n or min(height, width) < 2 or batch.device.type == "meta":
            return keras_own()
        if bool(matrices[:, 6:].any()):
            return keras_own()  # Keras' own adds c0, c1 times the channel's index: its own way
        precise = torch.float64 if batch.device.type != "mps" else batch.dtype
        a0, a1, a2, b0, b1, b2 = matrices[:, :6].to(precise).reshape(n, 6, 1, 1).unbind(1)
        y = torch.arange(height, dtype=precise, device=batch.device).reshape(1, height, 1)
        x = torch.arange(width, dtype=precise, device=batch.device).reshape(1, 1, width)
        # output pixel (x, y) is read at (a0 x + a1 y + a2, b0 x + b1 y + b2); with
        # align_corners, -1 and 1 are the centres of the first and last pixels
        grid = torch.stack(
            [
                (a0 * x + a1 * y + a2) * (2 / (width - 1)) - 1,
                (b0 * x + b1 * y + b2) * (2 / (height - 1)) - 1,
            ],
            dim=-1,
        ).to(batch.dtype)
        result = torch.nn.functional.grid_sample(
            batch, grid, mode="bilinear", padding_mode=padding_mode, align_corners=True
        )
        if backend.standardize_data_format(data_format) == "channels_last":
            result = result.permute(0, 2, 3, 1)
        return result if pixels.ndim == 4 else result.squeeze(0)

    return affine_transform


def patches() -> list[tuple]:
    """(module, name, signature, patch) of each PyTorch patch, for patches.apply()."""
    return [
        (nn, "conv", CONV, _conv_without_copies),
        (nn, "max_pool", POOL, _pool_without_copies),
        (nn, "average_pool", POOL, _pool_without_copies),
        (image, "affine_transform", AFFINE, _batched_affine_transform),
    ]
