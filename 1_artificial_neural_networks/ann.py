"""Artificial neural network: will a bank customer leave? (Churn_Modelling.csv, or your own table)

Run it from anywhere:  python ann.py   or   python 1_artificial_neural_networks/ann.py
Your own CSV:          python ann.py --data table.csv --target COLUMN
It runs top to bottom; each "# %% Step N" cell is the README's step N (run them one by
one in VS Code or Jupyter, where the SETTINGS cell below takes the place of the command
line). `python ann.py --help` lists every flag.
"""

# %% Settings: in a notebook, change the run here; flags on the command line are added after them
SETTINGS = ""  # e.g. "--epochs 20 --folds 5 --data path/to/data" or "--data table.csv --target COLUMN"

# %% Setup: TensorFlow quietly, the flags, the device, the seed
import sys
from pathlib import Path

try:
    from tutorial_support import runtime  # before keras: silences TensorFlow's start-up logs
except ModuleNotFoundError as missing:  # no virtualenv active, or the requirements not installed
    print(f"error: {sys.executable} has no {missing.name}: run `make ann`, or activate .venv "
          "(. .venv/bin/activate), or pip install -r requirements.txt", file=sys.stderr)  # fmt: skip
    sys.exit(2)

import math

import joblib
import keras
import numpy as np
import pandas as pd
from sklearn.dummy import DummyClassifier
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.inspection import permutation_importance
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import ParameterGrid, StratifiedKFold, cross_val_score, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from scipy.optimize import minimize_scalar
from scipy.special import expit, logit, softmax

import confusion_metrics
from tutorial_support import KerasClassifier, ann_flags, cli, data, reports, saved_models, tables
from tutorial_support.cross_validation import cross_validate, cross_validate_details
from tutorial_support.figures import importance_bars, training_curves
from tutorial_support.outputs import StagedOutputs
from tutorial_support.reports import section
from tutorial_support.stacked_training import fit, predict_probabilities, predicted_classes

HERE = Path(__file__).resolve().parent if "__file__" in globals() else Path.cwd()  # a notebook has no __file__
args = ann_flags.read(SETTINGS, HERE)  # a bad flag stops here with one line
timer = runtime.StepTimer()
print(runtime.setup_device())
runtime.seed_everything(args.seed)
if args.predict_only:  # step 8 alone, from the model a previous run saved
    saved_models.predict_customer_from_saved(args.output_dir, args.customer)
    raise SystemExit(0)

# %% Step 1: import the dataset
section("Step 1: import the dataset")
# the course's churn table (strictly checked), or any CSV: --data table.csv --target COLUMN
table = tables.load(data.churn_csv(args.data), target=args.target, positive=args.positive)
features, y, class_names = table.features, table.y, table.classes
if table.is_course:
    print(f"{len(features):,} customers, {y.mean():.2%} of them left the bank (Exited = 1)")
else:  # every decision about the columns, one line each (also in metrics.json)
    print(f"{len(features):,} rows of {table.path.name}, {features.shape[1]} feature columns kept")
for line in table.decisions():
    print(line)
words = table.words()  # "customers" who "leave" in the bank's table, "rows" of a class in yours

# %% Step 2: encode categorical data
section("Step 2: encode categorical data")
# Text becomes numbers. The course's table: Geography one-hot without France (France is 0, 0),
# Gender 0 (Female) or 1 (Male). Your table: each text column one-hot, one 0/1 column per category.
# Step 3 fits it on the training rows (with empty cells filled in from them), so nothing leaks from the test set.
encoder = table.encoder()
print("text columns encoded: " + (", ".join(table.text) or "none") + "; numbers kept: " + ", ".join(table.numbers))

