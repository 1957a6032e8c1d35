# %% [markdown]
# # Chapter 2, the theory: how the CNN sees
# The course's four steps (convolution, max pooling, flattening, full connection) on real test
# photos and the course's network: each written out in NumPy and checked against Keras' layers.
# Each `# %% Step N` cell is step N of the README's "How the CNN sees".

# %% Settings: in a notebook, change the run here; flags on the command line are added after them
SETTINGS = ""  # e.g. "--model outputs/cnn_model.keras" or "--epochs 1"

# %% Setup: the backend quietly, the flags, the photos, the trained network
import sys
from pathlib import Path

try:
    from tutorial_support.common import runtime  # before keras: the backend's start-up, silenced
except ModuleNotFoundError as missing:  # no virtualenv active, or the requirements not installed
    fix = getattr(missing, "fix", "`make {}`, or pip install -r requirements.txt")
    fix = fix.format("cnn-theory")
    print(f"error: {sys.executable} has no {missing.name}: run {fix}", file=sys.stderr)
    sys.exit(2)

import keras
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

import confusion_metrics
from tutorial_support.cnn import images, seeing
from tutorial_support.common.figures import show
from tutorial_support.common.outputs import StagedOutputs
from tutorial_support.common.reports import section

HERE = Path(__file__).resolve().parent if "__file__" in globals() else Path.cwd()  # a notebook
args = seeing.read_flags(SETTINGS, HERE)  # a bad flag stops here with one line
timer = runtime.start(args.seed)  # the device line, the seed, the clock
with timer.measure("photos"):  # --data, DLP_DATA_DIR, or downloaded once; decoded once, cached
    _, _, train, test = images.load_photos(args.data, seeing.SIZE, args.cache_dir)
seeing.check_two_classes(train)
with timer.measure("network"):
    network, said = seeing.trained_network(args.model, train, args.epochs, args.seed)
print(said)
# the first cat and the first dog of the test set, and what every layer makes of them
pair = [int(np.argmax(test.labels == label)) for label in (0, 1)]
photos, names = test.images[pair], [f"first of {test.class_names[label]}" for label in (0, 1)]
rescaled, conv1, pool1, conv2, pool2, flat, dense, p_dog = seeing.layer_outputs(
    network, photos
).values()
drawn, checks = {}, {}  # the figures and the checks against Keras, saved at the end

# %% Step 1: convolution
section("Step 1: convolution")


