"""Finding and downloading the data sets, without a network (file:// origins)."""

import hashlib
import zipfile
from pathlib import Path

import pytest

from tutorial_support.common import data
from tutorial_support.common.errors import TutorialError


def test_data_flag_beats_environment(tmp_path, monkeypatch):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "Churn_Modelling.csv").write_text("x\n")
    monkeypatch.setenv("DLP_DATA_DIR", str(tmp_path / "elsewhere"))
    assert data.churn_csv(mine) == mine / "Churn_Modelling.csv"
    assert data.churn_csv(mine / "Churn_Modelling.csv") == mine / "Churn_Modelling.csv"
    with pytest.raises(TutorialError, match=r"no churn data at .*elsewhere/Churn_Modelling.csv"):
        data.churn_csv(None)


def test_churn_download_is_verified_by_checksum(tmp_path, monkeypatch, shared_data):
    monkeypatch.delenv("DLP_DATA_DIR", raising=False)
    monkeypatch.setattr(data, "CHURN_URL", (shared_data / "Churn_Modelling.csv").as_uri())
    path = data.churn_csv(cache_dir=tmp_path / "cache")
    assert path == tmp_path / "cache" / "datasets" / "Churn_Modelling.csv"
    assert hashlib.sha256(path.read_bytes()).hexdigest() == data.CHURN_SHA256
    # A damaged cached file is noticed and downloaded again.
    path.write_text("RowNumber\n1\n")
    assert (
        hashlib.sha256(data.churn_csv(cache_dir=tmp_path / "cache").read_bytes()).hexdigest()
        == data.CHURN_SHA256
    )


def test_download_with_wrong_checksum_is_refused(tmp_path, monkeypatch):
    monkeypatch.delenv("DLP_DATA_DIR", raising=False)
    fake = tmp_path / "fake.csv"
    fake.write_text("RowNumber,Exited\n1,0\n")
    monkeypatch.setattr(data, "CHURN_URL", fake.as_uri())
    with pytest.raises(TutorialError, match="is not the expected data"):
        data.churn_csv(cache_dir=tmp_path / "cache")
    # and a later call does not take the bad file for good data
    with pytest.raises(TutorialError, match="is not the expected data"):
        data.churn_csv(cache_dir=tmp_path / "cache")


def test_offline_download_names_url_and_both_ways_to_supply_data(tmp_path, monkeypatch):
    monkeypatch.delenv("DLP_DATA_DIR", raising=False)
    url = (tmp_path / "nowhere" / "Churn_Modelling.csv").as_uri()
    monkeypatch.setattr(data, "CHURN_URL", url)
    with pytest.raises(TutorialError) as caught:
        data.churn_csv(cache_dir=tmp_path / "cache")
    message = str(caught.value)
    assert f"could not download {url}" in message
    assert "--data FOLDER" in message and "DLP_DATA_DIR=FOLDER" in message
    assert "\n" not in message
    assert not (tmp_path / "cache" / "datasets" / "Churn_Modelling.csv").exists()


def _make_archive(path: Path, per_class: dict) -> None:
    with zipfile.ZipFile(path, "w") as archive:
        for split, count in per_class.items():
            for label in ("cats", "dogs"):
                for i in range(count):
                    archive.writestr(
                        f"datasets-master/cats_and_dogs/dataset/{split}/{label}/{i}.jpg", b"x"
                    )


def test_image_download_is_checked_by_layout_and_counts(tmp_path, monkeypatch):
    monkeypatch.delenv("DLP_DATA_DIR", raising=False)
    monkeypatch.setattr(data, "EXPECTED_IMAGE_COUNTS", {"training_set": 4, "test_set": 2})
    archive = tmp_path / "master.zip"
    _make_archive(archive, {"training_set": 4, "test_set": 2})
    monkeypatch.setattr(data, "IMAGES_URL", archive.as_uri())
    root = data.cats_and_dogs(cache_dir=tmp_path / "cache")
    assert root == tmp_path / "cache" / "datasets" / "cats_and_dogs"
    assert data.check_image_layout(root) == {
        "training_set": {"cats": 4, "dogs": 4},
        "test_set": {"cats": 2, "dogs": 2},
    }
    archive.unlink()  # the second call uses the cache and needs no download
    assert data.cats_and_dogs(cache_dir=tmp_path / "cache") == root


def test_incomplete_image_archive_is_refused(tmp_path, monkeypatch):
    monkeypatch.delenv("DLP_DATA_DIR", raising=False)
    monkeypatch.setattr(data, "EXPECTED_IMAGE_COUNTS", {"training_set": 4, "test_set": 2})
    archive = tmp_path / "master.zip"
    _make_archive(archive, {"training_set": 3, "test_set": 2})
    monkeypatch.setattr(data, "IMAGES_URL", archive.as_uri())
    with pytest.raises(TutorialError, match="4,000 \\+ 4,000 training"):
        data.cats_and_dogs(cache_dir=tmp_path / "cache")
    assert not (tmp_path / "cache" / "datasets" / "cats_and_dogs").exists()


def test_local_image_folder_needs_both_splits(tmp_path):
    (tmp_path / "cats_and_dogs" / "training_set" / "cats").mkdir(parents=True)
    with pytest.raises(TutorialError, match=r"missing image folder .*cats_and_dogs/test_set"):
        data.cats_and_dogs(tmp_path)
    (tmp_path / "cats_and_dogs" / "test_set").mkdir()
    assert data.cats_and_dogs(tmp_path) == tmp_path / "cats_and_dogs"
    assert data.cats_and_dogs(tmp_path / "cats_and_dogs") == tmp_path / "cats_and_dogs"


def test_real_data_layout(shared_data):
    assert data.check_image_layout(data.cats_and_dogs(shared_data)) == {
        "training_set": {"cats": 4000, "dogs": 4000},
        "test_set": {"cats": 1000, "dogs": 1000},
    }
