"""how_cnn_sees.py's plumbing: its flags, the course's network with cnn.py's trained weights (or
briefly trained here), what each layer of it makes of some photos, and the lesson's figures.

The lesson itself (a convolution, max pooling, flattening, a dense layer) is written out in the
script, where a reader sees it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from tutorial_support.cnn import images
from tutorial_support.common.cli import non_negative_int, read_lesson_flags
from tutorial_support.common.errors import TutorialError
from tutorial_support.common.runtime import keras

SIZE = 64  # the course's photos: 64 x 64 pixels


def read_flags(settings: str, script_folder: Path):
    """how_cnn_sees.py's flags (cli.read_lesson_flags)."""
    return read_lesson_flags(
        settings,
        "How the cats-and-dogs CNN sees: convolution, max pooling, flattening and full "
        "connection, by hand in NumPy and checked against Keras.",
        script_folder / "outputs" / "how_cnn_sees",
        {
            "--model": {
                "type": Path,
                "default": script_folder / "outputs" / "cnn_model.keras",
                "help": "the trained course network to look into (default: the one cnn.py "
                "saved, outputs/cnn_model.keras); without one, the course's network is trained "
                "here briefly",
            },
            "--epochs": {
                "type": non_negative_int,
                "default": 1,
                "help": "epochs of the brief training when there is no saved model (make cnn "
                "trains 25; 0: the network untrained)",
            },
            "--cache-dir": {
                "type": Path,
                "default": None,
                "help": "where decoded images are cached (default: the Keras cache, "
                "~/.keras/cnn_cache)",
            },
        },
    )


def course_network() -> keras.Sequential:
    """cnn.py's step 3 network without its augmentation (which only acts in training), in
    float32: pixels to 0..1, two rounds of 32 filters of 3 x 3 and 2 x 2 max pooling, flattening,
    128 ReLU units, P(dog)."""
    convolution_and_pooling = [
        layer
        for _ in range(2)  # two rounds
        for layer in (keras.layers.Conv2D(32, 3, activation="relu"), keras.layers.MaxPooling2D(2))
    ]
    return keras.Sequential(
        [keras.Input(shape=(SIZE, SIZE, 3)), keras.layers.Rescaling(1 / 255)]
        + convolution_and_pooling
        + [keras.layers.Flatten(), keras.layers.Dense(128, activation="relu")]
        + [keras.layers.Dense(1, activation="sigmoid")],
        name="course_cnn",
    )


def trained_network(path: Path, train: images.ImageSet, epochs: int, seed: int):
    """The course's network with the weights cnn.py saved in ``path``, or trained here for
    ``epochs``; and one line that says which."""
    network = course_network()
    if path.is_file():
        try:
            saved = keras.models.load_model(
                path, compile=False, safe_mode=True, custom_objects=_custom()
            )
        except (ValueError, OSError, TypeError) as error:  # not a model Keras can read
            raise TutorialError(
                f"--model {path} is not a model Keras can read ({type(error).__name__}): give "
                "the cnn_model.keras that make cnn saves, or leave --model out"
            ) from None
        shapes = [w.shape for w in saved.get_weights()]
        if shapes == [tuple(w.shape) for w in network.get_weights()]:
            network.set_weights(saved.get_weights())
            return network, f"the course's network as cnn.py trained it ({path})"
        said = f"{path} is another network (not the course's at 64 x 64, two classes)"
    else:
        said = f"no saved model at {path} (make cnn saves one)"
    network.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    batches = images.as_dataset(train, batch_size=32, shuffle=True, seed=seed)
    if not epochs:
        return network, f"{said}: the course's network untrained, as Keras draws it (--epochs 0)"
    network.fit(batches, epochs=epochs, verbose=0, shuffle=False)  # the batches are shuffled
    return network, f"{said}: the course's network trained here for {epochs} epoch(s)"


def _custom() -> dict:
    from tutorial_support.cnn.augmentation import RandomShearZoomFlip

    return {"RandomShearZoomFlip": RandomShearZoomFlip}


def check_two_classes(train: images.ImageSet) -> None:
    if len(train.class_names) != 2:
        raise TutorialError(
            f"this lesson looks at a network of two classes; the photos have "
            f"{len(train.class_names)} ({', '.join(train.class_names)}): give --data a folder "
            "of two"
        )