# %% Step 3: split into training and test sets
section("Step 3: split into training and test sets")  # 80 % to learn from, 20 % to test on
# (your own table: stratified, each class in proportion, so that a rare class reaches the test set too)
features_train, features_test, y_train, y_test = train_test_split(
    features, y, test_size=0.2, random_state=0, stratify=None if table.is_course else y
)
X_train = encoder.fit_transform(features_train)  # step 2's encoding, learnt on the training rows
X_test = encoder.transform(features_test)
names = encoder.get_feature_names_out()
print(f"training set {len(X_train):,} rows, test set {len(X_test):,} rows; {len(names)} features: " + ", ".join(names))
tables.check_folds(y_train, args.folds, class_names)  # every class needs a row in every fold

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
INPUTS = X_train.shape[1]  # 11 for the course's table
OUTPUTS = 1 if len(class_names) == 2 else len(class_names)
OUTPUT_ACTIVATION, LOSS = ("sigmoid", "binary_crossentropy") if OUTPUTS == 1 else ("softmax", "sparse_categorical_crossentropy")
UNITS = math.ceil((INPUTS + OUTPUTS) / 2)  # the old rule of thumb: (11 + 1) / 2 = 6 hidden units


# A function, because steps 10 to 12 build it again for every cross-validation fold.
def build_ann(optimizer="adam", dropout=0.0):
    layers = [keras.Input(shape=(INPUTS,))]
    for _ in range(2):  # two hidden layers of ReLU units
        layers.append(keras.layers.Dense(UNITS, activation="relu", kernel_initializer="uniform"))
        if dropout:  # step 11: switch off a random 10 % of the units at each step
            layers.append(keras.layers.Dropout(dropout))
    layers.append(keras.layers.Dense(OUTPUTS, activation=OUTPUT_ACTIVATION, kernel_initializer="uniform"))
    ann = keras.Sequential(layers, name="churn_ann" if table.is_course else "table_ann")
    ann.compile(optimizer=optimizer, loss=LOSS, metrics=["accuracy"])  # compile: Adam, and the loss
    return ann


ann = build_ann()
ann.summary()

# %% Step 6: fit the ANN
if args.epochs is None:  # the course's 100 epochs show the network 800,000 rows in all (100 x 8,000);
    args.epochs = max(10, min(100, round(800_000 / len(X_train))))  # a larger table: as many rows, fewer epochs
section(f"Step 6: fit the ANN ({args.epochs} epochs, batch size {args.batch_size})")
# fit() takes the same steps as ann.fit(X_train, y_train, batch_size=10, epochs=100), but runs
# each epoch as one compiled TensorFlow call: many times faster for a network this small
# (docs/speed.md measures it).
with timer.measure("fit"):
    history = fit(ann, X_train, y_train, batch_size=args.batch_size, epochs=args.epochs, verbose=args.verbose)

# Why does this network do well with some seeds and badly with others? A ReLU unit bends the
# network's answer only if it fires (outputs more than 0) for some customers and not for
# others. A unit that fires for everybody is a straight line; one that fires for nobody gets
# no gradient and never learns again. Count, per hidden layer, the units that bend.
hidden = [layer.output for layer in ann.layers[:-1] if isinstance(layer, keras.layers.Dense)]
activations = keras.Model(ann.inputs, hidden).predict(X_train, verbose=0, batch_size=len(X_train))
firing = [np.mean(a > 0, axis=0) for a in activations]  # the share of customers each unit fires for
bending = [int(np.sum((share > 0.01) & (share < 0.99))) for share in firing]
reports.print_bending_units(firing, bending, words["rows"])

# %% Step 7: predict the test set
section("Step 7: predict the test set")
p_test = predict_probabilities(ann, X_test)  # P(leaves) for each test customer (softmax: one column per class)
y_pred = predicted_classes(p_test)  # leaves if more likely than not (softmax: the most likely class)
print(f"predicted: {y_pred}   ({'1 = leaves' if table.is_course else ', '.join(f'{k} = {c}' for k, c in enumerate(class_names))})")
print(f"actual:    {y_test}")

