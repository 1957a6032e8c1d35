"""Artificial neural network: will a bank customer leave? (Churn_Modelling.csv)

Run it from anywhere:  python ann.py   or   python 1_artificial_neural_networks/ann.py
It runs top to bottom; each "# %%" cell is one step of the tutorial (run them one by
one in VS Code or Jupyter, where the SETTINGS cell below takes the place of the command
line), and the README walks through them.
"""

# %% Settings: in a notebook, change the run here; flags on the command line are added after them
SETTINGS = ""  # e.g. "--epochs 20 --folds 5 --data path/to/data"; `python ann.py --help` lists every flag

# %% Setup: TensorFlow quietly, the command line, the device, the seed
from pathlib import Path

from tutorial_support import runtime  # before keras: silences TensorFlow's start-up logs
from tutorial_support.cli import (
    TutorialError, base_parser, command_line, flags_as_json, non_negative_int, open_unit_interval, positive_int,
    report_errors_in_one_line, section, unit_interval_above_0,
)  # fmt: skip

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

import confusion_metrics
from tutorial_support import KerasBinaryClassifier, churn, data
from tutorial_support.fold_training import cross_validate, cross_validate_details, fit, predict_probabilities
from tutorial_support.figures import importance_bars, training_curves
from tutorial_support.outputs import StagedOutputs

HERE = Path(__file__).resolve().parent if "__file__" in globals() else Path.cwd()  # a notebook has no __file__
MODEL_FILE, PREPROCESSING_FILE = "churn_ann.keras", "preprocessing.joblib"
IMPROVED_MODEL_FILE = "churn_ann_improved.keras"
DEFAULT_TUNE_GRID = "batch_size=25,32;epochs=100,500;optimizer=adam,rmsprop"
IMPROVED_EPOCHS, IMPROVED_BATCH_SIZE = 60, 32  # chosen by cross-validation on the training set (README)


def parse_args():
    parser = base_parser("Train and evaluate the churn ANN.", default_output_dir=HERE / "outputs")
    parser.add_argument("--epochs", type=positive_int, default=100, help="training epochs (fit and every CV fold)")
    parser.add_argument("--batch-size", type=positive_int, default=10, help="rows per training step")
    parser.add_argument(
        "--folds", type=non_negative_int, default=10, help="cross-validation folds (steps 10-11); 0 skips them"
    )
    parser.add_argument(
        "--customer",
        default="",
        help='the customer of step 8, e.g. "Geography=Spain,Age=55"; fields you leave out '
        "keep the example's values (France, CreditScore 600, Male, Age 40, ...)",
    )
    parser.add_argument(
        "--predict-only",
        action="store_true",
        help="skip training: load the model saved in --output-dir and predict --customer",
    )
    parser.add_argument("--tune", action="store_true", help="step 12: grid search (minutes, not seconds)")
    parser.add_argument(
        "--tune-grid", default=DEFAULT_TUNE_GRID, help="the grid of --tune, as name=v1,v2;name=v1,v2"
    )
    decision = parser.add_argument_group(
        "the decision threshold of step 13 (one of these; without any, the best F1 on held-out predictions)"
    )
    decision.add_argument(
        "--threshold-rule", choices=("f1", "youden"), default=None,
        help="f1: the threshold with the best F1; youden: the best recall minus false positive rate",
    )  # fmt: skip
    decision.add_argument(
        "--min-recall", type=unit_interval_above_0, default=None,
        help="the highest threshold that still finds this share of the leavers, e.g. 0.7",
    )  # fmt: skip
    decision.add_argument(
        "--threshold", type=open_unit_interval, default=None,
        help="a threshold you fix yourself: flag a customer when P(leaves) is above it",
    )  # fmt: skip
    args = parser.parse_args(command_line(SETTINGS))
    if args.folds == 1:
        parser.error("argument --folds: cross-validation needs at least 2 folds (or 0 to skip it)")
    if sum(value is not None for value in (args.threshold_rule, args.min_recall, args.threshold)) > 1:
        parser.error("--threshold-rule, --min-recall and --threshold each choose the threshold: give one of them")
    args.tune_grid = parse_grid(args.tune_grid) if args.tune else None
    return args


