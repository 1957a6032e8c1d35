"""python -m confusion_metrics compare RUN_A RUN_B, on small test_predictions.csv files: the numbers
it prints, against statsmodels and SciPy, and its one-line errors."""

import csv
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import scipy.stats
from statsmodels.stats.proportion import proportion_confint

from confusion_metrics import compare

ROOT = Path(__file__).resolve().parents[1]


def write_run(folder: Path, actual, predicted, ids=None, classes=("0", "1")) -> Path:
    """A run's output folder holding test_predictions.csv, as the chapters write it."""
    folder.mkdir(parents=True, exist_ok=True)
    ids = list(range(len(actual))) if ids is None else ids
    with open(folder / compare.FILE, "w", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(["id", "actual", "predicted", *(f"p_{c}" for c in classes)])
        for key, truth, guess in zip(ids, actual, predicted):
            probabilities = [0.9 if c == str(guess) else 0.1 for c in classes]
            writer.writerow([key, truth, guess, *probabilities])
    return folder


def two_runs(tmp_path, both=70, a_only=14, b_only=10, neither=6):
    """Runs A and B over the same rows: both right on ``both`` rows, A alone on ``a_only``..."""
    kinds = [(1, 1)] * both + [(1, 0)] * a_only + [(0, 1)] * b_only + [(0, 0)] * neither
    actual = np.tile([0, 1], len(kinds))[: len(kinds)]
    a = [y if right_a else 1 - y for y, (right_a, _) in zip(actual, kinds)]
    b = [y if right_b else 1 - y for y, (_, right_b) in zip(actual, kinds)]
    return write_run(tmp_path / "a", actual, a), write_run(tmp_path / "b", actual, b)


def run(capsys, *args):
    status = compare.main([str(arg) for arg in args])
    out, err = capsys.readouterr()
    return status, out.splitlines(), err.splitlines()


def wilson(successes, trials, confidence=0.95):
    return proportion_confint(successes, trials, alpha=1 - confidence, method="wilson")


def test_it_prints_both_accuracies_the_rows_only_one_got_right_and_mcnemars_p(tmp_path, capsys):
    a, b = two_runs(tmp_path)
    status, out, err = run(capsys, "compare", a, b)
    assert status == 0 and err == []
    lo, hi = wilson(84, 100)
    assert out[0] == f"A ({a}): accuracy 0.8400 (95 % interval {lo:.4f} to {hi:.4f}) on 100 rows"
    lo, hi = wilson(80, 100)
    assert out[1] == f"B ({b}): accuracy 0.8000 (95 % interval {lo:.4f} to {hi:.4f}) on 100 rows"
    assert out[2] == "rows only A got right: 14 (ids 70, 71, 72, 73, 74, ...)"
    assert out[3] == "rows only B got right: 10 (ids 84, 85, 86, 87, 88, ...)"
    p = scipy.stats.binomtest(10, 24, 0.5).pvalue  # 0.541
    assert out[4] == f"McNemar's exact test on the 24 rows only one run got right: p = {p:.4f}"
    assert out[5] == (
        "A alone right: 14, B alone right: 10, McNemar's exact p = 0.54: "
        "no evidence of a difference"
    )
    assert len(out) == 6


def test_a_clear_difference_and_the_csv_given_directly(tmp_path, capsys):
    a, b = two_runs(tmp_path, both=900, a_only=3, b_only=25, neither=72)
    status, out, _ = run(capsys, "compare", a / compare.FILE, b)
    assert status == 0
    assert out[0].startswith(f"A ({a / compare.FILE}): accuracy 0.9030 ")
    assert out[0].endswith(" on 1,000 rows")
    p = scipy.stats.binomtest(3, 28, 0.5).pvalue
    assert out[-1] == (
        f"A alone right: 3, B alone right: 25, McNemar's exact p = {p:.2g}: "
        "a real difference (p < 0.05)"
    )


def test_rows_are_matched_by_id_not_by_order(tmp_path, capsys):
    a, b = two_runs(tmp_path)
    _, expected, _ = run(capsys, "compare", a, b)
    with open(b / compare.FILE, newline="") as stream:
        rows = list(csv.reader(stream))
    shuffled = [rows[0], *np.random.default_rng(0).permutation(rows[1:]).tolist()]
    with open(b / compare.FILE, "w", newline="") as stream:
        csv.writer(stream).writerows(shuffled)
    status, out, _ = run(capsys, "compare", a, b)
    assert status == 0 and out == expected


def test_identical_runs_and_other_labels(tmp_path, capsys):
    labels = ["cat", "dog", "cat", "dog", "dog"]
    ids = [f"photo_{i}.jpg" for i in range(5)]
    a = write_run(tmp_path / "a", labels, ["cat", "dog", "dog", "dog", "cat"], ids, labels[:2])
    status, out, _ = run(capsys, "compare", a, a, "--confidence", "0.9", "--alpha", "0.01")
    lo, hi = wilson(3, 5, 0.9)
    assert status == 0
    assert out[0] == f"A ({a}): accuracy 0.6000 (90 % interval {lo:.4f} to {hi:.4f}) on 5 rows"
    assert out[2:4] == ["rows only A got right: 0", "rows only B got right: 0"]
    assert out[-1] == (
        "A alone right: 0, B alone right: 0, McNemar's exact p = 1: no evidence of a difference"
    )


def error_of(capsys, *args) -> str:
    """The one line a run that cannot be compared writes to stderr (nothing on stdout, status 2)."""
    status, out, err = run(capsys, "compare", *args)
    assert status == 2 and out == [] and len(err) == 1, (status, out, err)
    assert err[0].startswith("error: ")
    return err[0]


def test_a_folder_without_predictions_is_one_line(tmp_path, capsys):
    a, _ = two_runs(tmp_path)
    (tmp_path / "old").mkdir()
    message = error_of(capsys, a, tmp_path / "old")
    assert f"{tmp_path / 'old'} has no test_predictions.csv: give a run's output folder" in message
    message = error_of(capsys, tmp_path / "nowhere", a)
    assert f"{tmp_path / 'nowhere'} does not exist" in message


def test_runs_over_different_rows_are_one_line(tmp_path, capsys):
    a = write_run(tmp_path / "a", [0, 1, 1], [0, 1, 0])
    b = write_run(tmp_path / "b", [0, 1, 1, 0], [0, 1, 0, 0])
    message = error_of(capsys, a, b)
    assert "the two runs are over different rows (0 ids only in A, 1 only in B; id '3' is only" in (
        message
    )
    assert "compare runs of the same test set" in message
    c = write_run(tmp_path / "c", [0, 1, 0], [0, 1, 0])  # the same ids, another actual class
    message = error_of(capsys, a, c)
    assert "row '2' is actually '1' in A but '0' in B" in message


@pytest.mark.parametrize(
    "text, message",
    [
        ("id,actual,p_0\n1,0,0.3\n", "has no predicted column: it is not a test_predictions.csv"),
        ("id,actual,predicted\n", "has no rows: there is nothing to compare"),
        ("id,actual,predicted\n1,0,0\n1,1,1\n", "has the id '1' twice"),
        ("id,actual,predicted\n1,0\n", "line 2 is cut short"),
        (b"\xff\xfe\x00id", "is not a readable csv file"),
    ],
)
def test_a_file_that_is_not_predictions_is_one_line(tmp_path, capsys, text, message):
    a, _ = two_runs(tmp_path)
    bad = tmp_path / "bad.csv"
    bad.write_bytes(text if isinstance(text, bytes) else text.encode())
    assert message in error_of(capsys, a, bad)


def test_help_explains_the_command(capsys):
    with pytest.raises(SystemExit) as stopped:
        compare.main(["--help"])
    assert stopped.value.code == 0
    assert "compare" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        compare.main(["compare", "--help"])
    text = capsys.readouterr().out
    assert "RUN_A" in text and "test_predictions.csv" in text and "McNemar" in text
    with pytest.raises(SystemExit) as stopped:
        compare.main(["compare", "a", "b", "--confidence", "95"])
    assert stopped.value.code == 2
    assert "must be between 0 and 1, got 95" in capsys.readouterr().err


def test_python_dash_m_runs_it(tmp_path):
    a, b = two_runs(tmp_path)
    result = subprocess.run(
        [sys.executable, "-m", "confusion_metrics", "compare", str(a), str(b)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1].startswith("A alone right: 14, B alone right: 10")
