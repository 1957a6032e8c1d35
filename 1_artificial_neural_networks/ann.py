# %% [markdown]
# # Chapter 1: an artificial neural network, or will a bank customer leave?
# The bank's 10,000 customers, or any CSV (`--data table.csv --target COLUMN`): each `# %% Step N`
# cell is the README's step N (in a notebook the SETTINGS cell stands for the command line).

# %% Settings: in a notebook, change the run here; flags on the command line are added after them
SETTINGS = ""  # e.g. "--epochs 20 --folds 5" or "--data table.csv --target COLUMN"

# %% Setup: the backend quietly, the flags, the device, the seed
import math
import sys
from pathlib import Path

try:
    from tutorial_support.common import runtime  # before keras: the backend's start-up, silenced
except ModuleNotFoundError as missing:  # no virtualenv active, or the requirements not installed
    fix = getattr(missing, "fix", "`make {}`, or pip install -r requirements.txt").format("ann")
    print(f"error: {sys.executable} has no {missing.name}: run {fix}", file=sys.stderr)
    sys.exit(2)

import joblib
import keras
import numpy as np
import pandas as pd
from scipy.optimize import minimize_scalar
from scipy.special import expit, logit, softmax
from sklearn.compose import ColumnTransformer
from sklearn.dummy import DummyClassifier
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.inspection import permutation_importance
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import (
    ParameterGrid,
    StratifiedKFold,
    cross_val_score,
    train_test_split,
)
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

import confusion_metrics
from tutorial_support import KerasClassifier
from tutorial_support.ann import classes, customers, flags, reports, tables
from tutorial_support.common import cli, data, figures
from tutorial_support.common.outputs import StagedOutputs
from tutorial_support.common.reports import class_report, section
from tutorial_support.fast.cross_validation import cross_validate, cross_validate_details
from tutorial_support.fast.training import fit, predict_probabilities, predicted_classes

HERE = Path(__file__).resolve().parent if "__file__" in globals() else Path.cwd()  # a notebook
args = flags.read(SETTINGS, HERE)  # a bad flag stops here with one line
timer = runtime.StepTimer()
print(runtime.setup_device())
runtime.seed_everything(args.seed)
if args.predict_only:  # step 8 alone, from the model a previous run saved
    customers.answer_from_saved(args.output_dir, args.customer)
    cli.stop_here("step 8 answered from the saved model")

# %% Step 1: import the dataset
section("Step 1: import the dataset")
# The bank's table, or any CSV (--data table.csv --target COLUMN). Each column is decided on
# by the same rules: RowNumber, CustomerId (ID-like) and Surname (free text) go, as in the
# course; every decision is printed, one line each, and kept in metrics.json, and a column
# that gives the answer away (on its own it predicts the target almost perfectly) is warned of.
table = tables.load(
    data.churn_csv(args.data), args.target, positive=args.positive, drop_leaky=args.drop_leaky
)
features, y, words = table.features, table.y, table.words
print(f"{len(features):,} {words['rows']} in {table.path.name}, {features.shape[1]} features kept")
for line in table.decisions():
    print(line)

# %% Step 2: encode categorical data
section("Step 2: encode categorical data")
# Text becomes numbers: each text column one-hot, a 0/1 column per category but the first
# (Geography_Germany and Geography_Spain, France being 0, 0; Gender_Male), numbers as they are,
# and empty cells filled in. Step 3 fits it on the training rows, so no test row leaks in.
one_hot = OneHotEncoder(drop="first", handle_unknown="ignore", sparse_output=False)
encoder = ColumnTransformer(
    [
        ("text", make_pipeline(SimpleImputer(strategy="most_frequent"), one_hot), table.text),
        ("numbers", SimpleImputer(strategy="median"), table.numbers),
    ],
    verbose_feature_names_out=False,
)
print(encoder)  # its parts: not fitted yet, that is step 3

# %% Step 3: split into training and test sets
section("Step 3: split into training and test sets")
# 80 % to learn from, 20 % to test on. A random fifth of a small class can come out far from
# its share, so where a class has fewer than 1,000 rows each class is split in proportion.
stratify = y if np.bincount(y).min() < tables.STRATIFY_BELOW else None  # 1,000
features_train, features_test, y_train, y_test = train_test_split(
    features, y, test_size=0.2, random_state=0, stratify=stratify
)
X_train = encoder.fit_transform(features_train)  # step 2's encoding, learnt on the training rows
X_test = encoder.transform(features_test)
names = encoder.get_feature_names_out()
split = "stratified" if stratify is not None else "at random"
print(f"training set {len(X_train):,} rows, test set {len(X_test):,} rows ({split})")
print(f"{len(names)} features: {', '.join(names)}")
classes.check_folds(y_train, args.folds, table.classes)  # every class needs a row in every fold

