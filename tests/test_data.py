"""fcnbook.data.splits on small synthetic IDX files (plus one slow check of the real ones)."""

from __future__ import annotations

import os

import numpy as np
import pytest
import torch

from fcnbook.config import RunConfig
from fcnbook.data import indices
from fcnbook.data import splits as data
from fcnbook.data.idx import IDXError, read_idx
from idx_helpers import NAMES, TRAIN_COUNTS, synthetic_arrays, write_raw


@pytest.fixture
def root(tmp_path, monkeypatch):
    """A data root with a synthetic FashionMNIST whose MD5s are the expected ones."""
    arrays = synthetic_arrays()
    monkeypatch.setitem(data.MD5, "fashion", write_raw(tmp_path, "FashionMNIST", arrays))
    monkeypatch.setenv("FCNBOOK_DATA", str(tmp_path))
    return tmp_path


def raw(root, name="train-images-idx3-ubyte"):
    return root / "FashionMNIST" / "raw" / name


# --------------------------------------------------------------------------------------------- verify


def test_verify_returns_md5s(root):
    assert data.verify("fashion", root) == data.MD5["fashion"]
    assert data.verify("fashion") == data.MD5["fashion"]  # default root from FCNBOOK_DATA


def _truncate(p):
    p.write_bytes(p.read_bytes()[:-100])


