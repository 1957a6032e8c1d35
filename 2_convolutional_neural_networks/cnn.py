# %% [markdown]
# # Chapter 2: a convolutional neural network, or is it a cat or a dog?
#
# 8,000 training and 2,000 test photos, or folders of your own (one folder a class).
# Chapter 2 of the README, whose steps are this script's `# %% Step N` cells, top to bottom;
# transfer_learning.py, beside it, is the same photos on a pretrained network.
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
from tutorial_support.cnn import explain, figures, flags, images, machines, predict, reports
from tutorial_support.cnn import results as run
from tutorial_support.cnn.augmentation import RandomShearZoomFlip
from tutorial_support.common import cli
from tutorial_support.common.figures import show, training_curves
from tutorial_support.common.reports import section

HERE = Path(__file__).resolve().parent if "__file__" in globals() else Path.cwd()  # a notebook
args = flags.read(SETTINGS, HERE)  # a bad flag stops here with one line
timer = runtime.StepTimer()
# One device, all local GPUs or several computers (--strategy): chosen once, before anything
# else uses a device; its fit and predict are the one training and prediction path below.
machine = machines.start(args.strategy, args.worker_timeout)
if args.predict:  # step 9 alone, with the model a previous run saved
    predict.predict_images_from_saved(args)
    cli.stop_here("the images classified by the saved model")
runtime.seed_everything(args.seed)
policy = runtime.mixed_precision_policy(args.mixed_precision)
keras.mixed_precision.set_global_policy(policy)
print(
    f"precision: {policy}"
    + (" (float32 weights, 16-bit arithmetic)" if policy != "float32" else "")
)

# %% Step 1: load the images
section(f"Step 1: load the images at {args.image_size} x {args.image_size}")
# decoded once, then kept as uint8 pixels (and cached on disk for the next run)
with timer.measure("data"):  # --data, DLP_DATA_DIR, or downloaded once
    root, cache, train, test = images.load_photos(args.data, args.image_size, args.cache_dir)
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


# the network this run does not train is built at its own default size, as its run would build it
size = {name: flags.DEFAULTS[name]["image_size"] for name in flags.DEFAULTS}
size[args.model] = args.image_size
with machine.scope():  # the weights live where the strategy keeps them
    tutorial_cnn = build_tutorial_cnn(size["tutorial"], n_classes, flip=not args.no_flip)
    tutorial_cnn.compile(
        optimizer="adam",
        loss=loss,
        metrics=["accuracy"],
        steps_per_execution=machine.steps_per_execution,
    )
tutorial_cnn.summary()

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


with machine.scope():
    improved_cnn = build_improved_cnn(size["improved"], n_classes, flip=not args.no_flip)
    steps = args.epochs * machine.steps_per_epoch(len(train.labels), args.batch_size)
    # Adam with a learning rate that decays to 0 along a cosine over the whole run
    optimizer = keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(2e-3, steps))
    improved_cnn.compile(
        optimizer=optimizer,
        loss=loss,
        metrics=["accuracy"],
        steps_per_execution=machine.steps_per_execution,
    )
improved_cnn.summary()
cnn = improved_cnn if args.model == "improved" else tutorial_cnn
print(
    f"this run trains the {args.model} network at {args.image_size} x {args.image_size}"
    + ("" if args.model == "improved" else "; `--model improved` trains this one instead")
)

# %% Step 5: fit the CNN
# one epoch is one pass over the training images, then one over the test images
section(f"Step 5: fit the CNN ({args.epochs} epochs, batch size {args.batch_size})")
# On one machine this is Keras' own cnn.fit(training batches, validation_data=test batches,
# epochs=25, callbacks=...): the training images in shuffled batches of 32 (images.as_dataset),
# and after each epoch one pass over the test images. Across machines Keras' fit fails, and a
# loop of our own takes the same steps (tutorial_support/cnn/machines.py says how).
epoch_times = runtime.EpochTimes()
callbacks = [epoch_times]
if args.tensorboard is not None:  # the Keras convention: training and test scalars per epoch
    callbacks.append(keras.callbacks.TensorBoard(log_dir=args.tensorboard))
