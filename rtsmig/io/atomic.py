"""Atomic writes: an output appears complete or not at all.

Every file is written to a temporary name in the target folder, flushed and
fsynced, then renamed over the target; a results folder is assembled under a
temporary name and renamed into place the same way.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

from rtsmig.errors import OutputError


def _check_parent(path: Path) -> None:
    parent = path.parent
    if not parent.is_dir():
        raise OutputError(f"{path}: folder {parent} does not exist; create it first")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise OutputError(f"{path}: folder {parent} is not writable; choose another output path")


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):  # not every filesystem lets a folder be opened
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _umask_mode(base: int) -> int:
    """``base`` less the process umask: the mode a plain ``open``/``mkdir`` would give.

    The temporary files and folders of tempfile are private (0600/0700); the
    results they become should be as readable as any other file the user writes.
    """
    mask = os.umask(0)
    os.umask(mask)
    return base & ~mask


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` on success.

    For writers that insist on a path of their own (pyarrow, libpysal). On any
    exception the temporary file is removed and ``path`` is left untouched.
    """
    path = Path(path)
    _check_parent(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        with open(tmp_path, "rb+") as fh:
            os.fsync(fh.fileno())
        os.chmod(tmp_path, _umask_mode(0o666))
        os.replace(tmp_path, path)
        _fsync_dir(path.parent)
    finally:
        tmp_path.unlink(missing_ok=True)


def write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def write_text(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` (UTF-8, ``\\n`` line ends) to ``path`` atomically."""
    write_bytes(path, text.encode("utf-8"))


def write_folder(path: str | os.PathLike, files: dict[str, bytes | str]) -> None:
    """Replace folder ``path`` with exactly ``files`` (name -> content), atomically.

    A name may hold ``/``: ``equations/y/result.json`` is written in subfolders.

    The new folder is assembled beside the target and renamed into place; an
    existing folder is swapped out and removed only after the rename succeeded.
    """
    path = Path(path)
    _check_parent(path)
    if path.exists() and not path.is_dir():
        raise OutputError(f"{path}: exists and is not a folder; choose another output path")
    staging = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
    old = None
    try:
        for name, content in sorted(files.items()):
            data = content.encode("utf-8") if isinstance(content, str) else content
            (staging / name).parent.mkdir(parents=True, exist_ok=True)  # "sub/file" names make subfolders
            with open(staging / name, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
        os.chmod(staging, _umask_mode(0o777))
        if path.exists():
            old = path.with_name(f".{path.name}.old-{os.getpid()}")
            os.replace(path, old)
        os.replace(staging, path)
        _fsync_dir(path.parent)
    except BaseException:
        if old is not None and not path.exists():
            os.replace(old, path)  # put the previous results back
        raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        if old is not None and old.exists() and path.exists():
            shutil.rmtree(old, ignore_errors=True)


def sha256_file(path: str | os.PathLike) -> str:
    """Hex SHA-256 of a file's bytes, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def ensure_folder(path: str | os.PathLike) -> Path:
    """Create ``path`` (and its parents) if missing; an OutputError if that is impossible."""
    path = Path(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"{path}: cannot create this folder ({exc.strerror}); choose another output path") from exc
    return path


def write_with_companion(
    path: str | os.PathLike, write_main: Callable[[Path], None], companion: str | os.PathLike, text: str
) -> None:
    """Write ``path`` with ``write_main``, then the text file ``companion``: both appear, or neither."""
    path = Path(path)
    write_main(path)
    try:
        write_text(companion, text)
    except BaseException:
        path.unlink(missing_ok=True)  # no main file without its companion
        raise


def write_all(files: Mapping[str | os.PathLike, str]) -> None:
    """Write every ``path -> text`` (UTF-8) so that all of them appear, or none changes.

    Each text is first written and fsynced under a temporary name beside its
    target; only when all are staged are they renamed into place. A target that
    existed is kept under a backup name until every rename succeeded, and put back
    if one fails, so a failed call leaves the folder as it found it.
    """
    targets = [Path(p) for p in files]
    if len({p.resolve() for p in targets}) != len(targets):
        raise OutputError(f"{', '.join(map(str, targets))}: two outputs share a path; give each its own")
    for path in targets:
        _check_parent(path)
    staged: list[tuple[Path, Path]] = []
    try:
        for path, text in zip(targets, files.values(), strict=True):
            staged.append((path, _stage(path, text.encode("utf-8"))))
        _swap_in(staged)
    finally:
        for _, tmp in staged:
            tmp.unlink(missing_ok=True)
    for folder in {p.parent for p in targets}:
        _fsync_dir(folder)


def _stage(path: Path, data: bytes) -> Path:
    """``data`` in a fsynced temporary file beside ``path``, as readable as a plain write."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.chmod(tmp, _umask_mode(0o666))
    return Path(tmp)


def _swap_in(staged: list[tuple[Path, Path]]) -> None:
    """Rename each staged file onto its target; on failure restore what was there before."""
    done: list[tuple[Path, Path | None]] = []
    try:
        for path, tmp in staged:
            backup = None
            if path.exists():
                backup = path.with_name(f".{path.name}.old-{os.getpid()}")
                os.replace(path, backup)
            done.append((path, backup))
            os.replace(tmp, path)
    except BaseException:
        for path, backup in reversed(done):
            path.unlink(missing_ok=True)
            if backup is not None:
                os.replace(backup, path)
        raise
    for _, backup in done:
        if backup is not None:
            backup.unlink(missing_ok=True)
