"""Convolutional neural network: is it a cat or a dog? (8,000 training and 2,000 test photos)

Run it from anywhere:  python cnn.py   or   python 2_convolutional_neural_networks/cnn.py
It runs top to bottom; each "# %%" cell is one step of the tutorial (run them one by
one in VS Code or Jupyter, where the SETTINGS cell below takes the place of the command
line), and the README walks through them.
"""

# %% Settings: in a notebook, change the run here; flags on the command line are added after them
SETTINGS = ""  # e.g. "--model improved --epochs 10 --data path/to/data"; `python cnn.py --help` lists every flag

# %% Setup: TensorFlow quietly, the command line, the device, the seed
import json
import math
import os
import time
from pathlib import Path

from tutorial_support import runtime  # before keras: silences TensorFlow's start-up logs
from tutorial_support.cli import TutorialError, base_parser, command_line, flags_as_json, positive_int, report_errors_in_one_line, section

import keras
import numpy as np
import tensorflow as tf

import confusion_metrics
from tutorial_support import data, distributed, explain, images
from tutorial_support.augmentation import RandomShearZoomFlip
from tutorial_support.figures import training_curves
from tutorial_support.outputs import StagedOutputs

HERE = Path(__file__).resolve().parent if "__file__" in globals() else Path.cwd()  # a notebook has no __file__
MODEL_FILE = "cnn_model.keras"


def parse_args():
    parser = base_parser("Train and evaluate the cats-and-dogs CNN.", default_output_dir=HERE / "outputs")
    parser.add_argument("--epochs", type=positive_int, default=None,
                        help="passes over the training images (default: 25 tutorial, 30 improved)")
    parser.add_argument("--batch-size", type=positive_int, default=32, help="images per training step")
    parser.add_argument("--image-size", type=positive_int, default=None,
                        help="side in pixels the images are resized to (default: 64 tutorial, 128 improved)")
    parser.add_argument("--model", choices=("tutorial", "improved"), default="tutorial",
                        help="the course's network, or a stronger one (step 7)")
    parser.add_argument("--no-flip", action="store_true",
                        help="do not mirror training images left to right (for digits or text, where a "
                        "mirrored image is another thing)")
    parser.add_argument("--cache-dir", type=Path, default=None,
                        help="where decoded images are cached (default: the Keras cache, ~/.keras/cnn_cache)")
    parser.add_argument("--predict", type=Path, nargs="+", metavar="IMAGE",
                        help="classify these images with the model saved in --output-dir (no training)")
    parser.add_argument("--explain", action="store_true",
                        help="with --predict: also draw where the network looked (Grad-CAM), as gradcam_<name>.png "
                        "in --output-dir")
    parser.add_argument("--tensorboard", type=Path, default=None, metavar="DIR",
                        help="log the training and test loss and accuracy of every epoch for TensorBoard "
                        "(tensorboard --logdir DIR)")
    parser.add_argument("--mixed-precision", choices=("auto", "on", "off"), default="auto",
                        help="compute in float16 on a GPU or bfloat16 on a CPU, weights kept in float32; "
                        "auto: on where the hardware computes it natively (NVIDIA GPUs from Volta on, "
                        "CPUs with AVX512-BF16 or AMX)")
    parser.add_argument("--strategy", choices=("default", "mirrored", "multiworker"), default="default",
                        help="mirrored: train on all local GPUs with tf.distribute.MirroredStrategy; multiworker: "
                        "train across the machines listed in the TF_CONFIG environment variable (README)")
    parser.add_argument("--worker-timeout", type=positive_int, default=120, metavar="SECONDS",
                        help="--strategy multiworker: how long to wait for the other workers")
    args = parser.parse_args(command_line(SETTINGS))
    if args.explain and not args.predict:
        parser.error("--explain explains the images of --predict: give --predict IMAGE [IMAGE ...] too")
    if args.tensorboard is not None:
        check_writable_folder(args.tensorboard, "--tensorboard")
    if args.image_size is None:
        args.image_size = 64 if args.model == "tutorial" else 128
    if args.epochs is None:
        args.epochs = 25 if args.model == "tutorial" else 30
    smallest = 10 if args.model == "tutorial" else 32  # what survives the network's poolings
    if args.image_size < smallest:
        parser.error(f"argument --image-size: the {args.model} network needs at least {smallest} pixels, "
                     f"got {args.image_size}")
    return args


