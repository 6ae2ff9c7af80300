"""Small file helpers: read a TOML document, and write several text files all or none."""

from __future__ import annotations

import os
import tempfile
import tomllib
from collections.abc import Mapping
from pathlib import Path

from rtsmig.errors import InputError, OutputError, RunFileError
from rtsmig.io.atomic import _check_parent, _fsync_dir, _umask_mode


def read_toml(path: str | os.PathLike) -> dict:
    """The parsed TOML document at ``path``.

    Raises
    ------
    InputError
        The file is missing or unreadable (exit 3).
    RunFileError
        The file is not valid TOML (a usage error, exit 2, like a malformed run file).
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise InputError(f"{path}: no such file; check the path") from exc
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or type(exc).__name__
        raise InputError(f"{path}: cannot read ({reason}); check the file") from exc
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RunFileError(f"{path}: not valid TOML ({exc})") from exc


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