# %% Step 8: predict a single new customer
section("Step 8: predict a single new customer")
# given as readable fields (--customer "Column=value,..."), which go through the same fitted encoder and scaler
preprocessing = make_pipeline(encoder, scaler)  # saved with the model, so --predict-only needs no retraining
customer = table.customer(args.customer, features_train)
new_customer = saved_models.predict_customer(ann, preprocessing, customer, class_names, table.is_course)

# %% Step 9: the confusion matrix and its metrics
section("Step 9: the confusion matrix and its metrics")
labels = list(range(len(class_names)))
cm = confusion_metrics.confusion_matrix(y_test, y_pred, labels=labels)
results = {"data": {**table.description(), "features": names.tolist()}}
if not table.is_course:  # what --predict-only fills in for the fields --customer leaves out
    results["data"]["typical"] = table.typical_row(features_train)

if table.two_classes:  # metrics from the confusion matrix, "leaves" (Exited = 1) being the positive class
    print(confusion_metrics.format_report(cm, labels=table.class_labels(), positive=table.class_labels()[1]))
    leaves = confusion_metrics.binary(cm, positive=1, labels=labels)

    # The threshold view: 0.5 is one choice. Every threshold gives its own confusion matrix;
    # the ROC curve (recall against false positive rate) and the precision-recall curve draw
    # them all (saved as figures at the end), and the areas under them sum up the ranking.
    roc_auc = confusion_metrics.roc_auc(y_test, p_test)
    average_precision = confusion_metrics.average_precision(y_test, p_test)
    print(f"\nROC AUC {roc_auc:.3f}: the chance that a random {words['a_yes']} gets a higher {words['p']} "
          f"than a random {words['a_no']}")  # fmt: skip
    print(f"average precision {average_precision:.3f} (flagging everybody would score {y_test.mean():.3f})")
    results["test"] = {
        "confusion_matrix": cm.tolist(), "labels": labels, "positive": 1, "class_names": class_names,
        "accuracy": leaves.accuracy, "precision": leaves.precision, "recall": leaves.recall, "f1": leaves.f1,
        "tp": leaves.tp, "fn": leaves.fn, "fp": leaves.fp, "tn": leaves.tn,
        "roc_auc": roc_auc, "average_precision": average_precision,
    }  # fmt: skip
else:  # three or more classes: every class in turn is the positive one
    print(confusion_metrics.format_report(cm, labels=class_names))
    results["test"] = reports.class_report(cm, class_names)
results["fit"] = {"firing_shares": [share.round(4).tolist() for share in firing], "bending_units": bending}
results["new_customer"] = new_customer

# %% Step 10: evaluate with k-fold cross-validation
folds = StratifiedKFold(n_splits=args.folds) if args.folds else None  # what cross_val_score uses
if folds:
    section(f"Step 10: evaluate with {args.folds}-fold cross-validation")
    print(f"{args.folds} copies of the network, one per fold, each trained on its own {1 - 1 / args.folds:.0%} of the rows")
    with timer.measure("cv"):
        tutorial_cv = cross_validate_details(
            build_ann, X_train, y_train, folds, epochs=args.epochs, batch_size=args.batch_size,
            seed=args.seed, verbose=args.verbose,
        )  # fmt: skip
    results["cv"] = reports.cross_validation_report("Accuracy", tutorial_cv.scores, args.folds, args.epochs, args.batch_size)
    # each fold model also predicted its held-out rows after every epoch: step 6's figure shows it
    history.update(val_loss=tutorial_cv.held_out["val_loss"], val_accuracy=tutorial_cv.held_out["val_accuracy"])