# %% Step 4: scale the features
section("Step 4: scale the features")  # learnt on the training set only
scaler = StandardScaler()
X_train = scaler.fit_transform(X_train)
X_test = scaler.transform(X_test)
print("each feature now has mean 0 and standard deviation 1 on the training set")

# %% Step 5: build the ANN
section("Step 5: build the ANN")
# The network's size follows the table. Two classes: one sigmoid output, P(leaves) (the positive
# class), and the loss of a yes/no answer. Three or more: a softmax, one probability per class.
INPUTS = X_train.shape[1]  # 11 for the bank's table
CLASSES = len(table.classes)
OUTPUTS, OUTPUT_ACTIVATION, LOSS = (
    (1, "sigmoid", "binary_crossentropy")
    if CLASSES == 2
    else (CLASSES, "softmax", "sparse_categorical_crossentropy")
)
UNITS = math.ceil((INPUTS + OUTPUTS) / 2)  # the old rule of thumb: (11 + 1) / 2 = 6 hidden units


# A function, because steps 10 to 12 build it again for every cross-validation fold.
def build_ann(optimizer="adam", dropout=0.0):
    layers = [keras.Input(shape=(INPUTS,))]
    for _ in range(2):  # two hidden layers of ReLU units
        layers.append(keras.layers.Dense(UNITS, activation="relu", kernel_initializer="uniform"))
        if dropout:  # step 11: switch off a random 10 % of the units at each step
            layers.append(keras.layers.Dropout(dropout))
    layers.append(
        keras.layers.Dense(OUTPUTS, activation=OUTPUT_ACTIVATION, kernel_initializer="uniform")
    )
    ann = keras.Sequential(layers, name="ann")
    ann.compile(optimizer=optimizer, loss=LOSS, metrics=["accuracy"])  # Adam, and the loss
    return ann


ann = build_ann()
ann.summary()

# %% Step 6: fit the ANN
if args.epochs is None:  # the course's 100 epochs show the network 800,000 rows (100 x 8,000);
    args.epochs = max(10, min(100, round(800_000 / len(X_train))))  # a larger table: fewer epochs
section(f"Step 6: fit the ANN ({args.epochs} epochs, batch size {args.batch_size})")
# This is Keras' ann.fit(X_train, y_train, batch_size=10, epochs=100), faster: the same steps,
# the same optimizer and loss, the same history, without Keras' per-step overhead. Under TensorFlow
# and JAX each epoch is one compiled call instead of 800 (XLA: always on JAX, on TensorFlow for long
# runs like this one); under PyTorch the steps run one by one, written out in a few tensor
# operations each (tutorial_support/fast/training.py; docs/speed.md measures it).
with timer.measure("fit"):
    history = fit(
        ann, X_train, y_train, batch_size=args.batch_size, epochs=args.epochs, verbose=args.verbose
    )

# Why does this network do well with some seeds and badly with others? A ReLU unit bends the
# network's answer only if it fires (outputs more than 0) for some customers and not for
# others. A unit that fires for everybody is a straight line; one that fires for nobody gets
# no gradient and never learns again. Count, per hidden layer, the units that bend.
hidden = [layer.output for layer in ann.layers[:-1] if isinstance(layer, keras.layers.Dense)]
activations = keras.Model(ann.inputs, hidden).predict(X_train, verbose=0, batch_size=len(X_train))
firing = [np.mean(a > 0, axis=0) for a in activations]  # the share of rows each unit fires for
bending = [int(np.sum((share > 0.01) & (share < 0.99))) for share in firing]
reports.print_bending_units(firing, bending, words["rows"])