# The network of step 2: two convolution + max-pooling blocks, then a dense classifier
def build_tutorial_cnn(image_size: int, n_classes: int = 2, flip: bool = True) -> keras.Sequential:
    return keras.Sequential(
        [
            keras.Input(shape=(image_size, image_size, 3)),
            augmentation(flip=flip),  # step 3; active only while training
            keras.layers.Rescaling(1 / 255),  # pixels 0..255 -> 0..1
            keras.layers.Conv2D(32, 3, activation="relu"),  # step 2a: convolution, 32 filters of 3 x 3
            keras.layers.MaxPooling2D(2),  # step 2b: max pooling, 2 x 2
            keras.layers.Conv2D(32, 3, activation="relu"),  # step 2c: a second convolutional layer
            keras.layers.MaxPooling2D(2),
            keras.layers.Flatten(),  # step 2d: flattening
            keras.layers.Dense(128, activation="relu"),  # step 2e: full connection
            output_layer(n_classes),  # P(dog), kept in float32
        ],
        name="tutorial_cnn",
    )


def output_layer(n_classes: int) -> keras.layers.Dense:
    """Two classes: one sigmoid unit, the probability of the second class (the course's).
    Three or more: one softmax unit per class, their probabilities summing to 1."""
    if n_classes == 2:
        return keras.layers.Dense(1, activation="sigmoid", dtype="float32")
    return keras.layers.Dense(n_classes, activation="softmax", dtype="float32")


def class_probabilities(outputs: np.ndarray) -> np.ndarray:
    """One column per class: a sigmoid's P(second class) p becomes the two columns 1 - p, p."""
    outputs = np.asarray(outputs, dtype=np.float64).reshape(len(outputs), -1)
    return np.column_stack([1 - outputs[:, 0], outputs[:, 0]]) if outputs.shape[1] == 1 else outputs


# The augmentation of step 3: shear, zoom and horizontal flip
def augmentation(strong: bool = False, flip: bool = True) -> RandomShearZoomFlip:
    """The original's ImageDataGenerator(shear_range=0.2, zoom_range=0.2, horizontal_flip=True).

    One random affine transform per image, as ImageDataGenerator applied it; see
    tutorial_support/augmentation.py for how each setting maps (the shear was in
    degrees: 0.2 degrees is almost nothing). The improved network shears by up to
    10 degrees instead.
    """
    return RandomShearZoomFlip(shear_degrees=10.0 if strong else 0.2, zoom=0.2, horizontal_flip=flip)


# The network of step 7 (--model improved): deeper, with batch normalisation and dropout
def build_improved_cnn(image_size: int, n_classes: int = 2, flip: bool = True) -> keras.Sequential:
    """Four convolution blocks (32 to 256 filters), each normalised, on 128 x 128 images.

    The first convolution has stride 2, so the larger images cost little more than
    64 x 64 ones; global average pooling replaces Flatten, which keeps the classifier
    small (and the same whatever the image size); dropout fights over-fitting.
    """

    def conv_block(filters, strides=1):
        return [
            keras.layers.Conv2D(filters, 3, strides=strides, padding="same", use_bias=False),
            keras.layers.BatchNormalization(),  # steadier, faster training
            keras.layers.Activation("relu"),
            keras.layers.MaxPooling2D(2),
        ]

    return keras.Sequential(
        [
            keras.Input(shape=(image_size, image_size, 3)),
            augmentation(strong=True, flip=flip),
            keras.layers.Rescaling(1 / 255),
            *conv_block(32, strides=2), *conv_block(64), *conv_block(128), *conv_block(256),
            keras.layers.GlobalAveragePooling2D(),  # one number per filter
            keras.layers.Dropout(0.3),
            output_layer(n_classes),
        ],
        name="improved_cnn",
    )  # fmt: skip


def as_dataset(image_set, batch_size: int, shuffle: bool, seed: int) -> tf.data.Dataset:
    """Decoded uint8 images in memory -> shuffled (each epoch) float batches, prefetched."""
    # labels: 0.0/1.0 for a sigmoid output, class numbers for a softmax one
    labels = image_set.labels.astype("float32" if len(image_set.class_names) == 2 else "int32")
    dataset = tf.data.Dataset.from_tensor_slices((image_set.images, labels))
    if shuffle:
        dataset = dataset.shuffle(len(image_set.labels), seed=seed, reshuffle_each_iteration=True)
    dataset = dataset.batch(batch_size).map(lambda x, y: (tf.cast(x, tf.float32), y)).prefetch(2)
    # tf.data's autotuner (AUTOTUNE) stalled the training for about a second per
    # epoch on a 2-core CPU; one batch prepared ahead is all this model needs.
    options = tf.data.Options()
    options.autotune.enabled = False
    return dataset.with_options(options)