# A filter of 3 x 3 pixels (and as deep as the image has channels) slides over the image; at
# each place, the sum of pixel times weight is one number of the feature map. "valid": only
# where it fits whole (64 -> 62 pixels); "same": zeros around the edge keep the size.
def convolve(image, kernels, bias, stride=1, padding="valid"):
    """image (height, width, channels), kernels (3, 3, channels, filters) -> feature maps."""
    k = kernels.shape[0]
    if padding == "same":  # as Keras pads: the extra zero, if any, at the bottom and right
        pads = [max((-(-n // stride) - 1) * stride + k - n, 0) for n in image.shape[:2]]
        image = np.pad(image, [(p // 2, p - p // 2) for p in pads] + [(0, 0)])
    windows = sliding_window_view(image, (k, k), axis=(0, 1))[::stride, ::stride]
    return np.einsum("ijcyx,yxcf->ijf", windows, kernels) + bias  # windows: (i, j, c, y, x)


# A classic filter first: Sobel's vertical edge detector, on the cat's grey levels.
sobel = np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], dtype=np.float64)
kernel = np.repeat(sobel[:, :, None, None], 3, axis=2) / 3  # the same on each colour: grey
ours = convolve(rescaled[0].astype(np.float64), kernel, 0.0)[..., 0]
edge_layer = keras.layers.Conv2D(1, 3, use_bias=False)
edge_layer.build((None, seeing.SIZE, seeing.SIZE, 3))
edge_layer.set_weights([kernel.astype("float32")])
theirs = keras.ops.convert_to_numpy(edge_layer(rescaled[:1]))[0, ..., 0]
checks["edge filter"] = float(np.abs(ours - theirs).max())
print(
    f"Sobel's filter on the {names[0]}: {ours.shape} map; Keras' Conv2D differs by at most "
    f"{checks['edge filter']:.1e}"
)
drawn["edge_filter.png"] = show(seeing.edge_figure(photos[0], ours, theirs))

# Then the trained network's own first layer: 32 filters it learnt, each looking for a pattern.
kernels, biases = (np.asarray(w, dtype=np.float64) for w in network.layers[1].get_weights())
by_hand = [np.maximum(convolve(image, kernels, biases), 0) for image in rescaled.astype(np.float64)]
checks["first layer"] = float(np.abs(np.stack(by_hand) - conv1).max())
print(
    f"the first layer by hand (convolution, then ReLU) against Keras': at most "
    f"{checks['first layer']:.1e} apart"
)
# ReLU, max(0, x): a map keeps where its pattern is present, and says nothing (0) elsewhere.
before_relu = np.stack([convolve(image, kernels, biases) for image in rescaled.astype(np.float64)])
print(
    f"ReLU keeps {np.mean(before_relu > 0):.0%} of the first layer's numbers and sets the rest to 0"
)
drawn["first_layer.png"] = show(seeing.filters_and_maps(kernels, photos, conv1, names))

# %% Step 2: max pooling
section("Step 2: max pooling")


# Each 2 x 2 square of a feature map becomes its largest number: a quarter of the numbers, and
# the strongest signal of each place kept.
def max_pool(maps, size=2, stride=None, padding="valid"):
    stride = stride or size
    if padding == "same":  # as Keras pads: -infinity never wins a maximum
        pads = [max((-(-n // stride) - 1) * stride + size - n, 0) for n in maps.shape[:2]]
        maps = np.pad(
            maps, [(p // 2, p - p // 2) for p in pads] + [(0, 0)], constant_values=-np.inf
        )
    windows = sliding_window_view(maps, (size, size), axis=(0, 1))[::stride, ::stride]
    return windows.max(axis=(-2, -1))


pooled = np.stack([max_pool(maps) for maps in conv1])
checks["max pooling"] = float(np.abs(pooled - pool1).max())
print(f"{conv1.shape[1:]} -> {pooled.shape[1:]}", end="; ")
print(f"Keras' MaxPooling2D differs by {checks['max pooling']:.1e}")
strongest = list(np.argsort(-conv1[0].mean(axis=(0, 1)))[:4])  # the cat's four busiest maps
drawn["pooling.png"] = show(seeing.pooling_figure(conv1[0], pooled[0], strongest))

# What pooling buys: move 200 test photos a few pixels right, and measure how much each stage's
# numbers change (the size of the difference over the size of the original), and how often the
# answer, cat or dog, changes.
sample = test.images[:: max(1, len(test.images) // 200)][:200]
stages = {"convolution 1": 1, "pooling 1": 2, "convolution 2": 3, "pooling 2": 4, "dense": 6}
original = seeing.layer_outputs(network, sample, keep=[*stages.values(), 7])
changes = {stage: [0.0] for stage in stages}  # not moved: no change
pixels = [0, 1, 2, 3, 4]
for shift in pixels[1:]:
    moved = seeing.layer_outputs(network, seeing.shifted(sample, shift), keep=[*stages.values(), 7])
    for stage, k in stages.items():
        change = np.linalg.norm((moved[k] - original[k]).reshape(len(sample), -1), axis=1)
        size = np.linalg.norm(original[k].reshape(len(sample), -1), axis=1)
        changes[stage].append(float(np.mean(change / np.maximum(size, 1e-12))))
    flipped = np.mean((moved[7] > 0.5) != (original[7] > 0.5))
    print(f"moved {shift} px: the answer changes for {flipped:.0%} of the photos", end="; ")
    print(", ".join(f"{stage} by {values[-1]:.0%}" for stage, values in changes.items()))
drawn["shifts.png"] = show(seeing.shifts_figure(pixels, changes))

# %% Step 3: flattening
section("Step 3: flattening")
# The last pooled maps, 32 of them, laid end to end as one long row: the dense layer's input.
flat_by_hand = pool2.reshape(len(pool2), -1)
checks["flattening"] = float(np.abs(flat_by_hand - flat).max())
print(
    f"{pool2.shape[1:]} -> {flat_by_hand.shape[1]:,} numbers (Keras' Flatten: the same, "
    f"difference {checks['flattening']:.1e})"
)
# The shapes through the network and the weights of each layer, counted by hand: a filter has
# 3 x 3 x (channels in) weights and a bias; a dense unit one weight per input and a bias.
shape, channels, total = (seeing.SIZE, seeing.SIZE), 3, 0
print(f"{'layer':14} {'output shape':>14} {'weights':>9}  (by hand, then Keras' count)")
for layer in network.layers:
    kind = type(layer).__name__
    if kind == "Conv2D":
        weights = (3 * 3 * channels + 1) * layer.filters
        shape, channels = (shape[0] - 2, shape[1] - 2), layer.filters
    elif kind == "MaxPooling2D":
        weights, shape = 0, (shape[0] // 2, shape[1] // 2)
    elif kind == "Flatten":
        weights, shape, channels = 0, (), shape[0] * shape[1] * channels
    elif kind == "Dense":
        weights, channels = (channels + 1) * layer.units, layer.units
    else:  # Rescaling: pixels / 255
        weights = 0
    assert weights == layer.count_params(), (kind, weights, layer.count_params())
    total += weights
    print(f"{kind:14} {str((*shape, channels)):>14} {weights:>9,}")
print(f"{'in all':14} {'':>14} {total:>9,} = Keras' count_params() {network.count_params():,}")
checks["weights counted"] = float(total - network.count_params())

# %% Step 4: full connection
section("Step 4: full connection")
# Every one of the 6,272 numbers reaches each of the 128 units (a weight each), and the 128
# units reach the output: P(dog) = sigmoid(units . w + b).
(W, b), (w_out, b_out) = [
    [np.asarray(a, np.float64) for a in layer.get_weights()] for layer in network.layers[-2:]
]
units = np.maximum(flat_by_hand @ W + b, 0)
p_by_hand = 1 / (1 + np.exp(-(units @ w_out + b_out)))
checks["full connection"] = float(np.abs(p_by_hand - p_dog).max())
for name, p in zip(names, p_by_hand[:, 0]):
    print(f"the {name}: P(dog) = {p:.4f} by hand")
print(f"Keras' P(dog) differs from ours by at most {checks['full connection']:.1e}")

# Which of the 128 units tell cats from dogs? Each unit's activation on every test photo, ranked
# by ROC AUC for "dog" (0.5: no use; 1: every dog above every cat; 0: every cat above).
activations = seeing.layer_outputs(network, test.images, keep=[6])[6]
fired = activations.max(axis=0) > 0
aucs = np.array(
    [confusion_metrics.roc_auc(test.labels, a) if f else 0.5 for a, f in zip(activations.T, fired)]
)
print(f"{fired.sum()} of 128 units fire for some test photo; {128 - fired.sum()} never do")
for unit in np.argsort(-np.abs(aucs - 0.5))[:6]:
    leaning = "dog" if aucs[unit] > 0.5 else "cat"
    print(f"unit {unit + 1:3}: ROC AUC {aucs[unit]:.3f} (fires more for a {leaning})", end=", ")
    print(f"weight to the output {w_out[unit, 0]:+.3f}")
drawn["dense_units.png"] = show(seeing.units_figure(aucs, w_out[:, 0], fired))

# %% Outputs: the figures and the checks, written together at the end
with StagedOutputs(args.output_dir) as outputs:
    for name, figure in drawn.items():
        outputs.save_figure(name, figure)
    outputs.write_json(
        "checks.json",
        {"backend": runtime.backend(), "network": said, "largest_differences": checks},
    )
print(
    "\nlargest differences from Keras: "
    + ", ".join(f"{name} {value:.1e}" for name, value in checks.items())
)
print(f"Saved {len(drawn)} figures and checks.json in {args.output_dir}")
print(timer.summary())
