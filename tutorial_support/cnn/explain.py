"""What a CNN looks at (Grad-CAM) and what it gets wrong (cnn.py); figures.py draws both.

Grad-CAM (Selvaraju et al., 2017) asks which parts of the last convolutional feature maps
raise the score of a class (its logit, before the sigmoid or softmax): the gradient of the
score with respect to each feature map, averaged over the map, weighs that map; the weighted sum of
the maps, negative parts dropped, is a coarse heatmap of the places that argued for the class,
scaled to the image.

keras.io's Grad-CAM example builds its model from ``model.inputs`` and a layer's
``output``, which a ``Sequential`` model loaded from a file does not always have ("The
layer sequential has never been called and thus has no defined output"). Here the
layers are called again on a fresh ``keras.Input``, which works for any ``Sequential``
network, as trained or as reloaded, and reuses its weights: once up to the feature maps, and
once from them to the scores, whose gradient backends/gradients.py takes on each backend.
"""

from __future__ import annotations

import numpy as np

from tutorial_support.backends.gradients import gradient
from tutorial_support.common.runtime import keras

_FLAT = (keras.layers.Flatten, keras.layers.GlobalAveragePooling2D, keras.layers.GlobalMaxPooling2D)
_POOL = (keras.layers.MaxPooling2D, keras.layers.AveragePooling2D, keras.layers.Dropout)


def _convolves(layer) -> bool:
    if isinstance(layer, keras.Model):
        return any(_convolves(inner) for inner in layer.layers)
    return isinstance(layer, keras.layers.Conv2D)


def _split(model: keras.Sequential) -> tuple[keras.Model, keras.Model]:
    """Two models whose composition is ``model`` up to its output activation: the image to the last
    convolutional feature maps, and those maps to the class scores.

    The feature maps are those of the last layer before the network flattens them, skipping
    pooling: the output of the last convolution, after its activation. The class scores are
    the output layer's values *before* its sigmoid or softmax (the logits), in float32.
    """
    # a chain of layers (Sequential, or functional like the pretrained network); a nested model,
    # the pretrained base, counts as one layer whose output is its last convolution's maps
    layers = [layer for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]
    flat = next((i for i, layer in enumerate(layers) if isinstance(layer, _FLAT)), None)
    if flat is None or not any(_convolves(layer) for layer in layers[:flat]):
        raise ValueError(
            "Grad-CAM needs a network with convolutions followed by Flatten or global pooling"
        )
    output = layers[-1]
    if not isinstance(output, keras.layers.Dense):
        raise ValueError(
            "Grad-CAM needs a network whose last layer is a Dense output (sigmoid or softmax)"
        )
    last_maps = max(i for i in range(flat) if not isinstance(layers[i], _POOL))
    inputs = keras.Input(shape=model.input_shape[1:])
    x = inputs
    for layer in layers[: last_maps + 1]:
        x = layer(x)
    features = keras.Model(inputs, x)
    maps = keras.Input(shape=x.shape[1:])
    x = maps
    for layer in layers[last_maps + 1 : -1]:
        x = layer(x)
    return features, keras.Model(maps, _before_activation(x, output))


def _before_activation(x, output: keras.layers.Dense):
    """The output layer without its activation: z = x W + b, in float32 (mixed precision computes
    in 16 bits)."""
    logits = keras.ops.matmul(
        keras.ops.cast(x, "float32"), keras.ops.cast(output.kernel, "float32")
    )
    return logits + keras.ops.cast(output.bias, "float32") if output.use_bias else logits


def head_logits(head: keras.Sequential, inputs: np.ndarray) -> np.ndarray:
    """``logits`` for a head that takes features, not photos (the pretrained network's, on the
    features its frozen base computed): no second pass through the base."""
    x = keras.Input(shape=head.input_shape[1:])
    y = x
    for layer in head.layers[:-1]:
        y = layer(y)
    scores = keras.Model(x, _before_activation(y, head.layers[-1])).predict(inputs, verbose=0)
    return class_scores(scores)


def class_scores(logits: np.ndarray) -> np.ndarray:
    """One score per class from the logits: a sigmoid's single logit z gives class 0 the score -z
    and class 1 the score z (so P(class) = sigmoid(score)); a softmax's logits are the scores."""
    logits = np.asarray(logits)
    return np.concatenate([-logits, logits], axis=-1) if logits.shape[-1] == 1 else logits