# %% Step 7: predict the test set
section("Step 7: predict the test set")
# ann.predict(X_test), computed with NumPy from the weights (faster for a network this small):
# P(leaves) for each test customer; with a softmax, one column per class.
p_test = predict_probabilities(ann, X_test)
y_pred = (p_test > 0.5).astype(int) if p_test.ndim == 1 else p_test.argmax(axis=1)
print(f"predicted: {y_pred}   ({', '.join(f'{k} = {n}' for k, n in enumerate(table.names))})")
print(f"actual:    {y_test}")

# %% Step 8: predict a single new customer
section("Step 8: predict a single new customer")
# Readable fields (--customer "Column=value,..."; the others from the course's example customer,
# or in your table the training rows' typical values) through the same encoder and scaler.
preprocessing = make_pipeline(encoder, scaler)  # saved with the model, for --predict-only
# the table's columns, defaults, categories and ranges: metrics.json, and --predict-only
about = customers.description(table, features_train, names)
customer = customers.read(args.customer, about)
p_customer = predict_probabilities(ann, preprocessing.transform(customer))[0]
new_customer = customers.verdict(p_customer, about)

# %% Step 9: the confusion matrix and its metrics
section("Step 9: the confusion matrix and its metrics")
labels = list(range(CLASSES))
cm = confusion_metrics.confusion_matrix(y_test, y_pred, labels=labels)
# Where two classes and more part ways: only two have a positive class, and so one probability
# to rank by, a threshold (step 13) and ROC and precision-recall curves; the steps ask this flag.
two_classes = table.two_classes
print(confusion_metrics.format_report(cm, labels=table.labels, positive=table.positive_label))
title = f"{words['title']}, test set"
drawn = {  # each figure shown at its step in a notebook; all saved together at the end
    "confusion_matrix.png": figures.show(
        confusion_metrics.plot_confusion_matrix(
            cm, labels=table.labels, normalize="true", title=f"{words['title']} ANN, test set"
        )
    )
}
results = {
    "data": about,
    "new_customer": new_customer,
    "test": class_report(cm, table.classes),
    "backend": runtime.backend(),  # Keras' backend and its version
}
# How sure are these numbers? The test rows are a sample: on another 2,000 customers the same
# network would score a little differently. Each rate gets its 95 % (Wilson) interval, over its
# own count: recall over the customers who leave (405), so it is wider than accuracy's (2,000).
intervals = confusion_metrics.confusion_intervals(cm, positive=1 if two_classes else None)
reports.add_intervals(results["test"], intervals)  # more classes: each class's in per_class
reports.print_test_intervals(results["test"], words)
if two_classes:  # the positive class ("leaves", Exited = 1) against the other
    leaves = confusion_metrics.binary(cm, positive=1, labels=labels)
    results["test"].update(
        {key: getattr(leaves, key) for key in ("precision", "recall", "f1", "tp", "fn", "fp", "tn")}
    )
    # The threshold view: 0.5 is one choice. Every threshold gives its own confusion matrix;
    # the ROC curve (recall against false positive rate) and the precision-recall curve draw
    # them all (drawn in step 13, beside the threshold chosen), and the areas under them sum up
    # the ranking.
    roc_auc = confusion_metrics.roc_auc(y_test, p_test)
    average_precision = confusion_metrics.average_precision(y_test, p_test)

    # An area has no count to divide by: its interval comes from the bootstrap, the area of the
    # test rows drawn again at random (with repeats), 2,000 times over; seeded by --seed.
    def area_intervals(p):
        return {
            f"{name}_interval": confusion_metrics.bootstrap_interval(
                metric, y_test, p, seed=args.seed
            )
            for name, metric in (
                ("roc_auc", confusion_metrics.roc_auc),
                ("average_precision", confusion_metrics.average_precision),
            )
        }

    areas = area_intervals(p_test)
    print(
        f"\nROC AUC {roc_auc:.3f} (95 % interval "
        f"{reports.interval_text(areas['roc_auc_interval'], 3)}): the chance that a random "
        f"{words['a_yes']} gets a higher {words['p']} than a random {words['a_no']}"
    )
    print(
        f"average precision {average_precision:.3f} (95 % interval "
        f"{reports.interval_text(areas['average_precision_interval'], 3)}; flagging everybody "
        f"would score {y_test.mean():.3f})"
    )
    results["test"].update(
        positive=1, roc_auc=roc_auc, average_precision=average_precision, **areas
    )
results["fit"] = {"firing_shares": [s.round(4).tolist() for s in firing], "bending_units": bending}

