"""What an output path may be, checked before anything is written.

rtsmig replaces only what it wrote. These checks turn a path named by the user
into the path that will be replaced, or refuse it with an :class:`OutputError`
(exit 3) that says what to do:

- a single file replaces a regular file or nothing; a symlink to a regular file
  is written through (its target is replaced, in the target's folder) and stays a
  symlink; a folder, a device, a pipe or a dangling symlink is refused;
- a results folder replaces an empty folder or a folder rtsmig wrote (one whose
  ``manifest.json`` is an rtsmig record), never another folder;
- neither may be, or hold, an input of the same command, nor be the current folder.
"""

from __future__ import annotations

import errno
import json
import os
from collections.abc import Iterable
from pathlib import Path

from rtsmig.errors import OutputError, UsageError

MARK = "manifest.json"  # every results folder rtsmig writes carries one
MARK_KEYS = ("command", "rtsmig")
STDOUT = "-"


def file_target(path: str | os.PathLike, inputs: Iterable[str | os.PathLike] = ()) -> Path:
    """The regular file that writing ``path`` replaces (or creates); see the module notes.

    Raises
    ------
    UsageError
        ``path`` is ``-``: the caller writes several files, so standard output cannot take them.
    OutputError
        ``path`` is a folder, a device, a pipe, a dangling symlink, an input, or its
        folder is missing or not writable.
    """
    if str(path) == STDOUT:
        raise UsageError("-o -: this command writes a file and its companion record; name a file instead")
    path = Path(path)
    if path.is_symlink() and not path.exists():  # exists() and the tests below follow the link
        raise OutputError(f"{path}: is a symlink to {os.readlink(path)}, which does not exist; fix or remove the link")
    if path.is_dir():
        raise OutputError(f"{path}: is a folder; name a file inside it, e.g. {path / ('out' + path.suffix)}")
    if path.exists() and not path.is_file():
        raise OutputError(
            f"{path}: is not a regular file (a device, pipe or socket); rtsmig replaces only regular files"
            " — use -o - for standard output"
        )
    target = path.resolve() if path.is_symlink() else path
    _refuse_inputs(path, target, inputs, "is an input of this command; write to another file")
    check_parent(target)
    return target


def folder_target(path: str | os.PathLike, inputs: Iterable[str | os.PathLike] = ()) -> Path:
    """The results folder that writing ``path`` replaces (or creates); see the module notes.

    Raises
    ------
    OutputError
        ``path`` is a file, the current folder (or holds it), a folder rtsmig did
        not write, or holds an input of this command.
    """
    path = Path(path)
    target = path.resolve()
    if target == Path.cwd().resolve() or target in Path.cwd().resolve().parents or target.parent == target:
        raise OutputError(f"{path}: is the current folder or holds it; name a new results folder, e.g. out/lag")
    if target.exists() and not target.is_dir():
        raise OutputError(f"{path}: exists and is not a folder; choose another output path")
    _refuse_inputs(path, target, inputs, "holds {input}, an input of this command; write the results elsewhere",
                   inside=True)
    if target.is_dir() and any(target.iterdir()) and not is_results_folder(target):
        raise OutputError(
            f"{path}: is a folder rtsmig did not write (no rtsmig {MARK}); rtsmig replaces only its own"
            " results folders — choose a new folder name, or move this one away yourself"
        )
    check_parent(target)
    return target


def is_results_folder(path: Path) -> bool:
    """Whether ``path`` is a results folder rtsmig wrote: its ``manifest.json`` is an rtsmig record."""
    try:
        record = json.loads((path / MARK).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(record, dict) and all(key in record for key in MARK_KEYS)


def check_parent(path: Path) -> None:
    """The folder ``path`` goes into exists and can be written."""
    parent = path.parent
    if not parent.is_dir():
        raise OutputError(f"{path}: folder {parent} does not exist; create it first")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise OutputError(f"{path}: folder {parent} is not writable; choose another output path")


def _refuse_inputs(path: Path, target: Path, inputs, what: str, inside: bool = False) -> None:
    target = target.resolve()
    for given in inputs:
        resolved = Path(given).resolve()
        if resolved == target or (inside and target in resolved.parents):
            raise OutputError(f"{path}: {what.format(input=given)}")


def write_failure(path: Path, exc: OSError) -> OutputError:
    """The error a failed write of ``path`` reports: the system's reason and what to do."""
    reason = exc.strerror or type(exc).__name__
    hint = "free some space or write elsewhere" if exc.errno in (errno.ENOSPC, errno.EDQUOT) else "choose another output path"
    return OutputError(f"{path}: cannot write ({reason}); {hint}; nothing was changed")
