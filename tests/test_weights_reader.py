"""The weights reader runs no pickle unrestricted: a legacy torch file is five pickles (magic
number, protocol, system info, the state dict, its storage keys) and a class named in any of
them is refused before it runs. Small files made here, without torch."""

import collections
import os
import pickle

import numpy as np
import pytest

from tutorial_support.cnn import imagenet_weights
from tutorial_support.common.errors import TutorialError

MAGIC = 0x1950A86A20F9469CFC6C
SYS_INFO = {"protocol_version": 1001, "little_endian": True, "type_sizes": {"short": 2, "int": 4}}


class Global:
    """A name a pickle refers to (module.name), written without importing it: no torch here."""

    def __init__(self, module: str, name: str):
        self.module, self.name = module, name

    def __call__(self):
        raise AssertionError("only ever pickled")


class Storage:
    """A tensor's values, pickled as a persistent id; the bytes follow the pickles."""

    def __init__(self, key: str, count: int):
        self.key, self.count = key, count


class Tensor:
    """What torch pickles for a tensor: its rebuild function and where its values lie."""

    def __init__(self, storage: Storage, shape: tuple, strides: tuple):
        self.storage, self.shape, self.strides = storage, shape, strides

    def __reduce__(self):
        rebuild = Global("torch._utils", "_rebuild_tensor_v2")
        hooks = collections.OrderedDict()
        return rebuild, (self.storage, 0, self.shape, self.strides, False, hooks)


class LegacyPickler(pickle._Pickler):
    """Protocol 2 as torch writes it: each tensor's storage as a persistent id."""

    def persistent_id(self, obj):
        if isinstance(obj, Storage):  # kind, type, key, location, count, view
            return ("storage", Global("torch", "FloatStorage"), obj.key, "cpu", obj.count, None)
        return None

    def save(self, obj, save_persistent_id=True):
        if isinstance(obj, Global):
            self.write(pickle.GLOBAL + f"{obj.module}\n{obj.name}\n".encode())
        else:
            super().save(obj, save_persistent_id)


class Payload:
    """Unpickled, it makes a folder: the sign that a pickle ran what the file named."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return os.mkdir, (self.marker,)


def write_legacy_file(path, values: np.ndarray, **replaced):
    """A legacy state dict holding one float tensor, "w"; ``replaced`` swaps one of its pickles
    (magic, protocol, sys_info, keys) for something else."""
    parts = {"magic": MAGIC, "protocol": 1001, "sys_info": SYS_INFO, "keys": ["0"], **replaced}
    with open(path, "wb") as stream:
        for name in ("magic", "protocol", "sys_info"):
            pickle.dump(parts[name], stream, protocol=2)
        storage = Storage("0", values.size)
        state = collections.OrderedDict(w=Tensor(storage, values.shape, (values.shape[1], 1)))
        LegacyPickler(stream, protocol=2).dump(state)
        pickle.dump(parts["keys"], stream, protocol=2)
        stream.write(np.int64(values.size).astype("<i8").tobytes())
        stream.write(values.astype("<f4").tobytes())
    return path


def test_a_well_formed_file_reads(tmp_path):
    values = np.arange(6, dtype=np.float32).reshape(2, 3)
    tensors = imagenet_weights.read_state_dict(write_legacy_file(tmp_path / "w.pth", values))
    assert list(tensors) == ["w"]
    np.testing.assert_array_equal(tensors["w"], values)


@pytest.mark.parametrize(
    "part, wrap",
    [
        ("magic", lambda payload: payload),
        ("protocol", lambda payload: payload),
        ("sys_info", lambda payload: {**SYS_INFO, "little_endian": payload}),
        ("keys", lambda payload: ["0", payload]),
    ],
    ids=["magic number", "protocol", "inside the system info", "inside the storage keys"],
)
def test_a_class_in_any_other_pickle_is_refused_before_it_runs(tmp_path, part, wrap):
    marker = tmp_path / "the payload ran"
    evil = write_legacy_file(
        tmp_path / "evil.pth", np.ones((1, 1)), **{part: wrap(Payload(marker))}
    )
    named = f"{os.mkdir.__module__}.mkdir"  # posix.mkdir (nt.mkdir on Windows)
    with pytest.raises(TutorialError, match=f"{named} is not part of a state dict"):
        imagenet_weights.read_state_dict(evil)
    assert not marker.exists()


def test_storage_keys_that_are_not_a_list_are_refused(tmp_path):
    odd = write_legacy_file(tmp_path / "odd.pth", np.ones((1, 1)), keys="0")
    with pytest.raises(TutorialError, match="the storage keys are not a list"):
        imagenet_weights.read_state_dict(odd)


def test_the_real_weights_still_read():
    tensors = imagenet_weights.read_state_dict(imagenet_weights.checked_file())
    assert tensors["_fc.weight"].shape == (1000, 1280)
    assert all(array.dtype in (np.float32, np.int64) for array in tensors.values())
