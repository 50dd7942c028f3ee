from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from authz._files import read_owner_only, write_owner_only
from authz.errors import InsecureKeyFile, KeyFileExists, KeyFileMissing


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize("umask", [0o000, 0o022, 0o077])
def test_written_files_are_owner_only_whatever_the_umask(tmp_path: Path, umask: int) -> None:
    old = os.umask(umask)
    try:
        write_owner_only(tmp_path / "k", b"data", "key file", replace=False)
    finally:
        os.umask(old)
    assert mode_of(tmp_path / "k") == 0o600
    assert read_owner_only(tmp_path / "k", "key file") == b"data"


def test_create_never_overwrites(tmp_path: Path) -> None:
    write_owner_only(tmp_path / "k", b"first", "key file", replace=False)
    with pytest.raises(KeyFileExists, match="already exists"):
        write_owner_only(tmp_path / "k", b"second", "key file", replace=False)
    assert (tmp_path / "k").read_bytes() == b"first"


def test_replace_swaps_the_whole_file_and_leaves_no_temporary(tmp_path: Path) -> None:
    write_owner_only(tmp_path / "k", b"first", "key file", replace=False)
    (tmp_path / "k").chmod(0o644)
    write_owner_only(tmp_path / "k", b"second", "key file", replace=True)
    assert (tmp_path / "k").read_bytes() == b"second"
    assert mode_of(tmp_path / "k") == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["k"]


def test_missing_parent_directories_are_made_owner_only(tmp_path: Path) -> None:
    write_owner_only(tmp_path / "a" / "b" / "k", b"x", "key file", replace=False)
    assert mode_of(tmp_path / "a" / "b") & 0o077 == 0


@pytest.mark.parametrize("mode", [0o604, 0o640, 0o644, 0o660, 0o666, 0o601, 0o610, 0o700 | 0o004])
def test_a_file_group_or_others_may_access_is_refused(tmp_path: Path, mode: int) -> None:
    write_owner_only(tmp_path / "k", b"data", "key file", replace=False)
    (tmp_path / "k").chmod(mode)
    with pytest.raises(InsecureKeyFile, match=r"chmod 600") as caught:
        read_owner_only(tmp_path / "k", "key file")
    assert caught.value.mode == mode
    assert str(tmp_path / "k") in str(caught.value)


@pytest.mark.parametrize("mode", [0o600, 0o400, 0o700])
def test_owner_only_modes_are_accepted(tmp_path: Path, mode: int) -> None:
    write_owner_only(tmp_path / "k", b"data", "key file", replace=False)
    (tmp_path / "k").chmod(mode)
    assert read_owner_only(tmp_path / "k", "key file") == b"data"


def test_a_missing_file_says_what_is_missing(tmp_path: Path) -> None:
    with pytest.raises(KeyFileMissing, match="no key file here"):
        read_owner_only(tmp_path / "nope", "key file")
