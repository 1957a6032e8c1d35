"""EfficientNet-Lite0 in plain Keras layers, with its ImageNet weights (transfer_learning.py).

EfficientNet-Lite0 (Google, 2020; Apache-2.0) is EfficientNet-B0 made for phones: no
squeeze-and-excitation, ReLU6 instead of swish, and the stem and head kept at 32 and 1,280
filters. Its 16 MBConv blocks each widen the channels with a 1 x 1 convolution, filter each
channel on its own (a depthwise convolution) and narrow them again (a 1 x 1 projection), with a
shortcut where the shape allows. 4.7 million weights, 0.4 billion multiply-adds at 224 x 224.

Only standard layers (Conv2D, DepthwiseConv2D, BatchNormalization, ReLU, ZeroPadding2D, Add), so a
saved model loads anywhere without custom objects. The strided layers pad as TensorFlow's "same"
does (more on the bottom and right when the total is odd), explicitly, so that every backend
computes what the weights were trained with. The weights (imagenet_weights.py) are converted once
into a Keras weights file in the Keras cache, written atomically, and loaded from there.
"""

from __future__ import annotations

import os
import tempfile
import warnings
from pathlib import Path

import numpy as np

from tutorial_support.cnn import imagenet_weights
from tutorial_support.common.data import keras_cache
from tutorial_support.common.runtime import keras

NAME = "efficientnet_lite0"
IMAGENET_SIZE = 224  # the size it was trained at
SMALLEST = 32  # five stride-2 layers: 32 x 32 pixels become one 1 x 1 feature map
# the scaling it was trained with: (pixel - 127) / 128, from 0..255 to about -1..1
SCALE, OFFSET = 1 / 128, -127 / 128
BN_EPSILON = 1e-3
# (repeats, kernel, stride of the first, expansion, output channels) of each of the 7 stages
STAGES = [
    (1, 3, 1, 1, 16),
    (2, 3, 2, 6, 24),
    (2, 5, 2, 6, 40),
    (3, 3, 2, 6, 80),
    (3, 5, 1, 6, 112),
    (4, 5, 2, 6, 192),
    (1, 3, 1, 6, 320),
]
FEATURES = 1280  # channels of the last feature maps: one number each after global pooling
L = keras.layers