def parse_grid(text: str) -> dict:
    grid = {}
    converters = {"batch_size": positive_int, "epochs": positive_int, "optimizer": str}
    for part in filter(None, (piece.strip() for piece in text.split(";"))):
        name, _, values = part.partition("=")
        name = name.strip()
        if name not in converters or not values.strip():
            raise TutorialError(f"--tune-grid: expected name=v1,v2 with name in {', '.join(converters)}, got {part!r}")
        try:
            grid[name] = [converters[name](value.strip()) for value in values.split(",")]
        except Exception as error:
            raise TutorialError(f"--tune-grid: bad value for {name}: {error}") from None
    unknown = {o for o in grid.get("optimizer", []) if o not in ("adam", "rmsprop", "sgd", "adamw", "nadam")}
    if unknown:
        raise TutorialError(f"--tune-grid: unknown optimizer {sorted(unknown)[0]!r}; try adam or rmsprop")
    return grid


# The network of step 5: 11 inputs, two hidden layers of 6 units, one sigmoid output.
# A function, because steps 10 to 12 build it again for every cross-validation fold.
def build_ann(optimizer="adam", dropout=0.0):
    layers = [keras.Input(shape=(11,))]
    for _ in range(2):  # two hidden layers, each of 6 ReLU units ((11 + 1) / 2, the old rule of thumb)
        layers.append(keras.layers.Dense(6, activation="relu", kernel_initializer="uniform"))
        if dropout:  # step 11: switch off a random 10 % of the units at each step
            layers.append(keras.layers.Dropout(dropout))
    layers.append(keras.layers.Dense(1, activation="sigmoid", kernel_initializer="uniform"))
    ann = keras.Sequential(layers, name="churn_ann")
    # Step 5b: compile - Adam, and the loss of a yes/no (binary) answer
    ann.compile(optimizer=optimizer, loss="binary_crossentropy", metrics=["accuracy"])
    return ann


# The improved network of step 15. No keras.Input layer: KerasBinaryClassifier builds it on
# the data's width (11) and compiles it (Adam, binary cross-entropy).
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


def decision_metrics(y_true, probabilities, threshold: float) -> dict:
    """The test confusion matrix when a customer is flagged above ``threshold``, and its metrics."""
    flagged = np.asarray(probabilities, dtype=np.float64) > threshold  # in float64: see choose_threshold
    cm = confusion_metrics.confusion_matrix(y_true, flagged.astype(int), labels=[0, 1])
    leaves = confusion_metrics.binary(cm, positive=1)
    return {
        "confusion_matrix": cm.tolist(), "accuracy": leaves.accuracy, "precision": leaves.precision,
        "recall": leaves.recall, "f1": leaves.f1,
    }  # fmt: skip


def print_decisions(columns: dict[str, dict]) -> None:
    """Test-set decisions at several thresholds, side by side, in the words a bank would use."""
    width = max(len(name) for name in columns) + 2
    print(" " * 30 + "".join(f"{name:>{width}}" for name in columns))
    rows = {
        "customers flagged": lambda cm: cm[0][1] + cm[1][1],
        "  of whom leave (TP)": lambda cm: cm[1][1],
        "  of whom stay (FP)": lambda cm: cm[0][1],
        "leavers missed (FN)": lambda cm: cm[1][0],
    }
    for label, count in rows.items():
        print(f"{label:<30}" + "".join(f"{count(c['confusion_matrix']):>{width},}" for c in columns.values()))
    for metric in ("accuracy", "precision", "recall", "f1"):
        print(f"{metric:<30}" + "".join(f"{c[metric]:>{width}.2%}" for c in columns.values()))
    for name, c in columns.items():
        (_, fp), (fn, tp) = c["confusion_matrix"]
        print(f"{name}: flags {tp + fp:,} customers, of whom {tp} leave; finds {tp} of the {tp + fn} who leave")


def predict_customer(ann, preprocessing, customer: pd.DataFrame) -> dict:
    probability = float(predict_probabilities(ann, preprocessing.transform(customer))[0])
    verdict = "leaves the bank" if probability > 0.5 else "stays"
    print(
        "Customer: " + ", ".join(f"{name} {value:g}" if isinstance(value, float) else f"{name} {value}"
                                 for name, value in customer.iloc[0].items())
    )  # fmt: skip
    print(f"P(leaves) = {probability:.3f} -> {verdict}")
    return {"probability": probability, "leaves": probability > 0.5}


def cross_validation_report(name: str, scores: np.ndarray, folds: int, epochs: int, batch_size: int) -> dict:
    for fold, score in enumerate(scores, 1):
        print(f"  fold {fold:2d}: accuracy {score:.4f}")
    mean, variance, std = scores.mean(), scores.var(), scores.std()
    print(f"{name}: mean {mean:.4f}, variance {variance:.6f}, standard deviation {std:.4f}")
    return {
        "folds": folds, "epochs": epochs, "batch_size": batch_size, "scores": scores.tolist(),
        "mean": float(mean), "variance": float(variance), "std": float(std),
    }  # fmt: skip