def logits(model: keras.Sequential, images: np.ndarray, batch_size: int = 64) -> np.ndarray:
    """The class scores before the output activation (see class_scores), one row per image.

    Where a probability has rounded to exactly 1.0 in float32, the logit still says how sure
    the network is: p = 0.9993 is a logit of 7.3, p = 1.0000 may be 12 or 40.
    """
    features, head = _split(model)
    maps = _feature_maps(features, images, batch_size)
    rows = [
        keras.ops.convert_to_numpy(head(maps[i : i + batch_size]))
        for i in range(0, len(maps), batch_size)
    ]
    return class_scores(np.concatenate(rows))


def _feature_maps(features: keras.Model, images: np.ndarray, batch_size: int) -> np.ndarray:
    """The feature maps in float32 (mixed precision computes them in 16 bits), through ``predict``:
    JAX compiles the whole network once there, where a plain call compiles each of its operations
    anew (most of a minute for the pretrained base on 2 cores)."""
    maps = features.predict(np.asarray(images, dtype=np.float32), batch_size=batch_size, verbose=0)
    return np.asarray(maps, dtype=np.float32)


def gradcam(
    model: keras.Sequential, images: np.ndarray, classes: np.ndarray | None = None
) -> np.ndarray:
    """One heatmap in [0, 1] per image, of the image's height and width.

    ``classes``: the class to explain for each image (default: the predicted one). The score
    differentiated is the class's logit, before the sigmoid or softmax, as in Grad-CAM's paper
    and keras.io's example: a probability that has saturated at 1.0 has a gradient of exactly
    0 and would give a blank map, while its logit still has one. For one sigmoid output,
    class 1's score is the logit z and class 0's is -z.
    """
    features, head = _split(model)
    images = np.asarray(images, dtype=np.float32)
    # a few images at a time, as a large network's intermediate maps take gigabytes
    maps = _feature_maps(features, images, batch_size=8)
    if classes is None:
        classes = np.argmax(class_scores(keras.ops.convert_to_numpy(head(maps))), axis=-1)
    chosen = keras.ops.one_hot(
        np.asarray(classes), 2 if head.output_shape[-1] == 1 else head.output_shape[-1]
    )

    def chosen_scores(maps):  # each image's score of its class, summed: its gradient is per image
        z = head(maps)
        scores = keras.ops.concatenate([-z, z], axis=-1) if z.shape[-1] == 1 else z
        return keras.ops.sum(scores * chosen)

    gradients = gradient(chosen_scores, maps)
    # how much each map helps the class
    weights = gradients.mean(axis=(1, 2), keepdims=True)
    heat = np.maximum((weights * maps).sum(axis=-1), 0.0)  # (n, h, w): only what argued for it
    heat = heat / np.maximum(heat.max(axis=(1, 2), keepdims=True), 1e-12)
    heat = keras.ops.image.resize(heat[..., None], images.shape[1:3], interpolation="bilinear")
    return np.clip(keras.ops.convert_to_numpy(heat)[..., 0], 0.0, 1.0)


def most_confident_mistakes(
    probabilities: np.ndarray, labels: np.ndarray, count: int = 16
) -> np.ndarray:
    """Indices of the wrongly classified images, the most confident mistake first."""
    predicted = probabilities.argmax(axis=1)
    wrong = np.flatnonzero(predicted != labels)
    confidence = probabilities[wrong, predicted[wrong]]
    return wrong[np.argsort(-confidence, kind="stable")][:count]


def examples_to_show(
    labels: np.ndarray, predicted: np.ndarray, confidence: np.ndarray, n_classes: int
) -> list[int]:
    """Grad-CAM's photos: for each of the first four classes, its most confident right answers,
    then its most confident wrong ones (two of each with two classes, one with more)."""
    each = 2 if n_classes == 2 else 1
    shown = []
    for c in range(min(n_classes, 4)):
        for right in (True, False):
            rows = np.flatnonzero((labels == c) & ((predicted == c) == right))
            shown += rows[np.argsort(-confidence[rows], kind="stable")][:each].tolist()
    return shown
