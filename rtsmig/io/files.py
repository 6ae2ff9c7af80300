"""Reading a TOML document (an items file, a run file) with errors a user can act on."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

from rtsmig.errors import InputError, RunFileError


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
