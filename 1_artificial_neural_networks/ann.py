"""Artificial neural network: will a bank customer leave? (Churn_Modelling.csv)

Run it from anywhere:  python ann.py   or   python 1_artificial_neural_networks/ann.py
It runs top to bottom; each "# %% Step N" cell is the README's step N (run them one by
one in VS Code or Jupyter, where the SETTINGS cell below takes the place of the command
line). `python ann.py --help` lists every flag.
"""

# %% Settings: in a notebook, change the run here; flags on the command line are added after them
SETTINGS = ""  # e.g. "--epochs 20 --folds 5 --data path/to/data"

# %% Setup: TensorFlow quietly, the flags, the device, the seed
import sys
from pathlib import Path

try:
    from tutorial_support import runtime  # before keras: silences TensorFlow's start-up logs
except ModuleNotFoundError as missing:  # no virtualenv active, or the requirements not installed
    print(f"error: {sys.executable} has no {missing.name}: run `make ann`, or activate .venv "
          "(. .venv/bin/activate), or pip install -r requirements.txt", file=sys.stderr)  # fmt: skip
    sys.exit(2)

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
from scipy.special import expit, logit

import confusion_metrics
from tutorial_support import KerasBinaryClassifier, ann_flags, churn, cli, data, reports, saved_models
from tutorial_support.cross_validation import cross_validate, cross_validate_details
from tutorial_support.errors import TutorialError
from tutorial_support.figures import importance_bars, training_curves
from tutorial_support.outputs import StagedOutputs
from tutorial_support.reports import section
from tutorial_support.stacked_training import fit, predict_probabilities

HERE = Path(__file__).resolve().parent if "__file__" in globals() else Path.cwd()  # a notebook has no __file__
args = ann_flags.read(SETTINGS, HERE)  # a bad flag stops here with one line
timer = runtime.StepTimer()
print(runtime.setup_device())
runtime.seed_everything(args.seed)
customer = churn.parse_customer(args.customer)  # checked now, used in step 8
if args.predict_only:  # step 8 alone, from the model a previous run saved
    saved_models.predict_customer_from_saved(args.output_dir, customer)
    raise SystemExit(0)

# %% Step 1: import the dataset
section("Step 1: import the dataset")
features, exited = churn.load_churn(data.churn_csv(args.data))
print(f"{len(features):,} customers, {exited.mean():.2%} of them left the bank (Exited = 1)")

# %% Step 2: encode categorical data
section("Step 2: encode categorical data")
# Geography one-hot without France (France is 0, 0), Gender 0 (Female) or 1 (Male)
encoder = churn.make_encoder()
X = encoder.fit_transform(features)
names = encoder.get_feature_names_out()
print(f"{len(names)} features: " + ", ".join(names))

# %% Step 3: split into training and test sets
section("Step 3: split into training and test sets")  # 80 % to learn from, 20 % to test on
X_train, X_test, y_train, y_test = train_test_split(X, exited, test_size=0.2, random_state=0)
print(f"training set {len(X_train):,} rows, test set {len(X_test):,} rows")
if args.folds and np.bincount(y_train, minlength=2).min() < args.folds:
    raise TutorialError(
        f"--folds {args.folds} is more than the {np.bincount(y_train, minlength=2).min()} training rows "
        "of the rarer class; use fewer folds"
    )

# %% Step 4: scale the features
section("Step 4: scale the features")  # learnt on the training set only
scaler = StandardScaler()
X_train = scaler.fit_transform(X_train)
X_test = scaler.transform(X_test)
print("each feature now has mean 0 and standard deviation 1 on the training set")

# %% Step 5: build the ANN
section("Step 5: build the ANN")


# 11 inputs, two hidden layers of 6 units, one sigmoid output: P(leaves). A function,
# because steps 10 to 12 build it again for every cross-validation fold.
def build_ann(optimizer="adam", dropout=0.0):
    layers = [keras.Input(shape=(11,))]
    for _ in range(2):  # two hidden layers, each of 6 ReLU units ((11 + 1) / 2, the old rule of thumb)
        layers.append(keras.layers.Dense(6, activation="relu", kernel_initializer="uniform"))
        if dropout:  # step 11: switch off a random 10 % of the units at each step
            layers.append(keras.layers.Dropout(dropout))
    layers.append(keras.layers.Dense(1, activation="sigmoid", kernel_initializer="uniform"))
    ann = keras.Sequential(layers, name="churn_ann")
    # compile: Adam, and the loss of a yes/no (binary) answer
    ann.compile(optimizer=optimizer, loss="binary_crossentropy", metrics=["accuracy"])
    return ann


