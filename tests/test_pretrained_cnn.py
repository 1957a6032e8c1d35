"""transfer_learning.py: the run on any number of classes with fine-tuning, its saved model
answering --predict, its flags and bad input, the zero-shot reading and the downloaded bases."""

import json
import re

import numpy as np
import pytest

from conftest import TRANSFER, assert_flag_error, run_cnn
from image_fixtures import make_three_class_folder
from tutorial_support.backends.choice import chosen
from tutorial_support.cnn import efficientnet_lite, explain, predict, transfer
from tutorial_support.cnn import flags as cnn_flags
from tutorial_support.common.errors import TutorialError
from tutorial_support.common.runtime import keras


@pytest.mark.backends
@pytest.mark.skipif(
    chosen() == "jax",
    reason="under JAX: the base's forward pass (test_pretrained_base.py) and Grad-CAM through it",
)
def test_three_classes_on_a_pretrained_base_then_fine_tuned(tmp_path, capsys):
    """On TensorFlow and PyTorch. Under JAX, whose compile of EfficientNet takes most of a minute on
    2 cores (CI's time), what differs by backend is checked on its own: the base's forward pass
    (test_pretrained_base.py) and Grad-CAM through it (below)."""
    data = make_three_class_folder(tmp_path / "data")
    out = tmp_path / "out"
    common = ["--cache-dir", tmp_path / "cache", "--batch-size", "8", "--verbose", "0"]

    def transfer(*flags):
        """transfer_learning.py on the three classes at 32 px, one epoch; the converted weights
        land in tmp_path/keras."""
        run = ["--data", data, "--output-dir", out, "--image-size", "32", "--epochs", "1"]
        return run_cnn(
            *run, *flags, *common, env={"KERAS_HOME": str(tmp_path / "keras")}, script=TRANSFER
        )

    result = transfer("--fine-tune-epochs", "1")
    assert result.returncode == 0, result.stderr
    assert "efficientnet_lite0: 3,413,024 weights, frozen" in result.stdout
    assert "Trainable params: 3,843" in result.stdout  # the new head's summary
    assert "weights of the base for 1 epochs" in result.stdout
    assert "ImageNet's head reads cats and dogs only" in result.stdout  # birds, cats and dogs
    metrics = json.loads((out / "metrics.json").read_text())
    assert np.array(metrics["test"]["confusion_matrix"]).shape == (3, 3)
    assert len(metrics["history"]["val_accuracy"]) == 2  # the head's epoch, fine-tuning's
    assert metrics["config"]["model"] == "pretrained" and metrics["precision"] == "float32"
    assert len((out / "test_predictions.csv").read_text().splitlines()) == 1 + 15
    for name in ("gradcam.png", "mistakes.png", "confusion_matrix.png", "cnn_model.keras"):
        assert (out / name).stat().st_size > 1000
    assert list((tmp_path / "cache").glob("features-*.npy"))  # the features, cached
    assert efficientnet_lite.converted_weights_file(tmp_path / "keras").is_file()

    # the saved model answers --predict for a folder, as the other networks' do
    args = cnn_flags.parse(
        ["--predict", str(data / "test_set" / "birds"), "--output-dir", str(out)],
        tmp_path,
        lesson="transfer",
    )
    predict.predict_images_from_saved(args)
    printed = capsys.readouterr().out
    assert printed.count("birds") >= 5 and "wrote" in printed
    assert len((out / "predictions.csv").read_text().splitlines()) == 1 + 5

    # step 8's table: every set's doubts, least likely label first; --exclude trains without the
    # training photos it names, then compares itself with the run before on the same test photos
    # (a list naming a photo that is not there: test_label_issues.py)
    issues = (out / "label_issues.csv").read_text().splitlines()
    assert issues[0] == "path,set,given,suggested,label_quality,flagged"
    assert {line.split(",")[1] for line in issues[1:]} <= {"training", "test"}
    assert metrics["label_issues"].keys() == {"training", "test"}
    listing = tmp_path / "doubts.txt"
    listing.write_text("training_set/birds/birds0.jpg\ntest_set/cats/cats0.jpg\n")
    again = transfer("--exclude", listing)
    assert again.returncode == 0, again.stderr
    assert "--exclude: training photos left out: 1; test photos named, kept" in again.stdout
    assert "this run (B) against the run before (A):" in again.stdout
    assert re.search(r"A alone right: \d+, B alone right: \d+, McNemar's exact p = ", again.stdout)
    assert json.loads((out / "metrics.json").read_text())["excluded_training_photos"] == 1


def test_pretrained_defaults_and_folder(tmp_path):
    default = tmp_path / "outputs"
    args = cnn_flags.parse([], default, lesson="transfer")
    assert (args.epochs, args.image_size, args.base, args.fine_tune_epochs, args.model) == (
        10,
        224,
        "efficientnet_lite0",
        0,
        "pretrained",
    )
    assert args.output_dir == default / "pretrained"
    assert set(transfer.BASES) == {transfer.DEFAULT_BASE, *transfer.DOWNLOADED}


