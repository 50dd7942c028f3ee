"""`read_roll`: the bureau's assistance roll export, validated, with broken rows skipped blind."""

from __future__ import annotations

import shutil
import sqlite3
from datetime import date
from pathlib import Path

import pytest

from connectors.civil_affairs import read_roll
from graph.model import AssistanceRecord, Source
from sandbox.city import generate_city


def blind(value: str) -> str:
    return f"blind:{len(value)}"


@pytest.fixture(scope="module")
def export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    city = tmp_path_factory.mktemp("roll") / "city"
    generate_city(city, households=150, seed=11)
    return city / "civil_affairs.sqlite"


def roll_rows(path: Path) -> dict[str, tuple[object, ...]]:
    with sqlite3.connect(path) as db:
        return {row[0]: row for row in db.execute("SELECT * FROM roll")}


def test_every_grant_of_the_export_is_read_as_it_stands(export: Path) -> None:
    rows = roll_rows(export)
    parsed = read_roll(export, blind)
    assert parsed.skipped == []
    assert len(parsed.records) == len(rows) > 0
    for record in parsed.records:
        assert isinstance(record, AssistanceRecord)
        row = rows[record.grant_id]
        assert record.source is Source.CIVIL_AFFAIRS
        assert record.source_record_id == record.grant_id
        assert (
            record.id_number,
            record.hukou_no,
            record.category,
            record.region_code,
            record.township_code,
            record.valid_from.isoformat(),
            record.valid_to.isoformat() if record.valid_to else None,
            record.amount_fen,
            record.care_level,
        ) == row[1:]
    assert {r.category for r in parsed.records if isinstance(r, AssistanceRecord)} >= {
        "dibao",
        "tekun",
    }


BROKEN = {  # grant_id -> (what is wrong, the column changed, its new value)
    "bad check digit": ("id_number", "410702198707093770"),
    "tekun without care level": ("care_level", None),
    "care level on dibao": ("care_level", "full"),
    "ends before it starts": ("valid_to", "1990-01-01"),
    "not a date": ("valid_from", "2026-13-45"),
    "negative amount": ("amount_fen", -5),
    "unknown category": ("category", "pension"),
    "county code outside Xinxiang": ("region_code", "110101"),
}


def break_rows(export: Path, target: Path) -> dict[str, tuple[object, ...]]:
    """A copy of the export with one row per kind of damage; returns the original rows."""
    shutil.copy(export, target)
    with sqlite3.connect(target) as db:
        dibao = [r[0] for r in db.execute("SELECT grant_id FROM roll WHERE category = 'dibao'")]
        tekun = [r[0] for r in db.execute("SELECT grant_id FROM roll WHERE category = 'tekun'")]
        chosen = {}
        for problem, (column, value) in BROKEN.items():
            grant_id = tekun.pop() if problem.startswith("tekun") else dibao.pop()
            original = db.execute("SELECT * FROM roll WHERE grant_id = ?", (grant_id,)).fetchone()
            chosen[problem] = original
            db.execute(f"UPDATE roll SET {column} = ? WHERE grant_id = ?", (value, grant_id))  # noqa: S608 - column names from the table above
    return chosen


def test_broken_rows_are_skipped_by_blind_reference_without_their_content(
    export: Path, tmp_path: Path
) -> None:
    broken = break_rows(export, tmp_path / "civil_affairs.sqlite")
    parsed = read_roll(tmp_path / "civil_affairs.sqlite", blind)
    assert len(parsed.skipped) == len(BROKEN)
    assert len(parsed.records) == len(roll_rows(export)) - len(BROKEN)
    kept = {r.source_record_id for r in parsed.records}
    said = repr([(str(s), repr(s), s.reason, s.kind, s.subject_ref) for s in parsed.skipped])
    for row in broken.values():
        assert row[0] not in kept
        for value in (row[0], row[1], row[2], row[5]):  # grant, ID, hukou, township
            assert str(value) not in said
    assert {s.kind for s in parsed.skipped} == {"assistance"}
    assert all(s.reason.startswith("invalid roll grant") for s in parsed.skipped)
    assert all(s.subject_ref == "blind:18" for s in parsed.skipped)


def test_a_lower_case_x_is_blinded_as_the_person_key_would_be(export: Path, tmp_path: Path) -> None:
    target = tmp_path / "civil_affairs.sqlite"
    shutil.copy(export, target)
    with sqlite3.connect(target) as db:
        db.execute("UPDATE roll SET care_level = 'full' WHERE category = 'dibao'")
        db.execute("UPDATE roll SET id_number = '41070219870709001x' WHERE category = 'dibao'")
    refs = {s.subject_ref for s in read_roll(target, lambda v: v[-1]).skipped}
    assert refs == {"X"}


def test_a_missing_export_says_what_to_point_at(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="point at the bureau's export file"):
        read_roll(tmp_path / "nowhere.sqlite", blind)


def test_an_open_ended_grant_has_no_end(export: Path) -> None:
    records = [r for r in read_roll(export, blind).records if isinstance(r, AssistanceRecord)]
    open_ended = [r for r in records if r.valid_to is None]
    assert open_ended
    assert all(r.valid_from <= date(2026, 11, 1) for r in open_ended)
