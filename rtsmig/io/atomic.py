"""Atomic writes: an output appears complete or not at all, and replaces only what rtsmig may replace.

Every file is written to a temporary name beside its target, flushed and
fsynced, then renamed over the target; a set of files (a weights file and its
sidecar, a figure and its record, scores and reliability tables) is renamed in
only when every member is complete on disk, and a failed rename puts the old
members back. A results folder is assembled under a temporary name and swapped
in the same way. What a target may be is checked first (:mod:`rtsmig.io.targets`),
so a refused or failed write leaves every existing file byte-identical.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path

from rtsmig.errors import OutputError
from rtsmig.io.targets import file_target, folder_target, write_failure

Content = bytes | str
Inputs = Iterable[str | os.PathLike]


def write_bytes(path: str | os.PathLike, data: bytes, inputs: Inputs = ()) -> None:
    """Write ``data`` to ``path`` atomically (a symlink is written through to its target)."""
    write_set({path: data}, inputs)


def write_text(path: str | os.PathLike, text: str, inputs: Inputs = ()) -> None:
    """Write ``text`` (UTF-8, ``\\n`` line ends) to ``path`` atomically."""
    write_set({path: text}, inputs)


def write_set(files: Mapping[str | os.PathLike, Content], inputs: Inputs = ()) -> None:
    """Write every ``path -> content`` so that all of them appear, or none changes.

    Text is written as UTF-8. Each content is first written and fsynced under a
    temporary name beside its target; only when all are staged are they renamed
    into place. A target that existed is kept under a backup name until every
    rename succeeded, and put back if one fails.

    Raises
    ------
    OutputError
        A target that may not be replaced (:func:`rtsmig.io.targets.file_target`),
        two outputs with one path, or a failed write (disk full, say); nothing changed.
    """
    inputs = tuple(inputs)
    targets = [file_target(p, inputs) for p in files]
    if len(set(targets)) != len(targets):
        raise OutputError(f"{', '.join(map(str, files))}: two outputs share a path; give each its own")
    staged: list[tuple[Path, Path]] = []
    current = targets[0] if targets else Path()
    try:
        for current, content in zip(targets, files.values(), strict=True):
            staged.append((current, _stage(current, _encoded(content))))
        _swap_in(staged)
    except OSError as exc:
        raise write_failure(current, exc) from exc
    finally:
        for _, tmp in staged:
            tmp.unlink(missing_ok=True)
    for folder in {p.parent for p in targets}:
        _fsync_dir(folder)


def write_folder(path: str | os.PathLike, files: Mapping[str, Content], inputs: Inputs = ()) -> None:
    """Replace results folder ``path`` with exactly ``files`` (name -> content), atomically.

    A name may hold ``/``: ``equations/y/result.json`` is written in subfolders.
    Only an empty folder or one rtsmig wrote is replaced
    (:func:`rtsmig.io.targets.folder_target`); ``files`` should hold the
    ``manifest.json`` that marks it as such for the next write.

    The new folder is assembled beside the target and renamed into place; an
    existing folder is swapped out and removed only after the rename succeeded.
    """
    target = folder_target(path, inputs)
    try:
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
    except OSError as exc:
        raise write_failure(Path(path), exc) from exc
    old = None
    try:
        for name, content in sorted(files.items()):
            (staging / name).parent.mkdir(parents=True, exist_ok=True)  # "sub/file" names make subfolders
            with open(staging / name, "wb") as fh:
                _put(fh, _encoded(content))
        os.chmod(staging, _umask_mode(0o777))
        if target.exists():
            old = target.with_name(f".{target.name}.old-{os.getpid()}")
            os.replace(target, old)
        os.replace(staging, target)
        _fsync_dir(target.parent)
    except OSError as exc:
        _restore(old, target)
        raise write_failure(Path(path), exc) from exc
    except BaseException:
        _restore(old, target)
        raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        if old is not None and old.exists() and target.exists():
            shutil.rmtree(old, ignore_errors=True)


def _restore(old: Path | None, target: Path) -> None:
    if old is not None and not target.exists():
        os.replace(old, target)  # put the previous results back


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
    if path.exists() and not path.is_dir():
        raise OutputError(f"{path}: exists and is not a folder; choose another output folder")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"{path}: cannot create this folder ({exc.strerror}); choose another output path") from exc
    return path


def _encoded(content: Content) -> bytes:
    return content.encode("utf-8") if isinstance(content, str) else content


def _put(fh, data: bytes) -> None:
    """Write ``data`` to an open file and force it to disk: the one place output bytes are written."""
    fh.write(data)
    fh.flush()
    os.fsync(fh.fileno())


def _stage(path: Path, data: bytes) -> Path:
    """``data`` in a fsynced temporary file beside ``path``, as readable as a plain write."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            _put(fh, data)
        os.chmod(tmp, _umask_mode(0o666))
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
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
