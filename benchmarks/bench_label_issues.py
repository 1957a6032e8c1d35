"""Which labels to doubt (transfer_learning.py, step 8): does it find filing errors?

    python benchmarks/bench_label_issues.py               # 40 training photos moved (seed 0)
    python benchmarks/bench_label_issues.py --moved 80

The frozen base's features of the 8,000 training photos (cached by transfer_learning.py, or
computed here), then the given class of some of them swapped, as if the photos had been moved to
the other class's folder: the features are the same either way, so nothing else changes. Step 8's
out-of-fold probabilities and cleanlab then rank every training photo; how many of the moved photos
come first is what this measures. Writes docs/measurements.md (section label-issues).
"""

import argparse
import time

import cleanlab
import numpy as np

from measurements import write_section
from tutorial_support.cnn import images, labels, transfer
from tutorial_support.common import runtime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--moved", type=int, default=40, help="training photos to move")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    runtime.seed_everything(args.seed)
    root, cache, train, _ = images.load_photos(None, 224, None)
    base, _ = transfer.pretrained_network(transfer.DEFAULT_BASE, 224)
    base.trainable = False
    extractor = transfer.feature_extractor(base, transfer.DEFAULT_BASE, 224)
    key = f"{transfer.DEFAULT_BASE} {transfer.weights_id(transfer.DEFAULT_BASE)} float32"
    features, cached = transfer.pooled_features(extractor, train, cache, key)
    head = keras_head(features.shape[1])
    rng = np.random.default_rng(args.seed)
    moved = rng.choice(len(train.labels), size=args.moved, replace=False)
    given = train.labels.copy()
    given[moved] = 1 - given[moved]  # filed under the other class
    began = time.perf_counter()
    p = labels.out_of_fold_probabilities(
        head, features, given, folds=5, epochs=10, batch_size=32, seed=args.seed
    )
    flagged = cleanlab.filter.find_label_issues(given, p)
    quality = cleanlab.rank.get_label_quality_scores(given, p)
    seconds = time.perf_counter() - began
    ranking = np.argsort(quality, kind="stable")
    is_moved = np.isin(ranking, moved)
    lines = [
        f"{len(train.labels):,} training photos at 224 px, the base's features "
        f"{'from the cache' if cached else 'computed'}; {args.moved} photos (seed {args.seed}) "
        "filed under the other class; step 8's 5 out-of-fold heads (10 epochs each) and cleanlab "
        f"in {seconds:.1f} s:",
        "",
        f"- cleanlab flags {flagged.sum()} photos, {flagged[moved].sum()} of the "
        f"{args.moved} moved ones among them",
        f"- of the {args.moved} photos with the lowest label quality, "
        f"{is_moved[: args.moved].sum()} were moved; of the first {2 * args.moved}, "
        f"{is_moved[: 2 * args.moved].sum()}",
        f"- the last moved photo comes at rank {int(np.flatnonzero(is_moved).max()) + 1} of "
        f"{len(train.labels):,}",
    ]
    print("\n".join(lines))
    write_section(
        "label-issues", "Chapter 2: which labels to doubt, on photos moved on purpose", lines
    )


def keras_head(features: int):
    """The lesson's head: dropout 0.2 and one sigmoid unit, compiled as step 3 compiles it."""
    keras = runtime.keras
    head = keras.Sequential(
        [
            keras.Input(shape=(features,)),
            keras.layers.Dropout(0.2),
            keras.layers.Dense(1, activation="sigmoid", dtype="float32"),
        ]
    )
    head.compile(optimizer=keras.optimizers.Adam(1e-3), loss="binary_crossentropy")
    return head


if __name__ == "__main__":
    main()