def check_writable_folder(folder: Path, flag: str) -> None:
    """Make sure ``folder`` is (or can become) a folder we may write in, before any training."""
    if folder.exists() and not folder.is_dir():
        raise TutorialError(f"{flag} {folder} is a file, not a folder: give a folder for the logs")
    parent = next(p for p in (folder, *folder.parents) if p.exists())  # the part that exists already
    if not parent.is_dir():
        raise TutorialError(f"{flag} {folder}: {parent} is a file, so no folder can be made there")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise TutorialError(f"{flag} {folder}: cannot write in {parent}; choose a folder you can write in")


def singular(class_name: str) -> str:
    """Folder names are plural (cats, dogs); a single image is a cat or a dog."""
    return class_name[:-1] if class_name.endswith("s") else class_name


def verdict(probabilities: np.ndarray, class_names: list[str]) -> str:
    """ "dog (p = 0.93)"; with three or more classes also the runner-up when it is close."""
    first, second = np.argsort(probabilities)[::-1][:2]
    text = f"{singular(class_names[first])} (p = {probabilities[first]:.2f}"
    if len(class_names) > 2 and probabilities[second] >= probabilities[first] / 2:
        text += f"; runner-up {singular(class_names[second])}, p = {probabilities[second]:.2f}"
    return text + ")"


def predict_files(args) -> None:
    """Step 6 on its own: classify image files with the saved model, no training."""
    model_path, metrics_path = args.output_dir / MODEL_FILE, args.output_dir / "metrics.json"
    if not (model_path.is_file() and metrics_path.is_file()):
        raise TutorialError(f"no saved model in {args.output_dir}: run cnn.py once without --predict")
    saved = json.loads(metrics_path.read_text())
    class_names, size = saved["test"]["class_names"], saved["config"]["image_size"]
    batch = []
    for path in args.predict:
        if not path.is_file():
            raise TutorialError(f"--predict: no such file: {path}")
        try:
            batch.append(images.decode_image(path, size))
        except ValueError as error:
            raise TutorialError(f"--predict: {path} is not a readable image ({error})") from None
    model = keras.models.load_model(model_path, compile=False)  # predicting needs no optimizer
    pixels = np.stack(batch)
    probabilities = class_probabilities(model.predict(pixels.astype("float32"), verbose=0))
    for path, row in zip(args.predict, probabilities):
        print(f"{path}: {verdict(row, class_names)}")
    if args.explain:  # Grad-CAM: where the network looked for the class it chose
        heatmaps = explain.gradcam(model, pixels)
        with StagedOutputs(args.output_dir) as outputs:
            for path, image, heat, row in zip(args.predict, pixels, heatmaps, probabilities):
                figure = explain.heatmap_figure([image], [heat], [verdict(row, class_names)], path.name, columns=1)
                outputs.save_figure(f"gradcam_{path.stem}.png", figure)
        for path in args.predict:
            print(f"wrote {args.output_dir / f'gradcam_{path.stem}.png'}")


class EpochTimes(keras.callbacks.Callback):
    def on_train_begin(self, logs=None):
        self.seconds = []

    def on_epoch_begin(self, epoch, logs=None):
        self.began = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(time.perf_counter() - self.began)


# %% Start: flags, device, precision, seed
report_errors_in_one_line()
args = parse_args()
timer = runtime.StepTimer()
# the strategy comes before anything else touches the devices
if args.strategy == "multiworker":  # waits until every worker of TF_CONFIG is there
    strategy = distributed.multi_worker_strategy(timeout=args.worker_timeout)
else:
    strategy = runtime.distribution_strategy(args.strategy)
print(runtime.setup_device())
workers, chief = distributed.worker_count(strategy), distributed.is_chief(strategy)
if args.strategy == "mirrored":
    print(f"MirroredStrategy: each batch is split over {strategy.num_replicas_in_sync} devices")
if args.strategy == "multiworker":
    print(
        f"MultiWorkerMirroredStrategy: worker {strategy.cluster_resolver.task_id} of {workers} "
        f"({'the chief, which writes the outputs' if chief else 'the chief, worker 0, writes the outputs'}), "
        f"{strategy.num_replicas_in_sync} replicas in all"
    )
if args.predict:  # step 6 alone, with the model a previous run saved
    predict_files(args)
    raise SystemExit(0)
runtime.seed_everything(args.seed)
policy = runtime.mixed_precision_policy(args.mixed_precision)
keras.mixed_precision.set_global_policy(policy)
print(f"precision: {policy}" + (" (float32 weights, low-precision arithmetic)" if policy != "float32" else ""))

