"""Output files written whole or not at all: a temporary file in the target's folder, renamed into
place (``os.replace``) only once complete. Used by ``fastlr precompute``, ``fastlr plot``,
:func:`fastlr.plot.plot_schedule` and the benchmark report."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path


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