# %% Step 10: evaluate with k-fold cross-validation
folds = StratifiedKFold(n_splits=args.folds) if args.folds else None  # as cross_val_score's


# The course's variance treats the k fold scores as k independent tries. They are not: any two
# fold models share most of their training rows, so their scores move together and the variance
# understates how far the mean could be off. Nadeau and Bengio (2003) correct it: the variance
# times 1/k + n_test/n_train instead of 1/k, with k folds of n rows testing on n/k rows each.
def fold_rows(k):
    return {"n_train": len(X_train) - len(X_train) / k, "n_test": len(X_train) / k}


comparisons = []  # is a difference between two models real? (steps 11 and 15)
if folds:
    section(f"Step 10: evaluate with {args.folds}-fold cross-validation")
    # cross_val_score(KerasClassifier(build_ann, epochs=100, batch_size=10), X_train, y_train,
    # cv=folds) gives these scores; cross_validate_details trains the folds all at once, and also
    # keeps every row's out-of-fold prediction (step 13) and the held-out learning curves.
    print(
        f"{args.folds} copies of the network, each trained on {1 - 1 / args.folds:.0%} of the rows"
    )
    training = {"epochs": args.epochs, "batch_size": args.batch_size, "seed": args.seed}
    training["verbose"] = args.verbose  # the settings of every cross-validation below
    with timer.measure("cv"):
        tutorial_cv = cross_validate_details(build_ann, X_train, y_train, folds, **training)
    results["cv"] = reports.cross_validation_report(
        "Accuracy",
        tutorial_cv.scores,
        args.folds,
        args.epochs,
        args.batch_size,
        confusion_metrics.cv_mean_interval(tutorial_cv.scores, **fold_rows(args.folds)),
    )
    # each fold model also predicted its held-out rows after every epoch: step 6's figure shows it
    history.update(
        val_loss=tutorial_cv.held_out["val_loss"], val_accuracy=tutorial_cv.held_out["val_accuracy"]
    )

# %% Step 11: improve with dropout
if folds:  # the same network with dropout after each hidden layer
    section("Step 11: improve with dropout (rate 0.1)")
    with timer.measure("cv_dropout"):
        with_dropout = {"dropout": 0.1}  # passed on to build_ann
        dropout_scores = cross_validate(
            build_ann, X_train, y_train, folds, **training, build_args=with_dropout
        )
    results["cv_dropout"] = reports.cross_validation_report(
        "Accuracy with dropout",
        dropout_scores,
        args.folds,
        args.epochs,
        args.batch_size,
        confusion_metrics.cv_mean_interval(dropout_scores, **fold_rows(args.folds)),
    )
    without, dropout = results["cv"], results["cv_dropout"]
    print(
        f"without dropout {without['mean']:.4f} +/- {without['std']:.4f}, "
        f"with dropout {dropout['mean']:.4f} +/- {dropout['std']:.4f}"
    )
    # Real, or luck? Both were scored on the same folds: the corrected t-test of their differences
    dropout_test = confusion_metrics.corrected_resampled_ttest(
        tutorial_cv.scores, dropout_scores, **fold_rows(args.folds)
    )
    comparisons.append(reports.comparison("tutorial network", "network with dropout", dropout_test))
    reports.print_verdict(comparisons[-1], words)

# %% Step 12: tune with a grid search
if args.tune:  # --tune: batch size, epochs and optimizer
    section("Step 12: tune with a grid search")
    tune_folds = StratifiedKFold(n_splits=args.folds or 10)
    grid = list(ParameterGrid(args.tune_grid))
    rows = []
    with timer.measure("tune"):
        for k, params in enumerate(grid, 1):
            print(f"combination {k} of {len(grid)}: {params}", flush=True)
            scores = cross_validate(
                build_ann,
                X_train,
                y_train,
                tune_folds,
                epochs=params.get("epochs", args.epochs),
                batch_size=params.get("batch_size", args.batch_size),
                seed=args.seed,
                build_args={"optimizer": params.get("optimizer", "adam")},
            )
            interval = confusion_metrics.cv_mean_interval(scores, **fold_rows(tune_folds.n_splits))
            rows.append(
                {
                    **params,
                    "mean": float(scores.mean()),
                    "std": float(scores.std()),
                    "mean_interval": list(interval),
                }
            )
            print(
                f"  mean accuracy {scores.mean():.4f} (std {scores.std():.4f}, corrected 95 % "
                f"interval {reports.interval_text(interval)})"
            )
    ranking = pd.DataFrame(rows).sort_values("mean", ascending=False)
    print(
        ranking.drop(columns="mean_interval").to_string(
            index=False, float_format=lambda v: f"{v:.4f}"
        )
    )
    best = ranking.iloc[0].to_dict()
    settings = ", ".join(f"{name}={best[name]}" for name in args.tune_grid)
    print(f"best: {settings}: mean accuracy {best['mean']:.4f} (std {best['std']:.4f})")
    results["tune"] = {"grid": args.tune_grid, "results": rows, "best": best}

