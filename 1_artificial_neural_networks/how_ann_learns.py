# %% [markdown]
# # Chapter 1, the theory: how the ANN learns
# The course's seven steps of stochastic gradient descent, on the bank's customers and the
# course's network (11 inputs, 6, 6, 1): forward and back-propagation written out in NumPy and
# checked against Keras. Each `# %% Step N` cell is step N of the README's "How the ANN learns".

# %% Settings: in a notebook, change the run here; flags on the command line are added after them
SETTINGS = ""  # e.g. "--epochs 20 --sgd-epochs 5"

# %% Setup: the backend quietly, the flags, the data as ann.py's steps 1 to 4 leave it
import sys
import time
from pathlib import Path

try:
    from tutorial_support.common import runtime  # before keras: the backend's start-up, silenced
except ModuleNotFoundError as missing:  # no virtualenv active, or the requirements not installed
    fix = getattr(missing, "fix", "`make {}`, or pip install -r requirements.txt")
    fix = fix.format("ann-theory")
    print(f"error: {sys.executable} has no {missing.name}: run {fix}", file=sys.stderr)
    sys.exit(2)

import keras
import numpy as np

from tutorial_support.ann import learning
from tutorial_support.backends.gradients import weight_gradients
from tutorial_support.common.figures import show
from tutorial_support.common.outputs import StagedOutputs
from tutorial_support.common.reports import section
from tutorial_support.fast.training import fit, predict_probabilities

HERE = Path(__file__).resolve().parent if "__file__" in globals() else Path.cwd()  # a notebook
args = learning.read_flags(SETTINGS, HERE)  # a bad flag stops here with one line
timer = runtime.start(args.seed)  # the device line, the seed, the clock
bank = learning.load_churn(args.data)  # encoded, split 80/20 and scaled, as in ann.py
print(f"{len(bank.X_train):,} training customers, {len(bank.X_test):,} test customers")
drawn, checks = {}, {}  # the figures and the checks against Keras, saved at the end

# %% Step 1: initialise the weights
section("Step 1: initialise the weights")


# The course's network. Keras draws each weight of a Dense layer from its kernel_initializer:
# "uniform" is RandomUniform(-0.05, 0.05), small numbers near 0 but not 0; the biases start at 0.
def build_ann(start="uniform"):
    ann = keras.Sequential(
        [
            keras.Input(shape=(11,)),
            keras.layers.Dense(6, activation="relu", kernel_initializer=start),
            keras.layers.Dense(6, activation="relu", kernel_initializer=start),
            keras.layers.Dense(1, activation="sigmoid", kernel_initializer=start),
        ]
    )
    ann.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    return ann


ann = build_ann()
start_weights = learning.weights_of(ann)  # [(W1, b1), (W2, b2), (W3, b3)] as NumPy arrays
W1 = start_weights[0][0]
print(f"layer 1's 11 x 6 weights lie between {W1.min():+.4f} and {W1.max():+.4f}; biases 0")

# Why not start at 0, or all at one value? Train three copies for 5 epochs and look at the units.
# Units that start alike get alike gradients, so they stay alike: the layer has one unit, 6 times.
starts = {"Keras' draw": "uniform", "all 0": "zeros", "all 0.05": keras.initializers.Constant(0.05)}
after = {}
for title, start in starts.items():
    runtime.seed_everything(args.seed)
    copy = build_ann(start)
    fit(copy, bank.X_train, bank.y_train, batch_size=10, epochs=5, verbose=0, seed=args.seed)
    W = learning.weights_of(copy)[0][0]
    after[f"{title}, after 5 epochs"] = W
    distinct = np.unique(W.round(6), axis=1).shape[1]  # the columns (units) that differ
    print(f"start {title:12}: {distinct} different units of 6 in layer 1, weights", end=" ")
    print(f"{W.min():+.3f} to {W.max():+.3f}")
drawn["initialisation.png"] = show(learning.weight_maps(after, bank.names))

# %% Step 2: one customer in the input layer
section("Step 2: one customer in the input layer")
# The first training customer: one input node per feature, each scaled as step 4 of ann.py did.
customer = bank.training.iloc[0]
x, y = bank.X_train[:1], bank.y_train[:1]  # a batch of one row
for node, (name, scaled) in enumerate(zip(bank.names, x[0]), start=1):
    raw = customer.get(name, "")  # the one-hot columns are not in the readable table
    print(f"input {node:2}: {name:18} {str(raw):>10}  ->  {scaled:+.3f}")
print(f"this customer {'left' if y[0] else 'stayed'} (Exited = {y[0]})")

# %% Step 3: forward propagation
section("Step 3: forward propagation")


# Each layer takes the activations a of the layer before: z = a W + b, then its activation
# function (ReLU, max(z, 0), in the hidden layers; the sigmoid, 1 / (1 + e^-z), at the output).
def forward(weights, X):
    """Every layer's activations, the inputs first and P(leaves) last."""
    activations = [X]
    for layer, (W, b) in enumerate(weights, start=1):
        z = activations[-1] @ W + b
        activations.append(1 / (1 + np.exp(-z)) if layer == len(weights) else np.maximum(z, 0))
    return activations


