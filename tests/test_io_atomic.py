"""Atomic writes leave results as readable as any file the user writes (umask), not private."""

from __future__ import annotations

import os
import stat

from rtsmig.io.atomic import write_folder, write_text


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_files_and_folders_follow_the_umask(tmp_path):
    old = os.umask(0o022)
    try:
        write_text(tmp_path / "table.md", "x\n")
        write_folder(tmp_path / "fit", {"a.csv": "1\n"})
    finally:
        os.umask(old)
    assert _mode(tmp_path / "table.md") == 0o644
    assert _mode(tmp_path / "fit") == 0o755
    assert _mode(tmp_path / "fit" / "a.csv") == 0o644


def test_a_strict_umask_is_respected(tmp_path):
    old = os.umask(0o077)
    try:
        write_text(tmp_path / "table.md", "x\n")
        write_folder(tmp_path / "fit", {"a.csv": "1\n"})
    finally:
        os.umask(old)
    assert _mode(tmp_path / "table.md") == 0o600
    assert _mode(tmp_path / "fit") == 0o700