# %% Step 11: improve with dropout
if folds:  # the same network with dropout after each hidden layer
    section("Step 11: improve with dropout (rate 0.1)")
    with timer.measure("cv_dropout"):
        scores = cross_validate(
            build_ann, X_train, y_train, folds, epochs=args.epochs, batch_size=args.batch_size,
            seed=args.seed, build_args={"dropout": 0.1}, verbose=args.verbose,
        )  # fmt: skip
    results["cv_dropout"] = reports.cross_validation_report(
        "Accuracy with dropout", scores, args.folds, args.epochs, args.batch_size
    )
    print(
        f"without dropout {results['cv']['mean']:.4f} +/- {results['cv']['std']:.4f}, "
        f"with dropout {results['cv_dropout']['mean']:.4f} +/- {results['cv_dropout']['std']:.4f}"
    )

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
                build_ann, X_train, y_train, tune_folds, epochs=params.get("epochs", args.epochs),
                batch_size=params.get("batch_size", args.batch_size), seed=args.seed,
                build_args={"optimizer": params.get("optimizer", "adam")},
            )  # fmt: skip
            rows.append({**params, "mean": float(scores.mean()), "std": float(scores.std())})
            print(f"  mean accuracy {scores.mean():.4f} (std {scores.std():.4f})")
    ranking = pd.DataFrame(rows).sort_values("mean", ascending=False)
    print(ranking.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    best = ranking.iloc[0].to_dict()
    settings = ", ".join(f"{name}={best[name]}" for name in args.tune_grid)
    print(f"best: {settings}: mean accuracy {best['mean']:.4f} (std {best['std']:.4f})")
    results["tune"] = {"grid": args.tune_grid, "results": rows, "best": best}

# %% Step 13: choose the decision threshold
section("Step 13: choose the decision threshold")  # on held-out predictions, never on the test set
rule = "fixed" if args.threshold else "min-recall" if args.min_recall else args.threshold_rule or "f1"
with timer.measure("threshold"):  # held-out predictions: for the threshold, and for step 17's temperature
    if folds:  # every training customer, predicted by the step-10 fold model that did not train on them
        held_y, held_p, held_on = y_train, tutorial_cv.probabilities, "out-of-fold"
    else:  # no folds: hold out 20 % of the training set, train the same network on the rest
        fit_rows, validation_rows = train_test_split(
            np.arange(len(y_train)), test_size=0.2, stratify=y_train, random_state=args.seed
        )  # fmt: skip
        runtime.seed_everything(args.seed)
        check = build_ann()
        validation_history = fit(
            check, X_train[fit_rows], y_train[fit_rows], batch_size=args.batch_size, epochs=args.epochs,
            verbose=0, validation_data=(X_train[validation_rows], y_train[validation_rows]),
        )  # fmt: skip
        history.update(val_loss=validation_history["val_loss"], val_accuracy=validation_history["val_accuracy"])
        held_y, held_p, held_on = y_train[validation_rows], predict_probabilities(check, X_train[validation_rows]), "validation"
    if not table.two_classes:
        threshold, chosen_on = None, None
    elif args.threshold:
        threshold, chosen_on = args.threshold, "given"
    else:
        threshold, chosen_on = confusion_metrics.choose_threshold(held_y, held_p, rule=rule, min_recall=args.min_recall), held_on
if table.two_classes:
    how = {"fixed": "given with --threshold", "f1": "the best F1", "youden": "the best recall minus false positive rate",
           "min-recall": f"the highest that finds {args.min_recall:.0%} of the {words['missed']}" if args.min_recall else ""}[rule]
    where = {"given": "", "out-of-fold": " on the out-of-fold predictions of step 10",
             "validation": " on a validation part of the training set (20 %)"}[chosen_on]
    print(f"threshold {threshold:.3f}: {how}{where}")
    chosen_name = f"at {threshold:.3f}"
    at_half, at_chosen = reports.decision_metrics(y_test, p_test, 0.5), reports.decision_metrics(y_test, p_test, threshold)
    reports.print_decisions({"at 0.5": at_half, chosen_name: at_chosen}, words)
    results["threshold"] = {"value": threshold, "chosen_on": chosen_on, "rule": rule, "test": at_chosen}
    if args.min_recall:
        results["threshold"]["min_recall"] = args.min_recall
else:
    print(f"a threshold on one class's probability applies to two classes; {table.target} has {len(class_names)}, "
          "so each row gets its most likely class: skipped")  # fmt: skip

# %% Step 14: baselines
section("Step 14: baselines")  # on the same split and folds: the bar a network has to clear
baselines = {
    "majority": DummyClassifier(strategy="most_frequent"),  # always the most frequent class ("stays")
    "logistic_regression": LogisticRegression(),
    "gradient_boosting": HistGradientBoostingClassifier(random_state=args.seed),  # boosted decision trees
}
results["baselines"], baseline_p = {}, {}
with timer.measure("baselines"):
    for name, model in baselines.items():
        model.fit(X_train, y_train)
        baseline_p[name] = model.predict_proba(X_test)[:, 1] if table.two_classes else model.predict_proba(X_test)
        row = {"test_accuracy": float(np.mean(model.predict(X_test) == y_test))}
        if name != "majority" and table.two_classes:
            row["test_roc_auc"] = confusion_metrics.roc_auc(y_test, baseline_p[name])
        if name != "majority":
            if folds:
                cv_scores = cross_val_score(model, X_train, y_train, cv=folds)
                row.update(cv_mean=float(cv_scores.mean()), cv_std=float(cv_scores.std()))
        results["baselines"][name] = row
        said = {"test_accuracy": "test accuracy", "test_roc_auc": "test ROC AUC", "cv_mean": "CV mean", "cv_std": "std"}
        print(f"{name.replace('_', ' '):<20} " + ", ".join(f"{said[key]} {value:.4f}" for key, value in row.items()))
if not folds:
    print("(--folds 0: the baselines' cross-validation is skipped)")

# %% Step 15: an improved network
# designed for this data (README), cross-validated the same way
IMPROVED_EPOCHS, IMPROVED_BATCH_SIZE = args.improved_epochs, 32  # 60 and 32, chosen by cross-validation on the training set
section(f"Step 15: an improved network ({IMPROVED_EPOCHS} epochs, batch size {IMPROVED_BATCH_SIZE})")


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
        name="churn_ann_improved" if table.is_course else "table_ann_improved",
    )


