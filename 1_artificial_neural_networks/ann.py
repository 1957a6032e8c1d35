"""Artificial neural network: will a bank customer leave? (Churn_Modelling.csv)

Run it from anywhere:  python ann.py   or   python 1_artificial_neural_networks/ann.py
It runs top to bottom; each "# %%" cell is one step of the tutorial (run them one by
one in VS Code or Jupyter, which use the default settings), and the README walks
through them.
"""

# %% Setup: TensorFlow quietly, the command line, the device, the seed
from pathlib import Path

from tutorial_support import runtime  # before keras: silences TensorFlow's start-up logs
from tutorial_support.cli import (
    TutorialError, base_parser, flags_as_json, non_negative_int, positive_int, report_errors_in_one_line, section,
)  # fmt: skip

import joblib
import keras
import numpy as np
import pandas as pd
from sklearn.model_selection import ParameterGrid, StratifiedKFold, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import confusion_metrics
from tutorial_support import churn, data
from tutorial_support.fold_training import cross_validate, fit, predict_classes, predict_probabilities
from tutorial_support.figures import training_curves
from tutorial_support.outputs import StagedOutputs

HERE = Path(__file__).resolve().parent if "__file__" in globals() else Path.cwd()  # a notebook has no __file__
MODEL_FILE, PREPROCESSING_FILE = "churn_ann.keras", "preprocessing.joblib"
DEFAULT_TUNE_GRID = "batch_size=25,32;epochs=100,500;optimizer=adam,rmsprop"


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
    args = parser.parse_args()
    if args.folds == 1:
        parser.error("argument --folds: cross-validation needs at least 2 folds (or 0 to skip it)")
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

# %% Step 7: predict the test set
section("Step 7: predict the test set")
y_pred = predict_classes(ann, X_test)
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

results = {
    "test": {
        "confusion_matrix": cm.tolist(), "labels": labels, "positive": 1,
        "accuracy": leaves.accuracy, "precision": leaves.precision, "recall": leaves.recall, "f1": leaves.f1,
        "tp": leaves.tp, "fn": leaves.fn, "fp": leaves.fp, "tn": leaves.tn,
    },
    "new_customer": new_customer,
}  # fmt: skip

# %% Step 10: evaluate - k-fold cross-validation of the same network
folds = StratifiedKFold(n_splits=args.folds) if args.folds else None  # what cross_val_score uses
if folds:
    section(f"Step 10: evaluate with {args.folds}-fold cross-validation")
    print(f"{args.folds} copies of the network, one per fold, each trained on its own {1 - 1 / args.folds:.0%} of the rows")
    with timer.measure("cv"):
        scores = cross_validate(
            build_ann, X_train, y_train, folds, epochs=args.epochs, batch_size=args.batch_size,
            seed=args.seed, verbose=args.verbose,
        )  # fmt: skip
    results["cv"] = cross_validation_report("Accuracy", scores, args.folds, args.epochs, args.batch_size)

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

# %% Outputs: model, preprocessing, figures and metrics.json, published together
results["timings_s"] = {**timer.seconds, "total": timer.total()}
results["config"] = flags_as_json(args)
with StagedOutputs(args.output_dir) as outputs:
    ann.save(outputs.path(MODEL_FILE))
    joblib.dump(preprocessing, outputs.path(PREPROCESSING_FILE))
    outputs.save_figure(
        "confusion_matrix.png",
        confusion_metrics.plot_confusion_matrix(cm, labels=class_names, normalize="true", title="Churn ANN, test set"),
    )
    outputs.save_figure("training_curves.png", training_curves(history))
    outputs.write_json("metrics.json", results)
print(f"\nSaved the model, the figures and metrics.json in {args.output_dir}")
print(timer.summary())
