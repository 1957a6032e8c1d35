"""Compare two runs on the same test rows: ``python -m confusion_metrics compare RUN_A RUN_B``.

Each run of a chapter saves ``test_predictions.csv`` in its output folder: one row per
test row (or photo) with the columns ``id``, ``actual``, ``predicted`` and then one
probability per class. Two runs that differ in one setting (more epochs, dropout, a
pretrained base) usually differ a little in accuracy; this command says whether the
difference is more than the luck of which rows ended up in the test set:

- each run's accuracy with its Wilson interval;
- the rows only A got right and those only B got right (rows both got right, or both got
  wrong, say nothing about which model is better);
- McNemar's exact test on those rows, and its verdict in plain words.

The rows are matched by ``id``; two runs over different rows cannot be compared this way.
Problems with the input (a folder without the file, a file without the columns, runs over
different rows) are one line on stderr, ``error: ...``, and exit status 2.
"""

from __future__ import annotations

import argparse
import csv
import sys
from dataclasses import dataclass
from pathlib import Path

from confusion_metrics.uncertainty import mcnemar_exact, verdict, wilson_interval

FILE = "test_predictions.csv"
COLUMNS = ("id", "actual", "predicted")
EXIT_BAD_INPUT = 2
SHOWN_IDS = 5  # how many ids of the rows only one run got right are listed


class CompareError(ValueError):
    """A problem with the runs given: printed as one line, ``error: ...``, exit status 2."""


@dataclass(frozen=True)
class Predictions:
    """One run's test predictions: the actual and predicted class of each row, by id."""

    source: str  # the run as it was given (a folder or the csv)
    actual: dict[str, str]
    predicted: dict[str, str]

    def right(self, ids: list[str]) -> list[bool]:
        return [self.predicted[i] == self.actual[i] for i in ids]


def predictions_file(run: str | Path) -> Path:
    """The csv of a run given as its output folder or as the csv itself."""
    path = Path(run)
    if path.is_dir():
        path = path / FILE
        if not path.is_file():
            raise CompareError(
                f"{run} has no {FILE}: give a run's output folder (ann.py and cnn.py save the "
                "file there) or the path of the csv itself"
            )
    elif not path.is_file():
        raise CompareError(f"{run} does not exist: give a run's output folder or its {FILE}")
    return path


def read_predictions(run: str | Path) -> Predictions:
    """Read ``id``, ``actual`` and ``predicted`` of every row; other columns are ignored."""
    path = predictions_file(run)
    actual, predicted = {}, {}
    try:
        with open(path, newline="", encoding="utf-8-sig") as stream:  # a BOM (Excel) too
            reader = csv.DictReader(stream)
            missing = [name for name in COLUMNS if name not in (reader.fieldnames or [])]
            if missing:
                raise CompareError(
                    f"{path} has no {', '.join(missing)} column: it is not a {FILE} (its "
                    f"columns must start with {', '.join(COLUMNS)})"
                )
            for row in reader:
                key = row["id"]
                if key in actual:
                    raise CompareError(
                        f"{path} has the id {key!r} twice: each test row must appear once"
                    )
                if row["actual"] is None or row["predicted"] is None:
                    raise CompareError(f"{path} line {reader.line_num} is cut short")
                actual[key], predicted[key] = row["actual"], row["predicted"]
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise CompareError(f"{path} is not a readable csv file ({error})") from None
    if not actual:
        raise CompareError(f"{path} has no rows: there is nothing to compare")
    return Predictions(str(run), actual, predicted)


def matched_ids(a: Predictions, b: Predictions) -> list[str]:
    """The ids of the rows, in A's order, once it is checked that both runs hold the same
    rows with the same actual classes."""
    only_a = [i for i in a.actual if i not in b.actual]
    only_b = [i for i in b.actual if i not in a.actual]
    if only_a or only_b:
        example = f"id {only_a[0]!r} is only in A" if only_a else f"id {only_b[0]!r} is only in B"
        raise CompareError(
            f"the two runs are over different rows ({len(only_a)} ids only in A, {len(only_b)} "
            f"only in B; {example}): compare runs of the same test set (the same data and split)"
        )
    ids = list(a.actual)
    for i in ids:
        if a.actual[i] != b.actual[i]:
            raise CompareError(
                f"row {i!r} is actually {a.actual[i]!r} in A but {b.actual[i]!r} in B: the runs "
                "are over different data; compare runs of the same test set"
            )
    return ids