improved = KerasClassifier(
    build_improved, epochs=IMPROVED_EPOCHS, batch_size=IMPROVED_BATCH_SIZE, random_state=args.seed, verbose=args.verbose
)  # fmt: skip
with timer.measure("improved"):
    improved.fit(X_train, y_train)
improved.model_.summary()
p_improved = improved.predict_proba(X_test)[:, 1] if table.two_classes else improved.predict_proba(X_test)
if table.two_classes:
    improved_test = reports.decision_metrics(y_test, p_improved, 0.5)
    improved_test.update(
        roc_auc=confusion_metrics.roc_auc(y_test, p_improved),
        average_precision=confusion_metrics.average_precision(y_test, p_improved),
    )
else:
    improved_test = reports.class_report(
        confusion_metrics.confusion_matrix(y_test, predicted_classes(p_improved), labels=labels), class_names
    )  # fmt: skip
results["improved"] = {"test": improved_test, "epochs": IMPROVED_EPOCHS, "batch_size": IMPROVED_BATCH_SIZE}
improved_history = dict(improved.history_)
if folds:
    with timer.measure("improved_cv"):
        improved_cv = cross_validate_details(
            build_improved, X_train, y_train, folds, epochs=IMPROVED_EPOCHS, batch_size=IMPROVED_BATCH_SIZE,
            seed=args.seed, verbose=args.verbose,
        )  # fmt: skip
    results["improved"]["cv"] = reports.cross_validation_report(
        "Improved network accuracy", improved_cv.scores, args.folds, IMPROVED_EPOCHS, IMPROVED_BATCH_SIZE
    )
    improved_history.update(val_loss=improved_cv.held_out["val_loss"], val_accuracy=improved_cv.held_out["val_accuracy"])