# %% Step 1: load the images: decoded once, then kept as uint8 pixels (cached on disk)
section(f"Step 1: load the images at {args.image_size} x {args.image_size}")
with timer.measure("data"):
    root = data.cats_and_dogs(args.data)
    cache_dir = args.cache_dir or data.keras_cache() / "cnn_cache"
    splits = {}
    for split in ("training_set", "test_set"):
        image_set, cached = images.load_image_set(root / split, args.image_size, cache_dir, split)
        images.warn_skipped(image_set, root / split)
        counts = ", ".join(f"{np.sum(image_set.labels == i):,} {name}" for i, name in enumerate(image_set.class_names))
        print(f"{split}: {len(image_set.labels):,} images ({counts}){' from the cache' if cached else ''}")
        splits[split] = image_set
train, test = splits["training_set"], splits["test_set"]
only = {split: sorted(set(mine) - set(theirs)) for split, mine, theirs in (
    ("training_set", train.class_names, test.class_names), ("test_set", test.class_names, train.class_names))}  # fmt: skip
if any(only.values()):  # a class to learn but not to test, or to test but never learnt
    raise TutorialError(
        "training_set and test_set need the same class folders: "
        + "; ".join(f"only {split} has {', '.join(names)}" for split, names in only.items() if names)
    )
class_names = train.class_names
n_classes = len(class_names)  # the folders decide: 2 -> one sigmoid output, more -> softmax
if args.strategy == "multiworker" and n_classes > 2:
    raise TutorialError(f"--strategy multiworker trains two classes; found {n_classes}: train on one machine")
print("classes: " + ", ".join(f"{name} = {i}" for i, name in enumerate(class_names)))
train_data = as_dataset(train, args.batch_size, shuffle=True, seed=args.seed)
test_data = as_dataset(test, args.batch_size, shuffle=False, seed=args.seed)

# %% Step 2-3: build and compile the network (augmentation is its first layer)
section(f"Step 2: build the {args.model} CNN")
with strategy.scope():
    build = build_tutorial_cnn if args.model == "tutorial" else build_improved_cnn
    cnn = build(args.image_size, n_classes, flip=not args.no_flip)
    if args.model == "tutorial":
        optimizer = "adam"
    else:  # the improved network: Adam with a learning rate that decays to 0 along a cosine
        per_epoch = math.ceil(len(train.labels) / args.batch_size)
        if args.strategy == "multiworker":  # each worker a shard, in whole batches (distributed.fit)
            per_epoch = len(train.labels) // workers // args.batch_size
        steps = args.epochs * per_epoch
        optimizer = keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(2e-3, steps))
    # 25 training steps per call into TensorFlow instead of one saves about 1 s of
    # overhead per epoch; the progress bar moves in steps of 25 batches. (Keras 3.15
    # fails with a "must feed a value for placeholder" error when it does this under
    # MirroredStrategy, so a mirrored run goes one step at a time.)
    steps_per_call = 25 if args.strategy == "default" else 1
    loss = "binary_crossentropy" if n_classes == 2 else "sparse_categorical_crossentropy"
    cnn.compile(optimizer=optimizer, loss=loss, metrics=["accuracy"], steps_per_execution=steps_per_call)
cnn.summary()

# %% Step 4: fit - one epoch is one pass over the training images, then one over the test images
section(f"Step 4: fit the CNN ({args.epochs} epochs, batch size {args.batch_size})")
epoch_times = EpochTimes()
with timer.measure("epochs"):
    if args.strategy == "multiworker":  # Keras' fit fails across workers: a loop of our own (distributed.py)
        history, epoch_times.seconds = distributed.fit(
            cnn, strategy, train, test, epochs=args.epochs, batch_size=args.batch_size, seed=args.seed,
            verbose=args.verbose,
        )  # fmt: skip
    else:
        callbacks = [epoch_times]
        if args.tensorboard is not None:  # the Keras convention: training and validation scalars per epoch
            callbacks.append(keras.callbacks.TensorBoard(log_dir=args.tensorboard))
        history = cnn.fit(train_data, validation_data=test_data, epochs=args.epochs, shuffle=False,
                          verbose=args.verbose, callbacks=callbacks).history  # fmt: skip
print(f"{np.mean(epoch_times.seconds):.1f} s per epoch")

# %% Step 5: evaluate with the confusion matrix and its metrics
section("Step 5: evaluate on the test images")
if args.strategy == "multiworker":  # each worker on its own: every one holds the same weights
    outputs = distributed.predict(cnn, test.images, batch_size=args.batch_size)