def _accuracy_line(name: str, run: Predictions, right: list[bool], confidence: float) -> str:
    correct, total = sum(right), len(right)
    lo, hi = wilson_interval(correct, total, confidence)
    return (
        f"{name} ({run.source}): accuracy {correct / total:.4f} ({confidence * 100:g} % interval "
        f"{lo:.4f} to {hi:.4f}) on {total:,} rows"
    )


def _ids_line(who: str, ids: list[str]) -> str:
    shown = ", ".join(ids[:SHOWN_IDS]) + (", ..." if len(ids) > SHOWN_IDS else "")
    return f"rows only {who} got right: {len(ids):,}" + (f" (ids {shown})" if ids else "")


def format_p(p_value: float) -> str:
    """Two significant digits: 0.52, 0.049, 1, 3.1e-05."""
    return f"{p_value:.2g}"


def compare(run_a, run_b, confidence: float = 0.95, alpha: float = 0.05) -> str:
    """The comparison of two runs as text (what the command prints); CompareError if they
    cannot be compared."""
    a, b = read_predictions(run_a), read_predictions(run_b)
    ids = matched_ids(a, b)
    a_right, b_right = a.right(ids), b.right(ids)
    test = mcnemar_exact(a_right, b_right)
    only_a = [i for i, x, y in zip(ids, a_right, b_right) if x and not y]
    only_b = [i for i, x, y in zip(ids, a_right, b_right) if y and not x]
    p_value = test["p_value"]
    return "\n".join(
        [
            _accuracy_line("A", a, a_right, confidence),
            _accuracy_line("B", b, b_right, confidence),
            _ids_line("A", only_a),
            _ids_line("B", only_b),
            f"McNemar's exact test on the {len(only_a) + len(only_b):,} rows only one run got "
            f"right: p = {p_value:.4f}",
            f"A alone right: {test['a_only_right']:,}, B alone right: {test['b_only_right']:,}, "
            f"McNemar's exact p = {format_p(p_value)}: {verdict(p_value, alpha)}",
        ]
    )


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number between 0 and 1, got {text}") from None
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, got {text}")
    return value


def parser() -> argparse.ArgumentParser:
    commands = argparse.ArgumentParser(
        prog="python -m confusion_metrics",
        description="Tools for the metrics of saved predictions.",
        epilog="python -m confusion_metrics compare --help says more about compare",
    )
    tools = commands.add_subparsers(dest="command", required=True, metavar="COMMAND")
    tool = tools.add_parser(
        "compare",
        help="is one run better than another on the same test rows? (McNemar's exact test)",
        description=(
            f"Compare two runs' {FILE} (saved by ann.py and cnn.py in their output folder): "
            "each run's accuracy with its Wilson interval, the rows only one of them got "
            "right, and McNemar's exact test on those rows. The runs must be over the same "
            "test rows (matched by id)."
        ),
        epilog="example: python -m confusion_metrics compare runs/baseline runs/dropout",
    )
    for name in ("RUN_A", "RUN_B"):
        tool.add_argument(
            name, help=f"a run's output folder (its --output-dir), or the path of its {FILE}"
        )
    tool.add_argument(
        "--confidence",
        type=_fraction,
        default=0.95,
        help="the confidence of the accuracy intervals (default 0.95)",
    )
    tool.add_argument(
        "--alpha",
        type=_fraction,
        default=0.05,
        help="the p-value below which the verdict is 'a real difference' (default 0.05)",
    )
    return commands


def main(argv: list[str] | None = None) -> int:
    """Run the command line; the exit status: 0, or 2 for runs that cannot be compared."""
    arguments = parser().parse_args(argv)
    try:
        text = compare(arguments.RUN_A, arguments.RUN_B, arguments.confidence, arguments.alpha)
    except CompareError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    print(text)
    return 0