def _tf_same_padding(size: int, kernel: int, stride: int) -> tuple[int, int]:
    """TensorFlow's "same" padding of one side: the output is ceil(size / stride), and an odd total
    puts the extra pixel after (bottom or right)."""
    total = max((-(-size // stride) - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def _conv_bn(x, layer, name: str, activation: bool = True):
    x = layer(x)
    x = L.BatchNormalization(epsilon=BN_EPSILON, name=f"{name}_bn")(x)
    return L.ReLU(max_value=6.0, name=f"{name}_activation")(x) if activation else x


def _strided(x, size: int, kernel: int, stride: int, name: str) -> tuple[str, object]:
    """The padding argument of a layer, and its input padded as TensorFlow would at stride 2."""
    if stride == 1:
        return "same", x
    return "valid", L.ZeroPadding2D([_tf_same_padding(size, kernel, stride)] * 2, name=name)(x)


def build(image_size: int, initializer: str = "glorot_uniform") -> keras.Model:
    """The base, without weights: scaled pixels (see SCALE, OFFSET) -> (size/32, size/32, 1280)
    feature maps, after the last convolution's ReLU6.

    ``initializer``: the convolutions' first weights. "zeros" where ImageNet's replace them
    at once: under JAX each random draw of a new shape is compiled first, 49 of them here."""
    init = {"kernel_initializer": initializer}
    inputs = keras.Input(shape=(image_size, image_size, 3), name="scaled_pixels")
    padding, x = _strided(inputs, image_size, 3, 2, "stem_pad")
    x = _conv_bn(
        x,
        L.Conv2D(32, 3, strides=2, padding=padding, use_bias=False, name="stem_conv", **init),
        "stem",
    )
    size, channels = -(-image_size // 2), 32
    for stage, (repeats, kernel, first_stride, expansion, filters) in enumerate(STAGES):
        for i in range(repeats):
            name, stride, shortcut = (
                f"block{stage + 1}{'abcd'[i]}",
                first_stride if i == 0 else 1,
                x,
            )
            if expansion != 1:
                x = _conv_bn(
                    x,
                    L.Conv2D(
                        channels * expansion, 1, use_bias=False, name=f"{name}_expand_conv", **init
                    ),
                    f"{name}_expand",
                )
            padding, x = _strided(x, size, kernel, stride, f"{name}_dwconv_pad")
            depthwise = L.DepthwiseConv2D(
                kernel,
                strides=stride,
                padding=padding,
                use_bias=False,
                depthwise_initializer=initializer,
                name=f"{name}_dwconv",
            )
            x = _conv_bn(x, depthwise, f"{name}_dw")
            project = L.Conv2D(filters, 1, use_bias=False, name=f"{name}_project_conv", **init)
            x = _conv_bn(x, project, f"{name}_project", activation=False)
            if stride == 1 and channels == filters:  # the shape allows a shortcut
                x = L.Add(name=f"{name}_add")([shortcut, x])
            size, channels = -(-size // stride), filters
    x = _conv_bn(x, L.Conv2D(FEATURES, 1, use_bias=False, name="top_conv", **init), "top")
    return keras.Model(inputs, x, name=NAME)


def _imagenet_network(image_size: int) -> keras.Model:
    """Pixels 0..255 -> the 1,000 ImageNet probabilities: scaling, base, pooling, the old head."""
    inputs = keras.Input(shape=(image_size, image_size, 3), name="pixels")
    x = L.Rescaling(SCALE, offset=OFFSET, name="scaling")(inputs)
    x = build(image_size, initializer="zeros")(x)  # _load sets ImageNet's
    x = L.GlobalAveragePooling2D(name="pooling")(x)
    outputs = L.Dense(1000, activation="softmax", dtype="float32", name="predictions")(x)
    return keras.Model(inputs, outputs, name=f"{NAME}_imagenet")


def _set_from_state_dict(model: keras.Model, tensors: dict[str, np.ndarray]) -> None:
    """Each Keras layer's weights from the torch names: kernels (out, in, h, w) -> (h, w, in,
    out), depthwise ones -> (h, w, channels, 1), batch norm as gamma, beta, mean, variance."""
    base = model.get_layer(NAME)

    def conv(layer, key, depthwise=False):
        kernel = tensors[f"{key}.weight"]
        base.get_layer(layer).set_weights(
            [kernel.transpose(2, 3, 0, 1) if depthwise else kernel.transpose(2, 3, 1, 0)]
        )

    def bn(layer, key):
        stats = ("weight", "bias", "running_mean", "running_var")
        base.get_layer(layer).set_weights([tensors[f"{key}.{s}"] for s in stats])

    conv("stem_conv", "_conv_stem")
    bn("stem_bn", "_bn0")
    block = 0
    for stage, (repeats, _kernel, _stride, expansion, _filters) in enumerate(STAGES):
        for i in range(repeats):
            name, key = f"block{stage + 1}{'abcd'[i]}", f"_blocks.{block}"
            if expansion != 1:
                conv(f"{name}_expand_conv", f"{key}._expand_conv")
                bn(f"{name}_expand_bn", f"{key}._bn0")
            conv(f"{name}_dwconv", f"{key}._depthwise_conv", depthwise=True)
            bn(f"{name}_dw_bn", f"{key}._bn1")
            conv(f"{name}_project_conv", f"{key}._project_conv")
            bn(f"{name}_project_bn", f"{key}._bn2")
            block += 1
    conv("top_conv", "_conv_head")
    bn("top_bn", "_bn1")
    model.get_layer("predictions").set_weights([tensors["_fc.weight"].T, tensors["_fc.bias"]])


def converted_weights_file(cache_dir: Path | None = None) -> Path:
    return (
        keras_cache(cache_dir)
        / "models"
        / f"{NAME}_imagenet-{imagenet_weights.SHA256[:12]}.weights.h5"
    )


def _load(model: keras.Model, cache_dir: Path | None) -> None:
    """The ImageNet weights into ``model``: from the Keras cache, else converted from the package
    (its checksum checked) and written to the cache atomically for the next run."""
    cached = converted_weights_file(cache_dir)
    if cached.is_file():
        try:
            model.load_weights(cached)
            return
        except Exception as error:  # a file cut short or damaged: h5py and Keras raise many kinds
            print(
                f"the converted weights {cached} could not be read ({type(error).__name__}): "
                "converting them again from the package"
            )
    tensors = imagenet_weights.read_state_dict(imagenet_weights.checked_file())
    _set_from_state_dict(model, tensors)
    temporary = None
    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=cached.parent, suffix=".weights.h5")
        os.close(handle)
        model.save_weights(temporary)
        os.replace(temporary, cached)
    except OSError as error:
        if temporary is not None:
            Path(temporary).unlink(missing_ok=True)
        warnings.warn(
            f"could not cache the converted weights in {cached} ({error}); the next "
            "run converts them again",
            stacklevel=2,
        )


def imagenet_model(image_size: int = IMAGENET_SIZE, cache_dir: Path | None = None) -> keras.Model:
    """The whole network with its ImageNet weights: (n, size, size, 3) RGB pixels 0..255 -> (n,
    1000) ImageNet probabilities (class names: imagenet_classes.txt). Its nested model NAME is the
    base."""
    model = _imagenet_network(image_size)
    _load(model, cache_dir)
    return model


def pretrained_base(image_size: int, cache_dir: Path | None = None) -> keras.Model:
    """The base with its ImageNet weights: scaled pixels (SCALE, OFFSET) -> feature maps."""
    return imagenet_model(image_size, cache_dir).get_layer(NAME)
