"""CNN benchmark: data preparation, the default run, the ten digits, decoding phone photos,
the spread over seeds and the improved network. Writes docs/measurements.md.

    # data, the tutorial network's default run, the digits, decoding 12 MP photos
    python benchmarks/bench_cnn.py
    # also the tutorial network with seeds 1-4 (a default run each)
    python benchmarks/bench_cnn.py --seeds 5
    # also the improved network (about four default runs)
    python benchmarks/bench_cnn.py --improved

docs/measurements.md says how long each took.

Every training run starts from an empty image cache in a temporary folder, so its time
includes decoding the JPEGs.
"""

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from measurements import percent, write_section
from tutorial_support.common.cli import positive_int
from tutorial_support.common.errors import TutorialError

ROOT = Path(__file__).resolve().parents[1]


def data_preparation(cache: Path, size: int) -> list[str]:
    from tutorial_support.cnn import images
    from tutorial_support.common import data

    root = data.cats_and_dogs()
    lines = []
    for attempt in ("cold cache", "warm cache"):
        began = time.perf_counter()
        for split in ("training_set", "test_set"):
            images.load_image_set(root / split, size, cache, split)
        lines.append(
            f"- reading the 10,000 images at {size} px, {attempt}: "
            f"{time.perf_counter() - began:.1f} s"
        )
    return lines


KEEP: Path | None = (
    None  # --outputs: keep each run's outputs here (the README's figures come from them)
)


def run_cnn(model: str, cache: Path, seed: int = 0, *flags: str) -> tuple[dict, float]:
    """One default run of cnn.py (plus ``flags``); its metrics.json and its wall-clock seconds."""
    with tempfile.TemporaryDirectory() as out:
        if KEEP is not None:
            out = str(KEEP / (f"{model}-seed{seed}" + ("-own-data" if "--data" in flags else "")))
        began = time.perf_counter()
        failed = subprocess.run(
            [
                sys.executable,
                str(ROOT / "2_convolutional_neural_networks" / "cnn.py"),
                "--model",
                model,
                "--verbose",
                "0",
                "--cache-dir",
                str(cache),
                "--output-dir",
                out,
                "--seed",
                str(seed),
                *flags,
            ],
            stdout=subprocess.DEVNULL,
        ).returncode
        if failed:  # the script has printed its one-line error
            sys.exit(failed)
        return json.loads((Path(out) / "metrics.json").read_text()), time.perf_counter() - began


def full_run(model: str, cache: Path, extra: list[str]) -> float:
    metrics, wall = run_cnn(model, cache)
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    per_epoch, test, history = (
        metrics["timings_s"]["per_epoch"],
        metrics["test"],
        metrics["history"],
    )
    cm = np.array(test["confusion_matrix"])
    calibration = test["calibration"]
    lines = extra + [
        f"- `cnn.py --model {model}`: {wall:.1f} s wall with a cold image cache (data "
        f"{metrics['timings_s']['data']:.1f} s), "
        f"{len(per_epoch)} epochs at {statistics.mean(per_epoch):.2f} s each (fastest "
        f"{min(per_epoch):.2f} s), "
        f"peak memory {peak_mb:.0f} MB, computing in {metrics['precision']}",
        f"- test accuracy **{percent(test['accuracy'])}**: {int(cm.trace()):,} of "
        f"{int(cm.sum()):,} right, "
        f"{int(cm.sum() - cm.trace())} wrong; last epoch: training accuracy "
        f"{percent(history['accuracy'][-1])}, "
        f"test accuracy {percent(history['val_accuracy'][-1])}, test loss "
        f"{history['val_loss'][-1]:.4f}",
        "- per class: "
        + ", ".join(
            f"{name} precision {percent(c['precision'])} / recall {percent(c['recall'])} / "
            f"F1 {percent(c['f1'])}"
            for name, c in test["per_class"].items()
        ),
        f"- calibration on P({test['class_names'][1]}), 10 bins: ECE {calibration['ece']:.4f}, "
        "Brier score "
        f"{calibration['brier']:.4f}, log loss {calibration['log_loss']:.4f}",
    ]
    print("\n".join(lines), flush=True)
    title = {
        "tutorial": "Chapter 2: the tutorial network's default run (`cnn.py`, seed 0)",
        "improved": "Chapter 2: the improved network (`cnn.py --model improved`, seed 0)",
    }[model]
    write_section(f"cnn-{model}", title, lines)
    return test["accuracy"]