# %% Start: flags, device, seed
report_errors_in_one_line()
args = parse_args()
timer = runtime.StepTimer()
print(runtime.setup_device())
runtime.seed_everything(args.seed)
customer = churn.parse_customer(args.customer)  # checked now, used in step 8

if args.predict_only:  # step 8 alone, from the model a previous run saved
    model_path, preprocessing_path = args.output_dir / MODEL_FILE, args.output_dir / PREPROCESSING_FILE
    if not (model_path.is_file() and preprocessing_path.is_file()):
        raise TutorialError(f"no saved model in {args.output_dir}: run ann.py once without --predict-only")
    section("Step 8: predict a single new customer (saved model)")
    ann = keras.models.load_model(model_path, compile=False)  # predicting needs no optimizer
    predict_customer(ann, joblib.load(preprocessing_path), customer)
    raise SystemExit(0)

# %% Step 1: import the dataset
section("Step 1: import the dataset")
features, exited = churn.load_churn(data.churn_csv(args.data))
print(f"{len(features):,} customers, {exited.mean():.2%} of them left the bank (Exited = 1)")

# %% Step 2: encode categorical data (Geography one-hot without France, Gender 0/1)
section("Step 2: encode categorical data")
encoder = churn.make_encoder()
X = encoder.fit_transform(features)
names = encoder.get_feature_names_out()
print(f"{len(names)} features: " + ", ".join(names))

# %% Step 3: split into a training set (80 %) and a test set (20 %)
section("Step 3: split into training and test sets")
X_train, X_test, y_train, y_test = train_test_split(X, exited, test_size=0.2, random_state=0)
print(f"training set {len(X_train):,} rows, test set {len(X_test):,} rows")
if args.folds and np.bincount(y_train, minlength=2).min() < args.folds:
    raise TutorialError(
        f"--folds {args.folds} is more than the {np.bincount(y_train, minlength=2).min()} training rows "
        "of the rarer class; use fewer folds"
    )

# %% Step 4: feature scaling, learnt on the training set only
section("Step 4: scale the features")
scaler = StandardScaler()
X_train = scaler.fit_transform(X_train)
X_test = scaler.transform(X_test)
print("each feature now has mean 0 and standard deviation 1 on the training set")

# %% Step 5: build and compile the ANN
section("Step 5: build the ANN")
ann = build_ann()
ann.summary()

# %% Step 6: fit the ANN to the training set
section(f"Step 6: fit the ANN ({args.epochs} epochs, batch size {args.batch_size})")
# fit() takes the same steps as ann.fit(X_train, y_train, batch_size=10, epochs=100), but runs
# each epoch as one compiled TensorFlow call: 5 to 10 times faster for a network this small.
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
for k, share in enumerate(firing, 1):
    print(
        f"hidden layer {k}: {bending[k - 1]} of {share.size} units bend; they fire for "
        + ", ".join(f"{v:.0%}" for v in share) + " of the training customers"
    )  # fmt: skip

# %% Step 7: predict the test set
section("Step 7: predict the test set")
p_test = predict_probabilities(ann, X_test)  # P(leaves) for each test customer
y_pred = (p_test > 0.5).astype(int)  # leaves if more likely than not
print(f"predicted: {y_pred}   (1 = leaves)")
print(f"actual:    {y_test}")

# %% Step 8: predict a single new customer, given as readable fields
section("Step 8: predict a single new customer")
preprocessing = make_pipeline(encoder, scaler)  # saved with the model, so step 8 needs no retraining
new_customer = predict_customer(ann, preprocessing, customer)

# %% Step 9: the confusion matrix and its metrics
section("Step 9: confusion matrix and the metrics from it")
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

# %% Step 10: evaluate - k-fold cross-validation of the same network
folds = StratifiedKFold(n_splits=args.folds) if args.folds else None  # what cross_val_score uses
if folds:
    section(f"Step 10: evaluate with {args.folds}-fold cross-validation")
    print(f"{args.folds} copies of the network, one per fold, each trained on its own {1 - 1 / args.folds:.0%} of the rows")
    with timer.measure("cv"):
        tutorial_cv = cross_validate_details(
            build_ann, X_train, y_train, folds, epochs=args.epochs, batch_size=args.batch_size,
            seed=args.seed, verbose=args.verbose,
        )  # fmt: skip
    results["cv"] = cross_validation_report("Accuracy", tutorial_cv.scores, args.folds, args.epochs, args.batch_size)
    # each fold model also predicted its held-out rows after every epoch: step 6's figure shows it
    history.update(val_loss=tutorial_cv.held_out["val_loss"], val_accuracy=tutorial_cv.held_out["val_accuracy"])