else:
    outputs = cnn.predict(test_data, verbose=0)
probabilities = class_probabilities(outputs)  # one column per class
predicted = probabilities.argmax(axis=1)  # the most probable class (two classes: P(second) > 0.5)
labels = list(range(n_classes))
cm = confusion_metrics.confusion_matrix(test.labels, predicted, labels=labels)
# with two classes the second (dogs) is the positive class; with more, every class in turn
print(confusion_metrics.format_report(cm, labels=class_names, positive=class_names[1] if n_classes == 2 else None))
per_class = confusion_metrics.per_class(cm, labels=class_names)
overall = confusion_metrics.summary(cm, labels=class_names)

# %% Step 5b: see what the network looked at, and what it got wrong
section("Step 5b: what the network looks at, and its most confident mistakes")


def caption(index: int) -> str:
    truth, said = class_names[test.labels[index]], class_names[predicted[index]]
    return f"actual {singular(truth)}, said {singular(said)}, p = {probabilities[index, predicted[index]]:.2f}"


confidence = probabilities[np.arange(len(predicted)), predicted]
shown = []  # per class (the first four), its most confident right and wrong answers
for c in range(min(n_classes, 4)):
    for right in (True, False):
        rows = np.flatnonzero((test.labels == c) & ((predicted == c) == right))
        shown += rows[np.argsort(-confidence[rows], kind="stable")][: 2 if n_classes == 2 else 1].tolist()
heatmaps = explain.gradcam(cnn, test.images[shown].astype("float32"))
mistakes = explain.most_confident_mistakes(probabilities, test.labels, count=16)
print(f"Grad-CAM of {len(shown)} test images (gradcam.png); the {len(mistakes)} most confident mistakes (mistakes.png):")
for index in mistakes[:5]:
    print(f"  {test.files[index].name}: {caption(index)}")

# %% Step 6: predict single images (any file: cnn.py --predict photo.jpg)
section("Step 6: predict single images")
for index in (0, len(test.files) - 1):  # the first and the last test image (a cat and a dog)
    print(f"{test.files[index].name}: {verdict(probabilities[index], class_names)}")

results = {
    "test": {
        "confusion_matrix": cm.tolist(), "labels": labels, "class_names": class_names, "accuracy": overall.accuracy,
        "per_class": {c.label: {"precision": c.precision, "recall": c.recall, "f1": c.f1, "support": c.support}
                      for c in per_class},
        "averages": {name: vars(getattr(overall, name)) for name in ("macro", "micro", "weighted")},
    },
    "history": {key: [float(v) for v in values] for key, values in history.items()},
    "distribution": {"strategy": args.strategy, "workers": workers, "replicas": strategy.num_replicas_in_sync},
    "skipped_files": {split: [str(p) for p in s.skipped] for split, s in splits.items()},
    "timings_s": {**timer.seconds, "per_epoch": epoch_times.seconds, "total": timer.total()},
    "config": flags_as_json(args),
}  # fmt: skip
if n_classes == 2:  # the positive class, dogs, as the course reports it
    positive = confusion_metrics.binary(cm, positive=1, labels=labels)
    results["test"].update(positive=1, precision=positive.precision, recall=positive.recall, f1=positive.f1)

# %% Outputs: model, figures and metrics.json, published together (by the chief alone)
if chief:
    with StagedOutputs(args.output_dir) as outputs:
        cnn.save(outputs.path(MODEL_FILE))
        outputs.save_figure("confusion_matrix.png", confusion_metrics.plot_confusion_matrix(
            cm, labels=class_names, normalize="true", title=f"{args.model} CNN, test set"))  # fmt: skip
        outputs.save_figure("training_curves.png", training_curves(history))
        outputs.save_figure("gradcam.png", explain.heatmap_figure(
            test.images[shown], heatmaps, [caption(i) for i in shown],
            f"Where the {args.model} CNN looked (Grad-CAM, red: what argued for its answer)"))  # fmt: skip
        outputs.save_figure("mistakes.png", explain.mistakes_figure(
            test.images[mistakes], [caption(i) for i in mistakes],
            f"The {args.model} CNN's {len(mistakes)} most confident mistakes"))  # fmt: skip
        outputs.write_json("metrics.json", results)
    print(f"\nSaved the model, the figures and metrics.json in {args.output_dir}")
else:
    print("\nThis worker writes nothing: the chief (worker 0) saves the outputs")
print(timer.summary())
