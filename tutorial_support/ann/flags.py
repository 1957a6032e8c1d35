"""The flags of ann.py (`python ann.py --help` lists them), read in one call."""

from __future__ import annotations

import argparse
from pathlib import Path

from tutorial_support.common.cli import (
    base_parser,
    command_line,
    non_negative_int,
    open_unit_interval,
    positive_int,
    unit_interval_above_0,
)
from tutorial_support.common.errors import TutorialError, report_errors_in_one_line

DEFAULT_TUNE_GRID = "batch_size=25,32;epochs=100,500;optimizer=adam,rmsprop"
OPTIMIZERS = ("adam", "rmsprop", "sgd", "adamw", "nadam")


def parser(default_output_dir: Path) -> argparse.ArgumentParser:
    parser = base_parser(
        "Train and evaluate the churn ANN (or a classifier of any CSV: --data table.csv --target "
        "COLUMN).",
        default_output_dir=default_output_dir,
    )
    parser.add_argument(
        "--epochs",
        type=positive_int,
        default=None,
        help="training epochs (fit and every CV fold); default 100, the course's, or for a table "
        "of more than "
        "8,000 training rows fewer (at least 10), so that the network sees about as many rows as "
        "the course's",
    )
    parser.add_argument(
        "--batch-size", type=positive_int, default=10, help="rows per training step"
    )
    parser.add_argument(
        "--folds",
        type=non_negative_int,
        default=10,
        help="cross-validation folds (steps 10-11); 0 skips them",
    )
    parser.add_argument(
        "--target",
        default="Exited",
        help="the column to predict (default Exited); with --data table.csv, any "
        "column of classes of your own table",
    )
    parser.add_argument(
        "--positive",
        default=None,
        metavar="VALUE",
        help="two classes: the class whose probability the network gives (default: the rarer "
        "class)",
    )
    parser.add_argument(
        "--customer",
        default="",
        help='the customer (row) of step 8, e.g. "Geography=Spain,Age=55"; fields you leave out '
        "keep the "
        "example's values (France, CreditScore 600, Male, Age 40, ...), or in your own table the "
        "training rows' "
        "median or most frequent value",
    )
    parser.add_argument(
        "--drop-leaky",
        action="store_true",
        help="drop the columns that give the answer away (step 1 warns of each: on its own it "
        "predicts the target almost perfectly); by default they are kept",
    )
    parser.add_argument(
        "--predict-only",
        action="store_true",
        help="skip training: load the model saved in --output-dir and predict --customer",
    )
    parser.add_argument(
        "--improved-epochs",
        type=positive_int,
        default=60,
        help="epochs of the improved network of step 15 (60 was chosen by cross-validation on the "
        "training set)",
    )
    parser.add_argument(
        "--tune", action="store_true", help="step 12: grid search (minutes, not seconds)"
    )
    parser.add_argument(
        "--tune-grid",
        default=DEFAULT_TUNE_GRID,
        help="the grid of --tune, as name=v1,v2;name=v1,v2",
    )
    decision = parser.add_argument_group(
        "the decision threshold of step 13 (one of these; without any, the best F1 on held-out "
        "predictions)"
    )
    decision.add_argument(
        "--threshold-rule",
        choices=("f1", "youden"),
        default=None,
        help="f1: the threshold with the best F1; youden: the best recall minus false positive "
        "rate",
    )
    decision.add_argument(
        "--min-recall",
        type=unit_interval_above_0,
        default=None,
        help="the highest threshold that still finds this share of the leavers, e.g. 0.7",
    )
    decision.add_argument(
        "--threshold",
        type=open_unit_interval,
        default=None,
        help="a threshold you fix yourself: flag a customer when P(leaves) is above it",
    )
    return parser


def parse(argv: list[str], default_output_dir: Path) -> argparse.Namespace:
    """The flags of ``argv``; a bad one exits with one line and status 2 (a TutorialError for
    --tune-grid)."""
    flags = parser(default_output_dir)
    args = flags.parse_args(argv)
    if args.folds == 1:
        flags.error("argument --folds: cross-validation needs at least 2 folds (or 0 to skip it)")
    if (
        sum(value is not None for value in (args.threshold_rule, args.min_recall, args.threshold))
        > 1
    ):
        flags.error(
            "--threshold-rule, --min-recall and --threshold each choose the threshold: give one of "
            "them"
        )
    args.tune_grid = parse_grid(args.tune_grid) if args.tune else None
    return args


def read(settings: str, script_folder: Path) -> argparse.Namespace:
    """The run's flags: the SETTINGS cell's, then the command line's; errors become one line."""
    report_errors_in_one_line()
    return parse(command_line(settings), default_output_dir=script_folder / "outputs")


def parse_grid(text: str) -> dict:
    """ "batch_size=25,32;optimizer=adam" -> {"batch_size": [25, 32], "optimizer": ["adam"]}."""
    grid = {}
    converters = {"batch_size": positive_int, "epochs": positive_int, "optimizer": str}
    for part in filter(None, (piece.strip() for piece in text.split(";"))):
        name, _, values = part.partition("=")
        name = name.strip()
        if name not in converters or not values.strip():
            raise TutorialError(
                f"--tune-grid: expected name=v1,v2 with name in {', '.join(converters)}, got "
                f"{part!r}"
            )
        try:
            grid[name] = [converters[name](value.strip()) for value in values.split(",")]
        except Exception as error:
            raise TutorialError(f"--tune-grid: bad value for {name}: {error}") from None
    unknown = {o for o in grid.get("optimizer", []) if o not in OPTIMIZERS}
    if unknown:
        raise TutorialError(
            f"--tune-grid: unknown optimizer {sorted(unknown)[0]!r}; try adam or rmsprop"
        )
    return grid
