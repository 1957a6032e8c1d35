"""The two theory lessons: how_ann_learns.py and how_cnn_sees.py.

What they write by hand (forward and back-propagation, a convolution, max pooling) is taken from
the scripts themselves, as a reader sees it, and checked against Keras in-process on random
weights and inputs, on every backend (marked backends). Then each lesson runs end to end on small
generated data."""

import ast
import json
import subprocess
import sys

import numpy as np
import pytest
from numpy.lib.stride_tricks import sliding_window_view

from churn_fixtures import churn_table
from conftest import ROOT, script_environment
from image_fixtures import make_image_folder
from tutorial_support.common.runtime import keras

ANN_THEORY = ROOT / "1_artificial_neural_networks" / "how_ann_learns.py"
CNN_THEORY = ROOT / "2_convolutional_neural_networks" / "how_cnn_sees.py"


def lesson_functions(script, *names) -> dict:
    """The functions ``names`` as the lesson defines them, compiled alone (no step runs)."""
    tree = ast.parse(script.read_text())
    found = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name in names]
    assert sorted(n.name for n in found) == sorted(names)
    namespace = {"np": np, "sliding_window_view": sliding_window_view}
    exec(compile(ast.Module(body=found, type_ignores=[]), str(script), "exec"), namespace)
    return namespace


ANN = lesson_functions(ANN_THEORY, "forward", "backward", "cross_entropy", "update", "flat")
CNN = lesson_functions(CNN_THEORY, "convolve", "max_pool")


def random_network(rng, inputs=11, hidden=(6, 6), scale=0.5):
    """The course's shape of network in Keras, with random weights (not Keras' small start, so
    that every ReLU both fires and does not), and the same weights in float64."""
    network = keras.Sequential(
        [keras.Input(shape=(inputs,))]
        + [keras.layers.Dense(units, activation="relu") for units in hidden]
        + [keras.layers.Dense(1, activation="sigmoid")]
    )
    weights = [rng.normal(0, scale, w.shape).astype("float32") for w in network.get_weights()]
    network.set_weights(weights)
    pairs = [(weights[i].astype(np.float64), weights[i + 1].astype(np.float64)) for i in (0, 2, 4)]
    return network, pairs


@pytest.mark.backends
@pytest.mark.parametrize("seed, rows", [(0, 1), (1, 10), (2, 64), (3, 7)])
def test_the_hand_gradient_is_keras_gradient(seed, rows):
    from tutorial_support.backends.gradients import weight_gradients

    rng = np.random.default_rng(seed)
    network, weights = random_network(rng)
    X = rng.normal(size=(rows, 11)).astype("float32")
    y = rng.integers(0, 2, rows).astype("float32")
    activations = ANN["forward"](weights, X.astype(np.float64))
    p_keras = keras.ops.convert_to_numpy(network(X))
    np.testing.assert_allclose(activations[-1], p_keras, atol=1e-6)
    loss = keras.losses.BinaryCrossentropy()
    keras_loss = float(keras.ops.convert_to_numpy(loss(y, network(X))))
    assert ANN["cross_entropy"](activations[-1], y) == pytest.approx(keras_loss, abs=1e-5)
    ours = ANN["flat"](ANN["backward"](weights, activations, y))
    theirs = weight_gradients(network, loss, X, y)
    assert [g.shape for g in ours] == [g.shape for g in theirs]
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, atol=2e-6, rtol=1e-4)
    assert max(float(np.abs(g).max()) for g in ours) > 1e-3  # a gradient worth checking
    # and a wrong gradient would be caught: the ReLU's mask left out
    assert any(np.abs(g).max() > 0 for g in theirs[:4])


@pytest.mark.backends
def test_one_update_is_keras_sgd_step():
    rng = np.random.default_rng(5)
    network, weights = random_network(rng)
    X = rng.normal(size=(10, 11)).astype("float32")
    y = rng.integers(0, 2, 10).astype("float32")
    gradients = ANN["backward"](weights, ANN["forward"](weights, X.astype(np.float64)), y)
    stepped = ANN["flat"](ANN["update"](weights, gradients, 0.3))
    network.compile(optimizer=keras.optimizers.SGD(learning_rate=0.3), loss="binary_crossentropy")
    network.train_on_batch(X, y)
    for a, b in zip(stepped, network.get_weights()):
        np.testing.assert_allclose(a, b, atol=2e-6)


@pytest.mark.backends
@pytest.mark.parametrize(
    "height, width, channels, filters, size, stride, padding",
    [
        (9, 9, 1, 1, 3, 1, "valid"),
        (10, 7, 3, 4, 3, 1, "same"),
        (11, 12, 5, 2, 3, 2, "valid"),
        (11, 12, 2, 3, 3, 2, "same"),
        (8, 8, 3, 2, 5, 3, "same"),
        (16, 13, 4, 6, 2, 2, "valid"),
    ],
)
def test_the_hand_convolution_is_keras_conv2d(
    height, width, channels, filters, size, stride, padding
):
    rng = np.random.default_rng(height * width + channels)
    image = rng.normal(size=(height, width, channels))
    layer = keras.layers.Conv2D(filters, size, strides=stride, padding=padding)
    layer.build((None, height, width, channels))
    kernels, bias = rng.normal(size=(size, size, channels, filters)), rng.normal(size=filters)
    layer.set_weights([kernels.astype("float32"), bias.astype("float32")])
    theirs = keras.ops.convert_to_numpy(layer(image[None].astype("float32")))[0]
    ours = CNN["convolve"](image, kernels, bias, stride=stride, padding=padding)
    assert ours.shape == theirs.shape
    np.testing.assert_allclose(ours, theirs, atol=1e-4)