activations = forward(start_weights, x)
for layer, a in enumerate(activations[1:], start=1):
    print(f"layer {layer}: {np.array2string(a[0], precision=5, sign='+')}")
p = activations[-1][0, 0]
keras_p = float(keras.ops.convert_to_numpy(ann(x.astype("float32")))[0, 0])
checks["forward"] = abs(p - keras_p)
print(f"P(leaves) = {p:.6f} by hand, {keras_p:.6f} by Keras: difference {checks['forward']:.1e}")


# %% Step 4: the error
section("Step 4: the error")


# Binary cross-entropy: -log of the probability the network gave to what happened. Near 0 when
# the network was sure and right, large when it was sure and wrong. Averaged over a batch.
def cross_entropy(p, y):
    p = np.clip(p.ravel(), 1e-7, 1 - 1e-7)  # as Keras does: a sure mistake costs 16, not infinity
    return float(np.mean(-(y * np.log(p) + (1 - y) * np.log(1 - p))))


error = cross_entropy(activations[-1], y)
loss = keras.losses.BinaryCrossentropy()
keras_error = float(keras.ops.convert_to_numpy(loss(y.astype("float32"), ann(x.astype("float32")))))
checks["error"] = abs(error - keras_error)
print(f"y = {y[0]}, p = {p:.4f}: error {error:.6f} by hand, {keras_error:.6f} by Keras")


# %% Step 5: back-propagation, and the learning rate
section("Step 5: back-propagation, and the learning rate")


# The chain rule, from the output back. For the sigmoid with cross-entropy, d error / d z at the
# output is simply p - y. Each layer then hands back d error / d a = delta W^T, and its ReLU lets
# it through only where the unit fired (z > 0). A weight's gradient is its input times delta.
def backward(weights, activations, y):
    """d mean error / d W and d b for every layer, in the order of ``weights``."""
    gradients = []
    delta = (activations[-1] - y.reshape(-1, 1)) / len(y)  # d error / d z of the output
    for (W, _), a in zip(reversed(weights), reversed(activations[:-1])):
        gradients.append((a.T @ delta, delta.sum(axis=0)))
        delta = (delta @ W.T) * (a > 0)  # back through W, then through the ReLU before it
    return gradients[::-1]


def flat(weights):
    return [array for pair in weights for array in pair]


# Checked against Keras' own gradient (its backend's automatic differentiation), on the one
# customer and on a batch of 10, with the same weights.
for rows in (1, 10):
    X_rows, y_rows = bank.X_train[:rows], bank.y_train[:rows]
    ours = flat(backward(start_weights, forward(start_weights, X_rows), y_rows))
    theirs = weight_gradients(ann, loss, X_rows.astype("float32"), y_rows.astype("float32"))
    checks[f"gradient, {rows} rows"] = difference = learning.largest_difference(ours, theirs)
    print(f"{rows:2} customers: largest difference from Keras' gradient {difference:.1e}")
gradients = backward(start_weights, activations, y)
print(
    f"d error / d W3 (layer 3's 6 weights): {np.array2string(gradients[2][0].ravel(), precision=6)}"
)


# One step of gradient descent: every weight moves against its gradient, by the learning rate.
def update(weights, gradients, learning_rate):
    return [
        (W - learning_rate * dW, b - learning_rate * db)
        for (W, b), (dW, db) in zip(weights, gradients)
    ]


stepped = update(start_weights, gradients, learning_rate=0.1)
keras_sgd = build_ann()
keras_sgd.set_weights(ann.get_weights())
keras_sgd.compile(optimizer=keras.optimizers.SGD(learning_rate=0.1), loss="binary_crossentropy")
keras_sgd.train_on_batch(x.astype("float32"), y.astype("float32"))
checks["update"] = learning.largest_difference(flat(stepped), keras_sgd.get_weights())
after_step = cross_entropy(forward(stepped, x)[-1], y)
print(f"one step at learning rate 0.1: error {error:.4f} -> {after_step:.4f}")
print(f"Keras' SGD took the same step: largest difference {checks['update']:.1e}")


# Stochastic gradient descent: shuffle, then one update per batch of rows; one epoch is one pass.
def train(weights, X, y, learning_rate, batch_size, epochs, seed):
    """The training loss after each epoch, and the seconds since the start."""
    rng = np.random.default_rng(seed)
    losses, seconds, started = [], [], time.perf_counter()
    for _ in range(epochs):
        order = rng.permutation(len(y))
        for first in range(0, len(y), batch_size):
            rows = order[first : first + batch_size]
            activations = forward(weights, X[rows])
            weights = update(weights, backward(weights, activations, y[rows]), learning_rate)
        seconds.append(time.perf_counter() - started)
        losses.append(cross_entropy(forward(weights, X)[-1], y))
    return losses, seconds


