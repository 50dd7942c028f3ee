"""The writer process: batches land in order whatever their size, and failures surface."""

from __future__ import annotations

from pathlib import Path

import pytest

from sandbox.city import PlantRates, generate, generate_city
from sandbox.city.writer import Batch, CityWriteError, CityWriter
from tests.sandbox.city.conftest import SMALL, dump


def test_batch_size_does_not_change_the_city(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, twins: tuple[Path, Path, Path]
) -> None:
    """Contents are identical; only the insertion order of tables sorted per batch (keyed
    by scattered values) follows the batch size, a constant of the generator."""
    monkeypatch.setattr(generate, "FLUSH_EVERY", 37)
    generate_city(tmp_path, SMALL, 42, rates=PlantRates.uniform(0.05))
    small_batches, usual = dump(tmp_path), dump(twins[0])
    assert small_batches.keys() == usual.keys()
    for table, rows in usual.items():
        assert sorted(small_batches[table], key=repr) == sorted(rows, key=repr), table


def test_a_failing_writer_is_reported(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    writer = CityWriter(blocker / "city")
    with pytest.raises(CityWriteError, match=r"OperationalError|NotADirectoryError"):
        writer.finish()
    writer.abort()


def test_abort_stops_the_writer(tmp_path: Path) -> None:
    writer = CityWriter(tmp_path)
    writer.submit(Batch())
    writer.abort()
    assert writer.exit_code is not None
