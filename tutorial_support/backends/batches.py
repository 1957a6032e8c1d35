"""The batches chapter 2 trains and predicts on: decoded uint8 images in memory -> float32
batches, shuffled afresh each epoch for training.

``image_batches(images, labels, batch_size, shuffle, seed)`` returns what ``model.fit`` and
``model.predict`` take: under TensorFlow a ``tf.data`` pipeline (which a ``tf.distribute``
strategy can split over devices); under JAX and PyTorch a ``keras.utils.PyDataset``.
``feature_batch()``: how many photos the pretrained lesson passes through its base at once.
"""

from __future__ import annotations

import numpy as np

from tutorial_support.backends.choice import chosen
from tutorial_support.backends.startup import keras


def feature_batch() -> int:
    """Photos per pass through the pretrained base (transfer.pooled_features).

    PyTorch's pass holds gigabytes while it runs at 32 photos of 224 px, a quarter of that at 8
    (the same features to the bit, no slower). TensorFlow and JAX hold far less, and keep 32: at 8
    their features differ in the last bits, and docs/measurements.md was measured at 32."""
    return 8 if chosen() == "torch" else 32


def image_batches(
    images: np.ndarray, labels: np.ndarray, batch_size: int, shuffle: bool, seed: int
):
    if chosen() == "tensorflow":
        return _tf_data(images, labels, batch_size, shuffle, seed)
    return _ImageBatches(images, labels, batch_size, shuffle, seed)


def _tf_data(images, labels, batch_size, shuffle, seed):
    import tensorflow as tf

    # The pipeline shuffles and batches the rows' numbers, and each batch gathers its photos from
    # the NumPy array: shuffling the photos themselves would hold every one in tf.data's shuffle
    # buffer, and from_tensor_slices would copy them all into a constant first (2.4 GB for the
    # pretrained lesson's 8,000 photos at 224 px). The shuffle draws the same order either way.
    rows = tf.data.Dataset.range(len(labels))
    if shuffle:
        rows = rows.shuffle(len(labels), seed=seed, reshuffle_each_iteration=True)
    labels = np.asarray(labels)
    types = (tf.float32, tf.as_dtype(labels.dtype))

    def gather(index):
        return images[index].astype(np.float32), labels[index]

    def batch(index):
        x, y = tf.numpy_function(gather, [index], types, stateful=False)
        x.set_shape((None, *images.shape[1:]))
        y.set_shape((None, *labels.shape[1:]))
        return x, y

    dataset = rows.batch(batch_size).map(batch).prefetch(2)
    # tf.data's autotuner (AUTOTUNE) stalled the training for about a second per
    # epoch on a 2-core CPU; one batch prepared ahead is all this model needs.
    options = tf.data.Options()
    options.autotune.enabled = False
    return dataset.with_options(options)


class _ImageBatches(keras.utils.PyDataset):
    """Batches in a new random order every epoch (a NumPy generator seeded once)."""

    def __init__(self, images, labels, batch_size, shuffle, seed):
        super().__init__()
        self.images, self.labels, self.batch_size = images, labels, batch_size
        self.shuffle = np.random.default_rng(seed) if shuffle else None
        self.order = self._new_order()

    def _new_order(self):
        rows = len(self.labels)
        return self.shuffle.permutation(rows) if self.shuffle else np.arange(rows)

    def __len__(self):
        return -(-len(self.labels) // self.batch_size)

    def __getitem__(self, index):
        rows = self.order[index * self.batch_size : (index + 1) * self.batch_size]
        return self.images[rows].astype(np.float32), self.labels[rows]

    def on_epoch_end(self):
        self.order = self._new_order()