epochs = np.arange(1, args.sgd_epochs + 1)
rates = {}
for rate in (0.001, 0.1, 10.0):  # too small, about right, too large
    losses, _ = train(
        start_weights, bank.X_train, bank.y_train, rate, 10, args.sgd_epochs, args.seed
    )
    rates[f"learning rate {rate:g}"] = (epochs, losses)
    print(f"learning rate {rate:6g}: training loss after each epoch {np.round(losses, 4)}")
drawn["learning_rates.png"] = show(learning.loss_curves({"Batches of 10 (epoch)": rates}))

# %% Step 6: update after each customer, or after each batch
section("Step 6: update after each customer, or after each batch")
# The same network, start and learning rate: one update per customer (online learning), per 10
# customers (the course's batch_size=10: mini-batches) or per pass over all of them (batch
# learning). A pass over the whole batch is cheap but teaches little: it gets 50 times more epochs.
n = len(bank.y_train)
by_epoch, by_second = {}, {}
for name, batch_size, passes in (
    ("online, 1", 1, args.sgd_epochs),
    ("mini-batch, 10", 10, args.sgd_epochs),
    (f"batch, {n:,}", n, 50 * args.sgd_epochs),
):
    losses, seconds = train(start_weights, bank.X_train, bank.y_train, 0.1, batch_size, passes, 0)
    by_epoch[name] = (epochs, losses[: args.sgd_epochs])
    by_second[name] = (seconds, losses)
    k = args.sgd_epochs - 1  # the last epoch that all three ran
    print(
        f"{name:16} {-(-n // batch_size):5,} updates an epoch, {seconds[-1] / passes:.4f} s each;"
    )
    print(f"{'':16} training loss {losses[k]:.4f} after {k + 1} epochs ({seconds[k]:.2f} s)")
drawn["online_and_batch.png"] = show(
    learning.loss_curves(
        {"Per epoch (epoch)": by_epoch, "Per second (seconds of training)": by_second}
    )
)

# %% Step 7: epochs
section(f"Step 7: epochs ({args.epochs}, as the course)")
# The course's training (Adam, batch size 10), a fifth of the training customers held out to
# validate on (never the test set), with snapshots of P(leaves) over age and products on the way.
held_out = np.arange(n) % 5 == 0
X_fit, y_fit = bank.X_train[~held_out], bank.y_train[~held_out]
X_val, y_val = bank.X_train[held_out], bank.y_train[held_out]
ages, products = np.arange(18, 81), np.arange(1, 5)  # a typical customer at each age and count
grid = bank.preprocess.transform(learning.grid_rows(bank, ages, products))
runtime.seed_everything(args.seed)
course = build_ann()
history, maps, done = {"loss": [], "val_loss": []}, {}, 0
for epoch in sorted({1, min(5, args.epochs), min(20, args.epochs), args.epochs}):
    more = fit(
        course,
        X_fit,
        y_fit,
        batch_size=10,
        epochs=epoch - done,
        verbose=0,
        seed=args.seed + done,
        validation_data=(X_val, y_val),
    )
    history = {key: history[key] + more[key] for key in history}
    maps[epoch] = predict_probabilities(course, grid).reshape(len(products), len(ages))
    done = epoch
training_loss, validation_loss = np.array(history["loss"]), np.array(history["val_loss"])
best = int(np.argmin(validation_loss)) + 1
for epoch in sorted({1, 5, 10, 20, 50, best, args.epochs} & set(range(1, args.epochs + 1))):
    losses = f"{training_loss[epoch - 1]:.4f}, validation loss {validation_loss[epoch - 1]:.4f}"
    print(f"epoch {epoch:3}: training loss {losses}")
# where more epochs stop helping: the first epoch within 0.005 of the lowest validation loss
enough = 1 + int(np.argmax(validation_loss <= validation_loss.min() + 0.005))
print(f"the validation loss is lowest after epoch {best}; within 0.005 of that from epoch {enough}")
epochs_run = np.arange(1, args.epochs + 1)
drawn["epochs.png"] = show(
    learning.loss_curves(
        {
            "The course's training (epoch)": {
                "training": (epochs_run, training_loss),
                "validation": (epochs_run, validation_loss),
            }
        },
        ylabel="loss",
    )
)
drawn["as_it_learns.png"] = show(learning.as_it_learns(maps, ages, products))

# %% Outputs: the figures and the checks, written together at the end
with StagedOutputs(args.output_dir) as outputs:
    for name, figure in drawn.items():
        outputs.save_figure(name, figure)
    outputs.write_json("checks.json", {"backend": runtime.backend(), "largest_differences": checks})
print(
    "\nlargest differences from Keras: "
    + ", ".join(f"{name} {value:.1e}" for name, value in checks.items())
)
print(f"Saved {len(drawn)} figures and checks.json in {args.output_dir}")
print(timer.summary())