def layer_outputs(network, photos: np.ndarray, keep=None, batch: int = 200) -> dict:
    """What the layers of ``network`` make of ``photos``: {layer number: its outputs}, for the
    layers in ``keep`` (all of them by default), each layer called on the one before's output
    as the network does, in batches of ``batch`` photos."""
    keep = sorted(range(len(network.layers)) if keep is None else keep)
    kept = {number: [] for number in keep}
    for first in range(0, len(photos), batch):
        x = photos[first : first + batch].astype("float32")
        for number, layer in enumerate(network.layers[: keep[-1] + 1]):
            x = layer(x)
            if number in kept:
                kept[number].append(keras.ops.convert_to_numpy(x))
    return {number: np.concatenate(parts) for number, parts in kept.items()}


def shifted(photos: np.ndarray, pixels: int) -> np.ndarray:
    """The photos moved ``pixels`` to the right, the left edge's column repeated to fill in."""
    if pixels == 0:
        return photos
    return np.concatenate([np.repeat(photos[:, :, :1], pixels, axis=2), photos[:, :, :-pixels]], 2)


# The figures, one function each; the script shows them at their step and saves them at the end.


def _image(ax, picture, title: str, cmap=None) -> None:
    ax.imshow(picture, cmap=cmap)
    ax.set_title(title, fontsize=8)
    ax.axis("off")


def edge_figure(photo: np.ndarray, ours: np.ndarray, theirs: np.ndarray) -> Figure:
    figure = Figure(figsize=(9, 3.3), layout="constrained")
    axes = figure.subplots(1, 3)
    _image(axes[0], photo, "the photo")
    limit = float(np.abs(ours).max()) or 1.0
    for ax, edges, who in zip(axes[1:], (ours, theirs), ("by hand, NumPy", "Keras' Conv2D")):
        ax.imshow(edges, cmap="coolwarm", vmin=-limit, vmax=limit)
        ax.set_title(f"vertical edges, {who}", fontsize=8)
        ax.axis("off")
    return figure


def filters_and_maps(kernels: np.ndarray, photos, maps, names, shown: int = 8) -> Figure:
    """The first layer's filters (each scaled to 0..1 to be seen) over each photo's feature maps
    after ReLU, for the first ``shown`` filters."""
    figure = Figure(figsize=(1.5 * (shown + 1), 1.6 * (len(photos) + 1)), layout="constrained")
    axes = figure.subplots(len(photos) + 1, shown + 1)
    axes[0, 0].axis("off")
    for f in range(shown):
        kernel = kernels[..., f]
        _image(axes[0, f + 1], (kernel - kernel.min()) / (np.ptp(kernel) or 1), f"filter {f + 1}")
        for row, photo_maps in enumerate(maps, start=1):
            _image(axes[row, f + 1], photo_maps[..., f], "", cmap="gray")
    for row, (photo, name) in enumerate(zip(photos, names), start=1):
        _image(axes[row, 0], photo, name)
    return figure


def pooling_figure(before: np.ndarray, after: np.ndarray, filters: list[int]) -> Figure:
    figure = Figure(figsize=(2.2 * len(filters), 4.6), layout="constrained")
    axes = figure.subplots(2, len(filters))
    for column, f in enumerate(filters):
        _image(axes[0, column], before[..., f], f"filter {f + 1}, {before.shape[0]} px", "gray")
        _image(axes[1, column], after[..., f], f"pooled, {after.shape[0]} px", "gray")
    return figure


def shifts_figure(pixels, changes: dict[str, list[float]]) -> Figure:
    figure = Figure(figsize=(5.5, 3.6), layout="constrained")
    ax = figure.subplots()
    for label, values in changes.items():
        ax.plot(pixels, values, marker="o", label=label)
    ax.set_xlabel("photo moved right by (pixels)")
    ax.set_ylabel("change of the numbers, over their size")
    ax.set_title("How much a small shift changes each stage", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return figure


def units_figure(aucs: np.ndarray, weights: np.ndarray, fired: np.ndarray) -> Figure:
    """Each dense unit: the ROC AUC of its activation for "dog" on the test photos, against the
    weight that carries it to the output."""
    figure = Figure(figsize=(6, 4), layout="constrained")
    ax = figure.subplots()
    ax.scatter(weights[fired], aucs[fired], s=14, label="units that fire")
    ax.scatter(weights[~fired], aucs[~fired], s=14, marker="x", label="units that never fire")
    ax.axhline(0.5, color="grey", lw=0.8)
    ax.axvline(0, color="grey", lw=0.8)
    ax.set_xlabel("the unit's weight to the output (> 0 pushes towards dog)")
    ax.set_ylabel("ROC AUC of its activation for dog")
    ax.set_title("The 128 units of the dense layer on the test photos", fontsize=10)
    ax.legend(fontsize=8)
    return figure