# %% Step 13: choose the decision threshold
section("Step 13: choose the decision threshold")  # on held-out predictions, never on the test set
rule = (
    "fixed" if args.threshold else "min-recall" if args.min_recall else args.threshold_rule or "f1"
)
with timer.measure("threshold"):  # held-out predictions: the threshold, and step 17's temperature
    if folds:  # every training row, predicted by the step-10 fold model that did not train on it
        held_y, held_p, held_on = y_train, tutorial_cv.probabilities, "out-of-fold"
    else:  # no folds: hold out 20 % of the training set, train the same network on the rest
        fit_rows, validation_rows = train_test_split(
            np.arange(len(y_train)), test_size=0.2, stratify=y_train, random_state=args.seed
        )
        runtime.seed_everything(args.seed)
        check = build_ann()
        validation = (X_train[validation_rows], y_train[validation_rows])
        validation_history = fit(
            check,
            X_train[fit_rows],
            y_train[fit_rows],
            batch_size=args.batch_size,
            epochs=args.epochs,
            verbose=0,
            validation_data=validation,
        )
        history.update(
            val_loss=validation_history["val_loss"],
            val_accuracy=validation_history["val_accuracy"],
        )
        held_y, held_p = validation[1], predict_probabilities(check, validation[0])
        held_on = "validation"
if two_classes:
    if args.threshold:
        threshold, chosen_on = args.threshold, "given"
    else:
        threshold = confusion_metrics.choose_threshold(
            held_y, held_p, rule=rule, min_recall=args.min_recall
        )
        chosen_on = held_on
    how = {
        "fixed": "given with --threshold",
        "f1": "the best F1",
        "youden": "the best recall minus false positive rate",
        "min-recall": f"the highest that finds {args.min_recall or 0:.0%} of the {words['missed']}",
    }[rule]
    where = {
        "given": "",
        "out-of-fold": " on the out-of-fold predictions of step 10",
        "validation": " on a validation part of the training set (20 %)",
    }[chosen_on]
    print(f"threshold {threshold:.3f}: {how}{where}")
    at_half = reports.decision_metrics(y_test, p_test, 0.5)
    at_chosen = reports.decision_metrics(y_test, p_test, threshold)
    reports.print_decisions({"at 0.5": at_half, f"at {threshold:.3f}": at_chosen}, words)
    # every threshold's confusion matrix as a point on a curve; the two above marked on it
    roc_figure, pr_figure = confusion_metrics.plot_threshold_curves(
        y_test,
        p_test,
        marks={
            "threshold 0.5": at_half["confusion_matrix"],
            f"threshold {threshold:.3f} ({how.removeprefix('given with ')})": at_chosen[
                "confusion_matrix"
            ],
        },
        name="tutorial network",
        title=title,
    )
    drawn["roc_curve.png"] = figures.show(roc_figure)
    drawn["precision_recall_curve.png"] = figures.show(pr_figure)
    results["threshold"] = {
        "value": threshold,
        "chosen_on": chosen_on,
        "rule": rule,
        "test": at_chosen,
    }
    if args.min_recall:
        results["threshold"]["min_recall"] = args.min_recall
else:
    print(
        f"a threshold on one class's probability applies to two classes; {table.target} has "
        f"{CLASSES}, so each row gets its most likely class: skipped"
    )