def digits_run(folder: Path) -> None:
    """The 10 handwritten digits scikit-learn ships, as image folders, at 32 px for 15 epochs."""
    made = subprocess.run(
        [sys.executable, str(ROOT / "docs" / "make_digits_folders.py"), str(folder / "digits")],
        stdout=subprocess.DEVNULL,
    )
    if made.returncode:
        sys.exit(made.returncode)
    metrics, wall = run_cnn(
        "tutorial",
        folder / "cache",
        0,
        "--data",
        str(folder / "digits"),
        "--image-size",
        "32",
        "--epochs",
        "15",
        "--no-flip",
    )
    per_epoch, test = metrics["timings_s"]["per_epoch"], metrics["test"]
    cm = np.array(test["confusion_matrix"])
    lines = [
        f"`cnn.py --data digits --image-size 32 --epochs 15 --no-flip`: {wall:.1f} s wall, "
        f"{statistics.mean(per_epoch):.2f} s per epoch, test accuracy "
        f"**{percent(test['accuracy'])}**, "
        f"macro F1 {percent(test['averages']['macro']['f1'])}, weighted F1 "
        f"{percent(test['averages']['weighted']['f1'])}, "
        f"ECE (top label) {test['calibration']['ece']:.4f}.",
        "",
        "| digit | TP | FN | FP | TN | precision | recall | F1 |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for k, (name, c) in enumerate(test["per_class"].items()):
        tp, fn, fp = cm[k, k], cm[k].sum() - cm[k, k], cm[:, k].sum() - cm[k, k]
        lines.append(
            f"| {name} | {tp} | {fn} | {fp} | {cm.sum() - tp - fn - fp} | "
            f"{percent(c['precision'])} | "
            f"{percent(c['recall'])} | {percent(c['f1'])} |"
        )
    print("\n".join(lines), flush=True)
    write_section(
        "cnn-digits", "Chapter 2: ten digits (`docs/make_digits_folders.py`, seed 0)", lines
    )


def phone_photos(folder: Path, count: int = 24) -> None:
    """Decoding 12 MP JPEGs to 64 px: a plain decode and resize, against decode_image (draft
    mode)."""
    from PIL import Image

    from tutorial_support.cnn import images

    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:3000, 0:4000]
    smooth = np.stack(
        [128 + 90 * np.sin(x / 211), 128 + 90 * np.cos(y / 157), 128 + 90 * np.sin((x + y) / 97)],
        -1,
    )
    folder.mkdir(parents=True)
    for k in range(count):  # photo-like: smooth shapes and sensor noise, as a phone saves them
        pixels = (
            (np.roll(smooth, 150 * k, axis=1) + rng.normal(0, 6, smooth.shape))
            .clip(0, 255)
            .astype(np.uint8)
        )
        Image.fromarray(pixels).save(folder / f"IMG_{k:04d}.jpg", quality=90)
    files = sorted(folder.iterdir())

    def plain(path):
        with Image.open(path) as image:
            return np.asarray(image.convert("RGB").resize((64, 64), Image.Resampling.BILINEAR))

    seconds = {}
    for name, decode in (
        ("a plain decode, then the resize", plain),
        ("decode_image (draft mode)", lambda p: images.decode_image(p, 64)),
    ):
        began = time.perf_counter()
        decoded = [decode(path) for path in files]
        seconds[name] = (time.perf_counter() - began) / count
        if name.startswith("a plain"):
            reference = np.stack(decoded).astype(float)
    ours = np.stack(decoded).astype(float)
    before, after = seconds.values()
    lines = [
        f"{count} photo-like JPEGs of 4000 x 3000 pixels (12 MP), decoded one at a time and "
        "resized to 64 x 64:",
        "",
    ]
    lines += [f"- {name}: {value * 1000:.0f} ms per photo" for name, value in seconds.items()]
    lines += [
        f"- {before / after:.1f}x faster; the pixels differ by "
        f"{np.abs(ours - reference).mean():.2f} levels of 255 "
        "on average"
    ]
    print("\n".join(lines), flush=True)
    write_section("cnn-photos", "Chapter 2: decoding phone-sized photos", lines)


def accuracy_over_seeds(seeds: int, cache: Path, seed_0_accuracy: float) -> None:
    """How much the tutorial network's test accuracy depends on the seed alone."""
    accuracies = [seed_0_accuracy]
    for seed in range(1, seeds):
        metrics, _ = run_cnn("tutorial", cache, seed)
        accuracies.append(metrics["test"]["accuracy"])
        print(f"  seed {seed}: test accuracy {accuracies[-1]:.4f}", flush=True)
    lines = [
        "| seed | " + " | ".join(str(s) for s in range(seeds)) + " |",
        "|---|" + "---|" * seeds,
        "| test accuracy | " + " | ".join(percent(a) for a in accuracies) + " |",
        "",
        f"Mean {percent(statistics.mean(accuracies))}, lowest {percent(min(accuracies))}, highest "
        f"{percent(max(accuracies))}; {sum(a >= 0.80 for a in accuracies)} of {seeds} at 80 % or "
        "more.",
    ]
    print("\n".join(lines))
    write_section(
        "cnn-seeds", f"Chapter 2: the tutorial network over seeds 0 to {seeds - 1}", lines
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--improved", action="store_true", help="also run the improved network")
    parser.add_argument(
        "--seeds",
        type=positive_int,
        default=1,
        metavar="N",
        help="also train the tutorial network with seeds 1 to N-1 and summarise the accuracies",
    )
    parser.add_argument(
        "--only",
        choices=("seeds", "improved"),
        default=None,
        help="run only the seeds or only the improved network (with --seeds or --improved)",
    )
    parser.add_argument(
        "--outputs",
        type=Path,
        default=None,
        metavar="DIR",
        help="keep each run's outputs (models, figures, metrics.json) in DIR",
    )
    args = parser.parse_args()
    global KEEP
    KEEP = args.outputs
    with tempfile.TemporaryDirectory() as cache:
        cache = Path(cache)
        if args.only is None:
            preparation = data_preparation(cache / "prep", 64)
            seed_0 = full_run("tutorial", cache / "tutorial", preparation)
            digits_run(cache / "digits")
            phone_photos(cache / "photos")
        if args.seeds > 1 and args.only in (None, "seeds"):
            # seed 0: from the default run's outputs, kept with --outputs, or run again
            if args.only:
                kept = KEEP / "tutorial-seed0" / "metrics.json" if KEEP else None
                seed_0 = (
                    json.loads(kept.read_text())
                    if kept and kept.is_file()
                    else run_cnn("tutorial", cache / "tutorial")[0]
                )["test"]["accuracy"]
            accuracy_over_seeds(args.seeds, cache / "tutorial", seed_0)
        if args.improved and args.only in (None, "improved"):
            full_run("improved", cache / "improved", [])


if __name__ == "__main__":
    try:
        main()
    except TutorialError as error:  # e.g. no data: one line, as the scripts do
        sys.exit(f"error: {error}")
