"""The flags of cnn.py (`python cnn.py --help` lists them), read in one call."""

from __future__ import annotations

import argparse
from pathlib import Path

from tutorial_support.common.cli import (
    base_parser,
    check_writable_folder,
    command_line,
    non_negative_int,
    positive_int,
)
from tutorial_support.common.errors import report_errors_in_one_line

DEFAULTS = {  # the course's network, the improved one of step 4, the pretrained one of step 5
    "tutorial": {"epochs": 25, "image_size": 64, "smallest": 10},
    "improved": {"epochs": 30, "image_size": 128, "smallest": 32},
    # 224 pixels, the size the base was trained at (on 2,000 training photos held out, 160 px
    # fell 1.5 points short of it: docs/measurements.md)
    "pretrained": {"epochs": 10, "image_size": 224, "smallest": 32},
}  # smallest: what survives the poolings (the pretrained base halves the image five times)
OWN_FOLDER = ("improved", "pretrained")
# --base: the default's weights come in a pip package; the others are keras.applications' (their
# weights downloaded on first use: transfer.py)
DEFAULT_BASE = "efficientnet_lite0"
BASES = (
    DEFAULT_BASE,
    "mobilenet_v3_small",
    "mobilenet_v3_large",
)  # the networks that write to a sub-folder of their own


def parser(default_output_dir: Path) -> argparse.ArgumentParser:
    parser = base_parser(
        "Train and evaluate the cats-and-dogs CNN.",
        default_output_dir=default_output_dir,
        output_dir_note="; with --model improved or pretrained, its sub-folder of that name",
    )
    # resolved in parse(): the improved network gets a folder of its own
    parser.set_defaults(output_dir=None)
    parser.add_argument(
        "--epochs",
        type=positive_int,
        default=None,
        help="passes over the training images (default: 25 tutorial, 30 improved, 10 pretrained)",
    )
    parser.add_argument(
        "--batch-size", type=positive_int, default=32, help="images per training step"
    )
    parser.add_argument(
        "--image-size",
        type=positive_int,
        default=None,
        help="side in pixels the images are resized to (default: 64 tutorial, 128 improved, 224 "
        "pretrained)",
    )
    parser.add_argument(
        "--model",
        choices=tuple(DEFAULTS),
        default="tutorial",
        help="the course's network, a stronger one (step 4), or one on a network pretrained on "
        "ImageNet (step 5)",
    )
    parser.add_argument(
        "--base",
        choices=BASES,
        default=DEFAULT_BASE,
        help=f"--model pretrained: the pretrained base ({DEFAULT_BASE}: its weights come with a "
        "pip package; the others are keras.applications', downloaded on first use)",
    )
    parser.add_argument(
        "--fine-tune-epochs",
        type=non_negative_int,
        default=0,
        metavar="N",
        help="--model pretrained: after training the new head, train the top of the base too "
        "for N epochs, at a small learning rate (default 0: the base stays frozen)",
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
    if args.fine_tune_epochs and args.model != "pretrained":
        flags.error("--fine-tune-epochs fine-tunes a pretrained base: add --model pretrained")
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


def read(settings: str, script_folder: Path) -> argparse.Namespace:
    """The run's flags: the SETTINGS cell's, then the command line's; errors become one line."""
    report_errors_in_one_line()
    return parse(command_line(settings), default_output_dir=script_folder / "outputs")