@pytest.mark.parametrize(
    "args, message",
    [
        (["--image-size", "31"], "the pretrained network needs at least 32 pixels, got 31"),
        (["--fine-tune-epochs", "-1"], "argument --fine-tune-epochs: must be at least 0"),
        (["--base", "vgg16"], "argument --base: invalid choice: 'vgg16'"),
        (["--model", "tutorial"], "unrecognized arguments: --model tutorial"),
    ],
)
def test_bad_pretrained_flags_give_one_line(tmp_path, capsys, args, message):
    def parse(argv, default_output_dir):
        return cnn_flags.parse(argv, default_output_dir, lesson="transfer")

    assert_flag_error(parse, args, message, tmp_path, capsys)


def test_zero_shot_reads_imagenet_classes_as_cat_or_dog(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    old_head = efficientnet_lite.imagenet_model(32).get_layer("predictions")
    kernel, bias = old_head.get_weights()
    pooled = np.random.default_rng(0).uniform(0, 3, (40, 1280)).astype("float32")
    # three photos whose features point at a dog breed, a cat class and a dishwasher
    pooled[:3] = (
        40 * (kernel[:, [151, 281, 534]] / np.linalg.norm(kernel[:, [151, 281, 534]], axis=0)).T
    )
    assert transfer.zero_shot(pooled, ["birds", "cats", "dogs"], old_head) is None
    assert transfer.zero_shot(pooled, ["cats", "dogs"], None) is None  # a base without its head
    probabilities, said = transfer.zero_shot(pooled, ["cats", "dogs"], old_head)
    assert said[:3].tolist() == [1, 0, 2]
    z = pooled.astype(np.float64) @ kernel + bias
    expected = np.exp(z - z.max(axis=1, keepdims=True))
    expected /= expected.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(probabilities, expected, atol=1e-5)
    top = expected.argmax(axis=1)
    cat, dog = (281 <= top) & (top <= 285), (151 <= top) & (top <= 268)
    np.testing.assert_array_equal(said, np.where(cat, 0, np.where(dog, 1, 2)))
    assert transfer.IMAGENET_CLASSES[151] == "Chihuahua"
    assert transfer.IMAGENET_CLASSES[281] == "tabby" and len(transfer.IMAGENET_CLASSES) == 1000
    names = transfer.top_classes(expected, count=3)
    assert len(names) == 3 and sum(count for _, count in names) <= 40


@pytest.mark.backends
def test_grad_cam_looks_through_the_nested_base():
    # random kernels drawn by NumPy: Keras' draw compiles each shape first under JAX
    base = efficientnet_lite.build(64, initializer="zeros")
    rng = np.random.default_rng(0)
    base.set_weights(
        [
            rng.normal(0, 0.2, w.shape) if w.path.endswith("kernel") else w.numpy()
            for w in base.weights
        ]
    )
    inputs = keras.Input(shape=(64, 64, 3))
    x = transfer.scaling("efficientnet_lite0")(inputs)
    x = base(x, training=False)
    x = keras.layers.GlobalAveragePooling2D(name="pooling")(x)
    x = keras.layers.Dropout(0.2)(x)
    model = keras.Model(inputs, keras.layers.Dense(1, activation="sigmoid")(x))
    photos = np.random.default_rng(1).uniform(0, 255, (3, 64, 64, 3)).astype("float32")
    features, head = explain._split(model)
    assert features.output_shape == (None, 2, 2, 1280)  # the base's last convolution
    heat = explain.gradcam(model, photos)
    assert heat.shape == (3, 64, 64) and heat.min() >= 0 and heat.max() <= 1
    scores = explain.logits(model, photos)
    p = np.asarray(model.predict(photos, verbose=0))[:, 0]
    np.testing.assert_allclose(1 / (1 + np.exp(-scores[:, 1])), p, atol=1e-5)


def test_a_downloaded_base_builds_and_says_so_offline(monkeypatch):
    base = transfer.pretrained_base("mobilenet_v3_small", 64, weights=None)
    assert base.output_shape[-1] == 576 and isinstance(
        transfer.scaling("mobilenet_v3_small"), keras.layers.Identity
    )

    def offline(**_):
        raise Exception(
            "URL fetch failure on https://storage.googleapis.com/...: None -- "
            "[Errno -3] Temporary failure in name resolution"
        )

    monkeypatch.setattr(keras.applications, "MobileNetV3Small", offline)
    with pytest.raises(TutorialError) as error:
        transfer.pretrained_base("mobilenet_v3_small", 64)
    message = str(error.value)
    assert "--base mobilenet_v3_small downloads Keras' ImageNet weights" in message
    assert "use the default base, --base efficientnet_lite0" in message and "\n" not in message
