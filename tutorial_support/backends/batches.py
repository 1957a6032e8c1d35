"""The batches chapter 2 trains and predicts on: decoded uint8 images in memory -> float32
batches, shuffled afresh each epoch for training.

``image_batches(images, labels, batch_size, shuffle, seed)`` returns what ``model.fit`` and
``model.predict`` take: under TensorFlow a ``tf.data`` pipeline (which a ``tf.distribute``
strategy can split over devices); under JAX and PyTorch a ``keras.utils.PyDataset``.
"""

from __future__ import annotations

import numpy as np

from tutorial_support.backends.choice import chosen
from tutorial_support.backends.startup import keras


def image_batches(
    images: np.ndarray, labels: np.ndarray, batch_size: int, shuffle: bool, seed: int
):
    if chosen() == "tensorflow":
        return _tf_data(images, labels, batch_size, shuffle, seed)
    return _ImageBatches(images, labels, batch_size, shuffle, seed)


def _tf_data(images, labels, batch_size, shuffle, seed):
    import tensorflow as tf

    dataset = tf.data.Dataset.from_tensor_slices((images, labels))
    if shuffle:
        dataset = dataset.shuffle(len(labels), seed=seed, reshuffle_each_iteration=True)
    dataset = dataset.batch(batch_size).map(lambda x, y: (tf.cast(x, tf.float32), y)).prefetch(2)
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
