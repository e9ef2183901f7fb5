"""Checkpoints round-trip exactly, record what they promise, and fail clearly."""

import json

import numpy as np
import pytest

from labrnn.training.checkpoint import file_sha256, load_checkpoint, save_checkpoint
from labrnn.datasets import data_dir, data_file


def test_round_trip_is_exact(tmp_path):
    rng = np.random.default_rng(0)
    params = {"W_x": rng.normal(size=(8, 3)), "b": rng.normal(size=8).astype(np.float32)}
    data = tmp_path / "text.txt"
    data.write_text("hello")
    npz, meta_path = save_checkpoint(tmp_path / "run" / "model", params, config={"H": 2},
                                     metrics={"loss": 1.5}, data_files=[data], wall_time_s=3.14159)
    assert npz.name == "model.npz" and meta_path.name == "model.json"
    back, meta = load_checkpoint(tmp_path / "run" / "model")
    assert set(back) == set(params)
    for k in params:
        assert back[k].dtype == params[k].dtype and np.array_equal(back[k], params[k])
    assert meta["config"] == {"H": 2} and meta["metrics"] == {"loss": 1.5}
    assert meta["data"] == {"text.txt": file_sha256(data)}
    assert meta["wall_time_s"] == 3.1 and meta["arrays"]["W_x"] == [8, 3]
    assert "numpy" in meta["versions"]
    json.loads(meta_path.read_text())            # plain JSON, readable by a person


def test_missing_files_are_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothing.npz"):
        load_checkpoint(tmp_path / "nothing")
    with pytest.raises(FileNotFoundError, match="no file"):
        file_sha256(tmp_path / "absent.txt")


def test_bad_params_are_refused(tmp_path):
    with pytest.raises(TypeError, match="params must be a non-empty dict"):
        save_checkpoint(tmp_path / "m", [np.zeros(3)])


def test_data_dir_follows_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("LABRNN_DATA", str(tmp_path))
    assert data_dir() == tmp_path
    (tmp_path / "a.txt").write_text("x")
    assert data_file("a.txt") == tmp_path / "a.txt"
    with pytest.raises(FileNotFoundError, match="LABRNN_DATA"):
        data_file("missing.txt")
