"""PyTorch's patches of Keras (patches.py says when they apply and how they are checked).

- Convolution and pooling without layout copies. Keras keeps images as (batch, height, width,
  channels) and PyTorch's operations take (batch, channels, height, width); Keras turns one into the
  other with ``permute(...).contiguous()`` before every convolution and pooling, a copy of the whole
  tensor (the convolution then copies it back into PyTorch's ``channels_last`` memory format, which
  is the original layout), and again in the backward pass: ``aten::copy_`` was the largest item of a
  training step of chapter 2's network on a CPU. The permuted view of an image tensor already is
  ``channels_last``, which PyTorch's convolution and pooling kernels take as it is and return in the
  same format, so the result permuted back is the image layout again: nothing is copied. Keras' own
  function still does the work, told that the data are channels first (other layouts and ranks go to
  it unchanged); the depthwise and separable convolutions go through ``conv`` and gain too. Delete
  the convolution's patch when Keras ships keras-team/keras#23199 (issue #23279), the pooling's when
  it ships #23645 (issue #23649).
- A convolution layer's bias: Keras' Conv2D convolves, then adds its bias in a pass of its own over
  the output (and sums the output's gradient for the bias's, in another). PyTorch's convolution
  takes the bias and adds it as it writes the output: for a plain Conv2D with a bias and "valid"
  padding, the layer's ``call`` hands it the bias, one pass fewer. Anything else, Keras' own
  ``call``. No upstream issue tracks this yet; delete the patch when Keras' PyTorch convolution
  takes the bias.
- ``affine_transform`` (the augmentation layer's shear, zoom and flip): Keras interpolates each
  image of the batch in a Python loop of gathers; ``grid_sample`` does the whole batch in one call,
  for the case the course uses: bilinear interpolation, edges filled with the nearest pixel (or with
  zeros), an affine transform (c0 = c1 = 0). The sampling grid is worked out in float64, so that the
  result is as close to the exact one as Keras' own float32 result (about 5e-6 of the image's range;
  the two differ by under 1e-5). Anything else goes to Keras' own function. No upstream issue tracks
  this yet; delete the patch when Keras' torch ``affine_transform`` works on the whole batch at
  once.
- Adam's update: Keras' PyTorch Adam makes about ten passes over the weights a step (one per
  ``_foreach`` operation); PyTorch's fused Adam kernel makes one. It computes m = b1 m + (1 - b1) g,
  v = b2 v + (1 - b2) g^2 and w -= lr m / (sqrt(v) / c2 + eps) / c1 with the bias corrections c = 1
  - b^t; given a step count at which b^t is 0 (so c1 = c2 = 1) and lr = Keras' own alpha (worked out
  as Keras does), that is Keras' update, to float32's rounding. For float32 weights on a CPU,
  without amsgrad; anything else goes to Keras. No upstream issue tracks this; delete the patch when
  Keras' PyTorch Adam calls the fused kernel.
"""

from __future__ import annotations

import functools

import torch
from keras.src import backend, ops
from keras.src.backend.torch import image, nn
from keras.src.backend.torch.core import convert_to_tensor
from keras.src.backend.torch.optimizers import torch_adam
from keras.src.layers.convolutional import base_conv

from tutorial_support.backends import torch_private
from tutorial_support.backends.torch_private import keras_adam_step

CONV = ["inputs", "kernel", "strides", "padding", "data_format", "dilation_rate"]
POOL = ["inputs", "pool_size", "strides", "padding", "data_format"]
AFFINE = ["images", "transform", "interpolation", "fill_mode", "fill_value", "data_format"]
ADAM = ["self", "grads", "variables", "learning_rate"]
LAYER_CALL = ["self", "inputs"]
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


def _conv_layer_with_its_bias(original):
    @functools.wraps(original)
    def call(self, inputs):
        plain = (
            self.rank == 2
            and self.use_bias
            and self.padding == "valid"
            and self.groups == 1
            and type(self).convolution_op is base_conv.BaseConv.convolution_op
            and getattr(self, "quantization_mode", None) is None
        )
        view = _channels_first_view(inputs, self.data_format) if plain else None
        if view is None:
            return original(self, inputs)
        kernel = convert_to_tensor(self.kernel).permute(3, 2, 0, 1)  # PyTorch's kernel layout
        outputs = torch.nn.functional.conv2d(
            view,
            kernel.contiguous(memory_format=torch.channels_last),
            convert_to_tensor(self.bias),
            stride=tuple(self.strides),
            dilation=tuple(self.dilation_rate),
        ).permute(0, 2, 3, 1)
        return outputs if self.activation is None else self.activation(outputs)

    return call


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


def _fused_adam(original):
    @functools.wraps(original)
    def _parallel_update_step(self, grads, variables, learning_rate):
        values = [v.value for v in variables]
        m_list = [self._momentums[self._get_variable_index(v)].value for v in variables]
        v_list = [self._velocities[self._get_variable_index(v)].value for v in variables]
        grads = [g.contiguous() for g in grads]
        tensors = values + grads + m_list + v_list
        plain = all(isinstance(b, float) for b in (self.beta_1, self.beta_2, self.epsilon))
        if self.amsgrad or not plain:
            return original(self, grads, variables, learning_rate)
        if any(t.device.type != "cpu" or t.dtype != torch.float32 for t in tensors):
            return original(self, grads, variables, learning_rate)
        # Keras' own alpha, as its Adam works it out
        lr, step = (ops.cast(x, "float32") for x in (learning_rate, self.iterations + 1))
        beta_1_power = ops.power(ops.cast(self.beta_1, "float32"), step)
        beta_2_power = ops.power(ops.cast(self.beta_2, "float32"), step)
        alpha = lr * ops.sqrt(1 - beta_2_power) / (1 - beta_1_power)
        keras_adam_step(
            values, grads, m_list, v_list, float(alpha), self.beta_1, self.beta_2, self.epsilon
        )

    return _parallel_update_step


def patches() -> list[tuple]:
    """(module, name, signature, patch) of each PyTorch patch, for patches.apply(). Adam's calls
    torch's fused kernel: only on the torch it was tested on, with the schema it calls."""
    adam = torch_private.fused_adam_unavailable() is None
    return [
        (nn, "conv", CONV, _conv_without_copies),
        (nn, "max_pool", POOL, _pool_without_copies),
        (nn, "average_pool", POOL, _pool_without_copies),
        (image, "affine_transform", AFFINE, _batched_affine_transform),
        *([(torch_adam.Adam, "_parallel_update_step", ADAM, _fused_adam)] if adam else []),
        (base_conv.BaseConv, "call", LAYER_CALL, _conv_layer_with_its_bias),
    ]
