"""The flags of cnn.py (`python cnn.py --help` lists them), read in one call."""

from __future__ import annotations

import argparse
from pathlib import Path

from tutorial_support.common.cli import (
    base_parser,
    check_writable_folder,
    command_line,
    positive_int,
)
from tutorial_support.common.errors import report_errors_in_one_line

DEFAULTS = {  # the course's network, and the improved one of step 4
    "tutorial": {"epochs": 25, "image_size": 64, "smallest": 10},
    "improved": {
        "epochs": 30,
        "image_size": 128,
        "smallest": 32,
    },  # smallest: what survives the poolings
}


def parser(default_output_dir: Path) -> argparse.ArgumentParser:
    parser = base_parser(
        "Train and evaluate the cats-and-dogs CNN.",
        default_output_dir=default_output_dir,
        output_dir_note="; with --model improved, its sub-folder improved/",
    )
    # resolved in parse(): the improved network gets a folder of its own
    parser.set_defaults(output_dir=None)
    parser.add_argument(
        "--epochs",
        type=positive_int,
        default=None,
        help="passes over the training images (default: 25 tutorial, 30 improved)",
    )
    parser.add_argument(
        "--batch-size", type=positive_int, default=32, help="images per training step"
    )
    parser.add_argument(
        "--image-size",
        type=positive_int,
        default=None,
        help="side in pixels the images are resized to (default: 64 tutorial, 128 improved)",
    )
    parser.add_argument(
        "--model",
        choices=("tutorial", "improved"),
        default="tutorial",
        help="the course's network, or a stronger one (step 4)",
    )
    parser.add_argument(
        "--no-flip",
        action="store_true",
        help="do not mirror training images left to right (for digits or text, where a "
        "mirrored image is another thing)",
    )
    parser.add_argument(
        "--cache-dir",
        type=Path,
        default=None,
        help="where decoded images are cached (default: the Keras cache, ~/.keras/cnn_cache)",
    )
    parser.add_argument(
        "--predict",
        type=Path,
        nargs="+",
        metavar="IMAGE_OR_FOLDER",
        help="classify these images, or every image directly in these folders, with the model "
        "saved in --output-dir (no training); writes predictions.csv there",
    )
    parser.add_argument(
        "--explain",
        action="store_true",
        help="with --predict: also draw where the network looked (Grad-CAM), as gradcam_<name>.png "
        "in --output-dir",
    )
    parser.add_argument(
        "--tensorboard",
        type=Path,
        default=None,
        metavar="DIR",
        help="log the training and test loss and accuracy of every epoch for TensorBoard "
        "(tensorboard --logdir DIR)",
    )
    parser.add_argument(
        "--mixed-precision",
        choices=("auto", "on", "off"),
        default="auto",
        help="compute in float16 on a GPU or bfloat16 on a CPU, weights kept in float32; "
        "auto: on where the hardware computes it natively (NVIDIA GPUs from Volta on, "
        "CPUs with AVX512-BF16 or AMX)",
    )
    parser.add_argument(
        "--strategy",
        choices=("default", "mirrored", "multiworker"),
        default="default",
        help="mirrored: train on all local GPUs with tf.distribute.MirroredStrategy; multiworker: "
        "train across the machines listed in the TF_CONFIG environment variable (docs/machines.md)",
    )
    parser.add_argument(
        "--worker-timeout",
        type=positive_int,
        default=120,
        metavar="SECONDS",
        help="--strategy multiworker: how long to wait for the other workers",
    )
    return parser


def parse(argv: list[str], default_output_dir: Path) -> argparse.Namespace:
    """The flags of ``argv``, with the defaults that depend on --model filled in."""
    flags = parser(default_output_dir)
    args = flags.parse_args(argv)
    if args.explain and not args.predict:
        flags.error(
            "--explain explains the images of --predict: give --predict IMAGE [IMAGE ...] too"
        )
    if args.tensorboard is not None:
        check_writable_folder(args.tensorboard, "--tensorboard")
    defaults = DEFAULTS[args.model]
    # the improved network never overwrites the tutorial network's outputs
    if args.output_dir is None:
        args.output_dir = (
            default_output_dir / "improved" if args.model == "improved" else default_output_dir
        )
    if args.image_size is None:
        args.image_size = defaults["image_size"]
    if args.epochs is None:
        args.epochs = defaults["epochs"]
    if args.image_size < defaults["smallest"]:
        flags.error(
            f"argument --image-size: the {args.model} network needs at least "
            f"{defaults['smallest']} pixels, "
            f"got {args.image_size}"
        )
    return args


def read(settings: str, script_folder: Path) -> argparse.Namespace:
    """The run's flags: the SETTINGS cell's, then the command line's; errors become one line."""
    report_errors_in_one_line()
    return parse(command_line(settings), default_output_dir=script_folder / "outputs")