else:
    print("(--folds 0: the improved network's cross-validation is skipped)")

if table.is_course:  # Where the tutorial network's bad seeds lose: customers with 3 or 4 products
    # mostly leave, a bend that a network whose hidden units do not bend (step 6) cannot draw.
    products = pd.DataFrame({
        "customers": y_test, "leave (actual)": y_test, "tutorial network": p_test, "improved network": p_improved,
    }).groupby(features_test["NumOfProducts"].to_numpy().astype(int)).agg(
        {"customers": "size", "leave (actual)": "mean", "tutorial network": "mean", "improved network": "mean"}
    )  # fmt: skip
    products.index.name = "products"
    print("\nShare of test customers who leave, by number of products, and the mean P(leaves) predicted:")
    print(products.to_string(formatters={name: "{:.0%}".format for name in products.columns[1:]}))
    results["by_products"] = products.reset_index().to_dict(orient="list")

comparison = [  # ROC AUC: two classes only
    ("always 'stays'" if table.is_course else "most frequent class", results["baselines"]["majority"]["test_accuracy"],
     0.5 if table.two_classes else None, None),
    ("logistic regression", *(results["baselines"]["logistic_regression"].get(k) for k in ("test_accuracy", "test_roc_auc", "cv_mean"))),
    ("gradient boosting", *(results["baselines"]["gradient_boosting"].get(k) for k in ("test_accuracy", "test_roc_auc", "cv_mean"))),
    ("tutorial network", results["test"]["accuracy"], results["test"].get("roc_auc"), results.get("cv", {}).get("mean")),
    ("improved network", improved_test["accuracy"], improved_test.get("roc_auc"), results["improved"].get("cv", {}).get("mean")),
]  # fmt: skip
reports.print_comparison(comparison)

# %% Step 16: which facts drive churn
section(f"Step 16: which facts drive {words['topic']}")  # permutation importance of the improved network
# Shuffle one column of the test table at a time and measure how much ROC AUC (with three or more
# classes: accuracy) drops: the more the network relies on a fact, the more scrambling it hurts.
# The pipeline takes the readable table, so Geography counts as one fact, not as two encoded columns.
score_name, scoring = ("ROC AUC", "roc_auc") if table.two_classes else ("accuracy", "accuracy")
columns = list(features.columns)
with timer.measure("importance"):
    importance = permutation_importance(
        make_pipeline(preprocessing, improved), features_test, y_test, scoring=scoring, n_repeats=10,
        random_state=args.seed,
    )  # fmt: skip
order = np.argsort(importance.importances_mean)[::-1]
for k in order:
    print(f"  {columns[k]:<{max(16, *map(len, columns))}} {score_name} drops by {importance.importances_mean[k]:.3f} (+/- {importance.importances_std[k]:.3f})")
results["feature_importance"] = {columns[k]: float(importance.importances_mean[k]) for k in order}

# %% Step 17: can the probabilities be taken at their word
section("Step 17: can the probabilities be taken at their word")
# Calibration: of the customers given P(leaves) = 0.3, do 3 in 10 leave? The expected calibration
# error (ECE) is the gap between said and done, averaged over 10 bins of P(leaves) (three or more
# classes: of the most likely class's probability); the Brier score and the log loss score every
# probability against what happened (lower is better for all three).
calibration = {
    name: confusion_metrics.calibration_summary(y_test, p, n_bins=10)
    for name, p in (("tutorial", p_test), ("improved", p_improved), ("gradient_boosting", baseline_p["gradient_boosting"]))
}  # fmt: skip


# Temperature scaling (Guo et al. 2017): p' = sigmoid(logit(p) / T), for a softmax softmax(log(p) / T).
# T > 1 softens over-confident probabilities, T < 1 sharpens timid ones; the ranking, and so ROC AUC,
# stays the same. T is fitted on the held-out predictions of step 13, never on the test set: the T with
# the lowest log loss there.
def with_temperature(p, temperature):
    p = np.clip(np.asarray(p, dtype=np.float64), 1e-7, 1 - 1e-7)
    return expit(logit(p) / temperature) if p.ndim == 1 else softmax(np.log(p) / temperature, axis=1)