with timer.measure("epochs"):
    history = machine.fit(
        cnn,
        train,
        test,
        epochs=args.epochs,
        batch_size=args.batch_size,
        seed=args.seed,
        verbose=args.verbose,
        callbacks=callbacks,
    )
print(f"{np.mean(epoch_times.seconds):.1f} s per epoch")
# each figure shown at its step in a notebook; all saved together at the end (by the chief alone)
drawn = {"training_curves.png": show(training_curves(history))}

# %% Step 6: evaluate with the confusion matrix
section("Step 6: evaluate with the confusion matrix")
outputs = machine.predict(cnn, test, batch_size=args.batch_size)  # cnn.predict(test batches)
probabilities = reports.class_probabilities(outputs)  # one column per class
predicted = probabilities.argmax(axis=1)  # the most probable class (two classes: P(second) > 0.5)
cm = confusion_metrics.confusion_matrix(test.labels, predicted, labels=list(range(n_classes)))
print(reports.confusion_report(cm, class_names))  # dogs are the positive class
drawn["confusion_matrix.png"] = show(reports.confusion_figure(cm, class_names, args.model))

# %% Step 7: what the network looks at and gets wrong
section("Step 7: what the network looks at and gets wrong")
# the class scores before the sigmoid or softmax: where p has rounded to 1.0, they still rank the
# answers
scores = explain.logits(cnn, test.images)
captions = [
    reports.caption(truth, row, class_names, z)
    for truth, row, z in zip(test.labels, probabilities, scores)
]
confidence = probabilities[np.arange(len(predicted)), predicted]
# per class (the first four), its most confident right and wrong answers
shown = explain.examples_to_show(test.labels, predicted, confidence, n_classes)
heatmaps = explain.gradcam(cnn, test.images[shown].astype("float32"))  # Grad-CAM: where it looked
mistakes = explain.most_confident_mistakes(probabilities, test.labels, count=16)
print(
    f"Grad-CAM of {len(shown)} test images (gradcam.png); the {len(mistakes)} most confident "
    "mistakes (mistakes.png):"
)
for index in mistakes[:5]:
    print(f"  {test.files[index].name}: {captions[index]}")
drawn["gradcam.png"] = show(figures.looked_at(test.images, heatmaps, captions, shown, args.model))
drawn["mistakes.png"] = show(figures.surest_mistakes(test.images, captions, mistakes, args.model))

# %% Step 8: how far to trust its probabilities
section("Step 8: how far to trust its probabilities")
# Calibration: of the photos it calls a dog with p = 0.9, are 9 in 10 dogs? With two classes,
# P(second class) for every photo; with more, the top label's probability (Guo et al. 2017).
calibrated_on = probabilities[:, 1] if n_classes == 2 else probabilities
calibration = confusion_metrics.calibration_summary(test.labels, calibrated_on, n_bins=10)
print(reports.calibration_lines(calibration, confidence, predicted == test.labels))
drawn["reliability_diagram.png"] = show(
    confusion_metrics.plot_reliability_diagram(
        {f"{args.model} CNN": (test.labels, calibrated_on)}, title=f"{args.model} CNN, test set"
    )
)

# %% Step 9: predict single images
section("Step 9: predict single images")  # any file: cnn.py --predict photo.jpg
for index in (0, len(test.files) - 1):  # the first and the last test image (a cat and a dog)
    print(f"{test.files[index].name}: {reports.verdict(probabilities[index], class_names)}")

# %% Outputs: model, figures, predictions and metrics.json, published together (by the chief alone)
results = run.run_results(
    cm, class_names, calibration, history, args, policy, machine, (train, test)
)
results["timings_s"] = {**timer.seconds, "per_epoch": epoch_times.seconds, "total": timer.total()}
table = run.test_predictions(test, probabilities, class_names, root)
run.save_run(args.output_dir, machine, cnn, drawn, results, table)
print(timer.summary())
