"""Command-line pieces both scripts share: the common flags, number types, the settings cell."""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from pathlib import Path

from tutorial_support.common.errors import EXIT_BAD_INPUT, TutorialError


def in_notebook() -> bool:
    """True inside Jupyter or VS Code's interactive window, whose argv is not ours."""
    # imported by every notebook kernel; only checked, never imported here
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    return getattr(shell, "kernel", None) is not None


class StopRun(Exception):
    """Ends a notebook's run early with one line (IPython shows ``_render_traceback_``)."""

    def _render_traceback_(self) -> list[str]:
        return [str(self)]


def stop_here(done: str) -> None:
    """The end of a run that had one thing to do (``--predict-only``, ``--predict``): exit 0 from
    a script; in a notebook, stop the cells below with one line, not SystemExit's warning."""
    if in_notebook():
        raise StopRun(f"done: {done}; the cells below train, so this run stops here")
    raise SystemExit(0)


def command_line(settings: str) -> list[str]:
    """The flags a script runs with: its settings cell's, then the command line's (which win).

    In a notebook the command line belongs to the kernel, so only the settings count.
    """
    return shlex.split(settings) + ([] if in_notebook() else sys.argv[1:])


def _whole_number_at_least(minimum: int, text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < minimum:
        raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {value}")
    return value


def _number_between(text: str, low: float, high: float, high_included: bool) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not (low < value < high or (high_included and value == high)):
        interval = f"({low:g}, {high:g}{']' if high_included else ')'}"
        raise argparse.ArgumentTypeError(f"must be in {interval}, got {text}")
    return value


def open_unit_interval(text: str) -> float:
    """argparse type: a number strictly between 0 and 1 (a probability threshold)."""
    return _number_between(text, 0.0, 1.0, high_included=False)


def unit_interval_above_0(text: str) -> float:
    """argparse type: a number above 0, at most 1 (a share, such as a recall to reach)."""
    return _number_between(text, 0.0, 1.0, high_included=True)


def positive_int(text: str) -> int:
    """argparse type: a whole number of at least 1."""
    return _whole_number_at_least(1, text)


def non_negative_int(text: str) -> int:
    """argparse type: a whole number of at least 0."""
    return _whole_number_at_least(0, text)


class OneLineErrorParser(argparse.ArgumentParser):
    """argparse, but a bad argument gives one line (not the whole usage) and exit 2."""

    def error(self, message: str):
        if in_notebook():  # SystemExit would end in IPython's "To exit: use 'exit'" warning
            raise TutorialError(f"{message} (see --help)")
        self.exit(EXIT_BAD_INPUT, f"error: {message} (see --help)\n")

    def parse_args(self, args=None, namespace=None):
        if args is None and in_notebook():
            args = []  # a notebook's command line belongs to its kernel: use the defaults
        return super().parse_args(args, namespace)


def flags_as_json(args: argparse.Namespace) -> dict:
    """Every flag's value, ready for metrics.json (paths as text)."""
    return {
        key: str(value) if isinstance(value, Path) else value for key, value in vars(args).items()
    }


class _DefaultsFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows each flag's default once: not where there is none, nor where the help says it."""

    def _get_help_string(self, action):
        # False: an on/off flag
        if action.default in (None, False, "") or "default" in (action.help or ""):
            return action.help
        return super()._get_help_string(action)


def base_parser(
    description: str, default_output_dir: Path, output_dir_note: str = ""
) -> argparse.ArgumentParser:
    """A parser with the flags every script has: --data, --seed, --output-dir, --verbose."""
    parser = OneLineErrorParser(description=description, formatter_class=_DefaultsFormatter)
    parser.add_argument(
        "--data",
        type=Path,
        default=None,
        help="folder (or file) holding the data; overrides the DLP_DATA_DIR environment "
        "variable. Without either, the data is downloaded once into the Keras cache "
        "(~/.keras/datasets)",
    )
    parser.add_argument(
        "--seed", type=int, default=0, help="random seed: the same seed gives the same figures"
    )
    parser.add_argument(
        "--output-dir",
        type=Path,
        default=default_output_dir,
        help="where the model, figures and metrics.json are written "
        f"(default: {default_output_dir.parent.name}/{default_output_dir.name} in the "
        f"project{output_dir_note})",
    )
    parser.add_argument(
        "--verbose",
        type=int,
        choices=(0, 1, 2),
        default=1,
        help="Keras training output: 0 silent, 1 progress bar, 2 one line per epoch",
    )
    return parser


def check_writable_folder(folder: Path, flag: str) -> None:
    """Make sure ``folder`` is (or can become) a folder we may write in, before any training."""
    if folder.exists() and not folder.is_dir():
        raise TutorialError(f"{flag} {folder} is a file, not a folder: give a folder for the logs")
    # the part that exists already
    parent = next(p for p in (folder, *folder.parents) if p.exists())
    if not parent.is_dir():
        raise TutorialError(f"{flag} {folder}: {parent} is a file, so no folder can be made there")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise TutorialError(
            f"{flag} {folder}: cannot write in {parent}; choose a folder you can write in"
        )


def read_lesson_flags(
    settings: str, description: str, output_dir: Path, flags: dict
) -> argparse.Namespace:
    """The flags of a lesson that needs only a few of its own (``{"--name": add_argument's
    options}``) besides every script's: the SETTINGS cell's, then the command line's; a bad one
    stops with one line and exit status 2."""
    from tutorial_support.common.errors import report_errors_in_one_line

    report_errors_in_one_line()
    parser = base_parser(description, default_output_dir=output_dir)
    for name, options in flags.items():
        parser.add_argument(name, **options)
    return parser.parse_args(command_line(settings))