ann = build_ann()
ann.summary()

# %% Step 6: fit the ANN
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
reports.print_bending_units(firing, bending)

# %% Step 7: predict the test set
section("Step 7: predict the test set")
p_test = predict_probabilities(ann, X_test)  # P(leaves) for each test customer
y_pred = (p_test > 0.5).astype(int)  # leaves if more likely than not
print(f"predicted: {y_pred}   (1 = leaves)")
print(f"actual:    {y_test}")

# %% Step 8: predict a single new customer
section("Step 8: predict a single new customer")
# given as readable fields, which go through the same fitted encoder and scaler
preprocessing = make_pipeline(encoder, scaler)  # saved with the model, so --predict-only needs no retraining
new_customer = saved_models.predict_customer(ann, preprocessing, customer)

# %% Step 9: the confusion matrix and its metrics
section("Step 9: the confusion matrix and its metrics")
labels = [0, 1]
class_names = ["stays (0)", "leaves (1)"]
cm = confusion_metrics.confusion_matrix(y_test, y_pred, labels=labels)

# Metrics from the confusion matrix, "leaves" (Exited = 1) being the positive class
print(confusion_metrics.format_report(cm, labels=class_names, positive="leaves (1)"))
leaves = confusion_metrics.binary(cm, positive=1, labels=labels)

# The threshold view: 0.5 is one choice. Every threshold gives its own confusion matrix;
# the ROC curve (recall against false positive rate) and the precision-recall curve draw
# them all (saved as figures at the end), and the areas under them sum up the ranking.
roc_auc = confusion_metrics.roc_auc(y_test, p_test)
average_precision = confusion_metrics.average_precision(y_test, p_test)
print(f"\nROC AUC {roc_auc:.3f}: the chance that a random leaver gets a higher P(leaves) than a random stayer")
print(f"average precision {average_precision:.3f} (flagging everybody would score {y_test.mean():.3f})")