def _alter(p):
    b = bytearray(p.read_bytes())
    b[len(b) // 2] ^= 0xFF  # same size, different content
    p.write_bytes(bytes(b))


@pytest.mark.parametrize("name", ["train-images-idx3-ubyte", "t10k-labels-idx1-ubyte"])
@pytest.mark.parametrize("damage, words", [(os.unlink, "missing"), (_truncate, "truncated"),
                                           (_alter, "MD5 mismatch")])
def test_damaged_file_gives_one_line_error(root, name, damage, words):
    damage(raw(root, name))
    with pytest.raises(data.DataError) as e:
        data.verify("fashion", root)
    msg = str(e.value)
    assert f"FashionMNIST/raw/{name}" in msg and words in msg
    assert "fcnbook data fetch" in msg and "\n" not in msg
    with pytest.raises(data.DataError):
        data.load(root=root)


def test_verify_notices_a_replaced_file_after_a_good_check(root):
    data.verify("fashion", root)
    p = raw(root)
    bad = p.with_name("bad")
    bad.write_bytes(p.read_bytes()[::-1])
    os.replace(bad, p)
    with pytest.raises(data.DataError, match="MD5 mismatch"):
        data.verify("fashion", root)


def test_fix_hint_default_root_names_make_data(monkeypatch):
    monkeypatch.delenv("FCNBOOK_DATA", raising=False)
    assert "make data" in data.fix_hint() and "fcnbook data fetch" in data.fix_hint()


def test_info_reports_each_file(root):
    os.unlink(raw(root, "t10k-labels-idx1-ubyte"))
    text = data.info(root)
    lines = {ln.split()[0]: ln for ln in text.splitlines()[2:6]}
    assert lines["train-images-idx3-ubyte"].endswith("ok")
    assert lines["t10k-labels-idx1-ubyte"].endswith("missing")
    assert "mnist (MNIST)" in text  # the absent dataset is listed, not an error


# --------------------------------------------------------------------------------------------- raw data


def test_load_raw_matches_files_and_is_cached(root):
    arrays = synthetic_arrays()
    x, y = data.load_raw("fashion", True, root)
    assert x.dtype == torch.uint8 and x.shape == (sum(TRAIN_COUNTS), 28, 28) and y.dtype == torch.int64
    assert np.array_equal(x.numpy(), arrays[NAMES[0]]) and np.array_equal(y.numpy(), arrays[NAMES[1]])
    assert data.load_raw("fashion", True, root)[0] is x
    assert data.load_raw("fashion", False, root)[0].shape == (100, 28, 28)


def test_read_idx_agrees_with_torchvision(root):
    # the oracle: torchvision's own dataset class reading the same folder
    from torchvision.datasets import FashionMNIST

    for train in (True, False):
        ref = FashionMNIST(str(root), train=train, download=False)
        x, y = data.load_raw("fashion", train, root)
        assert torch.equal(x, ref.data) and torch.equal(y, ref.targets)


@pytest.mark.parametrize("content, words", [
    (b"\x00\x00\x0d\x01\x00\x00\x00\x01\x00\x00\x00\x00", "not an unsigned-byte IDX file"),  # float type
    (b"\x00\x00\x08\x01\x00\x00\x00\x05\x01\x02", "header declares shape (5,)"),
])
def test_read_idx_rejects_bad_files(tmp_path, content, words):
    path = tmp_path / "f-idx1-ubyte"
    path.write_bytes(content)
    with pytest.raises(IDXError, match=words.replace("(", r"\(").replace(")", r"\)")):
        read_idx(path)


# --------------------------------------------------------------------------------------------- splits


def labels_with_counts(counts, seed=1):
    return np.random.default_rng(seed).permutation(np.repeat(np.arange(len(counts)), counts))


def test_stratified_split_proportions_and_partition():
    y = labels_with_counts(TRAIN_COUNTS)
    tr, va = indices.stratified_split(y, 0.1, seed=0)
    assert np.all(np.diff(tr) > 0) and np.all(np.diff(va) > 0)
    assert np.array_equal(np.sort(np.concatenate([tr, va])), np.arange(len(y)))
    assert np.bincount(y[va]).tolist() == [round(0.1 * c) for c in TRAIN_COUNTS]


def test_stratified_split_is_deterministic_per_seed():
    y = labels_with_counts(TRAIN_COUNTS)
    a, b, c = (indices.stratified_split(y, 0.2, s)[1] for s in (3, 3, 4))
    assert np.array_equal(a, b) and not np.array_equal(a, c)


def test_stratified_subset_balanced_and_capped():
    y = labels_with_counts(TRAIN_COUNTS)
    idx = indices.stratified_subset(y, 105, seed=0)
    counts = np.bincount(y[idx], minlength=10)
    assert len(np.unique(idx)) == 105 and counts.max() - counts.min() <= 1
    assert np.array_equal(idx, indices.stratified_subset(y, 105, seed=0))
    y_small = labels_with_counts((3, 50, 50, 50))  # class 0 cannot give its share
    counts = np.bincount(y_small[indices.stratified_subset(y_small, 100, seed=1)])
    assert counts[0] == 3 and sorted(counts[1:]) == [32, 32, 33]


# --------------------------------------------------------------------------------------------- load


def test_load_train_normalization(root):
    s = data.load(root=root)
    n_val = sum(round(0.1 * c) for c in TRAIN_COUNTS)
    assert s.x_train.shape == (580 - n_val, 784) and s.x_val.shape == (n_val, 784)
    assert s.x_test.shape == (100, 784)
    assert s.x_train.dtype == torch.float32 and s.y_train.dtype == torch.int64
    assert abs(float(s.x_train.mean())) < 1e-5 and abs(float(s.x_train.std()) - 1) < 1e-3
    pixels = s.x_test * s.std + s.mean  # the same statistics were applied to every split
    expected = torch.from_numpy(synthetic_arrays()[NAMES[2]]).reshape(100, -1) / 255
    assert torch.allclose(pixels, expected, atol=1e-5)
    assert s.classes == data.CLASS_NAMES["fashion"] and s.dataset == "fashion" and len(s.checksum) == 64


def test_load_mnist_and_none_normalization(root):
    x = torch.from_numpy(synthetic_arrays()[NAMES[2]]).reshape(100, -1).float() / 255
    m = data.load(root=root, normalization="mnist")
    assert (m.mean, m.std) == (0.1307, 0.3081)
    assert torch.allclose(m.x_test, (x - 0.1307) / 0.3081, atol=1e-5)
    n = data.load(root=root, normalization="none")
    assert (n.mean, n.std) == (0.0, 1.0) and torch.equal(n.x_test, x)
    assert len({m.checksum, n.checksum, data.load(root=root).checksum}) == 3


def test_load_subset_keeps_validation_and_test(root):
    full = data.load(root=root)
    sub = data.load(root=root, subset=200)
    assert len(sub.x_train) == 200 and np.bincount(sub.y_train.numpy()).tolist() == [20] * 10
    assert torch.equal(sub.y_val, full.y_val) and torch.equal(sub.y_test, full.y_test)
    assert sub.checksum != full.checksum


def test_load_is_cached_and_deterministic(root):
    a = data.load(root=root, split_seed=1)
    assert data.load(root=root, split_seed=1) is a
    data.clear_cache()
    b = data.load(root=root, split_seed=1)
    assert b is not a and b.checksum == a.checksum and torch.equal(a.y_val, b.y_val)
    assert not torch.equal(data.load(root=root, split_seed=2).y_val, a.y_val)


def test_load_for_uses_the_config(root):
    s = data.load_for(RunConfig(normalization="none", subset=100, split_seed=5))
    assert s is data.load(normalization="none", subset=100, split_seed=5)


def test_splits_to_device(root):
    s = data.load(root=root)
    assert s.to("cpu") is s
    m = s.to("meta")
    assert m.x_train.device.type == "meta" and m.checksum == s.checksum and s.x_train.device.type == "cpu"


@pytest.mark.parametrize("kwargs, name", [
    ({"dataset": "cifar"}, "dataset"), ({"val_fraction": 0.0}, "val_fraction"),
    ({"val_fraction": 0.7}, "val_fraction"),
    ({"split_seed": -1}, "split_seed"), ({"normalization": "z"}, "normalization"), ({"subset": 0}, "subset"),
    ({"subset": 10_000}, "subset"),
])
def test_load_rejects_bad_arguments(root, kwargs, name):
    with pytest.raises(ValueError, match=name) as e:
        data.load(**{"root": root, **kwargs})
    assert "\n" not in str(e.value)


# --------------------------------------------------------------------------------------------- real data


@pytest.mark.slow
def test_real_files_verify_and_load():
    from fcnbook.paths import data_dir

    missing = [d for d in ("fashion", "mnist") if not data.raw_dir(d).is_dir()]
    if missing:
        reason = f"real data not fetched under {data_dir()} ({', '.join(missing)}); run `make data`"
        print(reason)
        pytest.skip(reason)
    for dataset in ("fashion", "mnist"):
        assert data.verify(dataset) == data.MD5[dataset]
        x, y = data.load_raw(dataset, True)
        xt, yt = data.load_raw(dataset, False)
        assert x.shape == (60000, 28, 28) and y.shape == (60000,) and xt.shape == (10000, 28, 28)
        assert np.bincount(yt.numpy()).sum() == 10000 and int(y.max()) == 9


def test_pixel_moments_equal_the_direct_float64_computation():
    import torch

    from fcnbook.data.splits import _pixel_moments

    raw = torch.randint(0, 256, (3000, 28, 28), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    x = raw.reshape(3000, -1).to(torch.float32).div_(255.0)  # the pixels exactly as load() scales them
    mean, std = _pixel_moments(raw)
    assert mean == pytest.approx(float(x.double().mean()), rel=1e-14)
    assert std == pytest.approx(float(x.double().std(unbiased=False)), rel=1e-14)