temperature = minimize_scalar(
    lambda t: confusion_metrics.log_loss(held_y, with_temperature(held_p, t)), bounds=(0.05, 20), method="bounded"
).x  # fmt: skip
p_test_tempered = with_temperature(p_test, temperature)
calibration["temperature"] = {
    "value": float(temperature), "chosen_on": held_on,
    "test": confusion_metrics.calibration_summary(y_test, p_test_tempered, n_bins=10),
}  # fmt: skip
print(f"temperature T = {temperature:.3f}, fitted on the {held_on} predictions of step 13")
print(f"{'test set':<32}{'ECE':>8}{'Brier':>8}{'log loss':>10}")
for name, row in (("tutorial network", calibration["tutorial"]), (f"tutorial network, T = {temperature:.2f}",
                  calibration["temperature"]["test"]), ("improved network", calibration["improved"]),
                  ("gradient boosting", calibration["gradient_boosting"])):  # fmt: skip
    print(f"{name:<32}{row['ece']:>8.4f}{row['brier']:>8.4f}{row['log_loss']:>10.4f}")
results["calibration"] = calibration

# %% Outputs: model, preprocessing, figures and metrics.json, published together
results["timings_s"] = {**timer.seconds, "total": timer.total()}
results["config"] = cli.flags_as_json(args)
with StagedOutputs(args.output_dir) as outputs:
    ann.save(outputs.path(saved_models.ANN_MODEL))
    improved.model_.save(outputs.path(saved_models.ANN_IMPROVED_MODEL))
    joblib.dump(preprocessing, outputs.path(saved_models.ANN_PREPROCESSING))
    title = "Churn" if table.is_course else table.path.name
    outputs.save_figure(
        "confusion_matrix.png",
        confusion_metrics.plot_confusion_matrix(cm, labels=table.class_labels(), normalize="true", title=f"{title} ANN, test set"),
    )
    outputs.save_figure(
        "training_curves.png",
        training_curves(
            {"tutorial network (step 6)": history, "improved network (step 15)": improved_history},
            validation_label="held-out folds" if folds else "validation part",
        ),
    )
    if table.two_classes:  # one curve per model, one confusion matrix per threshold
        roc_figure, pr_figure = confusion_metrics.plot_threshold_curves(
            y_test, p_test, marks={
                "tutorial network at 0.5": at_half["confusion_matrix"],
                f"tutorial network at {threshold:.3f} (step 13)": at_chosen["confusion_matrix"],
            },
            compare={"improved network": p_improved, "gradient boosting": baseline_p["gradient_boosting"]},
            name="tutorial network", title=f"{title}, test set",
        )  # fmt: skip
        outputs.save_figure("roc_curve.png", roc_figure)
        outputs.save_figure("precision_recall_curve.png", pr_figure)
    outputs.save_figure(
        "feature_importance.png",
        importance_bars(
            {columns[k]: (importance.importances_mean[k], importance.importances_std[k]) for k in order},
            xlabel=f"drop in test {score_name} when the column is shuffled (mean and spread of 10 shuffles)",
            title="What the improved network relies on",
        ),
    )
    outputs.save_figure(
        "reliability_diagram.png",
        confusion_metrics.plot_reliability_diagram({
            "tutorial network": (y_test, p_test), f"tutorial network, T = {temperature:.2f}": (y_test, p_test_tempered),
            "improved network": (y_test, p_improved), "gradient boosting": (y_test, baseline_p["gradient_boosting"]),
        }, title=f"{title}, test set"),
    )  # fmt: skip
    outputs.write_json("metrics.json", results)
print(f"\nSaved the model, the figures and metrics.json in {args.output_dir}")
print(timer.summary())