@pytest.mark.backends
@pytest.mark.parametrize(
    "height, width, size, stride, padding",
    [
        (8, 8, 2, None, "valid"),
        (9, 7, 2, None, "valid"),
        (9, 7, 3, 2, "same"),
        (10, 11, 2, 1, "same"),
        (12, 12, 3, 3, "valid"),
    ],
)
def test_the_hand_max_pooling_is_keras_max_pooling(height, width, size, stride, padding):
    rng = np.random.default_rng(height + width + size)
    maps = rng.normal(size=(height, width, 4))
    layer = keras.layers.MaxPooling2D(size, strides=stride, padding=padding)
    theirs = keras.ops.convert_to_numpy(layer(maps[None].astype("float32")))[0]
    ours = CNN["max_pool"](maps, size, stride, padding)
    assert ours.shape == theirs.shape
    np.testing.assert_allclose(ours, theirs, atol=1e-6)


def test_the_course_network_has_the_shapes_and_weights_of_cnn_py():
    from tutorial_support.cnn.seeing import course_network

    network = course_network()
    assert network.count_params() == 813_217  # cnn.py's step 3, as the README says
    assert [tuple(layer.output.shape[1:]) for layer in network.layers] == [
        (64, 64, 3),
        (62, 62, 32),
        (31, 31, 32),
        (29, 29, 32),
        (14, 14, 32),
        (6272,),
        (128,),
        (1,),
    ]


def run_lesson(script, *args):
    return subprocess.run(
        [sys.executable, str(script), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=600,
        env=script_environment({"MPLBACKEND": "Agg"}),
    )


def checked(folder, figures: set[str], names: set[str]) -> dict:
    """The lesson's outputs: exactly its figures and checks.json, every check near 0."""
    assert {p.name for p in folder.iterdir()} == figures | {"checks.json"}
    checks = json.loads((folder / "checks.json").read_text())["largest_differences"]
    assert set(checks) == names
    assert all(0 <= value < 1e-5 for value in checks.values()), checks
    return checks


@pytest.mark.slow
def test_how_ann_learns_end_to_end_on_a_small_table(tmp_path):
    table = tmp_path / "bank.csv"
    churn_table(rows=400).to_csv(table, index=False)
    out = tmp_path / "out"
    result = run_lesson(
        ANN_THEORY, "--data", table, "--epochs", "3", "--sgd-epochs", "2", "--output-dir", out
    )
    assert result.returncode == 0, result.stderr
    for step in range(1, 8):
        assert f"=== Step {step}: " in result.stdout
    assert "6 different units of 6 in layer 1" in result.stdout  # Keras' draw
    assert result.stdout.count("1 different units of 6 in layer 1") == 2  # all 0, all 0.05
    assert "320 training customers, 80 test customers" in result.stdout
    checked(
        out,
        {
            "initialisation.png",
            "learning_rates.png",
            "online_and_batch.png",
            "epochs.png",
            "as_it_learns.png",
        },
        {"forward", "error", "gradient, 1 rows", "gradient, 10 rows", "update"},
    )


@pytest.mark.slow
def test_how_cnn_sees_end_to_end_on_small_photos(tmp_path):
    make_image_folder(tmp_path / "data" / "cats_and_dogs", per_class=(12, 8), oddities=False)
    out = tmp_path / "out"
    common = ["--data", tmp_path / "data", "--cache-dir", tmp_path / "cache"]
    result = run_lesson(
        CNN_THEORY, *common, "--output-dir", out, "--model", tmp_path / "none.keras"
    )
    assert result.returncode == 0, result.stderr
    for step in range(1, 5):
        assert f"=== Step {step}: " in result.stdout
    assert "the course's network trained here for 1 epoch(s)" in result.stdout
    assert "813,217 = Keras' count_params() 813,217" in result.stdout
    assert "(14, 14, 32) -> 6,272 numbers" in result.stdout
    checked(
        out,
        {"edge_filter.png", "first_layer.png", "pooling.png", "shifts.png", "dense_units.png"},
        {
            "edge filter",
            "first layer",
            "max pooling",
            "flattening",
            "weights counted",
            "full connection",
        },
    )


def test_bad_flags_and_photos_of_three_classes_stop_with_one_line(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr("sys.argv", ["lesson.py"])  # the flags come from the settings alone
    from tutorial_support.ann import learning
    from tutorial_support.cnn import seeing
    from tutorial_support.cnn.images import ImageSet
    from tutorial_support.common.errors import TutorialError

    for read, flag in ((learning.read_flags, "--sgd-epochs 0"), (seeing.read_flags, "--epochs -1")):
        with pytest.raises(SystemExit) as stopped:
            read(flag, tmp_path)
        assert stopped.value.code == 2
        lines = capsys.readouterr().err.strip().splitlines()
        assert len(lines) == 1 and flag.split()[0] in lines[0]
    three = ImageSet(
        np.zeros((3, 8, 8, 3), np.uint8), np.arange(3), ["birds", "cats", "dogs"], [], []
    )
    with pytest.raises(TutorialError, match="two classes; the photos have 3 .birds, cats, dogs."):
        seeing.check_two_classes(three)


def test_a_model_file_keras_cannot_read_is_one_line(tmp_path):
    from tutorial_support.cnn import seeing
    from tutorial_support.common.errors import TutorialError

    bad = tmp_path / "cnn_model.keras"
    bad.write_text("not a model")
    with pytest.raises(TutorialError, match="is not a model Keras can read") as error:
        seeing.trained_network(bad, None, 0, 0)
    assert "\n" not in str(error.value)