# %% Step 14: baselines
section("Step 14: baselines")  # on the same split and folds: the bar a network has to clear
baselines = {
    "majority": DummyClassifier(strategy="most_frequent"),  # always the most frequent class
    "logistic_regression": LogisticRegression(),
    "gradient_boosting": HistGradientBoostingClassifier(random_state=args.seed),  # boosted trees
}
results["baselines"], baseline_p, baseline_predicted, baseline_cv = {}, {}, {}, {}
said = {"test_accuracy": "test accuracy", "test_roc_auc": "test ROC AUC", "cv_mean": "CV mean"}
with timer.measure("baselines"):
    for name, model in baselines.items():
        model.fit(X_train, y_train)
        p = model.predict_proba(X_test)
        baseline_p[name] = p[:, 1] if two_classes else p
        baseline_predicted[name] = model.predict(X_test)  # kept for step 15's comparisons
        row = {"test_accuracy": float(np.mean(baseline_predicted[name] == y_test))}
        if name != "majority" and two_classes:
            row["test_roc_auc"] = confusion_metrics.roc_auc(y_test, baseline_p[name])
        if name != "majority" and folds:  # the same folds as the networks'
            baseline_cv[name] = cv_scores = cross_val_score(model, X_train, y_train, cv=folds)
            row.update(cv_mean=float(cv_scores.mean()), cv_std=float(cv_scores.std()))
        results["baselines"][name] = row
        line = ", ".join(f"{said.get(key, 'std')} {value:.4f}" for key, value in row.items())
        print(f"{name.replace('_', ' '):<20} {line}")
if not folds:
    print("(--folds 0: the baselines' cross-validation is skipped)")

# %% Step 15: an improved network
# designed for this data (README), cross-validated the same way
IMPROVED_EPOCHS, IMPROVED_BATCH_SIZE = args.improved_epochs, 32  # chosen by CV on the training set
improved_training = {"epochs": IMPROVED_EPOCHS, "batch_size": IMPROVED_BATCH_SIZE}
section(
    f"Step 15: an improved network ({IMPROVED_EPOCHS} epochs, batch size {IMPROVED_BATCH_SIZE})"
)


# No keras.Input layer: KerasClassifier builds it on the data's width (11) and compiles it
# (Adam, and the loss that fits the output: binary or sparse categorical cross-entropy).
def build_improved():
    return keras.Sequential(
        [
            # He initialisation is scaled for units like these; ELU, unlike ReLU, still passes a
            # gradient for negative inputs, so no unit can go silent for good (see step 6)
            keras.layers.Dense(16, activation="elu", kernel_initializer="he_normal"),
            keras.layers.Dense(8, activation="elu", kernel_initializer="he_normal"),
            keras.layers.Dense(OUTPUTS, activation=OUTPUT_ACTIVATION),
        ],
        name="ann_improved",
    )


improved = KerasClassifier(
    build_improved,
    epochs=IMPROVED_EPOCHS,
    batch_size=IMPROVED_BATCH_SIZE,
    random_state=args.seed,
    verbose=args.verbose,
)
with timer.measure("improved"):
    improved.fit(X_train, y_train)
improved.model_.summary()
p_improved = improved.predict_proba(X_test)
p_improved = p_improved[:, 1] if two_classes else p_improved
if two_classes:
    improved_test = reports.decision_metrics(y_test, p_improved, 0.5)  # with step 9's intervals
    improved_test.update(
        roc_auc=confusion_metrics.roc_auc(y_test, p_improved),
        average_precision=confusion_metrics.average_precision(y_test, p_improved),
        **area_intervals(p_improved),
    )
else:
    improved_cm = confusion_metrics.confusion_matrix(
        y_test, p_improved.argmax(axis=1), labels=labels
    )
    improved_test = class_report(improved_cm, table.classes)
    reports.add_intervals(improved_test, confusion_metrics.confusion_intervals(improved_cm))
results["improved"] = {
    "test": improved_test,
    "epochs": IMPROVED_EPOCHS,
    "batch_size": IMPROVED_BATCH_SIZE,
}
improved_history = dict(improved.history_)
if folds:
    with timer.measure("improved_cv"):
        improved_cv = cross_validate_details(
            build_improved, X_train, y_train, folds, **training | improved_training
        )
    results["improved"]["cv"] = reports.cross_validation_report(
        "Improved network accuracy",
        improved_cv.scores,
        args.folds,
        IMPROVED_EPOCHS,
        IMPROVED_BATCH_SIZE,
        confusion_metrics.cv_mean_interval(improved_cv.scores, **fold_rows(args.folds)),
    )
    improved_history.update(
        val_loss=improved_cv.held_out["val_loss"], val_accuracy=improved_cv.held_out["val_accuracy"]
    )
