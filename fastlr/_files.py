"""Output files written whole or not at all: a temporary file in the target's folder, renamed into
place (``os.replace``) only once complete. Used by ``fastlr precompute``, ``fastlr plot``,
:func:`fastlr.plot.plot_schedule` and the benchmark report. Also the free-space check and the
reserved, memory-mapped ``.npy`` of ``fastlr precompute``."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any


def _mode(path: Path) -> int:
    """The permissions the file gets: the replaced file's, else what ``open`` would give."""
    try:
        return path.stat().st_mode & 0o7777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


@contextlib.contextmanager
def replacing(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path in ``path``'s folder (same suffix, hidden name) to write into.

    On a normal exit the temporary file is synced to disk and renamed to ``path`` (atomic: a
    reader sees the old file or the new one, never a part). On any exception, ``KeyboardInterrupt``
    included, the temporary file is removed and whatever was at ``path`` is left untouched.
    """
    target = Path(path)
    fd, name = tempfile.mkstemp(
        dir=target.parent, prefix=f".{target.name}.", suffix=f".tmp{target.suffix}"
    )
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.chmod(tmp, _mode(target))
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def write_text(path: str | os.PathLike, text: str) -> None:
    """``Path(path).write_text(text)``, whole or not at all (:func:`replacing`)."""
    with replacing(path) as tmp:
        tmp.write_text(text)


def remove_created(folder: Path, created: Path | None) -> None:
    """Remove ``folder`` and its parents up to ``created`` (the first folder that did not exist
    before), each only while empty: undo a ``mkdir(parents=True)`` that produced nothing."""
    if created is None:
        return
    current = folder.absolute()
    while True:
        try:
            current.rmdir()  # only an empty folder
        except OSError:
            return
        if current == created or current.parent == current:
            return
        current = current.parent


def first_missing(folder: Path) -> Path | None:
    """The outermost folder of ``folder``'s path that does not exist yet (``None``: it exists)."""
    missing = None
    current = folder.absolute()
    while not current.exists():
        missing = current
        if current.parent == current:
            break
        current = current.parent
    return missing


def size_text(nbytes: int) -> str:
    """``nbytes`` for people: ``3.64 TiB (4,000,000,000,128 bytes)``."""
    if nbytes < 1024:
        return f"{nbytes:,} bytes"
    value = float(nbytes)
    for unit in ("KiB", "MiB", "GiB", "TiB", "PiB", "EiB"):
        value /= 1024
        if value < 1024 or unit == "EiB":
            break
    return f"{value:.2f} {unit} ({nbytes:,} bytes)"


def check_space(path: str | os.PathLike, nbytes: int) -> None:
    """Raise a ``ValueError`` naming ``path``, the size and the free space when a file of
    ``nbytes`` does not fit in the free space of ``path``'s folder (``shutil.disk_usage``)."""
    import shutil

    free = shutil.disk_usage(Path(path).parent).free
    if nbytes > free:
        raise ValueError(
            f"cannot write {str(path)!r}: it needs {size_text(nbytes)} and its folder has "
            f"{size_text(free)} free"
        )


NPY_HEADER = 128
"""Bytes of the ``.npy`` header of a 1-D float array (format 1.0, padded to 64 bytes)."""


def npy_bytes(n: int, dtype: Any) -> int:
    """The size of the ``.npy`` file of ``n`` values of ``dtype`` (header included)."""
    import numpy as np

    return NPY_HEADER + n * np.dtype(dtype).itemsize


@contextlib.contextmanager
def npy_memmap(path: str | os.PathLike, n: int, dtype: Any) -> Iterator[Any]:
    """A new ``.npy`` at ``path`` of ``n`` values of ``dtype``, memory-mapped for writing
    (``np.lib.format.open_memmap``), its blocks reserved first (:func:`reserve`); flushed and
    unmapped on exit when the caller holds no other reference (a mapped file cannot be renamed on
    Windows)."""
    import numpy as np

    values = np.lib.format.open_memmap(path, mode="w+", dtype=np.dtype(dtype), shape=(n,))
    try:
        reserve(path, values.offset + values.nbytes)
        yield values
        values.flush()
    finally:
        del values  # unmapped here unless the caller still holds it


def reserve(path: str | os.PathLike, nbytes: int) -> None:
    """Allocate the file's blocks now: a memmap over a sparse file gets SIGBUS when the disk
    fills up; ``posix_fallocate`` fails with ENOSPC (or EFBIG) instead. Where there is none
    (macOS, Windows), the file stays sparse."""
    if not hasattr(os, "posix_fallocate"):  # pragma: no cover - depends on the platform
        return
    fd = os.open(path, os.O_RDWR)
    try:
        os.posix_fallocate(fd, 0, nbytes)
    finally:
        os.close(fd)
