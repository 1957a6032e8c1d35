"""The flags of cnn.py and transfer_learning.py (`--help` lists them), read in one call."""

from __future__ import annotations

import argparse
from pathlib import Path

from tutorial_support.cnn import efficientnet_lite, transfer
from tutorial_support.common.cli import (
    base_parser,
    check_writable_folder,
    command_line,
    non_negative_int,
    positive_int,
)
from tutorial_support.common.errors import report_errors_in_one_line

DEFAULTS = {  # cnn.py's two networks, and transfer_learning.py's network on a pretrained base
    "tutorial": {"epochs": 25, "image_size": 64, "smallest": 10},
    "improved": {"epochs": 30, "image_size": 128, "smallest": 32},
    # 224 pixels, the size the base was trained at (on 2,000 training photos held out, 160 px
    # fell 1.5 points short of it: docs/measurements.md)
    "pretrained": {"epochs": 10, "image_size": 224, "smallest": efficientnet_lite.SMALLEST},
}  # smallest: what survives the poolings (the pretrained base halves the image five times)
OWN_FOLDER = ("improved", "pretrained")  # the networks that write to a sub-folder of their own
SCRIPTS = {"cnn": "cnn.py", "transfer": "transfer_learning.py"}


def cnn_model(text: str) -> str:
    """argparse type of cnn.py's --model: the pretrained network has a lesson of its own."""
    if text == "pretrained":
        raise argparse.ArgumentTypeError(
            "the network on a pretrained base is a lesson of its own: run "
            "2_convolutional_neural_networks/transfer_learning.py (make transfer)"
        )
    return text


def parser(default_output_dir: Path, lesson: str = "cnn") -> argparse.ArgumentParser:
    """cnn.py's flags (``lesson="cnn"``) or transfer_learning.py's (``"transfer"``)."""
    transfer_lesson = lesson == "transfer"
    parser = base_parser(
        "Train and evaluate a cats-and-dogs network on a pretrained base."
        if transfer_lesson
        else "Train and evaluate the cats-and-dogs CNN.",
        default_output_dir=default_output_dir / "pretrained"
        if transfer_lesson
        else default_output_dir,
        output_dir_note="" if transfer_lesson else "; with --model improved, its sub-folder",
    )
    # resolved in parse(): the improved network gets a folder of its own
    parser.set_defaults(output_dir=None)
    parser.add_argument(
        "--epochs",
        type=positive_int,
        default=None,
        help="passes over the training features (default 10)"
        if transfer_lesson
        else "passes over the training images (default: 25 tutorial, 30 improved)",
    )
    parser.add_argument(
        "--batch-size", type=positive_int, default=32, help="images per training step"
    )
    parser.add_argument(
        "--image-size",
        type=positive_int,
        default=None,
        help="side in pixels the images are resized to (default "
        + ("224" if transfer_lesson else "64 tutorial, 128 improved")
        + ")",
    )
    if transfer_lesson:
        parser.add_argument(
            "--base",
            choices=transfer.BASES,
            default=transfer.DEFAULT_BASE,
            help=f"the pretrained base ({transfer.DEFAULT_BASE}: its weights come with a pip "
            "package; the others are keras.applications', downloaded on first use)",
        )
        parser.add_argument(
            "--fine-tune-epochs",
            type=non_negative_int,
            default=0,
            metavar="N",
            help="after training the new head, train the top of the base too for N epochs, at a "
            "small learning rate (default 0: the base stays frozen)",
        )
        parser.add_argument(
            "--exclude",
            type=Path,
            default=None,
            metavar="LIST",
            help="train without these training photos: a file of their paths under the data "
            "folder, one a line, or a label_issues.csv; the run then compares itself with the "
            "run before",
        )
    else:
        parser.add_argument(
            "--model",
            type=cnn_model,
            choices=("tutorial", "improved"),
            default="tutorial",
            help="the course's network, or a stronger one (step 4); the network on a pretrained "
            "base is transfer_learning.py's",
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


def parse(argv: list[str], default_output_dir: Path, lesson: str = "cnn") -> argparse.Namespace:
    """The flags of ``argv``, with the defaults that depend on the network filled in.
    ``lesson``: "cnn" (cnn.py) or "transfer" (transfer_learning.py: the "pretrained" network)."""
    flags = parser(default_output_dir, lesson)
    args = flags.parse_args(argv)
    args.script = SCRIPTS[lesson]
    if lesson == "transfer":
        args.model = "pretrained"
    else:
        args.base, args.fine_tune_epochs = None, 0
    if args.explain and not args.predict:
        flags.error(
            "--explain explains the images of --predict: give --predict IMAGE [IMAGE ...] too"
        )
    if args.tensorboard is not None:
        check_writable_folder(args.tensorboard, "--tensorboard")
    defaults = DEFAULTS[args.model]
    # the improved and pretrained networks never overwrite the tutorial network's outputs
    if args.output_dir is None:
        own = args.model in OWN_FOLDER
        args.output_dir = default_output_dir / args.model if own else default_output_dir
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


def read(settings: str, script_folder: Path, lesson: str = "cnn") -> argparse.Namespace:
    """The run's flags: the SETTINGS cell's, then the command line's; errors become one line."""
    report_errors_in_one_line()
    return parse(command_line(settings), script_folder / "outputs", lesson)
