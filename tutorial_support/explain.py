"""Pictures of what a CNN looks at (Grad-CAM) and of what it gets wrong (cnn.py).

Grad-CAM (Selvaraju et al., 2017) asks which parts of the last convolutional feature maps
raise the score of a class: the gradient of the score with respect to each feature map,
averaged over the map, weighs that map; the weighted sum of the maps, negative parts
dropped, is a coarse heatmap of the places that argued for the class, scaled to the image.

keras.io's Grad-CAM example builds its model from ``model.inputs`` and a layer's
``output``, which a ``Sequential`` model loaded from a file does not always have ("The
layer sequential has never been called and thus has no defined output"). Here the
layers are called again on a fresh ``keras.Input``, which works for any ``Sequential``
network, as trained or as reloaded, and reuses its weights.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from tutorial_support.runtime import keras, tf

_FLAT = (keras.layers.Flatten, keras.layers.GlobalAveragePooling2D, keras.layers.GlobalMaxPooling2D)
_POOL = (keras.layers.MaxPooling2D, keras.layers.AveragePooling2D, keras.layers.Dropout)


def gradcam_model(model: keras.Sequential) -> keras.Model:
    """A model with two outputs: the last convolutional feature maps and the prediction.

    The feature maps are those of the last layer before the network flattens them, skipping
    pooling: the output of the last convolution, after its activation.
    """
    layers = model.layers
    flat = next((i for i, layer in enumerate(layers) if isinstance(layer, _FLAT)), None)
    if flat is None or not any(isinstance(layer, keras.layers.Conv2D) for layer in layers[:flat]):
        raise ValueError("Grad-CAM needs a network with convolutions followed by Flatten or global pooling")
    last_maps = max(i for i in range(flat) if not isinstance(layers[i], _POOL))
    inputs = keras.Input(shape=model.input_shape[1:])
    x, maps = inputs, None
    for i, layer in enumerate(layers):
        x = layer(x)
        if i == last_maps:
            maps = x
    return keras.Model(inputs, [maps, x])


def gradcam(model: keras.Sequential, images: np.ndarray, classes: np.ndarray | None = None, explainer=None) -> np.ndarray:
    """One heatmap in [0, 1] per image, of the image's height and width.

    ``classes``: the class to explain for each image (default: the predicted one). For a
    network with one sigmoid output, class 1 is its output p and class 0 is 1 - p.
    """
    explainer = explainer or gradcam_model(model)
    x = tf.convert_to_tensor(np.asarray(images, dtype=np.float32))
    with tf.GradientTape() as tape:
        maps, outputs = explainer(x, training=False)
        outputs = tf.cast(outputs, tf.float32)
        if outputs.shape[-1] == 1:  # sigmoid: P(class 1)
            outputs = tf.concat([1 - outputs, outputs], axis=-1)
        if classes is None:
            classes = np.argmax(outputs.numpy(), axis=-1)
        scores = tf.gather(outputs, np.asarray(classes), axis=1, batch_dims=1)
    # mixed precision computes the maps in 16 bits: the arithmetic below is done in float32
    gradients = tf.cast(tape.gradient(scores, maps), tf.float32)
    maps = tf.cast(maps, tf.float32)
    weights = tf.reduce_mean(gradients, axis=(1, 2), keepdims=True)  # how much each map helps the class
    heat = tf.nn.relu(tf.reduce_sum(weights * maps, axis=-1))  # (n, h, w): only what argued for it
    heat = heat / tf.maximum(tf.reduce_max(heat, axis=(1, 2), keepdims=True), 1e-12)
    heat = tf.image.resize(heat[..., None], x.shape[1:3], method="bilinear")[..., 0]
    return np.clip(heat.numpy(), 0.0, 1.0)


def most_confident_mistakes(probabilities: np.ndarray, labels: np.ndarray, count: int = 16) -> np.ndarray:
    """Indices of the wrongly classified images, the most confident mistake first."""
    predicted = probabilities.argmax(axis=1)
    wrong = np.flatnonzero(predicted != labels)
    confidence = probabilities[wrong, predicted[wrong]]
    return wrong[np.argsort(-confidence, kind="stable")][:count]


def _grid(count: int, columns: int, size: float = 2.0):
    rows = max(1, -(-count // columns))
    figure = Figure(figsize=(size * columns, size * rows + 0.6), layout="constrained")
    axes = figure.subplots(rows, columns, squeeze=False).ravel()
    for a in axes:
        a.axis("off")
    return figure, axes


def heatmap_figure(images, heatmaps, titles, title: str, columns: int = 4) -> Figure:
    """Each image with its heatmap laid over it, titled."""
    figure, axes = _grid(len(images), columns)
    for a, image, heat, text in zip(axes, images, heatmaps, titles):
        a.imshow(np.asarray(image, dtype=np.uint8))
        a.imshow(heat, cmap="jet", alpha=0.4, vmin=0, vmax=1)
        a.set_title(text, fontsize=8)
    figure.suptitle(title)
    return figure


def mistakes_figure(images, titles, title: str, columns: int = 4) -> Figure:
    figure, axes = _grid(len(images), columns)
    for a, image, text in zip(axes, images, titles):
        a.imshow(np.asarray(image, dtype=np.uint8))
        a.set_title(text, fontsize=8)
    figure.suptitle(title)
    return figure
