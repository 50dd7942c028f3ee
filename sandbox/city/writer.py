"""Batches of rows, and the generator's end of the writer process.

Rows collect in a `Batch` of plain lists. Every few thousand households the batch is
pickled to a writer process (`sandbox.city.databases`), which inserts it while the
generator builds the next one: two processes keep both cores busy, where a writer
*thread* would not (the GIL makes the two take turns). The pipe holds one batch at a
time, so at most three exist at once, which bounds memory; batches are written in the
order they are sent.

The child is a plain `python -c` process speaking pickle over its stdin and stdout,
rather than `multiprocessing`, so that no caller needs an `if __name__ == "__main__"`
guard and nothing is ever forked from a process that may hold threads.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import subprocess
import sys
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import IO, Any, Final

Row = tuple[Any, ...]
Payload = tuple[list[Row], ...]
_ROOT: Final = Path(__file__).resolve().parents[2]  # the folder holding the sandbox package
_CHILD: Final = (
    "import sys; from pathlib import Path; from sandbox.city.databases import serve; "
    "serve(Path(sys.argv[1]), sys.stdin.buffer, sys.stdout.buffer)"
)


@dataclass(slots=True)
class Batch:
    """Rows waiting to be written, one list per table (see `databases.TABLES`)."""

    households: list[Row] = field(default_factory=list)
    persons: list[Row] = field(default_factory=list)
    memberships: list[Row] = field(default_factory=list)
    relations: list[Row] = field(default_factory=list)
    vehicles: list[Row] = field(default_factory=list)
    changes: list[Row] = field(default_factory=list)  # (occurred_on, order, kind, ...)
    properties: list[Row] = field(default_factory=list)
    property_owners: list[Row] = field(default_factory=list)
    income: list[Row] = field(default_factory=list)
    accounts: list[Row] = field(default_factory=list)
    balances: list[Row] = field(default_factory=list)
    products: list[Row] = field(default_factory=list)
    enrolments: list[Row] = field(default_factory=list)
    claims: list[Row] = field(default_factory=list)
    roll: list[Row] = field(default_factory=list)
    applications: list[Row] = field(default_factory=list)
    authorisations: list[Row] = field(default_factory=list)
    authorisation_signers: list[Row] = field(default_factory=list)
    caseworkers: list[Row] = field(default_factory=list)

    @staticmethod
    def names() -> tuple[str, ...]:
        return tuple(f.name for f in fields(Batch))

    def payload(self) -> Payload:
        return tuple(getattr(self, name) for name in self.names())


class CityWriteError(RuntimeError):
    """The writer process failed; the message is its error."""


class CityWriter:
    """Starts the writer process on `out_dir` and feeds it batches."""

    def __init__(self, out_dir: Path) -> None:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, (str(_ROOT), env.get("PYTHONPATH"))))
        self._process = subprocess.Popen(  # noqa: S603 - our own code, no shell
            [sys.executable, "-c", _CHILD, str(out_dir)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
        )
        if self._process.stdin is None or self._process.stdout is None:
            raise CityWriteError("the writer process has no pipes")
        self._to_writer: IO[bytes] = self._process.stdin
        self._from_writer: IO[bytes] = self._process.stdout

    def submit(self, batch: Batch) -> Batch:
        """Hand `batch` over (waiting while the writer writes the previous one); a new batch."""
        self._send(batch.payload())
        return Batch()

    def finish(self) -> dict[str, dict[str, int]]:
        """Let the writer finish the databases; the number of rows of each table."""
        self._send(None)
        self._to_writer.close()
        counts = self._receive()
        self._process.wait()
        self._from_writer.close()
        return counts

    def abort(self) -> None:
        """Stop the writer after a failure elsewhere; the half-written city is left as is."""
        with contextlib.suppress(OSError):
            self._to_writer.close()
        try:
            self._process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._from_writer.close()

    @property
    def exit_code(self) -> int | None:
        return self._process.poll()

    def _send(self, payload: Payload | None) -> None:
        try:
            pickle.dump(payload, self._to_writer, protocol=pickle.HIGHEST_PROTOCOL)
            self._to_writer.flush()
        except OSError:  # the writer has gone: its last word says why
            self._receive()
            raise CityWriteError("the writer process stopped unexpectedly") from None

    def _receive(self) -> dict[str, dict[str, int]]:
        try:
            status, value = pickle.load(self._from_writer)  # noqa: S301 - from our own child
        except (EOFError, OSError, pickle.UnpicklingError):
            code = self._process.wait()
            raise CityWriteError(f"the writer process stopped (exit code {code})") from None
        if status != "ok":
            raise CityWriteError(value)
        counts: dict[str, dict[str, int]] = value
        return counts