else:
    print("(--folds 0: the improved network's cross-validation is skipped)")
drawn["training_curves.png"] = figures.show(
    figures.training_curves(
        {"tutorial network (step 6)": history, "improved network (step 15)": improved_history},
        validation_label="held-out folds" if folds else "validation part",
    )
)

# Every model side by side, each against the tutorial network: is the difference real? On the same
# test rows, McNemar's exact test looks only at the rows one of the two got right (those both got
# right, or both wrong, say nothing about which is better); on the same folds, step 11's t-test.
most_frequent = table.names[int(np.bincount(y_train).argmax())]
chance = 0.5 if two_classes else None  # the ROC AUC of a constant answer
models = {  # name: test predictions, test ROC AUC (two classes), CV fold scores (None: not run)
    f"always {most_frequent!r}": (baseline_predicted["majority"], chance, None)
}
for name in ("logistic_regression", "gradient_boosting"):
    auc = results["baselines"][name].get("test_roc_auc")
    models[name.replace("_", " ")] = (baseline_predicted[name], auc, baseline_cv.get(name))
tutorial_scores = tutorial_cv.scores if folds else None
models["tutorial network"] = (y_pred, results["test"].get("roc_auc"), tutorial_scores)
models["improved network"] = (  # at 0.5, as the tutorial network
    predicted_classes(p_improved),
    improved_test.get("roc_auc"),
    improved_cv.scores if folds else None,
)
tutorial_right, side_by_side = y_pred == y_test, []
for name, (predicted, auc, cv_scores) in models.items():
    right = predicted == y_test
    accuracy_interval = confusion_metrics.wilson_interval(right.sum(), right.size)
    cv_mean = None if cv_scores is None else cv_scores.mean()
    side_by_side.append((name, right.mean(), accuracy_interval, auc, cv_mean))
    if name == "tutorial network":
        continue
    on_test = confusion_metrics.mcnemar_exact(tutorial_right, right)
    comparisons.append(reports.comparison("tutorial network", name, on_test))
    if cv_scores is not None:
        on_folds = confusion_metrics.corrected_resampled_ttest(
            tutorial_scores, cv_scores, **fold_rows(args.folds)
        )
        comparisons.append(reports.comparison("tutorial network", name, on_folds))
reports.print_comparison(side_by_side, comparisons)
print(
    "p: how often a difference this large would come from chance alone if the two models were "
    "equally good; below 0.05, call it real"
)
for compared in comparisons:
    if compared["b"] in ("improved network", "gradient boosting"):
        reports.print_verdict(compared, words)
results["comparisons"] = comparisons

# %% Step 16: which facts drive churn
section(f"Step 16: which facts drive {words['topic']}")  # permutation importance, improved network
# Shuffle one column of the test table at a time and measure how much ROC AUC (with three or more
# classes: accuracy) drops: the more the network relies on a fact, the more scrambling it hurts.
# The pipeline takes the readable table, so Geography counts as one fact, not as two columns.
score_name, scoring = ("ROC AUC", "roc_auc") if two_classes else ("accuracy", "accuracy")
columns = list(features.columns)
with timer.measure("importance"):
    importance = permutation_importance(
        make_pipeline(preprocessing, improved),
        features_test,
        y_test,
        scoring=scoring,
        n_repeats=10,
        random_state=args.seed,
    )
order = np.argsort(importance.importances_mean)[::-1]
width = max(16, *map(len, columns))
for k in order:
    mean, spread = importance.importances_mean[k], importance.importances_std[k]
    print(f"  {columns[k]:<{width}} {score_name} drops by {mean:.3f} (+/- {spread:.3f})")
results["feature_importance"] = {columns[k]: float(importance.importances_mean[k]) for k in order}
drawn["feature_importance.png"] = figures.show(
    figures.importance_bars(
        {
            columns[k]: (importance.importances_mean[k], importance.importances_std[k])
            for k in order
        },
        xlabel=f"drop in test {score_name} when the column is shuffled (10 shuffles)",
        title="What the improved network relies on",
    )
)