results = {
    "test": {
        "confusion_matrix": cm.tolist(), "labels": labels, "positive": 1,
        "accuracy": leaves.accuracy, "precision": leaves.precision, "recall": leaves.recall, "f1": leaves.f1,
        "tp": leaves.tp, "fn": leaves.fn, "fp": leaves.fp, "tn": leaves.tn,
        "roc_auc": roc_auc, "average_precision": average_precision,
    },
    "fit": {"firing_shares": [share.round(4).tolist() for share in firing], "bending_units": bending},
    "new_customer": new_customer,
}  # fmt: skip

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
    table = pd.DataFrame(rows).sort_values("mean", ascending=False)
    print(table.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    best = table.iloc[0].to_dict()
    settings = ", ".join(f"{name}={best[name]}" for name in args.tune_grid)
    print(f"best: {settings}: mean accuracy {best['mean']:.4f} (std {best['std']:.4f})")
    results["tune"] = {"grid": args.tune_grid, "results": rows, "best": best}

# %% Step 13: choose the decision threshold
section("Step 13: choose the decision threshold")  # on held-out predictions, never on the test set
rule = "fixed" if args.threshold else "min-recall" if args.min_recall else args.threshold_rule or "f1"
with timer.measure("threshold"):
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
    if args.threshold:
        threshold, chosen_on = args.threshold, "given"
    else:
        threshold, chosen_on = confusion_metrics.choose_threshold(held_y, held_p, rule=rule, min_recall=args.min_recall), held_on
how = {"fixed": "given with --threshold", "f1": "the best F1", "youden": "the best recall minus false positive rate",
       "min-recall": f"the highest that finds {args.min_recall:.0%} of the leavers" if args.min_recall else ""}[rule]
where = {"given": "", "out-of-fold": " on the out-of-fold predictions of step 10",
         "validation": " on a validation part of the training set (20 %)"}[chosen_on]
print(f"threshold {threshold:.3f}: {how}{where}")
chosen_name = f"at {threshold:.3f}"
at_half, at_chosen = reports.decision_metrics(y_test, p_test, 0.5), reports.decision_metrics(y_test, p_test, threshold)
reports.print_decisions({"at 0.5": at_half, chosen_name: at_chosen})
results["threshold"] = {"value": threshold, "chosen_on": chosen_on, "rule": rule, "test": at_chosen}
if args.min_recall:
    results["threshold"]["min_recall"] = args.min_recall

# %% Step 14: baselines
section("Step 14: baselines")  # on the same split and folds: the bar a network has to clear
baselines = {
    "majority": DummyClassifier(strategy="most_frequent"),  # always "stays"
    "logistic_regression": LogisticRegression(),
    "gradient_boosting": HistGradientBoostingClassifier(random_state=args.seed),  # boosted decision trees
}
results["baselines"], baseline_p = {}, {}
with timer.measure("baselines"):
    for name, model in baselines.items():
        model.fit(X_train, y_train)
        baseline_p[name] = model.predict_proba(X_test)[:, 1]
        row = {"test_accuracy": float(np.mean(model.predict(X_test) == y_test))}
        if name != "majority":
            row["test_roc_auc"] = confusion_metrics.roc_auc(y_test, baseline_p[name])
            if folds:
                cv_scores = cross_val_score(model, X_train, y_train, cv=folds)
                row.update(cv_mean=float(cv_scores.mean()), cv_std=float(cv_scores.std()))
        results["baselines"][name] = row
        words = {"test_accuracy": "test accuracy", "test_roc_auc": "test ROC AUC", "cv_mean": "CV mean", "cv_std": "std"}
        print(f"{name.replace('_', ' '):<20} " + ", ".join(f"{words[key]} {value:.4f}" for key, value in row.items()))
if not folds:
    print("(--folds 0: the baselines' cross-validation is skipped)")

# %% Step 15: an improved network
# designed for this data (README), cross-validated the same way
IMPROVED_EPOCHS, IMPROVED_BATCH_SIZE = args.improved_epochs, 32  # 60 and 32, chosen by cross-validation on the training set
section(f"Step 15: an improved network ({IMPROVED_EPOCHS} epochs, batch size {IMPROVED_BATCH_SIZE})")


# No keras.Input layer: KerasBinaryClassifier builds it on the data's width (11) and
# compiles it (Adam, binary cross-entropy).
def build_improved():
    return keras.Sequential(
        [
            # He initialisation is scaled for units like these; ELU, unlike ReLU, still passes a
            # gradient for negative inputs, so no unit can go silent for good (see step 6)
            keras.layers.Dense(16, activation="elu", kernel_initializer="he_normal"),
            keras.layers.Dense(8, activation="elu", kernel_initializer="he_normal"),
            keras.layers.Dense(1, activation="sigmoid"),
        ],
        name="churn_ann_improved",
    )


improved = KerasBinaryClassifier(
    build_improved, epochs=IMPROVED_EPOCHS, batch_size=IMPROVED_BATCH_SIZE, random_state=args.seed, verbose=args.verbose
)  # fmt: skip
with timer.measure("improved"):
    improved.fit(X_train, y_train)
improved.model_.summary()
p_improved = improved.predict_proba(X_test)[:, 1]
improved_test = reports.decision_metrics(y_test, p_improved, 0.5)
improved_test.update(
    roc_auc=confusion_metrics.roc_auc(y_test, p_improved),
    average_precision=confusion_metrics.average_precision(y_test, p_improved),
)
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

# Where the tutorial network's bad seeds lose: customers with 3 or 4 products mostly leave,
# a bend that a network whose hidden units do not bend (step 6) cannot draw.
_, test_table = train_test_split(features, test_size=0.2, random_state=0)  # step 3's split of the raw table
products = pd.DataFrame({
    "customers": y_test, "leave (actual)": y_test, "tutorial network": p_test, "improved network": p_improved,
}).groupby(test_table["NumOfProducts"].to_numpy().astype(int)).agg(
    {"customers": "size", "leave (actual)": "mean", "tutorial network": "mean", "improved network": "mean"}
)  # fmt: skip
products.index.name = "products"
print("\nShare of test customers who leave, by number of products, and the mean P(leaves) predicted:")
print(products.to_string(formatters={name: "{:.0%}".format for name in products.columns[1:]}))
results["by_products"] = products.reset_index().to_dict(orient="list")

comparison = [
    ("always 'stays'", results["baselines"]["majority"]["test_accuracy"], 0.5, None),
    ("logistic regression", *(results["baselines"]["logistic_regression"].get(k) for k in ("test_accuracy", "test_roc_auc", "cv_mean"))),
    ("gradient boosting", *(results["baselines"]["gradient_boosting"].get(k) for k in ("test_accuracy", "test_roc_auc", "cv_mean"))),
    ("tutorial network", leaves.accuracy, roc_auc, results.get("cv", {}).get("mean")),
    ("improved network", improved_test["accuracy"], improved_test["roc_auc"], results["improved"].get("cv", {}).get("mean")),
]  # fmt: skip
reports.print_comparison(comparison)

# %% Step 16: which facts drive churn
section("Step 16: which facts drive churn")  # permutation importance of the improved network
# Shuffle one column of the test table at a time and measure how much ROC AUC drops: the
# more the network relies on a fact, the more scrambling it hurts. The pipeline takes the
# readable table, so Geography counts as one fact, not as two encoded columns.
with timer.measure("importance"):
    importance = permutation_importance(
        make_pipeline(preprocessing, improved), test_table, y_test, scoring="roc_auc", n_repeats=10,
        random_state=args.seed,
    )  # fmt: skip
order = np.argsort(importance.importances_mean)[::-1]
for k in order:
    print(f"  {churn.FEATURES[k]:<16} ROC AUC drops by {importance.importances_mean[k]:.3f} (+/- {importance.importances_std[k]:.3f})")
results["feature_importance"] = {churn.FEATURES[k]: float(importance.importances_mean[k]) for k in order}

# %% Step 17: can the probabilities be taken at their word
section("Step 17: can the probabilities be taken at their word")
# Calibration: of the customers given P(leaves) = 0.3, do 3 in 10 leave? The expected calibration
# error (ECE) is the gap between said and done, averaged over 10 bins of P(leaves); the Brier score
# and the log loss score every probability against what happened (lower is better for all three).
calibration = {
    name: confusion_metrics.calibration_summary(y_test, p, n_bins=10)
    for name, p in (("tutorial", p_test), ("improved", p_improved), ("gradient_boosting", baseline_p["gradient_boosting"]))
}  # fmt: skip


# Temperature scaling (Guo et al. 2017): p' = sigmoid(logit(p) / T). T > 1 softens over-confident
# probabilities, T < 1 sharpens timid ones; the ranking, and so ROC AUC, stays the same. T is fitted
# on the held-out predictions of step 13, never on the test set: the T with the lowest log loss there.
def with_temperature(p, temperature):
    return expit(logit(np.clip(np.asarray(p, dtype=np.float64), 1e-7, 1 - 1e-7)) / temperature)


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
    outputs.save_figure(
        "confusion_matrix.png",
        confusion_metrics.plot_confusion_matrix(cm, labels=class_names, normalize="true", title="Churn ANN, test set"),
    )
    outputs.save_figure(
        "training_curves.png",
        training_curves(
            {"tutorial network (step 6)": history, "improved network (step 15)": improved_history},
            validation_label="held-out folds" if folds else "validation part",
        ),
    )
    roc_figure, pr_figure = confusion_metrics.plot_threshold_curves(
        y_test, p_test, marks={
            "tutorial network at 0.5": at_half["confusion_matrix"],
            f"tutorial network at {threshold:.3f} (step 13)": at_chosen["confusion_matrix"],
        },
        compare={"improved network": p_improved, "gradient boosting": baseline_p["gradient_boosting"]},
        name="tutorial network", title="Churn, test set",
    )  # fmt: skip
    outputs.save_figure("roc_curve.png", roc_figure)
    outputs.save_figure("precision_recall_curve.png", pr_figure)
    outputs.save_figure(
        "feature_importance.png",
        importance_bars(
            {churn.FEATURES[k]: (importance.importances_mean[k], importance.importances_std[k]) for k in order},
            xlabel="drop in test ROC AUC when the column is shuffled (mean and spread of 10 shuffles)",
            title="What the improved network relies on",
        ),
    )
    outputs.save_figure(
        "reliability_diagram.png",
        confusion_metrics.plot_reliability_diagram({
            "tutorial network": (y_test, p_test), f"tutorial network, T = {temperature:.2f}": (y_test, p_test_tempered),
            "improved network": (y_test, p_improved), "gradient boosting": (y_test, baseline_p["gradient_boosting"]),
        }, title="Churn, test set"),
    )  # fmt: skip
    outputs.write_json("metrics.json", results)
print(f"\nSaved the model, the figures and metrics.json in {args.output_dir}")
print(timer.summary())
