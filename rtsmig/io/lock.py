"""One run per output folder at a time: an exclusive lock on the folder itself.

Two runs writing one folder would race on every output and remove each
other's staging files as stale. :func:`folder_lock` takes ``flock(LOCK_EX)`` on
a descriptor of the output folder (opened ``O_RDONLY | O_DIRECTORY``), so no
lock file is left behind, and the kernel releases the lock when the holder
exits, however it dies. A second run waits for the first (and says so), or
with ``wait=False`` stops at once with an :class:`~rtsmig.errors.OutputError`.

Holding the lock, and only then, a run may remove what earlier runs left in
the folders it writes: hidden staging files of a killed run
(:func:`remove_stale_staging`), and after it the folders it created and left
empty (:func:`remove_created_empty`).

Linux (and the BSDs) lock folders this way; where ``fcntl`` is missing the
lock is a no-op.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from rtsmig.errors import OutputError
from rtsmig.io.atomic import ensure_folder

try:
    import fcntl
except ImportError:  # Windows: no flock
    fcntl = None


@contextlib.contextmanager
def folder_lock(
    folder: Path, *, wait: bool = True, waiting: Callable[[Path], None] | None = None
) -> Iterator[list[Path]]:
    """Create ``folder`` if needed and hold its lock for the block; yield the folders this call created.

    Those are ``folder`` and any of its parents that were missing, deepest first:
    a run that fails removes them again when they stayed empty (:func:`remove_created_empty`).

    Parameters
    ----------
    folder : the output folder.
    wait : when another run holds the lock, wait for it (True) or raise at once (False).
    waiting : called once with ``folder`` before waiting, to tell the user why nothing happens.

    Raises
    ------
    OutputError
        The folder cannot be created or opened, or (``wait=False``) another run holds it.
    """
    created = _missing(folder)
    ensure_folder(folder)
    if fcntl is None:
        yield created
        return
    while True:
        fd = _open(folder)
        try:
            current = _take(fd, folder, wait, waiting)
        except BaseException:
            os.close(fd)
            raise
        if current:
            break
        # The run we waited for removed the folder it left empty, or another made a new one:
        # a lock on the old folder would guard nothing. Lock the folder that is there now.
        os.close(fd)
        waiting = None  # said once
        created = list(dict.fromkeys([*created, *_missing(folder)]))
        ensure_folder(folder)
    try:
        yield created
    finally:
        os.close(fd)  # releases the lock


def _missing(folder: Path) -> list[Path]:
    """``folder`` and its parents that do not exist, deepest first."""
    return [p for p in (folder, *folder.parents) if not p.exists()]


def _open(folder: Path) -> int:
    try:
        return os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    except OSError as exc:
        raise OutputError(f"{folder}: cannot open this folder ({exc.strerror}); choose another output folder") from exc


def _take(fd: int, folder: Path, wait: bool, waiting: Callable[[Path], None] | None) -> bool:
    """Lock ``fd``; False when ``folder`` is no longer the folder ``fd`` was opened on."""
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        if not wait:
            raise OutputError(
                f"{folder}: another rtsmig run is writing into this folder; wait for it to finish "
                "(leave out --no-wait) or choose another output folder"
            ) from None
        if waiting is not None:
            waiting(folder)
        fcntl.flock(fd, fcntl.LOCK_EX)  # a Ctrl-C here raises KeyboardInterrupt, as anywhere
    try:
        return os.path.samestat(os.fstat(fd), os.stat(folder))
    except FileNotFoundError:
        return False


def remove_stale_staging(folders: Iterable[Path]) -> None:
    """Delete the hidden ``.NAME.*.tmp`` staging files and folders a killed run left in ``folders``.

    Atomic writes assemble each output beside it under such a name and rename it
    into place; a SIGKILL between the two leaves one. Call it only while holding
    the output folder's lock (:func:`folder_lock`): no other run can be
    writing them then. Only the folders the plan writes into are looked at.
    """
    for folder in folders:
        if not folder.is_dir():
            continue
        for path in sorted(folder.glob(".*.tmp")):
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)


def remove_created_empty(folders: Iterable[Path], existed: set[Path]) -> None:
    """Remove each of ``folders`` that did not exist before the run (not in ``existed``) and is empty.

    A failed build or fit leaves the folder made for it empty; the run then
    leaves no trace there. Deepest first, so a parent emptied in turn goes too.
    """
    for folder in sorted(folders, key=lambda p: len(p.parts), reverse=True):
        if folder not in existed:
            try:
                folder.rmdir()  # only an empty folder: anything written keeps it
            except OSError:
                pass
