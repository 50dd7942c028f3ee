"""Owner-only key files: atomic creation with mode 0600, refusal to read looser ones."""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from pathlib import Path
from typing import Final

from authz.errors import InsecureKeyFile, KeyFileExists, KeyFileMissing

__all__ = ["OWNER_ONLY", "read_owner_only", "write_owner_only"]

OWNER_ONLY: Final = 0o600
_GROUP_OR_OTHER: Final = 0o077


def read_owner_only(path: Path, what: str) -> bytes:
    """The bytes of `path`, refusing a file that group or others may access.

    The mode is checked on the opened descriptor, so the file cannot be swapped
    between the check and the read.
    """
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise KeyFileMissing(str(path), what) from None
    with os.fdopen(fd, "rb") as handle:
        mode = stat.S_IMODE(os.fstat(handle.fileno()).st_mode)
        if mode & _GROUP_OR_OTHER:
            raise InsecureKeyFile(str(path), mode)
        return handle.read()


def write_owner_only(path: Path, data: bytes, what: str, *, replace: bool) -> None:
    """Write `data` to `path` atomically with mode 0600.

    A temporary file in the same directory is created owner-only, written,
    fsynced and renamed over `path`, then the directory is fsynced: readers see
    the old file or the new one, never half of one. With `replace=False` an
    existing file is refused (first use must not overwrite keys).
    """
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    if not replace and path.exists():
        raise KeyFileExists(str(path), what)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(tmp, flags, OWNER_ONLY)
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), OWNER_ONLY)
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if replace:
            tmp.replace(path)
        else:
            # link() fails if `path` appeared meanwhile: never overwrite on create.
            try:
                os.link(tmp, path)
            except FileExistsError:
                raise KeyFileExists(str(path), what) from None
            tmp.unlink()
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise
    _fsync_directory(path.parent)


def _fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