# %% Step 11: improve - the same network with dropout after each hidden layer
if folds:
    section("Step 11: improve with dropout (rate 0.1)")
    with timer.measure("cv_dropout"):
        scores = cross_validate(
            build_ann, X_train, y_train, folds, epochs=args.epochs, batch_size=args.batch_size,
            seed=args.seed, build_args={"dropout": 0.1}, verbose=args.verbose,
        )  # fmt: skip
    results["cv_dropout"] = cross_validation_report(
        "Accuracy with dropout", scores, args.folds, args.epochs, args.batch_size
    )
    print(
        f"without dropout {results['cv']['mean']:.4f} +/- {results['cv']['std']:.4f}, "
        f"with dropout {results['cv_dropout']['mean']:.4f} +/- {results['cv_dropout']['std']:.4f}"
    )

# %% Step 12: tune - grid search over batch size, epochs and optimizer (--tune)
if args.tune:
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

# %% Step 13: choose the decision threshold on held-out predictions, never on the test set
section("Step 13: choose the decision threshold")
rule = "fixed" if args.threshold else "min-recall" if args.min_recall else args.threshold_rule or "f1"
with timer.measure("threshold"):
    if args.threshold:
        threshold, chosen_on = args.threshold, "given"
    else:
        if folds:  # every training customer, predicted by the step-10 fold model that did not train on them
            held_y, held_p, chosen_on = y_train, tutorial_cv.probabilities, "out-of-fold"
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
            held_y, held_p, chosen_on = y_train[validation_rows], predict_probabilities(check, X_train[validation_rows]), "validation"
        threshold = confusion_metrics.choose_threshold(held_y, held_p, rule=rule, min_recall=args.min_recall)
how = {"fixed": "given with --threshold", "f1": "the best F1", "youden": "the best recall minus false positive rate",
       "min-recall": f"the highest that finds {args.min_recall:.0%} of the leavers" if args.min_recall else ""}[rule]
where = {"given": "", "out-of-fold": " on the out-of-fold predictions of step 10",
         "validation": " on a validation part of the training set (20 %)"}[chosen_on]
print(f"threshold {threshold:.3f}: {how}{where}")
chosen_name = f"at {threshold:.3f}"
at_half, at_chosen = decision_metrics(y_test, p_test, 0.5), decision_metrics(y_test, p_test, threshold)
print_decisions({"at 0.5": at_half, chosen_name: at_chosen})
results["threshold"] = {"value": threshold, "chosen_on": chosen_on, "rule": rule, "test": at_chosen}
if args.min_recall:
    results["threshold"]["min_recall"] = args.min_recall

# %% Step 14: baselines on the same split and folds - the bar a network has to clear
section("Step 14: baselines")
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

# %% Step 15: improve, for real - a network designed for this data, cross-validated the same way
section(f"Step 15: an improved network ({IMPROVED_EPOCHS} epochs, batch size {IMPROVED_BATCH_SIZE})")
improved = KerasBinaryClassifier(
    build_improved, epochs=IMPROVED_EPOCHS, batch_size=IMPROVED_BATCH_SIZE, random_state=args.seed, verbose=args.verbose
)  # fmt: skip
with timer.measure("improved"):
    improved.fit(X_train, y_train)
improved.model_.summary()
p_improved = improved.predict_proba(X_test)[:, 1]
improved_test = decision_metrics(y_test, p_improved, 0.5)
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
    results["improved"]["cv"] = cross_validation_report(
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
print(f"\n{'model':<22}{'test accuracy':>15}{'test ROC AUC':>14}{'CV accuracy':>13}")
for name, accuracy, auc, cv_mean in comparison:
    print(f"{name:<22}{accuracy:>15.4f}{auc:>14.3f}" + (f"{cv_mean:>13.4f}" if cv_mean is not None else f"{'-':>13}"))

# %% Step 16: which facts drive churn - permutation importance of the improved network
section("Step 16: which facts drive churn")
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

# %% Outputs: model, preprocessing, figures and metrics.json, published together
results["timings_s"] = {**timer.seconds, "total": timer.total()}
results["config"] = flags_as_json(args)
with StagedOutputs(args.output_dir) as outputs:
    ann.save(outputs.path(MODEL_FILE))
    improved.model_.save(outputs.path(IMPROVED_MODEL_FILE))
    joblib.dump(preprocessing, outputs.path(PREPROCESSING_FILE))
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
    outputs.write_json("metrics.json", results)
print(f"\nSaved the model, the figures and metrics.json in {args.output_dir}")
print(timer.summary())