# Where the two networks part: the test rows grouped by the fact the improved network relies on
# most. In the bank's table, customers with 3 or 4 products mostly leave: a bend that a network
# whose hidden units do not bend (step 6) cannot draw.
top = columns[order[0]]
groups = reports.by_group(
    features_test[top],
    y_test,
    {"tutorial network": p_test, "improved network": p_improved},
    table,
)
print(f"\nTest {words['rows']} by {top}:")
print(groups.to_string(formatters={name: "{:.0%}".format for name in groups.columns[1:]}))
results["by_group"] = {"column": top, **groups.reset_index().to_dict(orient="list")}

# %% Step 17: can the probabilities be taken at their word
section("Step 17: can the probabilities be taken at their word")
# Calibration: of the customers given P(leaves) = 0.3, do 3 in 10 leave? The expected calibration
# error (ECE) is the gap between said and done, averaged over 10 bins of P(leaves) (three or more
# classes: of the most likely class's probability); the Brier score and the log loss score every
# probability against what happened (lower is better for all three).
calibration = {
    name: confusion_metrics.calibration_summary(y_test, p, n_bins=10)
    for name, p in (
        ("tutorial", p_test),
        ("improved", p_improved),
        ("gradient_boosting", baseline_p["gradient_boosting"]),
    )
}


# Temperature scaling (Guo et al. 2017): p' = sigmoid(logit(p) / T), for a softmax
# softmax(log(p) / T). T > 1 softens over-confident probabilities, T < 1 sharpens timid ones; the
# ranking, and so ROC AUC, stays the same. T is fitted on the held-out predictions of step 13,
# never on the test set: the T with the lowest log loss there.
def with_temperature(p, temperature):
    p = np.clip(np.asarray(p, dtype=np.float64), 1e-7, 1 - 1e-7)
    if p.ndim == 1:
        return expit(logit(p) / temperature)
    return softmax(np.log(p) / temperature, axis=1)


temperature = minimize_scalar(
    lambda t: confusion_metrics.log_loss(held_y, with_temperature(held_p, t)),
    bounds=(0.05, 20),
    method="bounded",
).x
p_test_tempered = with_temperature(p_test, temperature)
calibration["temperature"] = {
    "value": float(temperature),
    "chosen_on": held_on,
    "test": confusion_metrics.calibration_summary(y_test, p_test_tempered, n_bins=10),
}
print(f"temperature T = {temperature:.3f}, fitted on the {held_on} predictions of step 13")
print(f"{'test set':<32}{'ECE':>8}{'Brier':>8}{'log loss':>10}")
for name, row in (
    ("tutorial network", calibration["tutorial"]),
    (f"tutorial network, T = {temperature:.2f}", calibration["temperature"]["test"]),
    ("improved network", calibration["improved"]),
    ("gradient boosting", calibration["gradient_boosting"]),
):
    print(f"{name:<32}{row['ece']:>8.4f}{row['brier']:>8.4f}{row['log_loss']:>10.4f}")
results["calibration"] = calibration
reliability = {
    "tutorial network": (y_test, p_test),
    f"tutorial network, T = {temperature:.2f}": (y_test, p_test_tempered),
    "improved network": (y_test, p_improved),
    "gradient boosting": (y_test, baseline_p["gradient_boosting"]),
}
drawn["reliability_diagram.png"] = figures.show(
    confusion_metrics.plot_reliability_diagram(reliability, title=title)
)

# %% Outputs: model, preprocessing, figures, test predictions and metrics.json, published together
results["timings_s"] = {**timer.seconds, "total": timer.total()}
results["config"] = cli.flags_as_json(args)
# each test row's id (its row in the file), class and the tutorial network's answer at 0.5, for
# `python -m confusion_metrics compare RUN_A RUN_B`: is another run's difference real?
predictions = reports.test_predictions(features_test.index, y_test, y_pred, p_test, table.names)
with StagedOutputs(args.output_dir) as outputs:
    ann.save(outputs.path(customers.ANN_MODEL))
    improved.model_.save(outputs.path(customers.ANN_IMPROVED_MODEL))
    joblib.dump(preprocessing, outputs.path(customers.ANN_PREPROCESSING))
    for name, figure in drawn.items():
        outputs.save_figure(name, figure)
    predictions.to_csv(outputs.path(reports.TEST_PREDICTIONS), index=False, float_format="%.6g")
    outputs.write_json("metrics.json", results)
print(
    f"\nSaved the models, the figures, {reports.TEST_PREDICTIONS} and metrics.json in "
    f"{args.output_dir}"
)
print(timer.summary())
